import { z } from 'zod';

// zod's JIT compiles parsers with `new Function`, which the CSP (no 'unsafe-eval') refuses; zod decides when each
// object schema is built, and the contract's schemas are built while the modules that import them are evaluated.
// So whatever runs under the page's policy imports this module first (ES modules evaluate in import order): the
// renderer, and the two builders of window.workbench (the preload, the E2E page bridge), whose events.on parses
// payloads with their own bundled copy of zod.
z.config({ jitless: true });
