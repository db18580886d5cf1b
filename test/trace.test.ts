/**
 * Provenance layer against brute force: maximal spans (trace), options, BCI and its variants, TraceShield,
 * the match state, Prov-Decode's continuation scores, CBD token weights and calibration. Every expected value
 * is computed from the documents by test/helpers/trace-oracle.ts (substring search, direct unigram counts).
 */
import test, { ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildIndex, Index, openIndex, penalizeLogits, scoreContinuations } from '../lib/index';
import type { DocumentRecord, Span, TraceResult } from '../lib/index';
import * as O from './helpers/oracle';
import { BruteSpan, close, Corpus, isWordByte, splicedOutputs } from './helpers/trace-oracle';

const scratch = O.tmpDir('trace');
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));
let dirs = 0;

interface Case {
  name: string;
  docs: number[][];
  texts?: string[];
  vocab: number;
  tokenizer: 'bytes' | { name: string; vocabSize: number };
  /** A token for new text (may be absent from the corpus). */
  fresh: (r: () => number) => number;
}

const records = (c: Case): DocumentRecord[] =>
  c.docs.map((d, i) => ({ ...(c.texts ? { text: c.texts[i] } : { tokens: d }), id: `${c.name}-${i}` }));

async function build(c: Case, shardTokens?: number): Promise<Index> {
  const out = path.join(scratch, `${c.name}-${dirs++}`);
  await buildIndex({ inputs: records(c), out, tokenizer: c.tokenizer, shardTokens });
  return openIndex(out);
}

const smallShards = (docs: number[][]) => O.shardTokensFor(docs, 4);

/** ASCII words over a 4-letter alphabet with spaces and periods: bytes tokenizer, word boundaries matter. */
function asciiCase(): Case {
  const r = O.rng(101);
  const docs = O.randomDocs(r, 60, 300, 6, 97).map((d) => d.map((x) => (x === 101 ? 32 : x === 102 ? 46 : x)));
  const texts = docs.map((d) => Buffer.from(d).toString('latin1'));
  return { name: 'ascii', docs, texts, vocab: 255, tokenizer: 'bytes', fresh: (rr) => O.pick(rr, [97, 98, 99, 100, 32, 46, 120, 122]) };
}

function realCase(): Case {
  const r = O.rng(7);
  const texts = O.realTexts(60_000, 20).map((x) => x.text).concat(O.unicodeTexts(r, 20));
  return { name: 'real', docs: texts.map(O.utf8), texts, vocab: 255, tokenizer: 'bytes', fresh: (rr) => O.randInt(rr, 32, 127) };
}

function u16Case(): Case {
  const r = O.rng(3);
  const vocab = 1000;
  const docs = O.randomDocs(r, 60, 250, 7, vocab - 50).concat([O.randomTokens(r, 400, 500)]);
  return { name: 'u16', docs, vocab, tokenizer: { name: 'u16-ids', vocabSize: vocab }, fresh: (rr) => O.randInt(rr, 0, vocab) };
}

interface Built { c: Case; corpus: Corpus; single: Index; multi: Index }
const memo = new Map<string, Promise<Built>>();
function built(make: () => Case): Promise<Built> {
  const key = make.name;
  if (!memo.has(key)) {
    memo.set(key, (async () => {
      const c = make();
      const single = await build(c);
      const multi = await build(c, smallShards(c.docs));
      return { c, corpus: new Corpus(c.docs), single, multi };
    })());
  }
  return memo.get(key)!;
}
test.after.always(async () => {
  for (const p of memo.values()) {
    const b = await p;
    b.single.close();
    b.multi.close();
  }
});

const decodes = (bytes: number[]): string | undefined => {
  const s = Buffer.from(bytes).toString('utf8');
  return Buffer.from(s, 'utf8').equals(Buffer.from(bytes)) ? s : undefined;
};

function outputsOf(c: Case, seed: number, n: number): number[][] {
  const r = O.rng(seed);
  const outs = splicedOutputs(r, c.docs, n, () => c.fresh(r));
  outs.push(O.randomTokens(r, 30, 4, c.vocab === 255 ? 97 : c.vocab - 50)); // all new text
  outs.push(Array.from(c.docs.reduce((a, d) => (d.length > a.length ? d : a))).slice(0, 120)); // a verbatim doc
  outs.push([]);
  return outs;
}

const ALL_VARIANTS = ['bci', 'density', 'maxToken', 'kl', 'countSurprisal'] as const;

function checkScores(t: ExecutionContext, got: Span['scores'], want: ReturnType<Corpus['scores']>, what: string) {
  for (const v of ALL_VARIANTS) t.true(close(got[v], want[v]), `${what} ${v}: got ${got[v]}, want ${want[v]}`);
}

