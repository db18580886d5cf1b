/**
 * Traits every public method of Index has, enumerated from Index.prototype so that a new method cannot escape
 * them (the table below must name every method; a method without an entry fails the first test):
 * - after close() → ERR_CLOSED; a signal that has fired → ERR_ABORTED; `timeoutMs: 0` → ERR_TIMEOUT; a
 *   malformed `timeoutMs` (negative, NaN, above 2^31 − 1) or `signal` → ERR_INVALID_ARGUMENT;
 * - async methods reject (they never throw synchronously), Sync methods throw (they never return a promise);
 * - the API rule: every async query `x` has `xSync`, and every `xBatch` comes with `x`, `xSync`, `xBatchSync`.
 */
import test, { ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildIndex, CallOptions, ErrorCode, Index, openIndex, TraceIndexError } from '../lib/index';
import * as O from './helpers/oracle';

const scratch = O.tmpDir('traits');
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));

type Kind = 'async' | 'sync' | 'iterator';
type Entry = { kind: Kind; call: (idx: Index, o: CallOptions) => unknown } | { exempt: string };

/** Every member of Index.prototype, with valid arguments; `o` is spliced into the call's options. */
const TABLE: Record<string, Entry> = {
  constructor: { exempt: 'private: openIndex() makes indexes' },
  info: { exempt: 'a getter of the manifest, readable after close' },
  closed: { exempt: 'a getter, meant to be read after close' },
  close: { exempt: 'idempotent: closing twice is no error (checked below)' },

  count: { kind: 'async', call: (i, o) => i.count('ab', o) },
  countSync: { kind: 'sync', call: (i, o) => i.countSync('ab', o) },
  countBatch: { kind: 'async', call: (i, o) => i.countBatch(['ab', 'c'], o) },
  countBatchSync: { kind: 'sync', call: (i, o) => i.countBatchSync(['ab', 'c'], o) },
  locate: { kind: 'async', call: (i, o) => i.locate('ab', { limit: 2, ...o }) },
  locateSync: { kind: 'sync', call: (i, o) => i.locateSync('ab', { limit: 2, ...o }) },
  longestMatch: { kind: 'async', call: (i, o) => i.longestMatch('abz', o) },
  longestMatchSync: { kind: 'sync', call: (i, o) => i.longestMatchSync('abz', o) },
  longestMatchBatch: { kind: 'async', call: (i, o) => i.longestMatchBatch(['abz'], o) },
  longestMatchBatchSync: { kind: 'sync', call: (i, o) => i.longestMatchBatchSync(['abz'], o) },
  nextTokens: { kind: 'async', call: (i, o) => i.nextTokens('ab', o) },
  nextTokensSync: { kind: 'sync', call: (i, o) => i.nextTokensSync('ab', o) },
  nextTokensBatch: { kind: 'async', call: (i, o) => i.nextTokensBatch(['ab'], o) },
  nextTokensBatchSync: { kind: 'sync', call: (i, o) => i.nextTokensBatchSync(['ab'], o) },
  document: { kind: 'async', call: (i, o) => i.document(1, o) },
  documentSync: { kind: 'sync', call: (i, o) => i.documentSync('d1', o) },
  unigramCounts: { kind: 'sync', call: (i, o) => i.unigramCounts(o) },
  verify: { kind: 'async', call: (i, o) => i.verify(o) },

  trace: { kind: 'async', call: (i, o) => i.trace('abcab', o) },
  traceSync: { kind: 'sync', call: (i, o) => i.traceSync('abcab', o) },
  traceBatch: { kind: 'async', call: (i, o) => i.traceBatch(['abcab'], o) },
  traceBatchSync: { kind: 'sync', call: (i, o) => i.traceBatchSync(['abcab'], o) },
  shield: { kind: 'async', call: (i, o) => i.shield('abcab', { tau: 1, ...o }) },
  shieldSync: { kind: 'sync', call: (i, o) => i.shieldSync('abcab', { tau: 1, ...o }) },
  shieldBatch: { kind: 'async', call: (i, o) => i.shieldBatch(['abcab'], { tau: 1, mode: { window: 2 }, ...o }) },
  shieldBatchSync: { kind: 'sync', call: (i, o) => i.shieldBatchSync(['abcab'], { tau: 1, mode: { window: 2 }, ...o }) },
  bci: { kind: 'async', call: (i, o) => i.bci('abc', o) },
  bciSync: { kind: 'sync', call: (i, o) => i.bciSync('abc', { variant: 'kl', ...o }) },
  scores: { kind: 'async', call: (i, o) => i.scores('abc', o) },
  scoresSync: { kind: 'sync', call: (i, o) => i.scoresSync('abc', o) },
  scoresBatch: { kind: 'async', call: (i, o) => i.scoresBatch(['abc', 'zz'], o) },
  scoresBatchSync: { kind: 'sync', call: (i, o) => i.scoresBatchSync(['abc', 'zz'], o) },
  surprisalTable: { kind: 'async', call: (i, o) => i.surprisalTable(o) },
  surprisalTableSync: { kind: 'sync', call: (i, o) => i.surprisalTableSync({ logBase: 2, ...o }) },
  calibrate: { kind: 'async', call: (i, o) => i.calibrate({ lengths: [2, 3], samples: 5, ...o }) },
  calibrateSync: { kind: 'sync', call: (i, o) => i.calibrateSync({ lengths: [2], samples: 5, ...o }) },
  matchState: { kind: 'sync', call: (i, o) => i.matchState({ window: 4, ...o }) },
  tokenWeights: { kind: 'async', call: (i, o) => i.tokenWeights('abcab', { tau: 0, ...o }) },
  tokenWeightsSync: { kind: 'sync', call: (i, o) => i.tokenWeightsSync('abcab', { tau: 0, ...o }) },
  tokenWeightsBatch: { kind: 'async', call: (i, o) => i.tokenWeightsBatch(['abcab'], { tau: 0, ...o }) },
  tokenWeightsBatchSync: { kind: 'sync', call: (i, o) => i.tokenWeightsBatchSync(['abcab'], { tau: 0, ...o }) },
  scan: { kind: 'iterator', call: (i, o) => i.scan([{ id: 'x', text: 'abcab' }], o) },
};

