/**
 * upgradeIndex / `traceindex upgrade`: a format version 1 index gets samples.bin in place and answers exactly
 * as before (and as the brute-force oracle); the files written are the ones a version 2 build writes, byte for
 * byte. An upgrade stopped at any point (abort, kill, full disk, read-only directory) leaves the version 1
 * index opening and answering as it did, and the next upgrade finishes it; a damaged index is refused untouched.
 */
import test, { ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildIndex, combineIndexes, Index, openIndex, TraceIndexError, upgradeIndex, UpgradeProgress } from '../lib/index';
import { manifestOf, stripToV1, writeManifest } from './helpers/format-v1';
import * as O from './helpers/oracle';
import { Corpus } from './helpers/trace-oracle';

const scratch = O.tmpDir('upgrade');
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));
let n = 0;
const fresh = () => path.join(scratch, `idx-${n++}`);

function corpus(vocab: number, seed: number): number[][] {
  const r = O.rng(seed);
  return O.randomDocs(r, 60, 300, 5, vocab - 10).concat(O.adversarialDocs(r, vocab), [O.randomTokens(r, 400, vocab)], [O.randomTokens(r, 300, 3)]);
}

interface Fixture {
  docs: number[][];
  vocab: number;
  /** A version 2 build of the documents, never modified: its samples.bin files are the reference. */
  v2: string;
  /** The same index stripped to version 1, never modified: copy it. */
  v1: string;
  shards: string[];
}

async function fixture(vocab: number, seed: number, parts = 3): Promise<Fixture> {
  const docs = corpus(vocab, seed);
  const v2 = fresh();
  await buildIndex({ inputs: docs.map((tokens, i) => ({ tokens, id: `d${i}` })), out: v2, tokenizer: { name: `v${vocab}`, vocabSize: vocab }, shardTokens: O.shardTokensFor(docs, parts) });
  const v1 = fresh();
  fs.cpSync(v2, v1, { recursive: true });
  await stripToV1(v1);
  return { docs, vocab, v2, v1, shards: manifestOf(v2).shards.map((s: { dir: string }) => s.dir) };
}

const copyOf = (dir: string) => {
  const out = fresh();
  fs.cpSync(dir, out, { recursive: true });
  return out;
};
const read = (dir: string, ...p: string[]) => fs.readFileSync(path.join(dir, ...p));
const exists = (dir: string, ...p: string[]) => fs.existsSync(path.join(dir, ...p));

function queries(f: Fixture, seed: number): number[][] {
  const qs = O.patterns(O.rng(seed), f.docs, 300, 5, f.vocab - 10);
  for (const len of [1, 2, 4, 8, 9, 16]) qs.push(new Array(len).fill(0), new Array(len).fill(f.vocab - 1));
  return qs;
}

/** Everything the index answers that the sampled keys could change: counts, located pages, traces. */
async function answers(idx: Index, f: Fixture, qs: number[][]) {
  const locate = await Promise.all(qs.slice(0, 60).map(async (q) => {
    const r = await idx.locate(q, { limit: 1000 });
    return { total: r.total, at: r.occurrences.map((o) => [o.document, o.position.token]) };
  }));
  const outputs = O.patterns(O.rng(f.vocab), f.docs, 20, 5, f.vocab - 10).map((p, i) => [...p, ...f.docs[i % f.docs.length].slice(0, 30), ...p]);
  const traces = await Promise.all(outputs.map(async (o) => (await idx.trace(o)).spans.map((s) => [s.start, s.end, s.count])));
  return { counts: Array.from(await idx.countBatch(qs)), locate, outputs, traces };
}

