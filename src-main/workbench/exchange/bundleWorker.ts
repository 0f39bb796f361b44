// The bundle worker thread: packing, unpacking and hashing of bundles and checkpoint files, so the
// main thread (the window's IPC, the HTTP server) never waits on zip or sha256 work.
import { serveRequests } from '../rpc';
import { checkpointStep, hashFile, packBundle, unpackBundle } from './bundle';

export const bundleMethods = { packBundle, unpackBundle, hashFile, checkpointStep };

serveRequests(bundleMethods);