/** A trace result against the brute-force spans: positions, counts, scores, attributions. */
function checkTrace(t: ExecutionContext, b: Built, idx: Index, o: number[], got: TraceResult, want: BruteSpan[], opts: { maxDocuments?: number; logBase?: number } = {}, what = '') {
  t.is(got.tokens, o.length);
  t.deepEqual(got.spans.map((s) => [s.start, s.end, s.count]), want.map((s) => [s.start, s.end, s.count]), `spans ${what} ${o.slice(0, 12)}`);
  const maxDocs = opts.maxDocuments ?? 3;
  for (const s of got.spans) {
    const pat = o.slice(s.start, s.end);
    checkScores(t, s.scores, b.corpus.scores(pat, { logBase: opts.logBase, count: s.count }), `[${s.start},${s.end})`);
    t.is(s.bci, s.scores.bci);
    t.is(s.documents.length, Math.min(s.count, maxDocs), 'number of attributions');
    for (const d of s.documents) {
      t.true(b.corpus.occursAt(d.document, d.position.token, pat), `attribution doc ${d.document} @${d.position.token}`);
      t.is(d.id, `${b.c.name}-${d.document}`);
    }
    const keys = s.documents.map((d) => [d.document, d.position.token]);
    const sorted = [...keys].sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    t.deepEqual(keys, sorted, 'attributions in document order');
    t.is(new Set(keys.map((k) => k.join(':'))).size, keys.length, 'distinct attributions');
    if (s.count <= maxDocs) {
      const all = O.occurrences(b.c.docs, pat).map((x) => [x.doc, x.offset]);
      t.deepEqual(keys, all, 'all occurrences when count <= maxDocuments');
    }
    if (idx.tokenizer.readsText) t.is(s.text, Buffer.from(pat).toString('utf8'));
  }
}

const CASES: Array<[string, () => Case]> = [
  ['u8 bytes, random ASCII words', asciiCase],
  ['u8 bytes, real and unicode text', realCase],
  ['u16 pretokenized (vocab 1000)', u16Case],
];

