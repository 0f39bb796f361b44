// The run-config schema for the new-run form, loaded on demand (dynamic import) so that zod and
// the contract's schemas stay off the start-up path. zodSetup comes first: zod must be set
// jitless before it parses anything under the renderer's CSP.
import './zodSetup';
import { ConfigError, parseRunConfig, type RunConfigInput } from '@api/config';
import type { ConfigCheck } from './runForm';

export const checkConfig: ConfigCheck = (input: RunConfigInput) => {
  try {
    return { ok: true, config: parseRunConfig(input) };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { ok: false, issues: error.issues };
  }
};
