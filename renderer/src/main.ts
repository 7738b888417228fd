import { z } from 'zod';
// Before any schema is touched: zod's JIT uses `new Function`, which the CSP (no 'unsafe-eval') refuses.
z.config({ jitless: true });

import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import './styles/theme.css';
import './styles/base.css';
import './styles/wizard.css';

createApp(App).use(createPinia()).mount('#app');