/** Opens `dir` and checks its answers against the oracle and against `want` (the version 1 answers). */
async function checkAnswers(t: ExecutionContext, dir: string, f: Fixture, qs: number[][], want: Awaited<ReturnType<typeof answers>>, version: number) {
  const idx = await openIndex(dir);
  try {
    t.is(idx.info.formatVersion, version);
    const got = await answers(idx, f, qs);
    t.deepEqual(got, want);
    t.deepEqual(got.counts, qs.map((q) => O.count(f.docs, q)));
    t.deepEqual(got.locate, qs.slice(0, 60).map((q) => {
      const occ = O.occurrences(f.docs, q);
      return { total: occ.length, at: occ.slice(0, 1000).map((o) => [o.doc, o.offset]) };
    }));
    if (f.vocab < 0xffff) {
      const c = new Corpus(f.docs);
      t.deepEqual(got.traces, got.outputs.map((o) => c.trace(o).map((s) => [s.start, s.end, s.count])));
    }
    await idx.verify();
  } finally {
    idx.close();
  }
}

async function rejectsWith(t: ExecutionContext, p: Promise<unknown>, code: TraceIndexError['code'], mention?: RegExp) {
  const err = await t.throwsAsync(p);
  t.true(err instanceof TraceIndexError, String(err));
  t.is((err as TraceIndexError).code, code, err?.message);
  if (mention) t.regex(err?.message ?? '', mention);
}

/** The directory is the version 1 index it was: same manifest bytes, no samples.bin.tmp anywhere. */
function unchangedV1(t: ExecutionContext, dir: string, f: Fixture) {
  t.deepEqual(read(dir, 'manifest.json'), read(f.v1, 'manifest.json'), 'manifest.json unchanged');
  for (const s of f.shards) t.false(exists(dir, s, 'samples.bin.tmp'), `${s}/samples.bin.tmp left`);
}

/** The directory is fully upgraded: a version 2 manifest listing samples.bin with its size and checksum, the files equal to a v2 build's. */
function upgradedLike(t: ExecutionContext, dir: string, f: Fixture) {
  const m = manifestOf(dir);
  const ref = manifestOf(f.v2);
  t.is(m.formatVersion, 2);
  for (const [i, s] of m.shards.entries()) {
    t.deepEqual(read(dir, s.dir, 'samples.bin'), read(f.v2, s.dir, 'samples.bin'), `${s.dir}/samples.bin as a v2 build writes it`);
    t.deepEqual(s.files['samples.bin'], ref.shards[i].files['samples.bin']);
    t.false(exists(dir, s.dir, 'samples.bin.tmp'));
  }
  // Everything else as the version 1 manifest had it.
  const v1 = manifestOf(f.v1);
  for (const s of m.shards) delete s.files['samples.bin'];
  t.deepEqual({ ...m, formatVersion: 1 }, v1);
}

for (const [title, vocab] of [['u8', 200], ['u16', 1000], ['u32', 100000]] as const) {
  test(`${title}: a version 1 index upgraded in place answers as before and as the oracle; a second upgrade is a no-op`, async (t) => {
    const f = await fixture(vocab, vocab);
    const dir = copyOf(f.v1);
    const qs = queries(f, vocab + 1);
    const before = await openIndex(dir);
    const want = await answers(before, f, qs);
    const progress: UpgradeProgress[] = [];
    const r = await upgradeIndex(dir, { onProgress: (p) => progress.push(p) });
    // An index open before the upgrade keeps answering from what it opened.
    t.deepEqual(Array.from(await before.countBatch(qs)), want.counts);
    before.close();
    const m = manifestOf(dir);
    t.deepEqual(r, { shards: f.shards.length, upgraded: f.shards.length, bytesWritten: m.shards.reduce((a: number, s: { files: Record<string, { bytes: number }> }) => a + s.files['samples.bin'].bytes, 0) });
    t.true(f.shards.length >= 3);
    upgradedLike(t, dir, f);
    t.deepEqual(progress.map((p) => p.stage).filter((s, i, a) => s !== a[i - 1]), ['verify', 'write', 'commit', 'done']);
    t.deepEqual(progress[progress.length - 1], { ...progress[progress.length - 1], stage: 'done', shards: f.shards.length, toUpgrade: f.shards.length, verified: f.shards.length, written: f.shards.length, bytesWritten: r.bytesWritten });
    await checkAnswers(t, dir, f, qs, want, 2);

    const files = () => fs.readdirSync(dir, { recursive: true }).sort().map((e) => [e, fs.statSync(path.join(dir, String(e))).mtimeMs]);
    const snapshot = files();
    const manifest = read(dir, 'manifest.json');
    t.deepEqual(await upgradeIndex(dir), { shards: f.shards.length, upgraded: 0, bytesWritten: 0 });
    t.deepEqual(read(dir, 'manifest.json'), manifest);
    t.deepEqual(files(), snapshot, 'a no-op writes nothing');
  });
}

