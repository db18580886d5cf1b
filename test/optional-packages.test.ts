/**
 * The tokenizer packages are optionalDependencies: with one missing, asking for its tokenizer is
 * ERR_MISSING_PACKAGE naming the package to install, and everything else still works. "Missing" is simulated in
 * a child process whose module resolution refuses the package, as Node does when it is not installed (the
 * packed-tarball test installs with --omit=optional for real).
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as O from './helpers/oracle';

function withoutPackage(pkg: string, tokenizer: string): { code?: string; message?: string; bytes?: number } {
  const script = `
    const Module = require('node:module');
    const resolve = Module._resolveFilename;
    Module._resolveFilename = function (request, ...rest) {
      if (request === ${JSON.stringify(pkg)} || request.startsWith(${JSON.stringify(pkg + '/')})) {
        const e = new Error("Cannot find module '" + request + "'");
        e.code = 'MODULE_NOT_FOUND';
        throw e;
      }
      return resolve.call(this, request, ...rest);
    };
    const ti = require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'index.js'))});
    const out = ${JSON.stringify(O.tmpDir('optional-packages'))};
    (async () => {
      const failed = await ti.buildIndex({ inputs: [{ text: 'the quick brown fox' }], out: out + '/bpe', tokenizer: ${JSON.stringify(tokenizer)} })
        .then(() => ({}), (e) => ({ code: e.code, message: e.message }));
      await ti.buildIndex({ inputs: [{ text: 'the quick brown fox' }], out: out + '/bytes' });
      const idx = await ti.openIndex(out + '/bytes');
      console.log(JSON.stringify({ ...failed, bytes: await idx.count('quick') }));
      idx.close();
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const env = { ...process.env };
  delete env.TRACEINDEX_JS_TOKENIZERS;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

for (const [tokenizer, pkg] of [['cl100k_base', 'js-tiktoken'], ['o200k_base', 'js-tiktoken'], ['llama-3', 'llama3-tokenizer-js']] as const) {
  test(`${tokenizer} without ${pkg}: ERR_MISSING_PACKAGE naming it; the bytes tokenizer still builds and counts`, (t) => {
    const r = withoutPackage(pkg, tokenizer);
    t.is(r.code, 'ERR_MISSING_PACKAGE', r.message);
    t.regex(r.message ?? '', new RegExp(`npm install ${pkg.replace(/[/.-]/g, '\\$&')}`));
    t.is(r.bytes, 1);
  });
}

test('with the package present the same build succeeds (the simulation refuses only the package named)', (t) => {
  const r = withoutPackage('no-such-package-xyz', 'cl100k_base');
  t.is(r.code, undefined, r.message);
  t.is(r.bytes, 1);
});
