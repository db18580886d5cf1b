/**
 * A large async batch runs as slices, one pool item per (shard, slice), so one call uses every core
 * (native/binding/query_method.hpp, split_count: slices of at least 256 queries, one per core). The answers must
 * be the one-thread answers in query order: slice boundaries falling anywhere (batch sizes just above a
 * multiple of the slice), one shard or several, every token width, cancelled or closed while the slices run.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildIndex, openIndex, TraceIndexError } from '../lib/index';
import { coreOf } from '../lib/query/core';
import * as O from './helpers/oracle';

// Three slices whatever the machine (read by the addon on the first large batch), so these tests slice on one
// core too and the slice count steps 1, 2, 3 at the sizes below.
process.env.TRACEINDEX_BATCH_CORES = '3';
const scratch = O.tmpDir('batch-slices');
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));
let n = 0;

async function build(docs: number[][], vocab: number, shards: number): Promise<string> {
  const out = path.join(scratch, `idx-${n++}`);
  await buildIndex({
    inputs: docs.map((tokens, i) => ({ tokens, id: `d${i}` })),
    out,
    tokenizer: { name: `v${vocab}`, vocabSize: vocab },
    shardTokens: shards > 1 ? O.shardTokensFor(docs, shards) : undefined,
  });
  return out;
}

function corpus(vocab: number, seed: number): number[][] {
  const r = O.rng(seed);
  return O.randomDocs(r, 80, 400, 6, vocab - 10).concat(O.adversarialDocs(r, vocab), [O.randomTokens(r, 500, vocab)]);
}

for (const [title, vocab] of [['u8', 200], ['u16', 1000], ['u32', 100000]] as const) {
  for (const shards of [1, 3]) {
    test(`${title}, ${shards} shard(s): countBatch and suffixRanges of large batches equal the oracle and the one-thread answers`, async (t) => {
      const docs = corpus(vocab, vocab + shards);
      const idx = await openIndex(await build(docs, vocab, shards));
      t.true(shards === 1 ? idx.info.shards.length === 1 : idx.info.shards.length >= 2, `${idx.info.shards.length} shards`);
      const r = O.rng(vocab * 7 + shards);
      const all = O.patterns(r, docs, 1300, 6, vocab - 10);
      for (const len of [1, 3, 9, 20]) all.push(new Array(len).fill(0), new Array(len).fill(vocab - 1));
      const want = all.map((q) => O.count(docs, q));
      const core = coreOf(idx);
      // 257, 513, 769: one query past a multiple of the least slice (256), so 1, 2 and 3 slices of uneven sizes;
      // then the whole set (3 slices).
      for (const size of [257, 513, 769, all.length]) {
        const qs = all.slice(0, size);
        t.deepEqual(Array.from(await idx.countBatch(qs)), want.slice(0, size), `countBatch of ${size}`);
        t.deepEqual(Array.from(idx.countBatchSync(qs)), want.slice(0, size), `countBatchSync of ${size}`);
        const ranges = await core.suffixRanges(qs);
        t.is(ranges.length, size);
        // Each query's ranges as a batch of its own (one slice) gives, and their sizes sum to its count.
        const one = await Promise.all([0, 1, size >> 1, size - 2, size - 1].map((i) => core.suffixRanges([qs[i]])));
        [0, 1, size >> 1, size - 2, size - 1].forEach((i, k) => t.deepEqual(ranges[i], one[k][0], `ranges of query ${i} of ${size}`));
        ranges.forEach((rs, i) => t.is(rs.reduce((s, [lo, hi]) => s + hi - lo, 0), want[i], `range sizes of query ${i}`));
      }
      idx.close();
    });
  }
}

test('a sliced batch aborted while its slices run rejects with ERR_ABORTED or answers exactly; a close meanwhile is safe', async (t) => {
  const vocab = 300;
  const docs = corpus(vocab, 99);
  const dir = await build(docs, vocab, 2);
  const r = O.rng(5);
  const qs = O.patterns(r, docs, 4000, 6, vocab - 10);
  const want = qs.map((q) => O.count(docs, q));
  let aborted = 0, answered = 0;
  for (let round = 0; round < 20; round++) {
    const idx = await openIndex(dir);
    const ac = new AbortController();
    const p = idx.countBatch(qs, { signal: ac.signal });
    if (round % 2) setImmediate(() => ac.abort()); else ac.abort();
    const closed = round % 4 === 1 ? (idx.close(), true) : false;  // close while the slices run
    try {
      t.deepEqual(Array.from(await p), want);
      answered++;
    } catch (e) {
      t.true(e instanceof TraceIndexError, String(e));
      t.is((e as TraceIndexError).code, 'ERR_ABORTED');
      aborted++;
    }
    if (!closed) {
      t.deepEqual(Array.from(await idx.countBatch(qs.slice(0, 600))), want.slice(0, 600));  // the index still answers
      idx.close();
    }
    await t.throwsAsync(idx.countBatch(qs), { instanceOf: TraceIndexError });
  }
  t.true(aborted > 0, `aborted ${aborted}, answered ${answered}`);
  t.log(`aborted ${aborted}, answered ${answered}, cores ${os.availableParallelism?.() ?? os.cpus().length}, slices 3`);
});

// The JS side packs a batch into one token array, copying and checking each query once and growing the array
// by doubling (lib/query/core.ts, batch): long queries past the first guess of 8 tokens per query, queries in
// every form (plain arrays, Uint32Arrays, text) mixed, must reach the native side whole and in order.
test('packing a batch: long and mixed-form queries past the first capacity equal the oracle and single counts', async (t) => {
  const r = O.rng(99);
  const docs = [O.randomTokens(r, 3000, 4, 97)].concat(O.randomDocs(r, 20, 300, 4, 97));
  const out = path.join(scratch, `idx-${n++}`);
  await buildIndex({ inputs: docs.map((d) => ({ text: Buffer.from(d).toString('latin1') })), out, tokenizer: 'bytes' });
  const idx = await openIndex(out);
  const qs: Array<number[] | Uint32Array | string> = [];
  const want: number[] = [];
  let tokens = 0;
  for (let i = 0; i < 300; i++) {
    const len = [1, 2, 40, 7, 90, 3][i % 6];
    const d = docs[i % docs.length].length > len ? docs[i % docs.length] : docs[0];
    const at = Math.floor(r() * Math.max(1, d.length - len));
    const q = d.slice(at, at + len);
    if (i % 5 === 4) q[q.length - 1] = 97 + Math.floor(r() * 4);  // sometimes absent
    want.push(O.count(docs, q));
    tokens += q.length;
    qs.push(i % 3 === 0 ? q : i % 3 === 1 ? Uint32Array.from(q) : Buffer.from(q).toString('latin1'));
  }
  t.true(tokens > 8 * qs.length, 'the batch outgrows the first capacity');
  t.deepEqual(Array.from(idx.countBatchSync(qs)), want);
  t.deepEqual(Array.from(await idx.countBatch(qs)), want);
  t.deepEqual(qs.slice(0, 24).map((q) => idx.countSync(q)), want.slice(0, 24));
  idx.close();
});
