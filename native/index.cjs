// Loads the compiled addon, or exports null with the reason when it was not built (no BLAS, no
// compiler): callers then fall back to the plain wasm kernels.
'use strict';
const path = require('node:path');

let addon = null;
let loadError = null;
for (const dir of ['Release', 'Debug']) {
  try {
    addon = require(path.join(__dirname, 'build', dir, 'sgemm.node'));
    loadError = null;
    break;
  } catch (error) {
    loadError = error;
  }
}
module.exports = {
  addon,
  loadError: addon ? null : String((loadError && loadError.message) || loadError).split('\n')[0],
};
