// The one spelling of an environment switch that turns a feature off (VAE_WORKBENCH_SGEMM=off,
// VAE_WORKBENCH_FUSED=0, ...). Plain TypeScript: it takes the value, so any layer can use it.

/** Whether an environment value turns its switch off: off, 0, false or no, in any case. Unset is on. */
export function switchedOff(value: string | undefined): boolean {
  return value !== undefined && /^(off|0|false|no)$/i.test(value);
}
