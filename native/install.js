#!/usr/bin/env node
// `npm install` step: use a prebuild (prebuilds/) or an existing build if one loads; otherwise build the
// addon with cmake-js (Node-API headers from the node-api-headers package), falling back to node-gyp with
// the running node's own headers. Nothing is downloaded.
//
// node-gyp is found, in order: this package's own (a devDependency: present in a clone), the one npm names
// in $npm_config_node_gyp for install scripts, and the one bundled with the npm beside the running node. So
// a consumer without cmake still builds from source when no prebuild fits.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
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

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: process.env });
  return r.status === 0;
}

function resolve(id) {
  try {
    return require.resolve(id, { paths: [root] });
  } catch {
    return null;
  }
}

function nodeGypScript() {
  const candidates = [
    resolve('node-gyp/bin/node-gyp.js'),
    process.env.npm_config_node_gyp,
    path.resolve(process.execPath, '..', '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((p) => p && fs.existsSync(p)) ?? null;
}

if (!process.env.TRACEINDEX_FORCE_BUILD && loads()) process.exit(0);
const nodedir = path.resolve(process.execPath, '..', '..');
const cmakeJs = resolve('cmake-js/bin/cmake-js');
const nodeGyp = nodeGypScript();
const built =
  (cmakeJs && run(process.execPath, [cmakeJs, 'compile'])) ||
  (nodeGyp && (console.error(`traceindex: cmake-js did not build the addon; trying node-gyp (${nodeGyp})`),
    run(process.execPath, [nodeGyp, 'rebuild', `--nodedir=${nodedir}`])));
if (!built || !loads()) {
  console.error('traceindex: could not build the native addon (needs a C++17 compiler and cmake, or python3 and make for node-gyp)');
  process.exit(1);
}