for (const [title, make] of CASES) {
  test(`${title}: trace with no options equals the brute-force maximal spans, single and multi shard`, async (t) => {
    const b = await built(make);
    t.is(b.single.info.shards.length, 1);
    t.true(b.multi.info.shards.length >= 3, `${b.multi.info.shards.length} shards`);
    t.is(b.single.info.tokenWidth, b.c.vocab <= 255 ? 1 : 2);
    const outs = outputsOf(b.c, 17, 30);
    const wants = outs.map((o) => b.corpus.trace(o));
    t.true(wants.reduce((n, w) => n + w.length, 0) > 50, 'the outputs have spans');
    const single = await b.single.traceBatch(outs);
    const multi = b.multi.traceBatchSync(outs);
    for (let i = 0; i < outs.length; i++) {
      checkTrace(t, b, b.single, outs[i], single[i], wants[i], {}, 'single');
      checkTrace(t, b, b.multi, outs[i], multi[i], wants[i], {}, 'multi');
      const strip = (r: TraceResult) => r.spans.map((s) => ({ ...s, documents: s.count <= 3 ? s.documents.map((d) => [d.document, d.position.token]) : [] }));
      t.deepEqual(strip(multi[i]), strip(single[i]), 'single and multi shard agree');
    }
    // Single-output forms, and text queries for the bytes tokenizer.
    for (let i = 0; i < 6; i++) {
      const one = i % 2 ? await b.multi.trace(outs[i]) : b.single.traceSync(Uint32Array.from(outs[i]));
      checkTrace(t, b, i % 2 ? b.multi : b.single, outs[i], one, wants[i]);
    }
    if (b.c.tokenizer === 'bytes') {
      let texts = 0;
      for (let i = 0; i < outs.length; i++) {
        const s = decodes(outs[i]);
        if (s === undefined) continue;
        texts++;
        checkTrace(t, b, b.single, outs[i], await b.single.trace(s), wants[i], {}, 'text');
      }
      // Character-level splices of the document texts with new words (always valid UTF-8).
      const r = O.rng(5);
      for (let k = 0; k < 10; k++) {
        let s = '';
        for (let p = 0; p < 4; p++) {
          const doc = O.pick(r, b.c.texts!.filter((x) => x.length > 10));
          const at = O.randInt(r, 0, doc.length - 5);
          s += r() < 0.7 ? doc.slice(at, at + O.randInt(r, 3, 60)) : ' zebra quokka ';
        }
        const o = O.utf8(s);
        checkTrace(t, b, b.multi, o, await b.multi.trace(s), b.corpus.trace(o), {}, 'spliced text');
        texts++;
      }
      t.true(texts >= 15);
    }
  });

  test(`${title}: minLength, maxCount, delimiters filter exactly`, async (t) => {
    const b = await built(make);
    const outs = outputsOf(b.c, 23, 20);
    const r = O.rng(29);
    const bytes = b.c.tokenizer === 'bytes';
    const delimCandidates = bytes ? [32, 46, 10, 44] : [b.c.vocab - 50, b.c.vocab - 47, 3];
    for (const [k, o] of outs.entries()) {
      const minLength = O.randInt(r, 1, 12);
      const maxCount = O.randInt(r, 0, 6);
      const delimiters = [O.pick(r, delimCandidates), O.pick(r, delimCandidates)];
      const idx = k % 2 ? b.multi : b.single;
      checkTrace(t, b, idx, o, idx.traceSync(o, { minLength }), b.corpus.trace(o, { minLength }), {}, `minLength ${minLength}`);
      checkTrace(t, b, idx, o, idx.traceSync(o, { maxCount }), b.corpus.trace(o, { maxCount }), {}, `maxCount ${maxCount}`);
      checkTrace(t, b, idx, o, idx.traceSync(o, { delimiters }), b.corpus.trace(o, { delimiters }), {}, `delimiters ${delimiters}`);
      const all = { minLength: O.randInt(r, 1, 5), maxCount: O.randInt(r, 1, 50), delimiters: [delimiters[0]], maxDocuments: O.randInt(r, 0, 6) };
      checkTrace(t, b, idx, o, await idx.trace(o, all), b.corpus.trace(o, all), all, 'all options');
      if (bytes) {
        // One-token strings as delimiters mean the same as their ids.
        const s = Buffer.from([delimiters[0]]).toString('latin1');
        t.deepEqual(idx.traceSync(o, { delimiters: [s] }).spans.map((x) => [x.start, x.end]), idx.traceSync(o, { delimiters: [delimiters[0]] }).spans.map((x) => [x.start, x.end]));
      }
    }
    if (bytes) {
      const e = t.throws(() => b.single.traceSync('abc', { delimiters: ['ab'] }));
      t.is((e as { code?: string }).code, 'ERR_INVALID_ARGUMENT');
    } else {
      const e = t.throws(() => b.single.traceSync([1, 2], { wordBoundaries: true }));
      t.is((e as { code?: string }).code, 'ERR_INVALID_ARGUMENT');
    }
    for (const bad of [{ minLength: -1 }, { maxCount: 1.5 }, { maxDocuments: -2 }, { seed: NaN }, { unseenFloor: 0 }, { logBase: 1 }]) {
      const e = t.throws(() => b.single.traceSync(outs[0], bad), undefined, JSON.stringify(bad));
      t.is((e as { code?: string }).code, 'ERR_INVALID_ARGUMENT', JSON.stringify(bad));
    }
  });

  test(`${title}: every score variant of every span equals the direct computation, natural log, base 2 and base 10`, async (t) => {
    const b = await built(make);
    const outs = outputsOf(b.c, 31, 12);
    for (const logBase of [undefined, 2, 10]) {
      const got = b.multi.traceBatchSync(outs, { logBase });
      outs.forEach((o, i) => checkTrace(t, b, b.multi, o, got[i], b.corpus.trace(o), { logBase }, `logBase ${logBase}`));
    }
  });

  test(`${title}: the same seed gives the same sampled attributions, other seeds sample other occurrences`, async (t) => {
    const b = await built(make);
    // Frequent spans: short pieces of the corpus, so counts far exceed maxDocuments.
    const r = O.rng(41);
    const outs = Array.from({ length: 20 }, () => {
      const d = O.pick(r, b.c.docs.filter((x) => x.length > 10));
      const at = O.randInt(r, 0, d.length - 3);
      return Array.from(d).slice(at, at + 3);
    });
    const key = (res: TraceResult[]) => res.map((x) => x.spans.map((s) => s.documents.map((d) => `${d.document}:${d.position.token}`).join(',')).join('|'));
    for (const idx of [b.single, b.multi]) {
      const a1 = key(idx.traceBatchSync(outs, { seed: 1, maxDocuments: 2 }));
      const a2 = key(await idx.traceBatch(outs, { seed: 1, maxDocuments: 2 }));
      const c = key(idx.traceBatchSync(outs, { seed: 987654, maxDocuments: 2 }));
      t.deepEqual(a1, a2);
      t.notDeepEqual(a1, c, 'another seed samples other occurrences somewhere');
      const res = idx.traceBatchSync(outs, { seed: 5, maxDocuments: 2 });
      res.forEach((x, i) => checkTrace(t, b, idx, outs[i], x, b.corpus.trace(outs[i]), { maxDocuments: 2 }));
      t.true(res.some((x) => x.spans.some((s) => s.count > 2)));
    }
  });

  test(`${title}: shield equals the naive decision in maximal and window mode; tau is required`, async (t) => {
    const b = await built(make);
    const outs = outputsOf(b.c, 37, 15);
    const r = O.rng(43);
    for (const [i, o] of outs.entries()) {
      const idx = i % 2 ? b.multi : b.single;
      const spans = b.corpus.trace(o);
      const bcis = spans.map((s) => b.corpus.scores(o.slice(s.start, s.end)).bci);
      // Thresholds halfway between distinct scores (an exact tie would hang on the last ulp of a sum).
      const between = (xs: number[]) => {
        const u = [...new Set(xs)].sort((x, y) => x - y);
        if (u.length < 2) return (u[0] ?? 4) + 0.5;
        const k = O.randInt(r, 0, u.length - 1);
        return (u[k] + u[k + 1]) / 2;
      };
      const tau = between(bcis);
      const densityTau = between(spans.map((s) => b.corpus.scores(o.slice(s.start, s.end)).density));
      const naive = (ss: BruteSpan[], threshold: number, variant: 'bci' | 'density') => {
        const v = ss.map((s) => b.corpus.scores(o.slice(s.start, s.end), { count: s.count })[variant]);
        const max = v.length ? Math.max(...v) : 0;
        return { refuse: v.some((x) => x > threshold), max };
      };
      const check = (got: { refuse: boolean; maxBci: number; spans: Span[] }, ss: BruteSpan[], what: string, variant: 'bci' | 'density' = 'bci', threshold = tau) => {
        const w = naive(ss, threshold, variant);
        t.is(got.refuse, w.refuse, `${what} refuse (tau ${tau})`);
        t.true(close(got.maxBci, w.max), `${what} maxBci ${got.maxBci} vs ${w.max}`);
        t.deepEqual(got.spans.map((s) => [s.start, s.end, s.count]), ss.map((s) => [s.start, s.end, s.count]), `${what} spans`);
      };
      check(await idx.shield(o, { tau }), spans, 'maximal');
      const maxCount = O.randInt(r, 1, 5);
      check(idx.shieldSync(o, { tau, maxCount }), b.corpus.trace(o, { maxCount }), `maximal maxCount ${maxCount}`);
      check(idx.shieldSync(o, { tau: densityTau, variant: 'density' }), spans, 'density', 'density', densityTau);
      // Refusal is strict: a tau equal to the largest score allows.
      const top = idx.shieldSync(o, { tau: 0 });
      t.false(idx.shieldSync(o, { tau: top.maxBci }).refuse);
      t.is(top.refuse, spans.length > 0);
      const w = O.randInt(r, 1, 9);
      const winTau = w * 2;
      const wins = b.corpus.windows(o, w);
      const got = (await idx.shieldBatch([o], { tau: winTau, mode: { window: w } }))[0];
      const naiveWin = wins.map((s) => b.corpus.scores(o.slice(s.start, s.end)).bci);
      t.deepEqual(got.spans.map((s) => [s.start, s.end, s.count]), wins.map((s) => [s.start, s.end, s.count]), `windows of ${w}`);
      got.spans.forEach((s, k) => t.true(close(s.bci, naiveWin[k])));
      t.is(got.refuse, naiveWin.some((x) => x > winTau));
      t.true(close(got.maxBci, naiveWin.length ? Math.max(...naiveWin) : 0));
      const gotMc = idx.shieldSync(o, { tau: winTau, mode: { window: w }, maxCount: 2 });
      t.deepEqual(gotMc.spans.map((s) => [s.start, s.end, s.count]), b.corpus.windows(o, w, 2).map((s) => [s.start, s.end, s.count]));
    }
    for (const call of [() => b.single.shieldSync(outs[0], {} as never), () => b.single.shieldSync(outs[0], { tau: NaN })]) {
      const e = t.throws(call);
      t.is((e as { code?: string }).code, 'ERR_INVALID_ARGUMENT');
    }
    const e1 = await t.throwsAsync(b.single.shield(outs[0], undefined as never));
    t.is((e1 as { code?: string }).code, 'ERR_INVALID_ARGUMENT');
    const e2 = await t.throwsAsync(b.single.shieldBatch([outs[0]], { tau: 1, mode: { window: 0 } }));
    t.is((e2 as { code?: string }).code, 'ERR_INVALID_ARGUMENT');
  });

  test(`${title}: matchState.longest() after each push equals the brute-force longest occurring suffix; fork and peek`, async (t) => {
    const b = await built(make);
    const outs = outputsOf(b.c, 47, 6);
    const r = O.rng(53);
    for (const [i, o] of outs.entries()) {
      const idx = i % 2 ? b.multi : b.single;
      const window = i % 3 === 0 ? 0 : O.randInt(r, 1, 12);
      const st = idx.matchState({ window });
      t.deepEqual(st.longest(), { length: 0, count: b.corpus.N, bci: 0 });
      for (let k = 0; k < o.length; k++) {
        const got = st.push(o[k]);
        const want = b.corpus.longestSuffix(o.slice(0, k + 1), window);
        t.deepEqual([got.length, got.count], [want.length, want.count], `push ${k} window ${window}`);
        t.true(close(got.bci, want.bci));
        t.deepEqual(st.longest(), got);
        t.is(st.pushed, k + 1);
        if (k % 7 === 3) {
          // peek: push-then-longest, without changing the state.
          const cand = k % 2 ? o[Math.min(o.length - 1, k + 1)] : b.c.fresh(r);
          const before = st.longest();
          const peeked = st.peek(cand);
          const w2 = b.corpus.longestSuffix(o.slice(0, k + 1).concat([cand]), window);
          t.deepEqual([peeked.length, peeked.count], [w2.length, w2.count], 'peek');
          t.true(close(peeked.bci, w2.bci));
          t.deepEqual(st.longest(), before);
          t.is(st.pushed, k + 1);
          const f = st.fork();
          t.deepEqual(f.push(cand), peeked, 'peek equals fork + push');
        }
      }
      // fork: two independent continuations of the same history.
      const a = st.fork();
      const hist = o.slice();
      const ta = splicedOutputs(r, b.c.docs, 1, () => b.c.fresh(r))[0].slice(0, 25);
      const tb = splicedOutputs(r, b.c.docs, 1, () => b.c.fresh(r))[0].slice(0, 25);
      for (let k = 0; k < Math.max(ta.length, tb.length); k++) {
        if (k < ta.length) {
          const g = a.push(ta[k]);
          const w = b.corpus.longestSuffix(hist.concat(ta.slice(0, k + 1)), window);
          t.deepEqual([g.length, g.count], [w.length, w.count], 'fork a');
        }
        if (k < tb.length) {
          const g = st.push(tb[k]);
          const w = b.corpus.longestSuffix(hist.concat(tb.slice(0, k + 1)), window);
          t.deepEqual([g.length, g.count], [w.length, w.count], 'original after fork');
        }
      }
      // A Uint32Array push is the same as pushing one by one.
      const many = idx.matchState({ window });
      many.push(Uint32Array.from(o));
      const w = b.corpus.longestSuffix(o, window);
      t.deepEqual([many.longest().length, many.longest().count], [w.length, w.count]);
    }
    const e = t.throws(() => b.single.matchState().push(b.c.vocab + 5));
    t.is((e as { code?: string }).code, 'ERR_TOKEN_RANGE');
    const e2 = t.throws(() => b.single.matchState({ window: -1 }));
    t.is((e2 as { code?: string }).code, 'ERR_INVALID_ARGUMENT');
  });

  test(`${title}: scoreContinuations (B beams × k candidates) and penalizeLogits equal a naive per-candidate computation`, async (t) => {
    const b = await built(make);
    const r = O.rng(59);
    const hists = outputsOf(b.c, 61, 5).filter((o) => o.length > 0).slice(0, 4);
    for (const window of [0, 6]) {
      const idx = window ? b.multi : b.single;
      const states = hists.map((h) => {
        const s = idx.matchState({ window });
        for (const x of h) s.push(x);
        return s;
      });
      const K = 7;
      // Candidates: the continuation in some document of the current match, and random ids.
      const cands = hists.map((h) => Array.from({ length: K }, (_, j) => (j < 3 ? b.corpus.docs.flatMap((d) => {
        const at = O.occurrences([d], h.slice(-2)).map((x) => x.offset + 2).filter((p) => p < d.length);
        return at.map((p) => d[p]);
      })[j] ?? b.c.fresh(r) : b.c.fresh(r))));
      for (const opts of [{}, { tau: 8, minLength: 3, maxCount: 4 }, { tau: 3, logBase: 2 }, { tau: 0 }]) {
        const got = scoreContinuations(states, cands, opts);
        const flat = scoreContinuations(states, Uint32Array.from(cands.flat()), opts, K);
        t.deepEqual(flat, got);
        const scale = 'logBase' in opts && opts.logBase ? Math.log(opts.logBase) : 1;
        const tau = 'tau' in opts ? opts.tau! : Infinity;
        const minLength = 'minLength' in opts ? opts.minLength! : 1;
        const maxCount = 'maxCount' in opts ? opts.maxCount! : Infinity;
        hists.forEach((h, bi) => cands[bi].forEach((c, j) => {
          const w = b.corpus.longestSuffix(h.concat([c]), window);
          const i = bi * K + j;
          const bci = w.bci / scale;
          t.is(got.length[i], w.length, `beam ${bi} cand ${j} length`);
          t.is(got.count[i], w.count, `beam ${bi} cand ${j} count`);
          t.true(close(got.risk[i], Math.fround(bci), 1e-6), `risk ${got.risk[i]} vs ${bci}`);
          t.is(got.veto[i], w.length >= minLength && w.length > 0 && bci > tau && w.count <= maxCount ? 1 : 0, `veto beam ${bi} cand ${j}`);
        }));
        const logits = Float64Array.from({ length: hists.length * K }, () => r() * 10 - 5);
        const orig = logits.slice();
        penalizeLogits(logits, got, { gamma: 0.5 });
        for (let i = 0; i < logits.length; i++) t.is(logits[i], got.veto[i] ? -Infinity : orig[i] - 0.5 * got.risk[i]);
        const soft = orig.slice();
        penalizeLogits(soft, got, { vetoToMinusInfinity: false });
        for (let i = 0; i < soft.length; i++) t.is(soft[i], orig[i] - got.risk[i]);
      }
      // The states did not move.
      states.forEach((s, bi) => t.is(s.longest().length, b.corpus.longestSuffix(hists[bi], window).length));
    }
    const st = b.single.matchState();
    t.is((t.throws(() => scoreContinuations([st, st], [[1, 2], [3]])) as { code?: string }).code, 'ERR_INVALID_ARGUMENT');
    t.is((t.throws(() => scoreContinuations([st, st], [[1]])) as { code?: string }).code, 'ERR_INVALID_ARGUMENT');
    t.is((t.throws(() => penalizeLogits(new Float32Array(3), scoreContinuations([st], [[1, 2]]))) as { code?: string }).code, 'ERR_INVALID_ARGUMENT');
  });

  test(`${title}: tokenWeights equal a naive marking of the spans scoring above tau`, async (t) => {
    const b = await built(make);
    const outs = outputsOf(b.c, 67, 12);
    for (const [tau, value, variant] of [[6, 'binary', 'bci'], [3, 'score', 'bci'], [1.5, 'score', 'density']] as const) {
      const got = await b.multi.tokenWeightsBatch(outs, { tau, value, variant });
      t.deepEqual(b.single.tokenWeightsBatchSync(outs, { tau, value, variant }), got, 'Sync form');
      t.deepEqual(await b.single.tokenWeights(outs[0], { tau, value, variant }), got[0], 'one output');
      t.deepEqual(b.single.tokenWeightsSync(outs[0], { tau, value, variant }), got[0], 'one output, Sync');
      outs.forEach((o, i) => {
        const want = new Float32Array(o.length);
        for (const s of b.corpus.trace(o)) {
          const score = b.corpus.scores(o.slice(s.start, s.end), { count: s.count })[variant];
          if (!(score > tau)) continue;
          for (let k = s.start; k < s.end; k++) want[k] = Math.max(want[k], value === 'score' ? Math.fround(score) : 1);
        }
        t.is(got[i].length, o.length);
        for (let k = 0; k < o.length; k++) t.true(close(got[i][k], want[k], 1e-6), `output ${i} token ${k}: ${got[i][k]} vs ${want[k]} (${value}, tau ${tau})`);
      });
      t.true(got.some((w) => w.some((x) => x > 0)), 'something is flagged');
    }
    await t.throwsAsync(b.single.tokenWeightsBatch(outs, {} as never), { code: 'ERR_INVALID_ARGUMENT' } as never);
  });
}

