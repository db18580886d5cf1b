/**
 * Durability: a build killed at any moment leaves `out` as it was; aborted builds reject with ERR_ABORTED and
 * keep the old index; stale temporary directories are cleaned by the next build; builds are deterministic.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildIndex, openIndex, TraceIndexError } from '../lib/index';
import * as O from './helpers/oracle';

const scratch = O.tmpDir('durability');
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));

const r = O.rng(2024);
const WORDS = Array.from({ length: 3000 }, () => Array.from({ length: O.randInt(r, 2, 9) }, () => String.fromCharCode(97 + O.randInt(r, 0, 26))).join(''));
const OLD_TEXTS = Array.from({ length: 60 }, () => Array.from({ length: O.randInt(r, 5, 60) }, () => O.pick(r, WORDS)).join(' '));
const PROBES = OLD_TEXTS.slice(0, 20).map((s) => s.slice(3, 3 + 12)).concat(['the', 'zzzz', WORDS[0], WORDS[1] + ' ' + WORDS[2]]);

/** ~24 MB of JSONL (about 2 s to build here) written once. */
function bigCorpus(): string {
  const file = path.join(scratch, 'big.jsonl');
  if (fs.existsSync(file)) return file;
  const fd = fs.openSync(file, 'w');
  const rr = O.rng(7);
  let total = 0;
  for (let i = 0; total < 24e6; i++) {
    const text = Array.from({ length: O.randInt(rr, 50, 400) }, () => O.pick(rr, WORDS)).join(' ');
    const line = JSON.stringify({ text, id: `big-${i}` }) + '\n';
    fs.writeSync(fd, line);
    total += line.length;
  }
  fs.closeSync(fd);
  return file;
}

async function buildOld(out: string) {
  await buildIndex({ inputs: OLD_TEXTS.map((text, i) => ({ text, id: `old-${i}` })), out, shardTokens: 600 });
}

const oldDocs = OLD_TEXTS.map(O.utf8);
async function assertOldAnswers(t: import('ava').ExecutionContext, out: string) {
  const idx = await openIndex(out);
  t.is(idx.info.documents, OLD_TEXTS.length);
  t.deepEqual(Array.from(await idx.countBatch(PROBES)), PROBES.map((p) => O.count(oldDocs, O.utf8(p))));
  const d = await idx.document('old-7');
  t.is(d.text, OLD_TEXTS[7]);
  await idx.verify();
  idx.close();
}

function tempDirsOf(out: string): string[] {
  const prefix = `.${path.basename(out)}.building-`;
  return fs.readdirSync(path.dirname(out)).filter((x) => x.startsWith(prefix)).map((x) => path.join(path.dirname(out), x));
}

/** Documents of the index at dir, or -1 when it does not open. */
async function documentsIn(dir: string): Promise<number> {
  try {
    const idx = await openIndex(dir);
    const n = idx.info.documents;
    idx.close();
    return n;
  } catch (e) {
    if (!(e instanceof TraceIndexError)) throw e;
    return -1;
  }
}

async function opens(dir: string): Promise<boolean> {
  try {
    (await openIndex(dir)).close();
    return true;
  } catch (e) {
    if (!(e instanceof TraceIndexError)) throw e;
    return false;
  }
}

