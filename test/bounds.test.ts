/**
 * Arguments that would consume unbounded resources or silently wrap are refused (issue 10): every case here
 * was accepted before (a 2^32 option wrapped modulo 2^32 in the binding, a negative delimiter became
 * 0xFFFFFFFF, a locate page had no size limit).
 */
import test, { ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildIndex, ErrorCode, Index, MAX_LOCATE_LIMIT, openIndex, penalizeLogits, scoreContinuations, TraceIndexError } from '../lib/index';
import * as O from './helpers/oracle';

const scratch = O.tmpDir('bounds');
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));

const U32 = 2 ** 32 - 1;
let built: Promise<string> | undefined;
async function open(): Promise<Index> {
  built ??= (async () => {
    const out = path.join(scratch, 'idx');
    // "ab" occurs 12 004 times: more than a page may hold.
    await buildIndex({ inputs: [{ text: 'ab'.repeat(12_000), id: 'big' }, { text: 'xabyab zab ab', id: 'small' }], out });
    return out;
  })();
  return openIndex(await built);
}

async function refused(t: ExecutionContext, what: string, fn: () => unknown, code: ErrorCode = 'ERR_INVALID_ARGUMENT'): Promise<void> {
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  t.true(err instanceof TraceIndexError, `${what}: expected ${code}, got ${String(err)}`);
  t.is((err as TraceIndexError)?.code, code, `${what}: ${(err as Error)?.message}`);
}

test('locate pages hold at most MAX_LOCATE_LIMIT (10 000) occurrences; page through the rest with offset', async (t) => {
  t.is(MAX_LOCATE_LIMIT, 10_000);
  const idx = await open();
  try {
    const page = await idx.locate('ab', { limit: MAX_LOCATE_LIMIT, context: 0 });
    t.is(page.total, 12_004);
    t.is(page.occurrences.length, MAX_LOCATE_LIMIT);
    const rest = idx.locateSync('ab', { limit: MAX_LOCATE_LIMIT, offset: MAX_LOCATE_LIMIT, context: 0 });
    t.is(rest.occurrences.length, 2004);
    for (const limit of [MAX_LOCATE_LIMIT + 1, Number.MAX_SAFE_INTEGER, 2 ** 32]) {
      await refused(t, `locate limit ${limit}`, () => idx.locate('ab', { limit }));
      await refused(t, `locateSync limit ${limit}`, () => idx.locateSync('ab', { limit }));
    }
    await refused(t, 'locate context 2^32', () => idx.locate('ab', { context: 2 ** 32 }));
    await refused(t, 'locate offset -1', () => idx.locate('ab', { offset: -1 }));
  } finally {
    idx.close();
  }
});

test('trace delimiters are token ids of the vocabulary (ERR_TOKEN_RANGE) or one-token strings', async (t) => {
  const idx = await open();
  try {
    const vocab = idx.info.vocabSize;
    for (const d of [-1, vocab, 2 ** 32 - 1, 2 ** 32, 1.5, NaN]) {
      await refused(t, `delimiter ${d}`, () => idx.trace('xab', { delimiters: [d] }), 'ERR_TOKEN_RANGE');
      await refused(t, `delimiter ${d} (Sync)`, () => idx.traceSync('xab', { delimiters: [0x20, d] }), 'ERR_TOKEN_RANGE');
    }
    await refused(t, 'a two-token delimiter', () => idx.trace('xab', { delimiters: ['ab'] }));
    await refused(t, 'delimiters not an array', () => idx.trace('xab', { delimiters: 'ab' as never }));
    await refused(t, 'a delimiter of another type', () => idx.trace('xab', { delimiters: [{}] as never }));
    // The largest id is a valid delimiter (absent from this output: the spans are those of the other delimiter).
    const keys = (r: { spans: Array<{ start: number; end: number }> }) => r.spans.map((s) => [s.start, s.end]);
    t.deepEqual(keys(await idx.trace('xab zab', { delimiters: [vocab - 1, 0x20] })), keys(await idx.trace('xab zab', { delimiters: [' '] })));
  } finally {
    idx.close();
  }
});

test('trace, shield and matchState integer options above 2^32 - 1 are refused, not wrapped', async (t) => {
  const idx = await open();
  try {
    for (const key of ['minLength', 'maxDocuments', 'seed', 'context'] as const) {
      for (const v of [U32 + 1, 2 ** 40, -1, 0.5]) {
        await refused(t, `trace ${key} ${v}`, () => idx.trace('xab', { [key]: v }));
        await refused(t, `traceBatchSync ${key} ${v}`, () => idx.traceBatchSync(['xab'], { [key]: v }));
      }
      // The largest accepted value answers (2^32 - 1 is no wrapped 0 or 1).
      await t.notThrowsAsync(idx.trace('xab', { [key]: U32 }), `${key} 2^32 - 1`);
    }
    t.deepEqual((await idx.trace('xab', { minLength: U32 })).spans, [], 'minLength 2^32 - 1 keeps no span (a wrapped 2^32 would keep all)');
    for (const v of [-1, 1.5, 2 ** 53]) await refused(t, `maxCount ${v}`, () => idx.trace('xab', { maxCount: v }));
    for (const window of [U32 + 1, 2 ** 40, 0, -2, 1.5]) {
      await refused(t, `shield window ${window}`, () => idx.shield('xab', { tau: 1, mode: { window } }));
      await refused(t, `shieldBatchSync window ${window}`, () => idx.shieldBatchSync(['xab'], { tau: 1, mode: { window } }));
    }
    t.is((await idx.shield('xabyab', { tau: 1, mode: { window: U32 } })).spans.length, 0, 'a window longer than the output: no window');
    for (const window of [U32 + 1, 2 ** 40, -1, 0.5]) await refused(t, `matchState window ${window}`, () => idx.matchState({ window }));
    const st = idx.matchState({ window: U32 });
    t.is(st.push(Array.from(Buffer.from('zab'))).length, 3, 'window 2^32 - 1 is no limit (a wrapped 2^32 would be 0)');
  } finally {
    idx.close();
  }
});