test('bci() and scores() of arbitrary sequences (unseen tokens included) equal the direct computation; surprisalTable', async (t) => {
  for (const make of [asciiCase, u16Case]) {
    const b = await built(make);
    const r = O.rng(71);
    const vocab = b.single.manifest.vocabSize;
    const unseen = Array.from({ length: vocab }, (_, i) => i).filter((x) => !b.corpus.unigram.has(x));
    t.true(unseen.length > 10, 'the corpus misses some ids');
    const seqs: number[][] = [];
    for (let k = 0; k < 60; k++) {
      const len = O.randInt(r, 1, 30);
      seqs.push(Array.from({ length: len }, () => (r() < 0.2 ? O.pick(r, unseen) : r() < 0.5 ? O.pick(r, [...b.corpus.unigram.keys()]) : O.randInt(r, 0, vocab))));
    }
    seqs.push(...outputsOf(b.c, 73, 10).filter((o) => o.length > 0).map((o) => o.slice(0, 5)));
    for (const opts of [{}, { logBase: 2 }, { logBase: 10 }, { unseenFloor: 0.01 }, { unseenFloor: 3, logBase: 2 }]) {
      const all = b.single.scoresBatchSync(seqs, opts);
      t.deepEqual(await b.multi.scoresBatch(seqs, opts), all, 'scoresBatch equals scoresBatchSync, whatever the shards');
      t.deepEqual(await b.multi.scores(seqs[0], opts), all[0], 'scores of one sequence');
      t.deepEqual(b.multi.scoresSync(seqs[0], opts), all[0], 'scoresSync of one sequence');
      seqs.forEach((s, i) => {
        const count = O.count(b.c.docs, s);
        t.is(all[i].count, count);
        const want = b.corpus.scores(s, { ...opts, count });
        checkScores(t, all[i], want, `scores ${JSON.stringify(opts)} ${s.slice(0, 6)}`);
        if (i % 5 === 0) for (const v of ALL_VARIANTS) t.true(close(b.multi.bciSync(s, { ...opts, variant: v }), want[v]), `bci ${v} ${JSON.stringify(opts)}`);
      });
    }
    // A sequence of unseen tokens never occurs: countSurprisal is +Infinity (−ln 0).
    t.is(await b.single.bci([unseen[0], unseen[1]], { variant: 'countSurprisal' }), Infinity);
    for (const logBase of [undefined, 2, 10]) {
      for (const unseenFloor of [undefined, 0.25]) {
        const table = b.multi.surprisalTableSync({ logBase, unseenFloor });
        t.deepEqual(await b.single.surprisalTable({ logBase, unseenFloor }), table);
        t.is(table.length, vocab);
        t.true(table instanceof Float32Array);
        const k = logBase ? Math.log(logBase) : 1;
        for (let id = 0; id < vocab; id++) {
          const want = -Math.log(b.corpus.c(id, unseenFloor ?? 0.5) / b.corpus.N) / k;
          t.true(close(table[id], want, 1e-6), `surprisal ${id}: ${table[id]} vs ${want}`);
        }
      }
    }
    for (const bad of [{ unseenFloor: 0 }, { unseenFloor: -1 }, { logBase: 1 }, { logBase: -2 }]) {
      const e = t.throws(() => b.single.bciSync([1], bad), undefined, JSON.stringify(bad));
      t.is((e as { code?: string }).code, 'ERR_INVALID_ARGUMENT');
    }
    t.is((t.throws(() => b.single.bciSync([vocab])) as { code?: string }).code, 'ERR_TOKEN_RANGE');
    await t.throwsAsync(b.single.bci([vocab]), { code: 'ERR_TOKEN_RANGE' } as never);
  }
});

