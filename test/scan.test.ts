/**
 * index.scan: order and ids over hundreds of records from an array, an async generator and JSONL files (each
 * result equals the per-record trace, which test/trace.test.ts checks against brute force); bad records
 * mid-stream; abort; bounded read-ahead with a slow consumer over an infinite source.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildIndex, Index, openIndex } from '../lib/index';
import type { DocumentRecord, ScanResult, TraceResult } from '../lib/index';
import * as O from './helpers/oracle';
import { Corpus, splicedOutputs } from './helpers/trace-oracle';

const scratch = O.tmpDir('scan');
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));

const r0 = O.rng(2024);
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'río', 'naïve', '日本', 'x', 'the', 'of'];
const sentence = (r: () => number) => Array.from({ length: O.randInt(r, 3, 30) }, () => O.pick(r, WORDS)).join(' ');
const DOC_TEXTS = Array.from({ length: 80 }, () => sentence(r0));
const DOCS = DOC_TEXTS.map(O.utf8);
const corpus = new Corpus(DOCS);

let idxP: Promise<Index> | undefined;
let u16P: Promise<Index> | undefined;
const index = () => (idxP ??= (async () => {
  const out = path.join(scratch, 'idx');
  await buildIndex({ inputs: DOC_TEXTS.map((text, i) => ({ text, id: `d${i}` })), out, tokenizer: 'bytes', shardTokens: 1200 });
  return openIndex(out);
})());
const u16 = () => (u16P ??= (async () => {
  const out = path.join(scratch, 'u16');
  const r = O.rng(9);
  await buildIndex({ inputs: O.randomDocs(r, 30, 100, 5, 700).map((tokens) => ({ tokens })), out, tokenizer: { name: 'ids', vocabSize: 1000 } });
  return openIndex(out);
})());
test.after.always(async () => {
  (await idxP)?.close();
  (await u16P)?.close();
});

/** Outputs: corpus splices with new words, as text. */
function outputs(seed: number, n: number): string[] {
  const r = O.rng(seed);
  return Array.from({ length: n }, (_, i) => (i % 3 === 0 ? sentence(r) + ' zebra ' + sentence(r) : O.pick(r, DOC_TEXTS).slice(O.randInt(r, 0, 10)) + ' quokka'));
}

const strip = (x: ScanResult | TraceResult) => ({ tokens: x.tokens, spans: x.spans });

async function collect(it: AsyncIterable<ScanResult>): Promise<ScanResult[]> {
  const out: ScanResult[] = [];
  for await (const x of it) out.push(x);
  return out;
}

test('scan of an array: every record in order, with its id and position, equal to its trace', async (t) => {
  const idx = await index();
  const texts = outputs(1, 300);
  const opts = { minLength: 3, maxDocuments: 2, seed: 7 };
  const want = idx.traceBatchSync(texts, opts);
  const got = await collect(idx.scan(texts.map((text, i) => ({ text, id: `r${i}` })), { ...opts, batchSize: 16, concurrency: 3 }));
  t.is(got.length, texts.length);
  got.forEach((g, i) => {
    t.is(g.id, `r${i}`);
    t.is(g.index, i);
    t.is(g.error, undefined);
    t.deepEqual(strip(g), strip(want[i]), `record ${i}`);
    t.is(g.maxBci, g.spans.reduce((m, s) => Math.max(m, s.bci), 0));
  });
  // And the trace itself against brute force, for a few records.
  for (const i of [0, 1, 2, 150, 299]) {
    const o = O.utf8(texts[i]);
    t.deepEqual(got[i].spans.map((s) => [s.start, s.end, s.count]), corpus.trace(o, { minLength: 3 }).map((s) => [s.start, s.end, s.count]));
  }
  // Records without ids get their 0-based position; token-id records work too; default options.
  const plain = await collect(idx.scan([{ text: texts[0] }, { tokens: O.utf8(texts[1]) }, { text: '' }]));
  t.deepEqual(plain.map((p) => p.id), ['0', '1', '2']);
  t.deepEqual(plain.map(strip), idx.traceBatchSync([texts[0], texts[1], '']).map(strip));
});