test('SIGKILL at random moments never leaves a half index: the old index answers as before, temp dirs never open', async (t) => {
  const corpus = bigCorpus();
  const bigDocs = fs.readFileSync(corpus, 'utf8').split('\n').filter(Boolean).length;
  const parent = fs.mkdtempSync(path.join(scratch, 'kill-'));
  const out = path.join(parent, 'idx');
  await buildOld(out);
  await assertOldAnswers(t, out);
  const fresh = path.join(parent, 'never-built');
  const delays = [150, 500, 900, 1300, 1700].map((d) => d + O.randInt(r, 0, 200));
  let finished = 0;
  for (const delay of delays) {
    for (const target of [out, fresh]) {
      if (target === fresh && delay > 600) continue; // the fresh path is exercised at early kills only (time budget)
      const child = spawn(process.execPath, [O.CLI, 'build', corpus, '--out', target, '--shard-tokens', '5000000', '--quiet'], { stdio: 'ignore' });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const timer = new Promise<'timer'>((resolve) => setTimeout(() => resolve('timer'), delay));
      const first = await Promise.race([exited, timer]);
      if (first === 'timer') child.kill('SIGKILL');
      const code = await exited;
      // A kill landing after the build's atomic swap, before the process exits, finds the build complete.
      const completed = (first !== 'timer' && code === 0) || (await documentsIn(target)) === bigDocs;
      if (completed) finished++;
      if (target === out) {
        if (completed) {
          // The build won the race: out is the new index, complete. Put the old one back for the next round.
          t.is(await documentsIn(out), bigDocs);
          fs.rmSync(out, { recursive: true });
          await buildOld(out);
        }
        await assertOldAnswers(t, out);
      } else {
        t.is(fs.existsSync(target) && (await opens(target)), completed, `fresh out after a kill at ${delay} ms`);
      }
      for (const tmp of tempDirsOf(target)) t.false(await opens(tmp), `${tmp} must not open as an index`);
    }
  }
  t.true(finished < delays.length, 'at least one build was killed mid-way');

  // A stale temp dir of a dead process (plus whatever the kills left) is removed by the next build.
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const stale = path.join(parent, `.idx.building-${dead}-deadbeef`);
  fs.mkdirSync(path.join(stale, 'shard-00000'), { recursive: true });
  fs.writeFileSync(path.join(stale, 'shard-00000', 'tokens.bin.tmp'), 'partial');
  const small = path.join(parent, 'small.jsonl');
  fs.writeFileSync(small, OLD_TEXTS.slice(0, 10).map((text) => JSON.stringify({ text })).join('\n'));
  const ok = spawnSync(process.execPath, [O.CLI, 'build', small, '--out', out, '--quiet']);
  t.is(ok.status, 0, ok.stderr.toString());
  t.deepEqual(tempDirsOf(out), []);
  const idx = await openIndex(out);
  t.is(idx.info.documents, 10);
  idx.close();
});

test('an AbortSignal rejects the build with ERR_ABORTED and leaves the old index and no temp dir', async (t) => {
  const parent = fs.mkdtempSync(path.join(scratch, 'abort-'));
  const out = path.join(parent, 'idx');
  await buildOld(out);
  for (const when of [0, 30, 250]) {
    const controller = new AbortController();
    const rr = O.rng(when);
    async function* docs() {
      for (let i = 0; i < 40000; i++) {
        if (i % 500 === 0) await new Promise((res) => setImmediate(res));
        yield { text: Array.from({ length: 60 }, () => O.pick(rr, WORDS)).join(' ') };
      }
    }
    if (when === 0) controller.abort(new Error('stop now'));
    else setTimeout(() => controller.abort(new Error('stop later')), when);
    const err = await t.throwsAsync(buildIndex({ inputs: docs(), out, signal: controller.signal, shardTokens: 300_000 }));
    t.is((err as TraceIndexError).code, 'ERR_ABORTED', err?.message);
    await assertOldAnswers(t, out);
    t.deepEqual(tempDirsOf(out), []);
  }
});

test('determinism: the same inputs built twice give byte-identical shard files and manifest', async (t) => {
  const rr = O.rng(77);
  const docs = O.randomDocs(rr, 300, 400, 30, 0).map((tokens, i) => ({ tokens, id: `x${i}`, meta: { i } }));
  const a = path.join(scratch, 'det-a');
  const b = path.join(scratch, 'det-b');
  await buildIndex({ inputs: docs, out: a, tokenizer: { name: 'ids', vocabSize: 5000 }, shardTokens: 20000 });
  await buildIndex({ inputs: docs, out: b, tokenizer: { name: 'ids', vocabSize: 5000 }, shardTokens: 20000 });
  const list = (d: string): string[] => fs.readdirSync(d, { recursive: true }).map(String).sort();
  t.deepEqual(list(a), list(b));
  t.true(list(a).filter((f) => f.endsWith('sa.bin')).length >= 3);
  for (const f of list(a)) {
    const pa = path.join(a, f);
    if (fs.statSync(pa).isDirectory()) continue;
    t.true(fs.readFileSync(pa).equals(fs.readFileSync(path.join(b, f))), `${f} differs`);
  }
  // A rebuild over an existing index at the same path gives the same bytes too.
  const before = fs.readFileSync(path.join(a, 'manifest.json'));
  await buildIndex({ inputs: docs, out: a, tokenizer: { name: 'ids', vocabSize: 5000 }, shardTokens: 20000 });
  t.true(before.equals(fs.readFileSync(path.join(a, 'manifest.json'))));
});

