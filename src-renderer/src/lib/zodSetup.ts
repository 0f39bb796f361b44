// Imported first by main.ts: zod must not probe `new Function` (its JIT) under the renderer's
// strict CSP (script-src 'self', no eval), where the swallowed probe still reports a violation.
import { config } from 'zod';

config({ jitless: true });
