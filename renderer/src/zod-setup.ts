import { z } from 'zod';

// zod's JIT compiles parsers with `new Function`, which the CSP (no 'unsafe-eval') refuses. This must run
// before any schema is built, and the contract's schemas are built while the modules that import them are
// evaluated — before main.ts's own body runs. Hence a module of its own, imported first by main.ts.
z.config({ jitless: true });