// ---------------------------------------------------------------------------
// Nothing that is not ours is deleted; one build of a target at a time, locked through the swap.

const SMALL_DOCS = OLD_TEXTS.slice(0, 8).map((text, i) => ({ text, id: `s-${i}` }));

/** Every file below dir (relative path → contents; symlinks as their target), to check nothing changed. */
function snapshot(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const rel of fs.readdirSync(dir, { recursive: true }).map(String).sort()) {
    const p = path.join(dir, rel);
    const st = fs.lstatSync(p);
    m.set(rel, st.isSymbolicLink() ? `-> ${fs.readlinkSync(p)}` : st.isDirectory() ? '<dir>' : fs.readFileSync(p).toString('base64'));
  }
  return m;
}

test('build refuses a target that is not an index (another program\'s manifest.json, foreign files beside an index) and deletes nothing', async (t) => {
  const parent = fs.mkdtempSync(path.join(scratch, 'refuse-'));
  const web = path.join(parent, 'web');
  fs.mkdirSync(path.join(web, 'icons'), { recursive: true });
  fs.writeFileSync(path.join(web, 'manifest.json'), JSON.stringify({ name: 'my app', start_url: '/', display: 'standalone' }));
  fs.writeFileSync(path.join(web, 'index.html'), '<!doctype html><title>app</title>');
  fs.writeFileSync(path.join(web, 'icons', 'a.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  const webBefore = snapshot(web);
  const err = await t.throwsAsync(buildIndex({ inputs: SMALL_DOCS, out: web }));
  t.is((err as TraceIndexError).code, 'ERR_INVALID_ARGUMENT');
  t.regex(err!.message, /not a traceindex manifest/);
  t.deepEqual(snapshot(web), webBefore);
  // The command line refuses it the same way.
  const docs = path.join(parent, 'docs.jsonl');
  fs.writeFileSync(docs, SMALL_DOCS.map((d) => JSON.stringify(d)).join('\n'));
  const cli = spawnSync(process.execPath, [O.CLI, 'build', docs, '--out', web, '--quiet'], { encoding: 'utf8' });
  t.is(cli.status, 1);
  t.regex(cli.stderr, /ERR_INVALID_ARGUMENT.*not a traceindex manifest/);
  t.deepEqual(snapshot(web), webBefore);
  // A manifest that is no JSON at all, and a non-empty directory without one, are refused too.
  const notJson = path.join(parent, 'not-json');
  fs.mkdirSync(notJson);
  fs.writeFileSync(path.join(notJson, 'manifest.json'), 'CACHE MANIFEST\n/index.html\n');
  await t.throwsAsync(buildIndex({ inputs: SMALL_DOCS, out: notJson }), { code: 'ERR_INVALID_ARGUMENT' });
  t.is(fs.readFileSync(path.join(notJson, 'manifest.json'), 'utf8'), 'CACHE MANIFEST\n/index.html\n');
  const plain = path.join(parent, 'plain');
  fs.mkdirSync(plain);
  fs.writeFileSync(path.join(plain, 'notes.md'), 'mine');
  await t.throwsAsync(buildIndex({ inputs: SMALL_DOCS, out: plain }), { code: 'ERR_INVALID_ARGUMENT', message: /holds no index/ });
  t.is(fs.readFileSync(path.join(plain, 'notes.md'), 'utf8'), 'mine');

  // An index with a file of the user's beside its shards is not replaced either (that file would go).
  const idx = path.join(parent, 'idx');
  await buildOld(idx);
  fs.writeFileSync(path.join(idx, 'NOTES.txt'), 'keep me');
  const idxBefore = snapshot(idx);
  await t.throwsAsync(buildIndex({ inputs: SMALL_DOCS, out: idx }), { code: 'ERR_INVALID_ARGUMENT', message: /NOTES\.txt/ });
  t.deepEqual(snapshot(idx), idxBefore);
  await assertOldAnswers(t, idx);
  // Without it, the index is replaced as before; no work directory or lock is left behind.
  fs.rmSync(path.join(idx, 'NOTES.txt'));
  await buildIndex({ inputs: SMALL_DOCS, out: idx });
  t.is(await documentsIn(idx), SMALL_DOCS.length);
  t.deepEqual(fs.readdirSync(parent).filter((e) => e.startsWith('.')), []);
});

test('a second build of the target that starts during the first one\'s commit is refused and deletes none of its work', async (t) => {
  const parent = fs.mkdtempSync(path.join(scratch, 'commit-race-'));
  const out = path.join(parent, 'idx');
  await buildOld(out);
  const other = path.join(parent, 'other.jsonl');
  fs.writeFileSync(other, OLD_TEXTS.slice(30, 40).map((text) => JSON.stringify({ text })).join('\n'));
  let second: ReturnType<typeof spawnSync> | undefined;
  let lockSeen = false;
  const result = await buildIndex({
    inputs: SMALL_DOCS, out, shardTokens: 400,
    onProgress: (p) => {
      if (p.stage !== 'commit' || second) return;
      // The first build is about to write its manifest and swap: another build of the target starts now
      // (a separate process, run to its end while this one waits).
      lockSeen = fs.existsSync(path.join(parent, '.idx.lock'));
      second = spawnSync(process.execPath, [O.CLI, 'build', other, '--out', out, '--quiet'], { encoding: 'utf8' });
    },
  });
  t.true(lockSeen, 'the lock is held at the commit');
  t.is(second!.status, 1, String(second!.stderr));
  t.regex(String(second!.stderr), /another build of .*idx is running/);
  t.is(result.documents, SMALL_DOCS.length);
  const idx = await openIndex(out);
  t.is(idx.info.documents, SMALL_DOCS.length);
  t.is((await idx.document('s-3')).text, SMALL_DOCS[3].text);
  await idx.verify();
  idx.close();
  t.deepEqual(fs.readdirSync(parent).filter((e) => e.startsWith('.')), [], 'no lock or work directory left');

  // A lock left by a dead process is taken over.
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  fs.writeFileSync(path.join(parent, '.idx.lock'), String(dead));
  const ok = spawnSync(process.execPath, [O.CLI, 'build', other, '--out', out, '--quiet'], { encoding: 'utf8' });
  t.is(ok.status, 0, ok.stderr);
  t.is(await documentsIn(out), 10);
  t.false(fs.existsSync(path.join(parent, '.idx.lock')));
});

test('orphaned .NAME.combining-* and .NAME.building-* directories of the target are removed by its next build; foreign ones are kept', async (t) => {
  const parent = fs.mkdtempSync(path.join(scratch, 'orphans-'));
  const out = path.join(parent, 'idx');
  await buildOld(out);
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  // A combine killed past its swap: its work directory holds the whole old index.
  const combining = path.join(parent, `.idx.combining-${dead}`);
  fs.cpSync(out, combining, { recursive: true });
  // A combine killed before its swap: shard links and a temporary manifest.
  const early = path.join(parent, `.idx.combining-${dead + 1}`);
  fs.mkdirSync(early);
  fs.symlinkSync('../idx/shard-00000', path.join(early, 'shard-00000'));
  fs.writeFileSync(path.join(early, 'manifest.json.tmp'), '{');
  const building = path.join(parent, '.idx.building-0123456789abcdef');
  fs.mkdirSync(path.join(building, 'shard-00000'), { recursive: true });
  fs.writeFileSync(path.join(building, 'shard-00000.json'), '{}');
  // Not provably ours: a directory of that name holding something no build writes, another target's, a file.
  const foreign = path.join(parent, `.idx.combining-${dead + 2}`);
  fs.mkdirSync(foreign);
  fs.writeFileSync(path.join(foreign, 'thesis.tex'), 'mine');
  const otherTarget = path.join(parent, `.idx2.combining-${dead}`);
  fs.mkdirSync(otherTarget);
  const aFile = path.join(parent, `.idx.combining-${dead + 3}`);
  fs.writeFileSync(aFile, 'a file');
  // The temporary file of a lock taken by a process killed before it linked it in.
  const lockTemp = path.join(parent, `.idx.lock.${dead}.tmp`);
  fs.writeFileSync(lockTemp, String(dead));

  await buildIndex({ inputs: SMALL_DOCS, out });
  t.false(fs.existsSync(combining));
  t.false(fs.existsSync(early));
  t.false(fs.existsSync(building));
  t.false(fs.existsSync(lockTemp));
  t.is(fs.readFileSync(path.join(foreign, 'thesis.tex'), 'utf8'), 'mine');
  t.true(fs.existsSync(otherTarget));
  t.is(fs.readFileSync(aFile, 'utf8'), 'a file');
  t.is(await documentsIn(out), SMALL_DOCS.length);
});

/** Runs a script in a child process (it must not hang this one): its stdout, or null on timeout. */
function runScript(script: string, timeoutMs = 20_000): { stdout: string; timedOut: boolean } {
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: timeoutMs });
  return { stdout: r.stdout, timedOut: r.signal === 'SIGTERM' || r.error !== undefined };
}

