// The researcher's views (issue #15), in their own chunk: loaded once the page is idle after its
// first paint, so the runs table and the Curves chart start as fast as they did without them.
export { default as AcrossRuns } from './components/AcrossRuns.svelte';
export { default as CodebookUsage } from './components/CodebookUsage.svelte';
export { default as Dashboard } from './components/Dashboard.svelte';
export { default as ElboGap } from './components/ElboGap.svelte';
export { default as ExportReport } from './components/ExportReport.svelte';
export { default as KlView } from './components/KlView.svelte';
export { default as LatentScatter } from './components/LatentScatter.svelte';