test('scan of an async generator and of JSONL files: same order, ids and results', async (t) => {
  const idx = await index();
  const texts = outputs(2, 260);
  const want = idx.traceBatchSync(texts, { minLength: 2 });
  async function* gen(): AsyncGenerator<DocumentRecord> {
    for (let i = 0; i < texts.length; i++) {
      if (i % 37 === 0) await sleep(1);
      yield { text: texts[i], id: `g${i}` };
    }
  }
  const fromGen = await collect(idx.scan(gen(), { minLength: 2, batchSize: 7, concurrency: 2 }));
  t.deepEqual(fromGen.map((g) => g.id), texts.map((_, i) => `g${i}`));
  fromGen.forEach((g, i) => t.deepEqual(strip(g), strip(want[i]), `generator record ${i}`));

  // Two JSONL files, a nested text field; the second without ids (file:line).
  const a = path.join(scratch, 'a.jsonl');
  const b = path.join(scratch, 'b.jsonl');
  fs.writeFileSync(a, texts.slice(0, 130).map((x, i) => JSON.stringify({ out: { text: x }, id: `j${i}` })).join('\n') + '\n');
  fs.writeFileSync(b, texts.slice(130).map((x) => JSON.stringify({ out: { text: x } })).join('\n'));
  const fromFiles = await collect(idx.scan([a, b], { minLength: 2, field: 'out.text', batchSize: 32 }));
  t.is(fromFiles.length, texts.length);
  fromFiles.forEach((g, i) => {
    t.is(g.id, i < 130 ? `j${i}` : `${b}:${i - 130 + 1}`);
    t.is(g.index, i);
    t.deepEqual(strip(g), strip(want[i]), `jsonl record ${i}`);
  });
  const single = await collect(idx.scan(a, { minLength: 2, field: 'out.text' }));
  t.deepEqual(single.map(strip), want.slice(0, 130).map(strip));
  // skipIds: a resumed scan leaves those records out, positions unchanged.
  const skipIds = new Set(['j3', 'j50', 'j129']);
  const resumed = await collect(idx.scan(a, { minLength: 2, field: 'out.text', skipIds }));
  t.deepEqual(resumed.map((x) => x.index), Array.from({ length: 130 }, (_, i) => i).filter((i) => !skipIds.has(`j${i}`)));
});

test('a bad record mid-stream yields an error result with a code and the scan goes on', async (t) => {
  const idx = await index();
  const texts = outputs(3, 120);
  const file = path.join(scratch, 'bad.jsonl');
  const lines = texts.map((x, i) => JSON.stringify({ text: x, id: `k${i}` }));
  lines.splice(40, 0, '{"text": not json');
  lines.splice(81, 0, '{"other": 1}');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  const got = await collect(idx.scan(file, { batchSize: 8 }));
  t.is(got.length, texts.length + 2);
  t.deepEqual(got.map((g) => g.index), got.map((_, i) => i), 'positions in input order');
  const bad = got.filter((g) => g.error);
  t.deepEqual(bad.map((g) => [g.id, g.error!.code]), [[`${file}:41`, 'ERR_BAD_INPUT'], [`${file}:82`, 'ERR_BAD_INPUT']]);
  t.is(got[40].id, `${file}:41`);
  const good = got.filter((g) => !g.error);
  t.deepEqual(good.map((g) => g.id), texts.map((_, i) => `k${i}`));
  const want = idx.traceBatchSync(texts);
  good.forEach((g, i) => t.deepEqual(strip(g), strip(want[i])));

  // Out-of-range token ids from an iterable, on the bytes index and on a u16 index, in the middle of a batch.
  const recs: DocumentRecord[] = texts.slice(0, 40).map((text, i) => ({ text, id: `i${i}` }));
  recs.splice(13, 0, { tokens: [97, 300, 98], id: 'range' });
  recs.splice(27, 0, { nope: true } as unknown as DocumentRecord);
  const mixed = await collect(idx.scan(recs, { batchSize: 16 }));
  t.is(mixed.length, 42);
  t.is(mixed[13].id, 'range');
  t.is(mixed[13].error?.code, 'ERR_TOKEN_RANGE');
  t.is(mixed[27].error?.code, 'ERR_BAD_INPUT');
  const okOnes = mixed.filter((m) => !m.error);
  t.deepEqual(okOnes.map((m) => m.id), texts.slice(0, 40).map((_, i) => `i${i}`));
  okOnes.forEach((m, i) => t.deepEqual(strip(m), strip(want[i])));
  const ids = await u16();
  const idRecs = Array.from({ length: 30 }, (_, i) => ({ tokens: i === 17 ? [700, 1000] : [700 + (i % 5), 701, 702], id: `u${i}` }));
  const res = await collect(ids.scan(idRecs, { batchSize: 8 }));
  t.is(res.length, 30);
  t.is(res[17].error?.code, 'ERR_TOKEN_RANGE');
  t.is(res.filter((x) => x.error).length, 1);
  const wantIds = ids.traceBatchSync(idRecs.filter((_, i) => i !== 17).map((x) => x.tokens));
  t.deepEqual(res.filter((x) => !x.error).map(strip), wantIds.map(strip));
});

