#!/usr/bin/env node
// `npm install` step: use a prebuild (prebuilds/) or an existing build if one loads; otherwise build the
// addon with cmake-js (Node-API headers from the node-api-headers package), falling back to node-gyp with
// the running node's own headers. Nothing is downloaded.
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');

const root = path.resolve(__dirname, '..');

function loads() {
  try {
    require('node-gyp-build')(root);
    return true;
  } catch {
    return false;
  }
}

function run(cmd, args, env) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status === 0;
}

if (!process.env.TRACEINDEX_FORCE_BUILD && loads()) process.exit(0);
const nodedir = path.resolve(process.execPath, '..', '..');
function resolve(id) {
  try {
    return require.resolve(id);
  } catch {
    return null;
  }
}
const cmakeJs = resolve('cmake-js/bin/cmake-js');
const nodeGyp = resolve('node-gyp/bin/node-gyp.js');
const built =
  (cmakeJs && run(process.execPath, [cmakeJs, 'compile'])) ||
  (nodeGyp && run(process.execPath, [nodeGyp, 'rebuild', `--nodedir=${nodedir}`]));
if (!built || !loads()) {
  console.error('traceindex: could not build the native addon (needs a C++17 compiler and cmake or python3 for node-gyp)');
  process.exit(1);
}