test('calibrate: quantiles are BCIs of real corpus spans of each length, monotone, deterministic for a seed', async (t) => {
  for (const make of [asciiCase, u16Case]) {
    const b = await built(make);
    const lengths = [4, 8, 16];
    const cal = await b.multi.calibrate({ lengths, samples: 200, seed: 3 });
    t.deepEqual(b.multi.calibrateSync({ lengths, samples: 200, seed: 3 }), cal, 'deterministic; calibrateSync equals calibrate');
    t.deepEqual(b.single.calibrateSync({ lengths, samples: 200, seed: 3 }), cal, 'same documents, same sample, whatever the shards');
    t.notDeepEqual(b.multi.calibrateSync({ lengths, samples: 200, seed: 4 }), cal, 'another seed, another sample');
    t.deepEqual(cal.map((c) => c.length), lengths);
    for (const c of cal) {
      t.is(c.samples, 200);
      // Every window of this length in the corpus, with its BCI: each quantile must be one of them.
      const windows = new Map<number, number[]>();
      for (const d of b.c.docs) for (let i = 0; i + c.length <= d.length; i++) {
        const w = Array.from(d).slice(i, i + c.length);
        windows.set(b.corpus.scores(w, { count: 1 }).bci, w);
      }
      const values = [...windows.keys()];
      const q = c.quantiles;
      t.true(q.p50 <= q.p90 && q.p90 <= q.p95 && q.p95 <= q.p99 && q.p99 <= q.max, JSON.stringify(q));
      for (const v of [q.p50, q.p90, q.p95, q.p99, q.max]) {
        const hit = values.find((x) => close(x, v));
        t.not(hit, undefined, `quantile ${v} is the BCI of a length-${c.length} corpus span`);
        if (hit !== undefined) t.true(b.single.countSync(windows.get(hit)!) >= 1);
      }
      t.true(q.max <= Math.max(...values) + 1e-9);
    }
    const kl = b.multi.calibrateSync({ lengths: [8], samples: 50, variant: 'density', logBase: 2 });
    t.true(kl[0].quantiles.max <= Math.max(...[...b.corpus.unigram.keys()].map((x) => b.corpus.h(x) / Math.log(2))) + 1e-9);
  }
});