test('aborting mid-scan rejects with ERR_ABORTED; an already aborted signal rejects at once', async (t) => {
  const idx = await index();
  const texts = outputs(4, 400);
  const controller = new AbortController();
  let seen = 0;
  const err = await t.throwsAsync(async () => {
    for await (const r of idx.scan(texts.map((text) => ({ text })), { batchSize: 10, signal: controller.signal })) {
      t.is(r.index, seen);
      if (++seen === 55) controller.abort();
    }
  });
  t.is((err as { code?: string }).code, 'ERR_ABORTED');
  t.true(seen >= 55 && seen < 400, `${seen} results before the abort took effect`);
  const pre = AbortSignal.abort();
  const err2 = await t.throwsAsync(collect(idx.scan(texts.map((text) => ({ text })), { signal: pre })));
  t.is((err2 as { code?: string }).code, 'ERR_ABORTED');
  // An abort while reading an infinite source ends the scan too.
  const c3 = new AbortController();
  async function* forever() {
    for (let i = 0; ; i++) yield { text: texts[i % texts.length] };
  }
  setTimeout(() => c3.abort(), 50);
  const err3 = await t.throwsAsync(async () => {
    for await (const _ of idx.scan(forever(), { signal: c3.signal })) await sleep(1);
  });
  t.is((err3 as { code?: string }).code, 'ERR_ABORTED');
});

test('backpressure: with a slow consumer over an infinite source, read-ahead stays within concurrency × batchSize + batchSize', async (t) => {
  const idx = await index();
  const texts = outputs(5, 50);
  for (const [concurrency, batchSize] of [[2, 8], [3, 5], [1, 1]]) {
    let pulled = 0;
    let consumed = 0;
    let maxAhead = 0;
    let finished = false;
    async function* infinite(): AsyncGenerator<DocumentRecord> {
      try {
        for (let i = 0; ; i++) {
          pulled++;
          maxAhead = Math.max(maxAhead, pulled - consumed);
          yield { text: texts[i % texts.length], id: `inf${i}` };
        }
      } finally {
        finished = true;
      }
    }
    const limit = concurrency * batchSize + batchSize;
    for await (const r of idx.scan(infinite(), { concurrency, batchSize })) {
      t.is(r.id, `inf${consumed}`);
      consumed++;
      maxAhead = Math.max(maxAhead, pulled - consumed);
      await sleep(2);
      if (consumed === 120) break;
    }
    t.true(maxAhead <= limit, `concurrency ${concurrency}, batchSize ${batchSize}: ${maxAhead} records read ahead (limit ${limit})`);
    t.true(pulled <= consumed + limit);
    t.true(maxAhead >= batchSize, `the scan does read ahead (${maxAhead})`);
    t.log(`concurrency ${concurrency}, batchSize ${batchSize}: at most ${maxAhead} read ahead`);
    t.true(finished, 'breaking out of the scan closes the source');
  }
  await t.throwsAsync(collect(idx.scan([], { batchSize: 0 })), { code: 'ERR_INVALID_ARGUMENT' } as never);
  await t.throwsAsync(collect(idx.scan([], { concurrency: 1.5 })), { code: 'ERR_INVALID_ARGUMENT' } as never);
});

test('scan over the same records as trace, with spliced token outputs and every option', async (t) => {
  const idx = await index();
  const r = O.rng(6);
  const outs = splicedOutputs(r, DOCS, 80, () => O.randInt(r, 32, 127));
  const opts = { minLength: 2, maxCount: 5, delimiters: ['.', ' '], maxDocuments: 1, seed: 3, logBase: 2 };
  const got = await collect(idx.scan(outs.map((tokens, i) => ({ tokens, id: `t${i}` })), { ...opts, batchSize: 9 }));
  const want = await idx.traceBatch(outs, opts);
  t.deepEqual(got.map(strip), want.map(strip));
  got.forEach((g, i) => t.deepEqual(g.spans.map((s) => [s.start, s.end, s.count]), corpus.trace(outs[i], { minLength: 2, maxCount: 5, delimiters: [46, 32] }).map((s) => [s.start, s.end, s.count])));
});
