// First import, on purpose: ES modules evaluate in import order, so this runs before any schema exists.
import '../../shared/zod-jitless';
import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import './styles/theme.css';
import './styles/base.css';
import './styles/wizard.css';

createApp(App).use(createPinia()).mount('#app');
