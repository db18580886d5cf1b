/**
 * Results a service can send: every result of every Index method (enumerated from Index.prototype, so a new
 * method cannot escape), of MatchState, scoreContinuations and buildIndex round-trips through JSON.stringify
 * with its typed arrays as plain JSON arrays of the same values, while they stay typed arrays in JS.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildIndex, Index, openIndex, scoreContinuations } from '../lib/index';
import * as O from './helpers/oracle';

const scratch = O.tmpDir('json-results');
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** What JSON.parse(JSON.stringify(v)) must give when typed arrays serialise as arrays. */
function plain(v: unknown): unknown {
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>, (x) => (Number.isFinite(x) ? x : null));
  if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : plain(x)));
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = plain(x);
    return out;
  }
  return v;
}

/** Typed arrays anywhere in v, with their paths. */
function typedArrays(v: unknown, at = '$'): string[] {
  if (ArrayBuffer.isView(v)) return [at];
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => typedArrays(x, `${at}.${k}`));
  return [];
}

type Call = (idx: Index) => unknown;
const texts = ['the quick brown fox jumps over the lazy dog', 'a quick brown dog', 'the lazy fox sleeps; the dog runs quick'];

/** Every Index method with arguments whose result holds what it can hold (occurrences, spans, arrays). */
const CALLS: Record<string, Call> = {
  count: (i) => i.count('quick'),
  countSync: (i) => i.countSync('quick', { wordStart: true }),
  countBatch: (i) => i.countBatch(['quick', 'fox', 'zzz']),
  countBatchSync: (i) => i.countBatchSync(['quick', 'fox'], { wordStart: true }),
  locate: (i) => i.locate('quick', { context: 3 }),
  locateSync: (i) => i.locateSync('fox', { context: 2, wordStart: true }),
  longestMatch: (i) => i.longestMatch('quick brown cat'),
  longestMatchSync: (i) => i.longestMatchSync('lazy zebra'),
  longestMatchBatch: (i) => i.longestMatchBatch(['quick brown cat', '']),
  longestMatchBatchSync: (i) => i.longestMatchBatchSync(['the l']),
  nextTokens: (i) => i.nextTokens('the '),
  nextTokensSync: (i) => i.nextTokensSync('quick'),
  nextTokensBatch: (i) => i.nextTokensBatch(['the ', '']),
  nextTokensBatchSync: (i) => i.nextTokensBatchSync(['o']),
  document: (i) => i.document(0),
  documentSync: (i) => i.documentSync('d2'),
  unigramCounts: (i) => i.unigramCounts(),
  verify: (i) => i.verify(),
  trace: (i) => i.trace('my quick brown fox jumps high'),
  traceSync: (i) => i.traceSync('the lazy dog', { minLength: 2 }),
  traceBatch: (i) => i.traceBatch(['the lazy dog', 'zzz']),
  traceBatchSync: (i) => i.traceBatchSync(['quick brown']),
  shield: (i) => i.shield('my quick brown fox jumps high', { tau: 1 }),
  shieldSync: (i) => i.shieldSync('the lazy dog', { tau: 1e9 }),
  shieldBatch: (i) => i.shieldBatch(['the lazy dog'], { tau: 1, mode: { window: 4 } }),
  shieldBatchSync: (i) => i.shieldBatchSync(['zzz'], { tau: 1 }),
  bci: (i) => i.bci('quick'),
  bciSync: (i) => i.bciSync('quick', { variant: 'kl' }),
  scores: (i) => i.scores('quick brown'),
  scoresSync: (i) => i.scoresSync('zq'),
  scoresBatch: (i) => i.scoresBatch(['quick', 'fox']),
  scoresBatchSync: (i) => i.scoresBatchSync(['dog']),
  surprisalTable: (i) => i.surprisalTable(),
  surprisalTableSync: (i) => i.surprisalTableSync({ logBase: 2 }),
  calibrate: (i) => i.calibrate({ lengths: [4, 500], samples: 20 }),
  calibrateSync: (i) => i.calibrateSync({ lengths: [3], samples: 10 }),
  matchState: (i) => {
    const s = i.matchState();
    return { push: s.push(Array.from(Buffer.from('the qu'))), longest: s.longest(), peek: s.peek(105), pushed: s.pushed };
  },
  tokenWeights: (i) => i.tokenWeights('my quick brown fox', { tau: 0 }),
  tokenWeightsSync: (i) => i.tokenWeightsSync('my quick brown fox', { tau: 0, value: 'score' }),
  tokenWeightsBatch: (i) => i.tokenWeightsBatch(['the lazy dog', 'zz'], { tau: 0 }),
  tokenWeightsBatchSync: (i) => i.tokenWeightsBatchSync(['the lazy dog'], { tau: 0 }),
  scan: async (i) => {
    const out = [];
    for await (const r of i.scan([{ id: 'a', text: 'my quick brown fox' }, { id: 'b', tokens: [999] }])) out.push(r);
    return out;
  },
};

