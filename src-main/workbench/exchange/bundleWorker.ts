// The bundle worker thread: packing, unpacking and hashing of bundles and checkpoint files, and the
// tfjs half of an export, so the main thread (the window's IPC, the HTTP server) never waits on
// zip, sha256 or tfjs work.
import { serveRequests } from '../rpc';
import { hashFile, packBundle, unpackBundle } from './bundle';
import { packRunBundle } from './networks';
import { checkStagedBundle } from './checkStaged';
import { datasetHash, renderInterpolation, renderSamples, renderTestImage } from './render';

export const bundleMethods = {
  packBundle,
  unpackBundle,
  hashFile,
  packRunBundle,
  renderSamples,
  renderInterpolation,
  datasetHash,
  checkStagedBundle,
  renderTestImage,
};

serveRequests(bundleMethods);