test('a version 2 manifest with shards carried over from version 1 (an append): only those get samples.bin', async (t) => {
  const vocab = 300;
  const docs = corpus(vocab, 7);
  const dir = fresh();
  const tokenizer = { name: `v${vocab}`, vocabSize: vocab };
  await buildIndex({ inputs: docs.slice(0, 40).map((tokens, i) => ({ tokens, id: `d${i}` })), out: dir, tokenizer, shardTokens: O.shardTokensFor(docs.slice(0, 40), 2) });
  await stripToV1(dir);
  await buildIndex({ inputs: docs.slice(40).map((tokens, i) => ({ tokens, id: `e${i}` })), out: dir, tokenizer, append: true });
  const m = manifestOf(dir);
  const has = m.shards.filter((s: { files: object }) => 'samples.bin' in s.files);
  const lacks = m.shards.length - has.length;
  t.true(has.length > 0 && lacks > 0);
  const inode = (s: { dir: string }) => fs.statSync(path.join(dir, s.dir, 'samples.bin')).ino;
  const kept = has.map(inode);
  const r = await upgradeIndex(dir);
  t.is(r.upgraded, lacks);
  const after = manifestOf(dir);
  t.true(after.shards.every((s: { files: object }) => 'samples.bin' in s.files));
  t.deepEqual(has.map(inode), kept, 'shards that had samples.bin are left alone');
  for (const s of after.shards) {
    const file = path.join(dir, s.dir, 'samples.bin');
    t.is(fs.statSync(file).size, s.files['samples.bin'].bytes);
  }
  const idx = await openIndex(dir);
  const qs = O.patterns(O.rng(8), docs, 300, 5, vocab - 10);
  t.deepEqual(Array.from(await idx.countBatch(qs)), qs.map((q) => O.count(docs, q)));
  const v = await idx.verify(); // every checksum the upgrade recorded
  t.is(v.files, 6 * after.shards.length);
  idx.close();
});

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Every file below `dir` (links not followed) with its bytes, and every link with its target. */
function tree(dir: string): Map<string, string | Buffer> {
  const m = new Map<string, string | Buffer>();
  for (const e of fs.readdirSync(dir, { recursive: true }).map(String).sort()) {
    const p = path.join(dir, e);
    const st = fs.lstatSync(p);
    if (st.isSymbolicLink()) m.set(e, `-> ${fs.readlinkSync(p)}`);
    else if (st.isFile()) m.set(e, fs.readFileSync(p));
  }
  return m;
}