/** Word-aligned traces of the bytes cases: native result and oracle, for random option mixes. */
async function wordCases(make: () => Case) {
  const b = await built(make);
  const outs = outputsOf(b.c, 79, 25);
  const r = O.rng(83);
  return outs.map((o, k) => {
    const opts = { wordBoundaries: true, minLength: k % 3 ? 1 : O.randInt(r, 1, 8), maxCount: k % 4 ? undefined : 3, delimiters: k % 2 ? [O.pick(r, [32, 46, 10])] : undefined };
    const idx = k % 2 ? b.multi : b.single;
    return { b, o, idx, got: idx.traceSync(o, opts), want: b.corpus.trace(o, { ...opts, isWord: isWordByte }) };
  });
}

for (const [title, make] of CASES.filter(([, m]) => m !== u16Case)) {
  test(`${title}: wordBoundaries trims spans to whole words (all but the covered-span rule)`, async (t) => {
    for (const { b, o, idx, got, want } of await wordCases(make)) {
      const inside = (i: number) => i > 0 && i < o.length && isWordByte(o[i - 1]) && isWordByte(o[i]);
      for (const s of got.spans) t.false(inside(s.start) || inside(s.end), `[${s.start},${s.end}) cuts a word`);
      // Apart from spans covered by a later span with the same start (see the regression test below), exact.
      const uncovered = got.spans.filter((s) => !got.spans.some((x) => x !== s && x.start <= s.start && s.end <= x.end));
      t.deepEqual(uncovered.map((s) => [s.start, s.end, s.count]), want.map((s) => [s.start, s.end, s.count]), `wordBoundaries ${o.slice(0, 16)}`);
      checkTrace(t, b, idx, o, { tokens: got.tokens, spans: uncovered }, want);
    }
  });

  // Regression (fixed; native/core/trace.cpp, trace(), word alignment): trace.hpp says word alignment "drops spans then covered
  // by another", but the code only drops a span covered by its predecessor. Two maximal spans starting inside the
  // same word are both trimmed to that word's end; the shorter one comes first and survives although the next
  // one covers it. Minimal case: documents "ab." and "b. cd", output "xab. cd": maximal spans [1,4) "ab." and
  // [2,7) "b. cd"; with wordBoundaries the result is [3,4) "." and [3,7) ". cd", expected only [3,7) ". cd".
  test(`${title}: wordBoundaries drops spans covered by another span (exact oracle)`, async (t) => {
    for (const { o, got, want } of await wordCases(make))
      t.deepEqual(got.spans.map((s) => [s.start, s.end, s.count]), want.map((s) => [s.start, s.end, s.count]), `wordBoundaries ${o.slice(0, 16)}`);
    const dir = path.join(scratch, `wb-${dirs++}`);
    await buildIndex({ inputs: [{ text: 'ab.' }, { text: 'b. cd' }], out: dir, tokenizer: 'bytes' });
    const idx = await openIndex(dir);
    t.deepEqual(idx.traceSync('xab. cd', { wordBoundaries: true }).spans.map((s) => [s.start, s.end, s.text]), [[3, 7, '. cd']]);
    idx.close();
  });
}

