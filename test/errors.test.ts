/**
 * Bad input gets the documented error code, a message naming what is wrong, and loses nothing.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildIndex, MAX_QUERY_TOKENS, openIndex, TraceIndexError } from '../lib/index';
import { addon } from '../lib/native';
import * as O from './helpers/oracle';

const scratch = O.tmpDir('errors');
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));
let n = 0;

const r = O.rng(42);
const DOCS = O.randomDocs(r, 40, 200, 4, 97).filter((d) => d.length > 0);
const TEXTS = DOCS.map((d) => Buffer.from(d).toString('latin1'));

async function fresh(shardTokens = 1000): Promise<string> {
  const out = path.join(scratch, `idx-${n++}`);
  await buildIndex({ inputs: TEXTS.map((text, i) => ({ text, id: `d${i}` })), out, shardTokens });
  return out;
}

const manifestOf = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
const writeManifest = (dir: string, m: unknown) => fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(m, null, 2));
const shardFile = (dir: string, f: string, shard = 0) => path.join(dir, manifestOf(dir).shards[shard].dir, f);

async function rejectsWith(t: import('ava').ExecutionContext, p: Promise<unknown> | (() => unknown), code: TraceIndexError['code'], mentions: Array<string | RegExp> = []) {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  t.true(err instanceof TraceIndexError, `expected a TraceIndexError ${code}, got ${String(err)}`);
  const e = err as TraceIndexError;
  t.is(e?.code, code, e?.message);
  for (const m of mentions) {
    if (typeof m === 'string') t.true(e?.message.includes(m), `message ${JSON.stringify(e?.message)} should name ${m}`);
    else t.regex(e?.message ?? '', m);
  }
}

// ---- opening damaged indexes ----

test('a truncated sa.bin is ERR_INDEX_CORRUPT naming the file', async (t) => {
  const dir = await fresh();
  const f = shardFile(dir, 'sa.bin', 1);
  fs.truncateSync(f, fs.statSync(f).size - 5);
  await rejectsWith(t, openIndex(dir), 'ERR_INDEX_CORRUPT', [f, 'truncated']);
});

test('a truncated file whose size the manifest also records is caught by the header check', async (t) => {
  const dir = await fresh();
  const f = shardFile(dir, 'sa.bin');
  fs.truncateSync(f, fs.statSync(f).size - 8);
  const m = manifestOf(dir);
  m.shards[0].files['sa.bin'].bytes -= 8;
  writeManifest(dir, m);
  await rejectsWith(t, openIndex(dir), 'ERR_INDEX_CORRUPT', [f]);
});

test('a file larger than the manifest records is ERR_INDEX_CORRUPT', async (t) => {
  const dir = await fresh();
  const f = shardFile(dir, 'unigram.bin');
  fs.appendFileSync(f, Buffer.alloc(8));
  await rejectsWith(t, openIndex(dir), 'ERR_INDEX_CORRUPT', [f]);
});

test('flipped header bytes: magic → ERR_INDEX_CORRUPT, version → ERR_INDEX_VERSION, token width → ERR_TOKEN_WIDTH', async (t) => {
  for (const [offset, code, file] of [[0, 'ERR_INDEX_CORRUPT', 'tokens.bin'], [5, 'ERR_INDEX_CORRUPT', 'docs.bin'], [8, 'ERR_INDEX_VERSION', 'meta.bin'], [16, 'ERR_TOKEN_WIDTH', 'tokens.bin'], [40, 'ERR_INDEX_CORRUPT', 'unigram.bin']] as const) {
    const dir = await fresh();
    const f = shardFile(dir, file);
    const b = fs.readFileSync(f);
    b[offset] ^= 0x02;
    fs.writeFileSync(f, b);
    await rejectsWith(t, openIndex(dir), code, [f]);
  }
});

test('tokens.bin swapped in from another index is refused naming the file', async (t) => {
  const a = await fresh();
  const out = path.join(scratch, `other-${n++}`);
  await buildIndex({ inputs: TEXTS.slice(10).reverse().map((text) => ({ text })), out, shardTokens: 1000 });
  const fa = shardFile(a, 'tokens.bin');
  fs.copyFileSync(shardFile(out, 'tokens.bin'), fa);
  await rejectsWith(t, openIndex(a), 'ERR_INDEX_CORRUPT', [fa]);
  // Even when the manifest is edited to the new size, the header shows it belongs to another shard.
  const m = manifestOf(a);
  m.shards[0].files['tokens.bin'].bytes = fs.statSync(fa).size;
  writeManifest(a, m);
  await rejectsWith(t, openIndex(a), 'ERR_INDEX_CORRUPT', [fa]);
});

test('a deleted docs.bin is ERR_INDEX_CORRUPT naming it', async (t) => {
  const dir = await fresh();
  const f = shardFile(dir, 'docs.bin', 2);
  fs.rmSync(f);
  await rejectsWith(t, openIndex(dir), 'ERR_INDEX_CORRUPT', [f, 'missing']);
});

test('manifest problems: missing, garbage, wrong version, wrong token width, inconsistent totals', async (t) => {
  await rejectsWith(t, openIndex(path.join(scratch, 'nothing-here')), 'ERR_INDEX_NOT_FOUND', ['manifest.json']);
  const empty = path.join(scratch, `empty-${n++}`);
  fs.mkdirSync(empty);
  await rejectsWith(t, openIndex(empty), 'ERR_INDEX_NOT_FOUND');

  const dir = await fresh();
  const good = fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8');
  const mf = path.join(dir, 'manifest.json');
  fs.writeFileSync(mf, '{"format": "traceindex", garbage');
  await rejectsWith(t, openIndex(dir), 'ERR_INDEX_CORRUPT', [mf]);
  fs.writeFileSync(mf, '[]');
  await rejectsWith(t, openIndex(dir), 'ERR_INDEX_CORRUPT', [mf]);

  const m = JSON.parse(good);
  writeManifest(dir, { ...m, formatVersion: m.formatVersion + 1 });
  await rejectsWith(t, openIndex(dir), 'ERR_INDEX_VERSION', [mf]);
  writeManifest(dir, { ...m, tokenWidth: 2 });
  await rejectsWith(t, openIndex(dir), 'ERR_TOKEN_WIDTH', ['tokens.bin']);
  writeManifest(dir, { ...m, tokenWidth: 3 });
  await rejectsWith(t, openIndex(dir), 'ERR_INDEX_CORRUPT', [mf]);
  writeManifest(dir, { ...m, tokens: m.tokens + 1 });
  await rejectsWith(t, openIndex(dir), 'ERR_INDEX_CORRUPT', [mf]);
  writeManifest(dir, { ...m, shards: [{ ...m.shards[0], dir: '../escape' }, ...m.shards.slice(1)] });
  await rejectsWith(t, openIndex(dir), 'ERR_INDEX_CORRUPT', [mf]);

  fs.writeFileSync(mf, good);
  const idx = await openIndex(dir);
  t.is(idx.countSync(DOCS[0].slice(0, 3)), O.count(DOCS, DOCS[0].slice(0, 3)));
  idx.close();
});

// ---- verify ----

test('verify() passes on a good index and catches a flipped payload byte by checksum', async (t) => {
  const dir = await fresh();
  const idx = await openIndex(dir);
  const m = manifestOf(dir);
  t.deepEqual(await idx.verify(), {
    files: m.shards.reduce((s: number, sh: { files: object }) => s + Object.keys(sh.files).length, 0),
    bytes: m.shards.reduce((s: number, sh: { files: Record<string, { bytes: number }> }) => s + Object.values(sh.files).reduce((a, f) => a + f.bytes, 0), 0),
    shards: m.shards.length,
    quick: false,
  });
  idx.close();
  const f = shardFile(dir, 'tokens.bin', 1);
  const b = fs.readFileSync(f);
  b[64 + 3] = b[64 + 3] === 97 ? 98 : 97;
  fs.writeFileSync(f, b);
  const damaged = await openIndex(dir); // sizes and headers are intact: open succeeds
  await rejectsWith(t, damaged.verify(), 'ERR_INDEX_CORRUPT', [f, 'checksum']);
  damaged.close();
});

test('verify() catches an out-of-order suffix array even with a matching checksum', async (t) => {
  const dir = await fresh();
  const f = shardFile(dir, 'sa.bin');
  const b = fs.readFileSync(f);
  const a = b.readUInt32LE(64 + 4 * 10);
  b.writeUInt32LE(b.readUInt32LE(64 + 4 * 11), 64 + 4 * 10);
  b.writeUInt32LE(a, 64 + 4 * 11);
  fs.writeFileSync(f, b);
  const m = manifestOf(dir);
  m.shards[0].files['sa.bin'].xxh64 = await addon.checksumFile(f);
  writeManifest(dir, m);
  const idx = await openIndex(dir);
  await rejectsWith(t, idx.verify(), 'ERR_INDEX_CORRUPT', ['sa.bin', 'out of order']);
  idx.close();
});

test('verify() catches a token changed in place with the checksum rewritten (unigram counts differ)', async (t) => {
  const dir = await fresh();
  const f = shardFile(dir, 'tokens.bin');
  const b = fs.readFileSync(f);
  b[64] = b[64] === 97 ? 98 : 97;
  fs.writeFileSync(f, b);
  const m = manifestOf(dir);
  m.shards[0].files['tokens.bin'].xxh64 = await addon.checksumFile(f);
  writeManifest(dir, m);
  const idx = await openIndex(dir);
  await rejectsWith(t, idx.verify(), 'ERR_INDEX_CORRUPT');
  idx.close();
});

// ---- queries ----

test('bad queries: empty, out-of-range and non-integer ids, huge queries, text on a pretokenized index', async (t) => {
  const dir = await fresh();
  const idx = await openIndex(dir);
  for (const q of ['', [], new Uint32Array(0)]) {
    await rejectsWith(t, idx.count(q), 'ERR_INVALID_ARGUMENT');
    await rejectsWith(t, () => idx.countSync(q), 'ERR_INVALID_ARGUMENT');
    await rejectsWith(t, idx.locate(q), 'ERR_INVALID_ARGUMENT');
    await rejectsWith(t, idx.countBatch(['a', q]), 'ERR_INVALID_ARGUMENT', ['query 1']);
  }
  t.deepEqual(await idx.longestMatch([]), { length: 0, count: O.totalTokens(DOCS), text: '' }); // empty is fine here
  // A batch checks every query's tokens, in order, before any query's length.
  await rejectsWith(t, idx.countBatch([[], [97, 300]]), 'ERR_TOKEN_RANGE', ['300 at position 1']);
  await rejectsWith(t, () => idx.countBatchSync([[97], new Uint32Array(0), 'a', [1.5]]), 'ERR_TOKEN_RANGE', ['1.5 at position 0']);
  await rejectsWith(t, () => idx.countBatchSync([[256], 42 as never]), 'ERR_TOKEN_RANGE', ['256 at position 0']);
  await rejectsWith(t, () => idx.countBatchSync([[97], 42 as never, [256]]), 'ERR_INVALID_ARGUMENT', ['string or an array']);
  // A BigInt or an object is refused as an id without arithmetic on it (no TypeError, no valueOf call).
  let valueOfCalls = 0;
  const sneaky = { valueOf: () => { valueOfCalls++; return 97; } };
  for (const q of [[255], [97, 300], [97, -1], [1.5], [NaN], [Infinity], [97, 1n], [sneaky], ['97']] as unknown as number[][]) {
    await rejectsWith(t, idx.count(q), 'ERR_TOKEN_RANGE');
    await rejectsWith(t, idx.countBatch([[97], q]), 'ERR_TOKEN_RANGE');
    await rejectsWith(t, idx.locate(q), 'ERR_TOKEN_RANGE');
    await rejectsWith(t, () => idx.countSync(q), 'ERR_TOKEN_RANGE');
    await rejectsWith(t, idx.nextTokens(q), 'ERR_TOKEN_RANGE');
    await rejectsWith(t, idx.longestMatch(q), 'ERR_TOKEN_RANGE');
  }
  t.is(valueOfCalls, 0);
  await rejectsWith(t, idx.count(42 as never), 'ERR_INVALID_ARGUMENT');
  // [2**32] is tested separately below (BUG: it wraps to token 0).
  await rejectsWith(t, idx.countBatch('abc' as never), 'ERR_INVALID_ARGUMENT');
  await rejectsWith(t, idx.locate('a', { limit: -1 }), 'ERR_INVALID_ARGUMENT');
  await rejectsWith(t, idx.locate('a', { offset: 1.5 }), 'ERR_INVALID_ARGUMENT');
  await rejectsWith(t, idx.document(DOCS.length), 'ERR_INVALID_ARGUMENT');
  await rejectsWith(t, idx.document(-1), 'ERR_INVALID_ARGUMENT');
  await rejectsWith(t, idx.document('no-such-id'), 'ERR_INVALID_ARGUMENT');
  // maxTokens: a document longer than it is refused before it is read; exactly its length passes.
  const len = DOCS[3].length;
  t.deepEqual(Array.from((await idx.document(3, { maxTokens: len })).tokens), DOCS[3]);
  t.deepEqual(Array.from(idx.documentSync(3, { maxTokens: len }).tokens), DOCS[3]);
  await rejectsWith(t, idx.document(3, { maxTokens: len - 1 }), 'ERR_TOO_LARGE', [`document 3 holds ${len} tokens, more than the ${len - 1} asked for at most`]);
  await rejectsWith(t, () => idx.documentSync(3, { maxTokens: len - 1 }), 'ERR_TOO_LARGE');
  for (const bad of [-1, 1.5, '5', NaN]) await rejectsWith(t, idx.document(3, { maxTokens: bad as number }), 'ERR_INVALID_ARGUMENT', ['maxTokens']);

  const huge = new Uint32Array(MAX_QUERY_TOKENS + 1).fill(97);
  await rejectsWith(t, idx.count(huge), 'ERR_INVALID_ARGUMENT', [String(MAX_QUERY_TOKENS)]);
  // A long but legal query (1M tokens) whose prefix is a whole document.
  const long = new Uint32Array(1 << 20).fill(98);
  long.set(DOCS[0]);
  t.is(await idx.count(long), 0);
  const want = O.longestPrefix(DOCS, Array.from(long.subarray(0, DOCS[0].length + 1)));
  const got = await idx.longestMatch(long);
  t.deepEqual({ length: got.length, count: got.count }, want);
  const wantNext = O.nextTokens(DOCS, Array.from(long.subarray(long.length - 300)));
  const gotNext = await idx.nextTokens(long);
  t.deepEqual([gotNext.suffixLength, gotNext.total, Array.from(gotNext.tokens)], [wantNext.suffixLength, wantNext.total, wantNext.tokens]);
  idx.close();

  const pdir = path.join(scratch, `pre-${n++}`);
  await buildIndex({ inputs: DOCS.map((tokens) => ({ tokens })), out: pdir, tokenizer: { name: 'ids', vocabSize: 1000 } });
  const pre = await openIndex(pdir);
  await rejectsWith(t, pre.count('abc'), 'ERR_INVALID_ARGUMENT', ['token ids']);
  await rejectsWith(t, pre.count([1000]), 'ERR_TOKEN_RANGE');
  t.is(await pre.count([DOCS[0][0]]), O.count(DOCS, [DOCS[0][0]]));
  pre.close();
});

test('ERR_CLOSED after close, for every method; close is idempotent', async (t) => {
  const idx = await openIndex(await fresh());
  idx.close();
  idx.close();
  t.true(idx.closed);
  await rejectsWith(t, idx.count('a'), 'ERR_CLOSED');
  await rejectsWith(t, () => idx.countSync('a'), 'ERR_CLOSED');
  await rejectsWith(t, idx.countBatch(['a']), 'ERR_CLOSED');
  await rejectsWith(t, idx.locate('a'), 'ERR_CLOSED');
  await rejectsWith(t, () => idx.locateSync('a'), 'ERR_CLOSED');
  await rejectsWith(t, idx.longestMatch('a'), 'ERR_CLOSED');
  await rejectsWith(t, idx.nextTokens('a'), 'ERR_CLOSED');
  await rejectsWith(t, idx.document(0), 'ERR_CLOSED');
  await rejectsWith(t, idx.document('d0'), 'ERR_CLOSED');
  await rejectsWith(t, () => idx.unigramCounts(), 'ERR_CLOSED');
  await rejectsWith(t, idx.verify(), 'ERR_CLOSED');
});

// ---- builds that must fail without losing anything ----

test('malformed JSONL: ERR_BAD_INPUT naming file:line, nothing at out, an older index there intact', async (t) => {
  const file = path.join(scratch, `bad-${n++}.jsonl`);
  fs.writeFileSync(file, ['{"text":"good one"}', '{"text":"good two"}', '{"text": broken', '{"text":"after"}'].join('\n') + '\n');
  const out = path.join(scratch, `never-${n++}`);
  await rejectsWith(t, buildIndex({ inputs: [file], out }), 'ERR_BAD_INPUT', [`${file}:3`]);
  t.false(fs.existsSync(out));
  t.deepEqual(fs.readdirSync(scratch).filter((x) => x.includes(path.basename(out))), []);

  const old = await fresh();
  const before = fs.readFileSync(path.join(old, 'manifest.json'));
  await rejectsWith(t, buildIndex({ inputs: [file], out: old }), 'ERR_BAD_INPUT', [`${file}:3`]);
  t.true(before.equals(fs.readFileSync(path.join(old, 'manifest.json'))));
  const idx = await openIndex(old);
  const q = DOCS[3].slice(2, 9);
  t.is(await idx.count(q), O.count(DOCS, q));
  await idx.verify();
  idx.close();
  t.deepEqual(fs.readdirSync(scratch).filter((x) => x.startsWith(`.${path.basename(old)}.building-`)), []);
});

test('out that is a non-empty non-index directory, or a file, is refused and left untouched', async (t) => {
  const out = path.join(scratch, `precious-${n++}`);
  fs.mkdirSync(out);
  fs.writeFileSync(path.join(out, 'thesis.tex'), 'do not delete');
  await rejectsWith(t, buildIndex({ inputs: [{ text: 'x' }], out }), 'ERR_INVALID_ARGUMENT', [out]);
  t.deepEqual(fs.readdirSync(out), ['thesis.tex']);
  t.is(fs.readFileSync(path.join(out, 'thesis.tex'), 'utf8'), 'do not delete');
  const file = path.join(scratch, `afile-${n++}`);
  fs.writeFileSync(file, 'data');
  await rejectsWith(t, buildIndex({ inputs: [{ text: 'x' }], out: file }), 'ERR_INVALID_ARGUMENT', [file]);
  t.is(fs.readFileSync(file, 'utf8'), 'data');
});

test('build option and record errors: no documents, bad tokens, bad options', async (t) => {
  const out = path.join(scratch, `opts-${n++}`);
  await rejectsWith(t, buildIndex({ inputs: [], out }), 'ERR_BAD_INPUT');
  await rejectsWith(t, buildIndex({ inputs: [{ tokens: [1, 2, 1000] }], out, tokenizer: { name: 'v', vocabSize: 1000 } }), 'ERR_TOKEN_RANGE');
  await rejectsWith(t, buildIndex({ inputs: [{ text: 'abc' }], out, shardTokens: 1 }), 'ERR_INVALID_ARGUMENT');
  await rejectsWith(t, buildIndex({ inputs: [{ text: 'abcdef' }], out, shardTokens: 4 }), 'ERR_INVALID_ARGUMENT');
  await rejectsWith(t, buildIndex({ inputs: [{ text: 'abc' }], out, memory: 1000 }), 'ERR_INVALID_ARGUMENT');
  await rejectsWith(t, buildIndex({ inputs: [{ text: 'abc' }], out, tokenizer: 'gpt2' as never }), 'ERR_INVALID_ARGUMENT');
  t.false(fs.existsSync(out));
});

// Regression: ids >= 2**32 once wrapped modulo 2**32 when copied into the query's Uint32Array, so
// [2**32 + 97] silently counted token 97 ('a') instead of throwing ERR_TOKEN_RANGE.
test('token ids >= 2**32 are ERR_TOKEN_RANGE, not wrapped modulo 2**32', async (t) => {
  const idx = await openIndex(await fresh());
  try {
    for (const q of [[2 ** 32], [2 ** 32 + 97], [97, 2 ** 33 + 98]]) {
      await rejectsWith(t, idx.count(q), 'ERR_TOKEN_RANGE');
      await rejectsWith(t, () => idx.countSync(q), 'ERR_TOKEN_RANGE');
    }
  } finally {
    idx.close();
  }
});