test('a combined index over version 1 parts is refused untouched (its shards are the parts\'): upgrade the parts and combine again', async (t) => {
  const root = fresh();
  fs.mkdirSync(root);
  const rr = O.rng(61);
  const inputs = [0, 1, 2].map((f) => {
    const file = path.join(root, `f${f}.jsonl`);
    fs.writeFileSync(file, Array.from({ length: 40 }, (_, i) => JSON.stringify({ id: `f${f}-${i}`, text: O.randomTokens(rr, 200, 6).map((x) => 'abcdef'[x]).join('') })).join('\n') + '\n');
    return file;
  });
  const parts = [0, 1].map((i) => path.join(root, `part-${i}`));
  for (const [i, p] of parts.entries()) {
    await buildIndex({ inputs, out: p, part: { index: i, count: 2 }, shardTokens: 5_000 });
    await stripToV1(p);
  }
  const combined = path.join(root, 'combined');
  await combineIndexes(combined, parts);
  const appended = path.join(root, 'appended'); // a combined index with an appended (real) shard after the linked ones
  await combineIndexes(appended, parts);
  const extra = path.join(root, 'extra.jsonl');
  fs.writeFileSync(extra, JSON.stringify({ id: 'x', text: 'abcabc' }) + '\n');
  await buildIndex({ inputs: [extra], out: appended, append: true });
  const before = parts.map(tree);
  const shards = manifestOf(parts[0]).shards.length + manifestOf(parts[1]).shards.length;
  t.true(shards >= 4, 'several shards per part');
  for (const dir of [combined, appended]) {
    const own = tree(dir);
    await rejectsWith(t, upgradeIndex(dir), 'ERR_INVALID_ARGUMENT', new RegExp(`shard-00000 is a link into part ${escapeRe(parts[0])}.*shard-\\d+ is a link into part ${escapeRe(parts[1])}.*traceindex upgrade PART`, 's'));
    t.deepEqual(tree(dir), own, `${dir} unchanged`);
    const r = cliAs(['upgrade', dir]);
    t.is(r.status, 1);
    t.regex(r.stderr, /ERR_INVALID_ARGUMENT.*link into part/);
    t.deepEqual(tree(dir), own, `${dir} unchanged`);
  }
  parts.forEach((p, i) => t.deepEqual(tree(p), before[i], `${p} byte for byte unchanged`));
  // The appended index's message names its own shard and says to combine into a new directory (regression, review
  // rev5: combining again into it deleted the appended documents).
  const own = manifestOf(appended).shards.length - 1;
  const appendedDocs = manifestOf(appended).documents;
  await rejectsWith(t, upgradeIndex(appended), 'ERR_INVALID_ARGUMENT', new RegExp(`into a new directory, then append .*shard-0*${own} \\(documents ${appendedDocs - 1}–${appendedDocs - 1}\\)`));
  // The way out the message gives: upgrade each part, combine again (into the same directory).
  for (const p of parts) t.is((await upgradeIndex(p)).upgraded, manifestOf(p).shards.length);
  await combineIndexes(combined, parts);
  const m = manifestOf(combined);
  t.is(m.formatVersion, 2);
  t.is(m.shards.length, shards);
  t.true(m.shards.every((s: { files: object }) => 'samples.bin' in s.files));
  t.deepEqual(await upgradeIndex(combined), { shards, upgraded: 0, bytesWritten: 0 });
  const idx = await openIndex(combined);
  t.is((await idx.verify()).files, 6 * shards);
  t.is(await idx.count('abcab'), (await Promise.all(parts.map(async (p) => {
    const x = await openIndex(p);
    try { return await x.count('abcab'); } finally { x.close(); }
  }))).reduce((a, b) => a + b, 0));
  idx.close();
  // Combining again into the appended index is refused untouched (its own shard would be deleted), from the CLI too.
  const ownTree = tree(appended);
  await rejectsWith(t, combineIndexes(appended, parts), 'ERR_INVALID_ARGUMENT', new RegExp(`holds shards that are not links into the given parts: shard-0*${own} \\(its own.*Combine into a new directory`));
  const c = cliAs(['combine', appended, ...parts]);
  t.is(c.status, 1);
  t.regex(c.stderr, /ERR_INVALID_ARGUMENT.*not links into the given parts/);
  t.deepEqual(tree(appended), ownTree, 'appended index unchanged');
  // Its way out: the upgraded parts combined into a new directory, the appended documents appended again.
  const renewed = path.join(root, 'renewed');
  await combineIndexes(renewed, parts);
  await buildIndex({ inputs: [extra], out: renewed, append: true });
  t.deepEqual(await upgradeIndex(renewed), { shards: shards + 1, upgraded: 0, bytesWritten: 0 });
  const docs = async (dir: string) => {
    const x = await openIndex(dir);
    try {
      const all: Array<[string, string]> = [];
      for (let n = 0; n < x.info.documents; n++) {
        const d = await x.document(n);
        all.push([d.id, d.text!]);
      }
      return all;
    } finally { x.close(); }
  };
  const kept = await docs(appended);
  t.is(kept.length, appendedDocs);
  t.deepEqual(kept[appendedDocs - 1], ['x', 'abcabc']);
  t.deepEqual(await docs(renewed), kept, 'no document lost');
});

