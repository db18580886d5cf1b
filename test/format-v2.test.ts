/**
 * Format version 2 (docs/FORMAT.md): every shard a build writes has samples.bin (sampled keys the search
 * starts from). A version 1 index (no samples.bin, headers and manifest saying 1) still opens and gives the
 * same answers; a damaged samples.bin is a clear error, never a crash or a silent wrong answer after verify.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildIndex, FORMAT_VERSION, openIndex, TraceIndexError } from '../lib/index';
import { addon } from '../lib/native';
import { manifestOf, stripToV1, writeManifest } from './helpers/format-v1';
import * as O from './helpers/oracle';

const scratch = O.tmpDir('format-v2');
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));
let n = 0;

function corpus(vocab: number, seed: number): number[][] {
  const r = O.rng(seed);
  return O.randomDocs(r, 60, 300, 5, vocab - 10).concat(O.adversarialDocs(r, vocab), [O.randomTokens(r, 400, vocab)], [O.randomTokens(r, 300, 3)]);
}

async function build(docs: number[][], vocab: number, shardTokens?: number): Promise<string> {
  const out = path.join(scratch, `idx-${n++}`);
  await buildIndex({ inputs: docs.map((tokens, i) => ({ tokens, id: `d${i}` })), out, tokenizer: { name: `v${vocab}`, vocabSize: vocab }, shardTokens });
  return out;
}

/** Patterns shorter than, as long as and longer than a key; token 0 and the largest tokens; present and absent. */
function queries(docs: number[][], vocab: number, seed: number): number[][] {
  const r = O.rng(seed);
  const qs = O.patterns(r, docs, 400, 5, vocab - 10);
  for (const len of [1, 2, 3, 4, 7, 8, 9, 16, 40]) qs.push(new Array(len).fill(0), new Array(len).fill(vocab - 1), [...new Array(len - 1).fill(0), vocab - 1]);
  return qs;
}

async function rejectsWith(t: import('ava').ExecutionContext, p: Promise<unknown>, code: TraceIndexError['code'], mentions: string[] = []) {
  const err = await t.throwsAsync(p);
  t.true(err instanceof TraceIndexError, String(err));
  t.is((err as TraceIndexError).code, code, err?.message);
  for (const m of mentions) t.true(err?.message.includes(m), `${err?.message} should name ${m}`);
}

for (const [title, vocab] of [['u8', 200], ['u16', 1000], ['u32', 100000]] as const) {
  test(`${title}: a build writes format ${FORMAT_VERSION} with samples.bin; the same index stripped to version 1 answers the same`, async (t) => {
    const docs = corpus(vocab, vocab);
    const v2 = await build(docs, vocab, O.shardTokensFor(docs, 3));
    const m = manifestOf(v2);
    t.is(m.formatVersion, 2);
    t.true(m.shards.length >= 2);
    for (const s of m.shards) {
      const file = path.join(v2, s.dir, 'samples.bin');
      t.is(fs.statSync(file).size, s.files['samples.bin'].bytes);
      const h = fs.readFileSync(file).subarray(0, 64);
      t.is(h.subarray(0, 8).toString('latin1'), 'TRIXSAMP');
      t.is(h.readUInt32LE(8), 2);
      const k = Number(h.readBigUInt64LE(56)), keys = Number(h.readBigUInt64LE(24));
      t.is(k, 32);
      t.is(keys, Math.ceil((s.tokens - s.documents) / k));
      t.is(s.files['samples.bin'].bytes, 64 + 8 * keys);
    }
    const v1 = path.join(scratch, `idx-${n++}`);
    fs.cpSync(v2, v1, { recursive: true });
    await stripToV1(v1);
    const a = await openIndex(v2);
    const b = await openIndex(v1);
    t.is(a.info.formatVersion, 2);
    t.is(b.info.formatVersion, 1);
    const qs = queries(docs, vocab, vocab + 1);
    const want = qs.map((q) => O.count(docs, q));
    t.deepEqual(qs.map((q) => a.countSync(q)), want);
    t.deepEqual(qs.map((q) => b.countSync(q)), want);
    t.deepEqual(Array.from(await a.countBatch(qs)), want);
    t.deepEqual(Array.from(await b.countBatch(qs)), want);
    const va = await a.verify();
    const vb = await b.verify();
    t.is(va.files, 6 * m.shards.length);
    t.is(vb.files, 5 * m.shards.length);
    a.close();
    b.close();
  });
}