test('timeoutMs above 2^31 - 1 is refused, not turned into a 1 ms timer', async (t) => {
  const idx = await open();
  try {
    for (const timeoutMs of [2 ** 31, 2 ** 32, 1e15]) {
      await refused(t, `count timeoutMs ${timeoutMs}`, () => idx.count('ab', { timeoutMs }));
      await refused(t, `trace timeoutMs ${timeoutMs}`, () => idx.trace('xab', { timeoutMs }));
    }
    t.is(await idx.count('ab', { timeoutMs: 2 ** 31 - 1 }), 12_004);
  } finally {
    idx.close();
  }
});

test('a u32 infini-gram directory: a derived vocabulary far above its tokens and a declared one above 2^28 are refused', async (t) => {
  const dir = path.join(scratch, 'ig-vocab');
  fs.mkdirSync(dir, { recursive: true });
  const id = 2 ** 20 + 5;  // one 8-byte shard: a table of 2^20 + 6 counts unless the vocabulary is declared
  const tok = Buffer.alloc(8);
  tok.writeUInt32LE(0xffffffff, 0);
  tok.writeUInt32LE(id, 4);
  fs.writeFileSync(path.join(dir, 'tokenized'), tok);
  fs.writeFileSync(path.join(dir, 'offset'), Buffer.alloc(8));
  fs.writeFileSync(path.join(dir, 'table'), Buffer.from([4, 0]));  // suffix at byte 4 sorts before the separator's
  await refused(t, 'derived vocabulary', () => openIndex(dir));
  await refused(t, 'vocabSize 2^28 + 1', () => openIndex(dir, { vocabSize: 2 ** 28 + 1 }));
  const idx = await openIndex(dir, { vocabSize: id + 1 });
  t.is(idx.info.vocabSize, id + 1);
  t.is(idx.countSync([id]), 1);
  idx.close();
});

test('a query array is read once: a getter cannot change an id between its check and its copy', async (t) => {
  const index = await open();
  let reads = 0;
  // 'a' (12 004 occurrences) when checked, 'x' (1) on any later read.
  const q = Object.defineProperty([0], 0, { get: () => (reads++ === 0 ? 97 : 120) }) as number[];
  t.is(await index.count(q), 12_004);
  t.is(reads, 1);
  const sparse = { length: 2, 0: 97, get 1() { reads++; return 1.5; } };
  await refused(t, 'a fraction on first read', () => index.count(sparse as unknown as number[]), 'ERR_TOKEN_RANGE');
  index.close();
});

test('scoreContinuations refuses candidate ids that are not integers (a Uint32Array copy truncated them); penalizeLogits checks gamma', async (t) => {
  const index = await open();
  const state = index.matchState();
  state.push([97]);
  const exact = scoreContinuations([state], [[98]]);
  t.is(exact.count[0], 12_004);  // "ab"
  for (const bad of [98.5, NaN, -1, 2 ** 32, '98'])
    await refused(t, `candidate ${String(bad)}`, () => scoreContinuations([state], [[bad as number]]), 'ERR_TOKEN_RANGE');
  const logits = Float64Array.of(1);
  for (const gamma of [NaN, Infinity, '1'])
    await refused(t, `gamma ${String(gamma)}`, () => penalizeLogits(logits, exact, { gamma: gamma as number }));
  t.deepEqual(Array.from(logits), [1]);
  penalizeLogits(logits, exact, { gamma: 2, vetoToMinusInfinity: false });
  t.is(logits[0], 1 - 2 * exact.risk[0]);
  index.close();
});

test('the snippets of one call hold at most 2^26 tokens, an occurrence counting 32 (ERR_TOO_LARGE), not 2^32 - 1', async (t) => {
  const index = await open();
  // 10 000 occurrences of "ab" in the 24 000-token document, each snippet the whole document: 2.4 × 10^8 tokens.
  const err = await t.throwsAsync(index.locate('ab', { limit: 10_000, context: 24_000 }));
  t.is((err as TraceIndexError).code, 'ERR_TOO_LARGE');
  t.is(err?.message, 'the snippets exceed 67108864 tokens (an occurrence counts as 32 more, and its document\'s record a token per 4 bytes): ask for less context or fewer occurrences');
  const page = await index.locate('ab', { limit: 2, context: 24_000 });
  t.deepEqual(page.occurrences.map((o) => o.snippet.tokens.length), [24_000, 24_000]);
  index.close();
});

test('tokenizerWorkers is at most twice the CPU cores (at least 4): 2^32 or a few thousand threads are refused before any', async (t) => {
  const most = Math.max(4, 2 * os.cpus().length);
  for (const bad of [2 ** 32, most + 1, -1, 1.5]) {
    const out = path.join(scratch, `workers-${bad}`);
    const err = await t.throwsAsync(buildIndex({ inputs: [{ text: 'abc' }], out, tokenizer: 'cl100k_base', tokenizerWorkers: bad }));
    t.is((err as TraceIndexError).code, 'ERR_INVALID_ARGUMENT', String(bad));
    t.regex(err!.message, new RegExp(`tokenizerWorkers must be an integer in \\[0, ${most}\\]`));
    t.false(fs.existsSync(out));
  }
  const ok = await buildIndex({ inputs: [{ text: 'abc abc' }], out: path.join(scratch, 'workers-ok'), tokenizer: 'cl100k_base', tokenizerWorkers: 1 });
  t.is(ok.documents, 1);
});