test('abort: before the manifest is written the index stays version 1 and opens; the next upgrade finishes it', async (t) => {
  const f = await fixture(200, 21);
  const qs = queries(f, 22);
  const v1 = await openIndex(f.v1);
  const want = await answers(v1, f, qs);
  v1.close();
  // Aborted before anything, while verifying, and while writing (after the first shard's samples.bin).
  for (const when of ['before', 'verify', 'write'] as const) {
    const dir = copyOf(f.v1);
    const ac = new AbortController();
    if (when === 'before') ac.abort();
    const onProgress = (p: UpgradeProgress) => {
      if ((when === 'verify' && p.verified === 1) || (when === 'write' && p.written === 1)) ac.abort();
    };
    await rejectsWith(t, upgradeIndex(dir, { signal: ac.signal, onProgress }), 'ERR_ABORTED');
    unchangedV1(t, dir, f);
    // Nothing is written before every shard to upgrade is verified.
    t.deepEqual(f.shards.map((s) => exists(dir, s, 'samples.bin')), f.shards.map((_, i) => when === 'write' && i === 0), when);
    await checkAnswers(t, dir, f, qs, want, 1);
    await upgradeIndex(dir);
    upgradedLike(t, dir, f);
    await checkAnswers(t, dir, f, qs, want, 2);
  }
});

test('killed at every step (a child process SIGKILLed) the index is the version 1 one, or the finished version 2; a rerun finishes it', async (t) => {
  const f = await fixture(200, 31);
  const qs = queries(f, 32);
  const v1 = await openIndex(f.v1);
  const want = await answers(v1, f, qs);
  v1.close();
  // The child kills itself at its k-th progress report: after each shard verified, after each samples.bin
  // renamed into place, just before the manifest is written, after it.
  const reports = 2 * (f.shards.length + 1) + 2;
  for (let k = 0; k < reports; k++) {
    const dir = copyOf(f.v1);
    const script = `let k = 0; require(${JSON.stringify(O.LIB)}).upgradeIndex(${JSON.stringify(dir)}, { onProgress: (p) => {
      if (k++ === ${k}) { require('fs').writeFileSync(${JSON.stringify(dir + '.stage')}, p.stage); process.kill(process.pid, 'SIGKILL'); } } })`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
    t.is(r.signal, 'SIGKILL', `k=${k}: ${r.stderr}`);
    const stage = fs.readFileSync(dir + '.stage', 'utf8');
    if (stage === 'done') upgradedLike(t, dir, f);
    else unchangedV1(t, dir, f);
    await checkAnswers(t, dir, f, qs, want, stage === 'done' ? 2 : 1);
    await upgradeIndex(dir);
    upgradedLike(t, dir, f);
  }
});

test('what a kill mid-write leaves (a partial samples.bin.tmp, an unlisted samples.bin, a partial manifest.json.tmp) is ignored by readers and replaced by the next upgrade', async (t) => {
  const f = await fixture(1000, 41);
  const qs = queries(f, 42);
  const dir = copyOf(f.v1);
  const good = read(f.v2, f.shards[0], 'samples.bin');
  fs.writeFileSync(path.join(dir, f.shards[0], 'samples.bin.tmp'), good.subarray(0, good.length >> 1));
  fs.writeFileSync(path.join(dir, f.shards[1], 'samples.bin'), Buffer.alloc(good.length, 0xab)); // garbage, unlisted
  fs.writeFileSync(path.join(dir, 'manifest.json.tmp'), read(dir, 'manifest.json').subarray(0, 100));
  const v1 = await openIndex(f.v1);
  const want = await answers(v1, f, qs);
  v1.close();
  await checkAnswers(t, dir, f, qs, want, 1);
  await upgradeIndex(dir);
  upgradedLike(t, dir, f);
  t.false(exists(dir, 'manifest.json.tmp'));
  await checkAnswers(t, dir, f, qs, want, 2);
});