/** Members of Index.prototype that return no query result. */
const NOT_RESULTS = ['constructor', 'close', 'closed'];

let opened: Promise<{ idx: Index; built: unknown }> | undefined;
function open() {
  opened ??= (async () => {
    const out = path.join(scratch, 'idx');
    const built = await buildIndex({ inputs: texts.map((text, i) => ({ text, id: `d${i}`, meta: { n: i } })), out, shardTokens: 60 });
    return { idx: await openIndex(out), built };
  })();
  return opened;
}

test('every Index method has a result here (enumerated from Index.prototype)', (t) => {
  const names = Object.getOwnPropertyNames(Index.prototype).filter((n) => !NOT_RESULTS.includes(n) && n !== 'info');
  t.true(names.includes('count') && names.includes('scan'));
  t.deepEqual(names.filter((n) => !(n in CALLS)), []);
});

test('every result round-trips through JSON.stringify with its typed arrays as arrays of the same values', async (t) => {
  const { idx, built } = await open();
  const results: Record<string, unknown> = { ...Object.fromEntries(await Promise.all(Object.entries(CALLS).map(async ([n, f]) => [n, await f(idx)]))), info: idx.info, buildIndex: built };
  const states = [idx.matchState(), idx.matchState()];
  states[0].push(Array.from(Buffer.from('the lazy')));
  results.scoreContinuations = scoreContinuations(states, [[32, 100], [113, 102]], { tau: 0 });
  let arrays = 0;
  for (const [name, r] of Object.entries(results)) {
    const paths = typedArrays(r);
    arrays += paths.length;
    const back = JSON.parse(JSON.stringify(r));
    t.deepEqual(back, plain(r), name);
    // Each typed array came back as a JSON array of the same values.
    for (const p of paths) {
      const got = p.split('.').slice(1).reduce((v: any, k) => v[k], back);
      t.true(Array.isArray(got), `${name}: ${p} is an array in JSON`);
    }
  }
  // The results hold typed arrays where the public types say so (they stay typed arrays in JS).
  const r = results as any;
  t.true(r.countBatch instanceof Float64Array);
  t.true(r.locate.occurrences[0].snippet.tokens instanceof Uint32Array);
  t.true(r.nextTokens.tokens instanceof Uint32Array && r.nextTokens.counts instanceof Float64Array);
  t.true(r.document.tokens instanceof Uint32Array);
  t.true(r.trace.spans[0].documents[0].snippet.tokens instanceof Uint32Array);
  t.true(r.tokenWeights instanceof Float32Array && r.surprisalTable instanceof Float32Array && r.unigramCounts instanceof Float64Array);
  t.true(r.scoreContinuations.risk instanceof Float32Array && r.scoreContinuations.veto instanceof Uint8Array);
  t.true(r.scoreContinuations.length instanceof Uint32Array && r.scoreContinuations.count instanceof Float64Array);
  t.true(r.scan[0].spans[0].documents[0].snippet.tokens instanceof Uint32Array);
  t.true(arrays >= 40, `${arrays} typed arrays checked`);
  // Values: spot checks against what the arrays hold.
  t.deepEqual(JSON.parse(JSON.stringify(r.countBatch)), [O.count(texts.map(O.utf8), O.utf8('quick')), O.count(texts.map(O.utf8), O.utf8('fox')), 0]);
  t.deepEqual(JSON.parse(JSON.stringify(r.document)).tokens, Array.from(O.utf8(texts[0])));
});

test('typed arrays of results are views over the native answer, not copies; slices keep the JSON form', async (t) => {
  const { idx } = await open();
  const r = await idx.locate('quick', { context: 2 });
  t.is(r.occurrences.length, 3);
  // The snippets of one page share the one native buffer.
  t.is(r.occurrences[0].snippet.tokens.buffer, r.occurrences[2].snippet.tokens.buffer);
  const d = await idx.document(1);
  t.deepEqual(JSON.parse(JSON.stringify(d.tokens.subarray(0, 3))), Array.from(O.utf8(texts[1]).slice(0, 3)));
});