/** Async methods without a Sync form, and Sync-only methods: the exceptions to the API rule, each with a reason. */
const NO_SYNC_FORM: Record<string, string> = {
  verify: 'reads every file: never on the JS thread',
  scan: 'a stream',
};

const methods = () => Object.getOwnPropertyNames(Index.prototype).sort();
const tested = (): Array<[string, Extract<Entry, { kind: Kind }>]> =>
  Object.entries(TABLE).filter((e): e is [string, Extract<Entry, { kind: Kind }>] => 'kind' in e[1]);

let built: Promise<string> | undefined;
async function open(): Promise<Index> {
  built ??= (async () => {
    const dir = path.join(scratch, 'idx');
    await buildIndex({ inputs: ['abcabcab', 'bcabcaxy', 'cabzzab', 'ab'].map((text, i) => ({ text, id: `d${i}` })), out: dir, shardTokens: 20 });
    return dir;
  })();
  return openIndex(await built);
}

/** Calls `fn` the way its kind promises, and checks it fails with `code`. */
async function failsWith(t: ExecutionContext, name: string, kind: Kind, fn: () => unknown, code: ErrorCode): Promise<void> {
  let result: unknown;
  try {
    result = fn();
  } catch (err) {
    t.is(kind, 'sync', `${name} threw synchronously (${String(err)}); an async method must reject instead`);
    t.true(err instanceof TraceIndexError, `${name}: ${String(err)}`);
    t.is((err as TraceIndexError).code, code, `${name}: ${(err as Error).message}`);
    return;
  }
  t.not(kind, 'sync', `${name} returned instead of throwing ${code}`);
  const settled = kind === 'iterator' ? (result as AsyncIterator<unknown>).next() : result;
  t.true(settled instanceof Promise, `${name} returned no promise`);
  const err = await (settled as Promise<unknown>).then(() => undefined, (e: unknown) => e);
  t.true(err instanceof TraceIndexError, `${name} resolved or rejected with ${String(err)} instead of ${code}`);
  t.is((err as TraceIndexError)?.code, code, `${name}: ${(err as Error)?.message}`);
}