// Regression (fixed; lib/trace.ts scoreContinuations): with more candidate rows than states, the rows are copied into a
// buffer sized states.length × k before the "one row of candidates per state" check runs, so the caller gets a
// bare RangeError ("offset is out of bounds") instead of a TraceIndexError ERR_INVALID_ARGUMENT.
test('scoreContinuations with more candidate rows than states throws ERR_INVALID_ARGUMENT', async (t) => {
  const b = await built(u16Case);
  const st = b.single.matchState();
  const e = t.throws(() => scoreContinuations([st], [[1], [2]]));
  t.is((e as { code?: string }).code, 'ERR_INVALID_ARGUMENT');
});

// Regression (fixed; native_match_state.cpp): scoreContinuations read logBase 1 as a scale of ln 1 = 0 (risks NaN or
// ±Infinity, so penalizeLogits made logits NaN), logBase ≤ 0 or NaN silently as e, and a NaN tau, maxCount or
// minLength as "never veto". Documented: logBase > 0 and ≠ 1, maxCount and minLength integers. trace took
// logBase 0 as e too.
test('scoreContinuations and trace refuse a logBase ≤ 0 or 1 and NaN veto options', async (t) => {
  const b = await built(asciiCase);
  const d = b.c.docs[0];
  const st = b.single.matchState();
  st.push(d.slice(0, 3));
  const bad = [{ logBase: 1 }, { logBase: 0 }, { logBase: -2 }, { logBase: NaN }, { logBase: Infinity }, { tau: NaN },
    { maxCount: NaN }, { maxCount: -1 }, { maxCount: 1.5 }, { minLength: NaN }, { minLength: 0.5 }, { tau: '1' }];
  for (const o of bad)
    t.is((t.throws(() => scoreContinuations([st], [[d[3]]], o as never)) as { code?: string }).code, 'ERR_INVALID_ARGUMENT', JSON.stringify(o) ?? String(o));
  for (const logBase of [0, -2])
    t.is((t.throws(() => b.single.traceSync(d.slice(0, 4), { logBase })) as { code?: string }).code, 'ERR_INVALID_ARGUMENT', `trace logBase ${logBase}`);
  // Still taken: infinite bounds, and a log base between 0 and 1 (negative risks).
  const m = st.peek(d[3]);
  const ok = scoreContinuations([st], [[d[3]]], { tau: -Infinity, maxCount: Infinity, minLength: 0, logBase: 0.5 });
  t.is(ok.risk[0], Math.fround(m.bci / Math.log(0.5)));
  t.is(ok.veto[0], m.length > 0 ? 1 : 0);
  // logBase is read once (args.cpp): a getter answering 1 to the check and undefined after it was taken (risk
  // Infinity). Found by review.
  let reads = 0;
  const sly = { get logBase() { return reads++ === 0 ? 1 : undefined; } };
  t.is((t.throws(() => scoreContinuations([st], [[d[3]]], sly as never)) as { code?: string }).code, 'ERR_INVALID_ARGUMENT');
  t.is(reads, 1);
});

