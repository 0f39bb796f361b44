// Work the first paint does not need runs when the page is next idle (requestIdleCallback), at
// the latest after `timeoutMs`; where there is no requestIdleCallback, on a zero timer.

/** Runs `task` once the page is idle; returns the function that cancels it if it has not run. */
export function whenIdle(task: () => void, timeoutMs = 500): () => void {
  if (typeof requestIdleCallback === 'function') {
    const handle = requestIdleCallback(task, { timeout: timeoutMs });
    return () => cancelIdleCallback(handle);
  }
  const timer = setTimeout(task, 0);
  return () => clearTimeout(timer);
}