test('a damaged version 1 index is refused with the open and quick-verify codes, and nothing is written', async (t) => {
  const f = await fixture(200, 51);
  const m = manifestOf(f.v1);
  const s1 = m.shards[1];
  const damage: Array<[string, (dir: string) => void, TraceIndexError['code'], RegExp]> = [
    ['sa.bin truncated', (dir) => fs.truncateSync(path.join(dir, s1.dir, 'sa.bin'), s1.files['sa.bin'].bytes - 4), 'ERR_INDEX_CORRUPT', /sa\.bin.*truncated/],
    ['sa.bin from another version', (dir) => {
      const file = path.join(dir, s1.dir, 'sa.bin');
      const b = fs.readFileSync(file);
      b.writeUInt32LE(3, 8);
      fs.writeFileSync(file, b);
    }, 'ERR_INDEX_VERSION', /sa\.bin/],
    // Caught only by the quick verify: every suffix-array entry a document position, in reverse order.
    ['sa.bin reversed', (dir) => {
      const file = path.join(dir, s1.dir, 'sa.bin');
      const b = fs.readFileSync(file);
      const sa = new Uint32Array(b.buffer, b.byteOffset + 64, (b.length - 64) / 4);
      sa.reverse();
      fs.writeFileSync(file, b);
    }, 'ERR_INDEX_CORRUPT', /sa\.bin/],
    ['a separator overwritten', (dir) => {
      const file = path.join(dir, s1.dir, 'tokens.bin');
      const docs = fs.readFileSync(path.join(dir, s1.dir, 'docs.bin'));
      const end = Number(docs.readBigUInt64LE(64 + 8 * 2)) - 1; // the separator after the shard's second document
      const b = fs.readFileSync(file);
      t.is(b[64 + end], 0xff);
      b[64 + end] = 1;
      fs.writeFileSync(file, b);
    }, 'ERR_INDEX_CORRUPT', /tokens\.bin/],
    ['no manifest', (dir) => fs.rmSync(path.join(dir, 'manifest.json')), 'ERR_INDEX_NOT_FOUND', /manifest\.json is missing/],
    ['a manifest from a future version', (dir) => writeManifest(dir, { ...m, formatVersion: 3 }), 'ERR_INDEX_VERSION', /format version 3/],
  ];
  for (const [what, harm, code, mention] of damage) {
    const dir = copyOf(f.v1);
    harm(dir);
    const manifest = exists(dir, 'manifest.json') ? read(dir, 'manifest.json') : null;
    await rejectsWith(t, upgradeIndex(dir), code, mention);
    t.deepEqual(exists(dir, 'manifest.json') ? read(dir, 'manifest.json') : null, manifest, what);
    for (const s of f.shards) t.false(exists(dir, s, 'samples.bin') || exists(dir, s, 'samples.bin.tmp'), `${what}: ${s}`);
    t.false(fs.existsSync(path.join(path.dirname(dir), `.${path.basename(dir)}.lock`)), `${what}: lock released`);
  }
});

test('not a traceindex index: an infini-gram directory is ERR_INVALID_ARGUMENT, a missing one ERR_INDEX_NOT_FOUND; bad options are refused', async (t) => {
  const ig = fresh();
  fs.mkdirSync(ig);
  fs.writeFileSync(path.join(ig, 'tokenized.0'), Buffer.from([0xff, 1, 2, 3]));
  fs.writeFileSync(path.join(ig, 'table.0'), Buffer.alloc(4));
  await rejectsWith(t, upgradeIndex(ig), 'ERR_INVALID_ARGUMENT', /infini-gram/);
  t.deepEqual(fs.readdirSync(ig).sort(), ['table.0', 'tokenized.0']);
  await rejectsWith(t, upgradeIndex(path.join(scratch, 'absent')), 'ERR_INDEX_NOT_FOUND');
  await rejectsWith(t, upgradeIndex(''), 'ERR_INVALID_ARGUMENT');
  await rejectsWith(t, upgradeIndex(ig, { signal: {} as AbortSignal }), 'ERR_INVALID_ARGUMENT', /signal/);
  await rejectsWith(t, upgradeIndex(ig, { onProgress: 1 as never }), 'ERR_INVALID_ARGUMENT', /onProgress/);
});

