#!/usr/bin/env node
// `npm run prebuild`: prebuildify a Node-API build into prebuilds/<platform>-<arch>/ with node-gyp, pointed
// at the running node's headers (never a download, never a user's .npmrc).
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');

const nodedir = path.resolve(process.execPath, '..', '..');
const r = spawnSync(process.execPath, [require.resolve('prebuildify/bin.js'), '--napi', '--strip', ...process.argv.slice(2)], {
  cwd: path.resolve(__dirname, '..'),
  stdio: 'inherit',
  env: { ...process.env, npm_config_nodedir: nodedir },
});
process.exit(r.status ?? 1);
