/**
 * The package as a consumer gets it: `npm pack` (which prebuilds the addon at prepack) from a copy of the
 * repository, installed into a scratch project with install scripts disabled and without optional dependencies
 * (the tokenizer packages: asking for one is ERR_MISSING_PACKAGE), and queried with no compiler on PATH; then the same install rebuilt from source through the node-gyp fallback with cmake hidden from PATH.
 * Answers are checked against the brute-force oracle.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as O from './helpers/oracle';

const NODE_BIN = path.dirname(process.execPath);
const NPM_CLI = path.join(NODE_BIN, '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');

function npm(cwd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(process.execPath, [NPM_CLI, ...args], { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** A directory of links to every program on PATH except `hide`: PATH as it is, minus those programs. */
function pathWithout(hide: string[]): string {
  const farm = O.tmpDir('path-farm');
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const link = path.join(farm, name);
      if (hide.includes(name) || fs.existsSync(link)) continue;
      try {
        fs.symlinkSync(path.join(dir, name), link);
      } catch {
        // a name listed twice on PATH: the first wins, as in a lookup
      }
    }
  }
  return farm;
}

// Documents and patterns shared by the consumer script and the oracle.
const r = O.rng(20261205);
const docs = O.randomDocs(r, 40, 200, 6, 97).map((d) => String.fromCharCode(...d));
const patterns = Array.from({ length: 30 }, () => {
  const d = docs[O.randInt(r, 0, docs.length)];
  const at = O.randInt(r, 0, Math.max(1, d.length - 4));
  return d.slice(at, at + O.randInt(r, 1, 5)) || 'a';
});
const expected = patterns.map((p) => O.count(docs.map(O.utf8), O.utf8(p)));

/** Builds an index with the installed package and counts the patterns, in a child process. */
function queryScript(project: string, out: string): string {
  return `
    const ti = require('traceindex');
    (async () => {
      await ti.buildIndex({ inputs: ${JSON.stringify(docs.map((text, i) => ({ id: String(i), text })))}, out: ${JSON.stringify(out)} });
      const idx = await ti.openIndex(${JSON.stringify(out)});
      const counts = Array.from(await idx.countBatch(${JSON.stringify(patterns)}));
      idx.close();
      // Installed without optional dependencies: a named tokenizer says which package to install.
      const missing = await ti.buildIndex({ inputs: [{ text: 'a b' }], out: ${JSON.stringify(out)} + '-bpe', tokenizer: 'cl100k_base' })
        .then(() => null, (e) => ({ code: e.code, message: e.message }));
      console.log(JSON.stringify({ counts, missing, from: require.resolve('traceindex'), cwd: ${JSON.stringify(project)} }));
    })().catch((e) => { console.error(e); process.exit(1); });`;
}

test.serial('npm pack carries a prebuild; the tarball installs with --ignore-scripts and answers with no compiler on PATH; the node-gyp fallback builds without cmake', (t) => {
  // A copy of the working tree (tracked and untracked files, not ignored ones), so packing writes nothing here.
  const copy = O.tmpDir('pack-src');
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: O.REPO, encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const f of files) {
    const src = path.join(O.REPO, f);
    if (!fs.existsSync(src)) continue;  // deleted in the working tree
    fs.mkdirSync(path.dirname(path.join(copy, f)), { recursive: true });
    fs.copyFileSync(src, path.join(copy, f));
  }
  fs.symlinkSync(path.join(O.REPO, 'node_modules'), path.join(copy, 'node_modules'));

  const dest = O.tmpDir('pack-out');
  npm(copy, ['pack', '--pack-destination', dest, '--silent']);
  const tarballs = fs.readdirSync(dest).filter((f) => f.endsWith('.tgz'));
  t.is(tarballs.length, 1);
  const tarball = path.join(dest, tarballs[0]);
  const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
  t.true(listing.some((f) => /^package\/prebuilds\/linux-x64\/.+\.node$/.test(f)), 'the tarball holds a linux-x64 prebuild');
  t.false(listing.some((f) => f.startsWith('package/build/')), 'no build directory in the tarball');
  for (const f of ['package/LICENSE', 'package/dist/lib/index.js', 'package/dist/lib/index.d.ts', 'package/binding.gyp'])
    t.true(listing.includes(f), `${f} is packed`);

  // Install into a scratch project with scripts disabled (as pnpm 10 and bun do by default), and without the
  // optional tokenizer packages.
  const project = O.tmpDir('consumer');
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  npm(project, ['install', '--ignore-scripts', '--omit=optional', '--prefer-offline', '--no-audit', '--no-fund', '--silent', tarball]);
  const pkgDir = path.join(project, 'node_modules', 'traceindex');
  t.false(fs.existsSync(path.join(pkgDir, 'build')), 'nothing was compiled at install');
  for (const optional of ['js-tiktoken', 'llama3-tokenizer-js', 'llama-tokenizer-js', '@huggingface/tokenizers'])
    t.false(fs.existsSync(path.join(project, 'node_modules', optional)), `${optional} was not installed`);

  // Only node on PATH: no compiler, no cmake, no python.
  const run = (env: NodeJS.ProcessEnv, out: string) => {
    const res = spawnSync(process.execPath, ['-e', queryScript(project, out)], { cwd: project, env, encoding: 'utf8' });
    t.is(res.status, 0, res.stderr);
    return JSON.parse(res.stdout) as { counts: number[]; missing: { code: string; message: string } | null; from: string };
  };
  const bare = { PATH: NODE_BIN, HOME: process.env.HOME, PREBUILDS_ONLY: '1' };
  const got = run(bare, path.join(O.tmpDir('consumer-idx'), 'idx'));
  t.is(fs.realpathSync(got.from), fs.realpathSync(path.join(pkgDir, 'dist', 'lib', 'index.js')));
  t.deepEqual(got.counts, expected);
  t.is(got.missing?.code, 'ERR_MISSING_PACKAGE');
  t.regex(got.missing?.message ?? '', /npm install js-tiktoken/);

  // The source fallback a consumer gets when no prebuild fits: cmake hidden, node-gyp found through npm.
  const noCmake = pathWithout(['cmake', 'cmake3']);
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: noCmake, TRACEINDEX_FORCE_BUILD: '1' };
  delete env.PREBUILDS_ONLY;
  t.is(spawnSync('cmake', ['--version'], { env }).error !== undefined, true, 'cmake is hidden');
  npm(project, ['rebuild', 'traceindex', '--foreground-scripts', '--silent'], env);
  t.true(fs.existsSync(path.join(pkgDir, 'build', 'Release', 'traceindex.node')), 'node-gyp built the addon from source');
  fs.rmSync(path.join(pkgDir, 'prebuilds'), { recursive: true, force: true });  // so the answer comes from the source build
  const rebuilt = run({ PATH: NODE_BIN, HOME: process.env.HOME }, path.join(O.tmpDir('consumer-idx'), 'idx'));
  t.deepEqual(rebuilt.counts, expected);
});