/** Runs the call on an open index with harmless options: the table's arguments are valid. */
async function succeeds(t: ExecutionContext, name: string, kind: Kind, fn: () => unknown): Promise<void> {
  const result = fn();
  if (kind === 'sync') t.false(result instanceof Promise, `${name} returned a promise`);
  else if (kind === 'async') {
    t.true(result instanceof Promise, `${name} returned no promise`);
    await result;
  } else {
    for await (const _ of result as AsyncIterable<unknown>) { /* drain */ }
  }
}

test('every member of Index.prototype has an entry in the trait table, and every entry is a member', (t) => {
  const names = methods();
  t.true(names.includes('count') && names.includes('trace'), 'query and provenance methods are on the prototype');
  t.deepEqual(names.filter((n) => !(n in TABLE)), [], 'methods without an entry: add them to TABLE');
  t.deepEqual(Object.keys(TABLE).filter((n) => !names.includes(n)).sort(), [], 'entries that are no method');
  for (const [name, e] of tested()) t.is(e.kind === 'sync', name.endsWith('Sync') || name === 'matchState' || name === 'unigramCounts', `${name}: kind ${e.kind}`);
});

test('the API rule: every async query x has xSync; every xBatch has x, xSync and xBatchSync', (t) => {
  const names = new Set(methods());
  for (const [name, e] of tested()) {
    if (e.kind === 'sync') continue;
    if (name in NO_SYNC_FORM) continue;
    t.true(names.has(`${name}Sync`), `${name} has no ${name}Sync`);
    if (name.endsWith('Batch')) {
      const one = name.slice(0, -'Batch'.length);
      for (const n of [one, `${one}Sync`, `${name}Sync`]) t.true(names.has(n), `${name} has no ${n}`);
    }
  }
});

test('with valid arguments and live options every method succeeds (the table is right)', async (t) => {
  const idx = await open();
  try {
    for (const [name, e] of tested()) {
      await succeeds(t, name, e.kind, () => e.call(idx, {}));
      await succeeds(t, name, e.kind, () => e.call(idx, { signal: new AbortController().signal, timeoutMs: 60_000 }));
    }
  } finally {
    idx.close();
  }
});

test('after close: ERR_CLOSED from every method; close is idempotent; info and closed still answer', async (t) => {
  const idx = await open();
  const documents = idx.info.documents;
  idx.close();
  idx.close();
  t.true(idx.closed);
  t.is(idx.info.documents, documents);
  for (const [name, e] of tested()) await failsWith(t, name, e.kind, () => e.call(idx, {}), 'ERR_CLOSED');
});

test('a signal that has already fired: ERR_ABORTED from every method, Sync ones included', async (t) => {
  const idx = await open();
  try {
    const c = new AbortController();
    c.abort();
    for (const [name, e] of tested()) await failsWith(t, name, e.kind, () => e.call(idx, { signal: c.signal }), 'ERR_ABORTED');
  } finally {
    idx.close();
  }
});

test('timeoutMs: 0 is ERR_TIMEOUT from every method, deterministically (before any work)', async (t) => {
  const idx = await open();
  try {
    for (let round = 0; round < 3; round++)
      for (const [name, e] of tested()) await failsWith(t, name, e.kind, () => e.call(idx, { timeoutMs: 0 }), 'ERR_TIMEOUT');
  } finally {
    idx.close();
  }
});

test('malformed call options: ERR_INVALID_ARGUMENT from every method (timeoutMs ≥ 2^31 is not a 1 ms timer)', async (t) => {
  const idx = await open();
  try {
    const bad: CallOptions[] = [{ timeoutMs: -1 }, { timeoutMs: NaN }, { timeoutMs: 2 ** 31 }, { timeoutMs: '5' as never }, { signal: {} as never }];
    for (const [name, e] of tested()) for (const o of bad) await failsWith(t, `${name}(${JSON.stringify(o)})`, e.kind, () => e.call(idx, o), 'ERR_INVALID_ARGUMENT');
    // The largest valid limit is accepted.
    await succeeds(t, 'count', 'async', () => idx.count('ab', { timeoutMs: 2 ** 31 - 1 }));
  } finally {
    idx.close();
  }
});