test('another build, append or upgrade of the index running: refused by the target lock', async (t) => {
  const f = await fixture(200, 61, 2);
  const dir = copyOf(f.v1);
  const lock = path.join(path.dirname(dir), `.${path.basename(dir)}.lock`);
  fs.writeFileSync(lock, String(process.pid)); // a live process holds it
  await rejectsWith(t, upgradeIndex(dir), 'ERR_INVALID_ARGUMENT', /another build .* is running/);
  unchangedV1(t, dir, f);
  fs.rmSync(lock);
});

const isRoot = process.getuid?.() === 0;
const cliAs = (args: string[], unprivileged = false) =>
  spawnSync(process.execPath, [O.CLI, ...args], { encoding: 'utf8', timeout: 120_000, ...(unprivileged && isRoot ? { uid: 65534, gid: 65534 } : {}) });

test('CLI: traceindex upgrade DIR (--json and human output), a no-op saying so, usage errors, a refused infini-gram directory', async (t) => {
  const f = await fixture(200, 71, 2);
  const dir = copyOf(f.v1);
  let r = cliAs(['upgrade', dir, '--json']);
  t.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  t.deepEqual(out, { shards: f.shards.length, upgraded: f.shards.length, bytesWritten: out.bytesWritten });
  t.true(out.bytesWritten > 0);
  upgradedLike(t, dir, f);
  t.is(cliAs(['verify', dir]).status, 0);
  r = cliAs(['upgrade', dir]);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout, '');
  t.regex(r.stderr, /already format version 2 .* nothing to do/);
  const second = copyOf(f.v1);
  r = cliAs(['upgrade', second]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stderr, new RegExp(`upgraded ${f.shards.length} of ${f.shards.length} shard\\(s\\) .* to format version 2`));
  r = cliAs(['upgrade', second, '--quiet']);
  t.is(r.status, 0);
  t.is(r.stdout + r.stderr, '');

  for (const args of [['upgrade'], ['upgrade', dir, second], ['upgrade', dir, '--tokenizer', 'bytes']]) {
    r = cliAs(args);
    t.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
  }
  const ig = fresh();
  fs.mkdirSync(ig);
  fs.writeFileSync(path.join(ig, 'tokenized.0'), Buffer.from([0xff, 1, 2]));
  r = cliAs(['upgrade', ig, '--json']);
  t.is(r.status, 1);
  t.is(JSON.parse(r.stderr).error.code, 'ERR_INVALID_ARGUMENT');
  t.true(cliAs(['--help']).stdout.includes('upgrade DIR'));
});

(process.platform === 'win32' ? test.skip : test)('a read-only index directory: ERR_IO naming the path, the index left as it was', async (t) => {
  const f = await fixture(200, 81, 2);
  const parent = fs.mkdtempSync(path.join(scratch, 'ro-'));
  fs.chmodSync(scratch, 0o755);
  fs.chmodSync(parent, 0o777); // the lock beside the index can be taken; the index itself cannot be written
  const dir = path.join(parent, 'idx');
  fs.cpSync(f.v1, dir, { recursive: true });
  const entries = [dir, ...fs.readdirSync(dir, { recursive: true }).map((e) => path.join(dir, String(e)))];
  for (const e of entries.reverse()) fs.chmodSync(e, fs.statSync(e).isDirectory() ? 0o555 : 0o444);
  try {
    const r = cliAs(['upgrade', dir], true);
    t.is(r.status, 1, r.stderr);
    t.regex(r.stderr, /ERR_IO: .*shard-00000.*permission denied/i);
    unchangedV1(t, dir, f);
    for (const s of f.shards) t.false(exists(dir, s, 'samples.bin'));
    t.is(cliAs(['count', dir, '--tokens', '1,2'], true).status, 0, 'the index still reads');
  } finally {
    for (const e of entries) fs.chmodSync(e, fs.statSync(e).isDirectory() ? 0o755 : 0o644);
  }
  await upgradeIndex(dir);
  upgradedLike(t, dir, f);
});