test('an append to a version 1 index writes a version 2 manifest; its old shards search without samples', async (t) => {
  const vocab = 300;
  const docs = corpus(vocab, 7);
  const dir = await build(docs.slice(0, 40), vocab, O.shardTokensFor(docs.slice(0, 40), 2));
  await stripToV1(dir);
  await buildIndex({ inputs: docs.slice(40).map((tokens, i) => ({ tokens, id: `e${i}` })), out: dir, tokenizer: { name: `v${vocab}`, vocabSize: vocab }, append: true });
  const m = manifestOf(dir);
  t.is(m.formatVersion, 2);
  t.true(m.shards.some((s: { files: object }) => !('samples.bin' in s.files)));
  t.true(m.shards.some((s: { files: object }) => 'samples.bin' in s.files));
  const idx = await openIndex(dir);
  const qs = queries(docs, vocab, 8);
  t.deepEqual(qs.map((q) => idx.countSync(q)), qs.map((q) => O.count(docs, q)));
  await idx.verify();
  idx.close();
});

test('a damaged samples.bin is ERR_INDEX_CORRUPT or ERR_INDEX_VERSION naming it, or caught by verify', async (t) => {
  const vocab = 200;
  const docs = corpus(vocab, 11);
  const good = await build(docs, vocab);
  const fresh = () => {
    const dir = path.join(scratch, `idx-${n++}`);
    fs.cpSync(good, dir, { recursive: true });
    const m = manifestOf(dir);
    return { dir, m, file: path.join(dir, m.shards[0].dir, 'samples.bin') };
  };
  // Missing, and truncated (the manifest's size, then a header that disagrees with the size it records).
  let c = fresh();
  fs.rmSync(c.file);
  await rejectsWith(t, openIndex(c.dir), 'ERR_INDEX_CORRUPT', [c.file, 'missing']);
  c = fresh();
  fs.truncateSync(c.file, fs.statSync(c.file).size - 8);
  await rejectsWith(t, openIndex(c.dir), 'ERR_INDEX_CORRUPT', [c.file, 'truncated']);
  c.m.shards[0].files['samples.bin'].bytes -= 8;
  writeManifest(c.dir, c.m);
  await rejectsWith(t, openIndex(c.dir), 'ERR_INDEX_CORRUPT', [c.file]);
  // A header from another version, and an interval out of range.
  for (const [at, value, code] of [[8, 1, 'ERR_INDEX_VERSION'], [8, 3, 'ERR_INDEX_VERSION'], [56, 0, 'ERR_INDEX_CORRUPT'], [56, 31, 'ERR_INDEX_CORRUPT']] as const) {
    c = fresh();
    const b = fs.readFileSync(c.file);
    if (at === 8) b.writeUInt32LE(value, at);
    else b.writeBigUInt64LE(BigInt(value), at);
    fs.writeFileSync(c.file, b);
    await rejectsWith(t, openIndex(c.dir), code, [c.file]);
  }
  // Listed in a version 1 manifest.
  c = fresh();
  writeManifest(c.dir, { ...c.m, formatVersion: 1 });
  await rejectsWith(t, openIndex(c.dir), 'ERR_INDEX_CORRUPT', ['samples.bin', 'version 1']);
  // A key changed, checksum rewritten: it opens, every answer stays in bounds, verify names the file.
  c = fresh();
  const b = fs.readFileSync(c.file);
  b.writeBigUInt64LE(0xffffffffffffffffn, 64 + 8 * 3);
  fs.writeFileSync(c.file, b);
  c.m.shards[0].files['samples.bin'].xxh64 = await addon.checksumFile(c.file);
  writeManifest(c.dir, c.m);
  const idx = await openIndex(c.dir);
  const total = idx.info.tokens;
  for (const q of queries(docs, vocab, 12)) {
    const k = idx.countSync(q);
    t.true(k >= 0 && k <= total);
  }
  await rejectsWith(t, idx.verify({ quick: true }), 'ERR_INDEX_CORRUPT', [c.file, 'differs from the suffix']);
  await rejectsWith(t, idx.verify(), 'ERR_INDEX_CORRUPT', [c.file, 'differs from the suffix']);
  idx.close();
});