const openScript = (dir: string, options = '{}') =>
  `require(${JSON.stringify(O.LIB)}).openIndex(${JSON.stringify(dir)}, ${options}).then(` +
  `(i) => { console.log(JSON.stringify({ ok: true, tokenizer: i.tokenizer.name, readsText: i.tokenizer.readsText })); i.close(); }, ` +
  `(e) => console.log(JSON.stringify({ code: e.code, message: e.message })))`;

(process.platform === 'win32' ? test.skip : test)('a manifest.json that is a FIFO, a link to /dev/zero or huge, and a FIFO named as tokenizer file, are refused, never waited on', async (t) => {
  const parent = fs.mkdtempSync(path.join(scratch, 'hostile-'));
  const make = async (name: string) => {
    const dir = path.join(parent, name);
    await buildIndex({ inputs: SMALL_DOCS, out: dir });
    fs.rmSync(path.join(dir, 'manifest.json'));
    return dir;
  };
  const fifo = await make('fifo');
  spawnSync('mkfifo', [path.join(fifo, 'manifest.json')]);
  const zero = await make('zero');
  fs.symlinkSync('/dev/zero', path.join(zero, 'manifest.json'));
  const huge = await make('huge');
  fs.writeFileSync(path.join(huge, 'manifest.json'), '');
  fs.truncateSync(path.join(huge, 'manifest.json'), 65 << 20); // sparse: 65 MiB of zeros
  const asDir = await make('directory');
  fs.mkdirSync(path.join(asDir, 'manifest.json'));
  for (const [dir, why] of [[fifo, /not a regular file/], [zero, /not a regular file/], [huge, /more than the 67108864 allowed/], [asDir, /a directory, not a regular file/]] as const) {
    const r = runScript(openScript(dir));
    t.false(r.timedOut, `${dir}: openIndex must not hang`);
    const got = JSON.parse(r.stdout || '{}');
    t.is(got.code, 'ERR_INDEX_CORRUPT', dir);
    t.regex(got.message ?? '', why);
  }
  // A build does not take such a directory for an index it may replace (nor hang on it).
  const b = spawnSync(process.execPath, [O.CLI, 'build', '-', '--out', fifo, '--quiet'], { input: '{"text":"x"}\n', encoding: 'utf8', timeout: 20_000 });
  t.is(b.status, 1, b.stderr);
  t.regex(b.stderr, /not a traceindex manifest/);

  // A tokenizer file named in the manifest is not read unless the caller trusts the index; then a FIFO is refused.
  const tokDir = path.join(parent, 'tok');
  fs.mkdirSync(tokDir);
  const tokFile = path.join(tokDir, 'tokenizer.json');
  fs.copyFileSync(path.join(O.REPO, 'test', 'fixtures', 'tiny-bpe.tokenizer.json'), tokFile);
  const named = path.join(parent, 'named');
  await buildIndex({ inputs: SMALL_DOCS, out: named, tokenizer: tokFile });
  const trusted = JSON.parse(runScript(openScript(named, '{ trustManifestTokenizer: true }')).stdout);
  t.deepEqual(trusted, { ok: true, tokenizer: tokFile, readsText: true });
  fs.rmSync(tokFile);
  spawnSync('mkfifo', [tokFile]);
  for (const options of ['{}', '{ trustManifestTokenizer: true }']) {
    const r = runScript(openScript(named, options));
    t.false(r.timedOut, `open with ${options} must not hang on a FIFO tokenizer`);
    // The index still opens, for token-id queries (as when its tokenizer file is missing).
    t.deepEqual(JSON.parse(r.stdout || '{}'), { ok: true, tokenizer: tokFile, readsText: false });
  }
});