/** A small file system of our own (a tmpfs in a user + mount namespace), when this machine allows one (as test/durability.test.ts). */
const tmpfsScript = (script: string) => spawnSync('unshare', ['-rm', 'sh', '-c', script], { encoding: 'utf8', timeout: 120_000 });
const haveTmpfs = process.platform === 'linux' && (() => {
  const mnt = fs.mkdtempSync(path.join(scratch, 'mnt-probe-'));
  return tmpfsScript(`mount -t tmpfs -o size=1m tmpfs ${mnt}`).status === 0;
})();

(haveTmpfs ? test : test.skip)('a full disk: ERR_IO saying so, the index left as version 1; with space, the same upgrade finishes', async (t) => {
  // About 2 M tokens in a few shards: samples.bin ~0.25 byte per token, the index ~5 bytes per token.
  const r = O.rng(91);
  const docs = O.randomDocs(r, 1000, 4000, 250);
  const v2 = fresh();
  await buildIndex({ inputs: docs.map((tokens) => ({ tokens })), out: v2, tokenizer: { name: 'v256', vocabSize: 256 }, shardTokens: O.shardTokensFor(docs, 2) });
  const v1 = copyOf(v2);
  await stripToV1(v1);
  const m = manifestOf(v1);
  const S = m.shards.length;
  t.true(S >= 2);
  const pages = (b: number) => Math.ceil(b / 4096) * 4096;
  const room = pages(fs.statSync(path.join(v1, 'manifest.json')).size) +
    m.shards.reduce((a: number, s: { files: Record<string, { bytes: number }> }) => a + Object.values(s.files).reduce((x, e) => x + pages(e.bytes), 0), 0);
  const samples = manifestOf(v2).shards[0].files['samples.bin'].bytes;
  const mnt = fs.mkdtempSync(path.join(scratch, 'full-'));
  const cli = `${JSON.stringify(process.execPath)} ${JSON.stringify(O.CLI)}`;
  const out = tmpfsScript([
    // Room for the index, its lock and manifest.json.tmp, and less than one samples.bin more.
    `mount -t tmpfs -o size=${room + 16 * 4096 + (samples >> 1)} tmpfs ${mnt} || exit 99`,
    `cp -r ${v1} ${mnt}/idx || exit 98`,
    `${cli} upgrade ${mnt}/idx --json 2> ${mnt}/err; echo "status=$?"; cat ${mnt}/err; echo`,
    `cmp ${mnt}/idx/manifest.json ${v1}/manifest.json && echo manifest=same`,
    `echo "tmp=$(find ${mnt}/idx -name '*.tmp' | wc -l)"`,
    `${cli} count ${mnt}/idx --tokens 1,2 --json && echo count=ok`,
    `mount -o remount,size=64m ${mnt} && ${cli} upgrade ${mnt}/idx --json && ${cli} verify ${mnt}/idx --json && echo verify=ok`,
    `for s in ${m.shards.map((x: { dir: string }) => x.dir).join(' ')}; do cmp ${mnt}/idx/$s/samples.bin ${v2}/$s/samples.bin && echo "$s=same"; done`,
  ].join('\n'));
  t.not(out.status, 99, out.stderr);
  t.not(out.status, 98, out.stderr);
  const text = out.stdout;
  t.regex(text, /status=1/);
  const error = JSON.parse(/^\{"error".*$/m.exec(text)?.[0] ?? '{"error":{}}').error as { code?: string; message?: string };
  t.is(error.code, 'ERR_IO', text + out.stderr);
  t.regex(error.message ?? '', /no space left on (the )?device/i);
  t.regex(error.message ?? '', /the disk is full; .* is unchanged/);
  t.regex(text, /manifest=same/);
  t.regex(text, /tmp=0/);
  t.regex(text, /count=ok/);
  t.regex(text, new RegExp(`\\{"shards":${S},"upgraded":${S},"bytesWritten":\\d+\\}`));
  t.regex(text, /verify=ok/);
  for (const x of m.shards) t.regex(text, new RegExp(`${x.dir}=same`));
});
