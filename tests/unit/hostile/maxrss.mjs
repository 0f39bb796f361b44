// Preloaded into a child process (node --import): prints the process's peak resident set size
// (all threads) when it exits, so a test can assert a memory bound on real work.
import { writeSync } from 'node:fs';

process.on('exit', () => {
  writeSync(2, `\nMAXRSS_KB=${process.resourceUsage().maxRSS}\n`);
});