(process.platform === 'win32' ? test.skip : test)('an infini-gram directory whose tokenized or offset file is a FIFO is refused, never waited on', async (t) => {
  for (const fifoName of ['tokenized', 'offset']) {
    const dir = fs.mkdtempSync(path.join(scratch, `ig-fifo-${fifoName}-`));
    const tok = Buffer.alloc(8);
    tok.writeUInt32LE(0xffffffff, 0);
    tok.writeUInt32LE(7, 4);
    const files: Record<string, Buffer> = { tokenized: tok, offset: Buffer.alloc(8), table: Buffer.from([4, 0]) };
    for (const [name, bytes] of Object.entries(files)) {
      if (name === fifoName) spawnSync('mkfifo', [path.join(dir, name)]);
      else fs.writeFileSync(path.join(dir, name), bytes);
    }
    const r = runScript(openScript(dir), 10_000);
    t.false(r.timedOut, `${fifoName}: openIndex must not hang`);
    const got = JSON.parse(r.stdout || '{}');
    t.is(got.code, 'ERR_INDEX_CORRUPT', fifoName);
    t.is(got.message, `${path.join(dir, fifoName)}: not a regular file`);
  }
});

// ---------------------------------------------------------------------------
// File-system errors: ERR_IO naming the path and the reason.