// Regression (fixed; native/core/scoring.cpp, Surprisal::score): max_token starts at 0 instead of −∞, so when every token's
// −ln P(t) is negative the reported maxToken is 0, not the maximum. Reachable when unseenFloor exceeds N (a
// floor count larger than the corpus, so P > 1 for unseen tokens; an edge case, but a legal option value).
// Input: corpus "abcab" (N = 5), sequence [z] (unseen), unseenFloor 10: bci = −ln(10/5) = −0.693 (correct),
// maxToken expected −0.693, actual 0.
test('maxToken is the maximum −ln P(t) even when every term is negative (unseenFloor > N)', async (t) => {
  const b = await built(asciiCase);
  const floor = 2 * b.corpus.N;
  const unseen = 0x7a; // 'z': not in the corpus
  t.false(b.corpus.unigram.has(unseen));
  const want = b.corpus.scores([unseen, unseen], { unseenFloor: floor, count: 0 });
  t.true(close(b.single.bciSync([unseen, unseen], { unseenFloor: floor }), want.bci));
  t.true(close(await b.single.bci([unseen, unseen], { variant: 'maxToken', unseenFloor: floor }), want.maxToken), `maxToken ${want.maxToken}`);
});

test('the oracle itself: maximal spans, pieces and word trimming on a hand-checked corpus', (t) => {
  const c = new Corpus([O.utf8('the cat sat'), O.utf8('a cat ran')]);
  const o = O.utf8('cat sat. cat ran');
  t.deepEqual(c.maximalSpans(o).map((s) => [s.start, s.end]), [[0, 7], [8, 16]]); // "cat sat", " cat ran"
  t.deepEqual(c.trace(o).map((s) => [s.start, s.end, s.count]), [[0, 7, 1], [8, 16, 1]]);
  t.deepEqual(c.trace(o, { delimiters: [0x2e] }).map((s) => [s.start, s.end]), [[0, 7], [8, 16]]);
  t.deepEqual(c.trace(O.utf8('xcat'), { isWord: isWordByte }).map((s) => [s.start, s.end]), []);
  t.deepEqual(c.trace(O.utf8('at sat'), {}).map((s) => [s.start, s.end]), [[0, 6]]);
  t.deepEqual(c.trace(O.utf8('mat sat'), { isWord: isWordByte }).map((s) => [s.start, s.end]), [[3, 7]]);
  const s = c.scores([0x74, 0x74, 0x7a]); // t t z(unseen)
  const N = 20;
  const ct = 4; // t in "the cat sat" ×3 + "cat" in doc 1 ×1
  t.true(close(s.bci, 2 * Math.log(N / ct) + Math.log(N / 0.5)));
  t.true(close(s.kl, (2 / 3) * Math.log((2 / 3) / (ct / N)) + (1 / 3) * Math.log((1 / 3) / (0.5 / N))));
  t.is(c.count(O.utf8('at')), 3);
  t.deepEqual(c.longestSuffix(O.utf8('zzat')), { length: 2, count: 3, bci: c.h(0x61) + c.h(0x74) });
});