/** A small file system of our own (a tmpfs in a user + mount namespace), when this machine allows one. */
const tmpfsScript = (script: string) => spawnSync('unshare', ['-rm', 'sh', '-c', script], { encoding: 'utf8', timeout: 120_000 });
const haveTmpfs = process.platform === 'linux' && (() => {
  const mnt = fs.mkdtempSync(path.join(scratch, 'mnt-probe-'));
  return tmpfsScript(`mount -t tmpfs -o size=1m tmpfs ${mnt}`).status === 0;
})();

(haveTmpfs ? test : test.skip)('a full disk during a build: ERR_IO saying where the resumable work directory is and its size; the same build resumes', (t) => {
  const corpus = bigCorpus();
  const mnt = fs.mkdtempSync(path.join(scratch, 'full-'));
  const out = path.join(mnt, 'idx');
  const build = `${JSON.stringify(process.execPath)} ${JSON.stringify(O.CLI)} build ${JSON.stringify(corpus)} --out ${out} --shard-tokens 300000 --json`;
  // 6 MiB hold a few shards of 300 000 tokens (~1.6 MB each), far from the whole corpus (~24 M tokens).
  const r = tmpfsScript([
    `mount -t tmpfs -o size=6m tmpfs ${mnt} || exit 99`,
    `${build} > ${mnt}/first.json 2> ${mnt}/first.err; echo "status=$?"; cat ${mnt}/first.err`,
    `for d in ${mnt}/.idx.building-*; do echo "kept=$d $(du -sb "$d" | cut -f1)"; done`,
    `mount -o remount,size=200m ${mnt} && ${build}`,
  ].join('\n'));
  t.not(r.status, 99, r.stderr);
  const out1 = r.stdout;
  t.regex(out1, /status=1/);
  // With --json the error is one JSON line on stderr: {"error": {"code", "message"}}.
  const error = JSON.parse(/^\{"error".*$/m.exec(out1)?.[0] ?? '{"error":{}}').error as { code?: string; message?: string };
  t.is(error.code, 'ERR_IO');
  const message = error.message ?? '';
  // The native writer says it with strerror, a JS write with Node's code: whichever write meets the full disk.
  t.regex(message, /no space left on (the )?device/i);
  const kept = /kept=(\S+) (\d+)/.exec(out1);
  t.truthy(kept, out1);
  // The message names the work directory and its size as du sees it after the failed build, to the 0.1 MiB it
  // prints: du -sb also counts the directories' own sizes, so a total near x.x5 MiB may round either way.
  const said = new RegExp(`the finished shards are kept in ${kept![1].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\((\\d+\\.\\d) MiB\\)`).exec(message);
  t.truthy(said, message);
  t.true(Math.abs(Number(said![1]) - Number(kept![2]) / 2 ** 20) <= 0.1 + 1e-9, `${message} (du: ${kept![2]} bytes)`);
  t.true(Number(kept![2]) > 1e6, 'finished shards were kept');
  const second = JSON.parse(out1.slice(out1.lastIndexOf('{"out"')));
  t.true(second.resumed > 0, 'the rerun resumed the kept shards');
  t.is(second.documents, fs.readFileSync(corpus, 'utf8').split('\n').filter(Boolean).length);
});

const isRoot = process.getuid?.() === 0;

/** Runs the CLI as an unprivileged user (nobody, when we are root), so that file permissions apply. */
function cliUnprivileged(args: string[]) {
  return spawnSync(process.execPath, [O.CLI, ...args], { encoding: 'utf8', ...(isRoot ? { uid: 65534, gid: 65534 } : {}) });
}

(process.platform === 'win32' ? test.skip : test)('permission errors are ERR_IO naming the path: an unreadable shard directory is not corruption; an unwritable parent', async (t) => {
  const parent = fs.mkdtempSync(path.join(scratch, 'perm-'));
  fs.chmodSync(scratch, 0o755);
  fs.chmodSync(parent, 0o755);
  const out = path.join(parent, 'idx');
  await buildIndex({ inputs: SMALL_DOCS, out, shardTokens: 400 });
  for (const e of fs.readdirSync(out, { recursive: true })) fs.chmodSync(path.join(out, String(e)), fs.statSync(path.join(out, String(e))).isDirectory() ? 0o755 : 0o644);
  t.is(cliUnprivileged(['count', out, 'the']).status, 0, 'the index reads as an unprivileged user');
  fs.chmodSync(path.join(out, 'shard-00001'), 0o000);
  try {
    const r = cliUnprivileged(['count', out, 'the']);
    t.is(r.status, 1);
    t.regex(r.stderr, /ERR_IO: .*shard-00001.*permission denied/);
    t.notRegex(r.stderr, /ERR_INDEX_CORRUPT/);
  } finally {
    fs.chmodSync(path.join(out, 'shard-00001'), 0o755);
  }
  const readOnly = path.join(parent, 'ro');
  fs.mkdirSync(readOnly, { mode: 0o555 });
  fs.chmodSync(readOnly, 0o555);
  const docs = path.join(parent, 'docs.jsonl');
  fs.writeFileSync(docs, SMALL_DOCS.map((d) => JSON.stringify(d)).join('\n'));
  fs.chmodSync(docs, 0o644);
  const b = cliUnprivileged(['build', docs, '--out', path.join(readOnly, 'idx'), '--quiet']);
  t.is(b.status, 1);
  t.regex(b.stderr, new RegExp(`ERR_IO: .*${readOnly.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*permission denied`));
});
