/**
 * Provenance tracing over an Index: maximal matching spans with attributions and Belief Conflict Index
 * scores, TraceShield, and CBD token weights. The span finding and all scoring run in the core
 * (native/core/trace.hpp, scoring.hpp); this module shapes options and results.
 */
import { TraceIndexError } from '../errors';
import { addon, type NativeIndex, type NativeTrace, type NativeTraceOptions } from '../native';
import { type IndexCore, snippetBudget } from '../query/core';
import { JsonFloat32Array } from '../query/json-arrays';
import type { Occurrence, Query } from '../query/types';
import { bytesTokenizer } from '../tokenizers/tokenizer';
import { invalidArgument, MAX_UINT32, nonNegativeInteger, number, oneOf, plainObject, positiveInteger } from '../validate';
import { BciVariant, nativeScoreOptions, ScoreOptions, SpanScores, variantOf } from './scores';

/** A maximal span of an output that occurs in the corpus (or a window, in shield's window mode). */
export interface Span {
  /** [start, end) in the output's tokens (UTF-8 byte offsets with the bytes tokenizer). */
  start: number;
  end: number;
  /** The span as text (text tokenizers). */
  text?: string;
  /** ℳ(s): occurrences in the corpus. */
  count: number;
  /** scores.bci. */
  bci: number;
  scores: SpanScores;
  /**
   * Up to maxDocuments occurrences, in document order: all of them when there are at most maxDocuments, else
   * maxDocuments drawn uniformly without replacement, the same for the same seed.
   */
  documents: Occurrence[];
}

/** Options of trace (and of shield, tokenWeights and scan, which trace). Integers are at most 2^32 − 1. */
export interface TraceOptions extends ScoreOptions {
  /** Drop spans shorter than this many tokens; default 1. */
  minLength?: number;
  /** Keep spans occurring at most this often (the paper's ℳ ≤ 3 filter): a non-negative integer. Default unlimited. */
  maxCount?: number;
  /**
   * Tokens that end a span's piece: no span continues past one. Token ids of the vocabulary (else
   * ERR_TOKEN_RANGE), or strings of exactly one token. Default none.
   */
  delimiters?: Array<number | string>;
  /** Trim spans to whole words (the bytes tokenizer only, else ERR_INVALID_ARGUMENT); default false. */
  wordBoundaries?: boolean;
  /** Occurrences reported per span; default 3. */
  maxDocuments?: number;
  /** Seed of the occurrence sampling; default 0. */
  seed?: number;
  /** Snippet tokens on each side of an occurrence; default 16. */
  context?: number;
}

/** The spans of one output. */
export interface TraceResult {
  /** Tokens of the output. */
  tokens: number;
  spans: Span[];
}

/** Options of shield. */
export interface ShieldOptions extends TraceOptions {
  /** Refuse when a matched span's score exceeds tau. Required (no default: calibrate gives the scale). */
  tau: number;
  /** 'maximal' (default): maximal spans; {window: w}: the paper's stride-1 windows of w tokens (1 ≤ w ≤ 2^32 − 1). */
  mode?: 'maximal' | { window: number };
  /** Score compared with tau; default 'bci'. */
  variant?: BciVariant;
}

/** TraceShield's decision on one output. */
export interface ShieldResult {
  /** Whether a matched span scores above tau. */
  refuse: boolean;
  /** Largest score among the matched spans (0 if none). */
  maxBci: number;
  /** The span with that score. */
  worst?: Span;
  spans: Span[];
}

/** Options accepted by the native trace call, from the public ones (checked). */
export function nativeTraceOptions(core: IndexCore, options: TraceOptions = {}, window = 0): NativeTraceOptions {
  const o = plainObject('options', options);
  const n: NativeTraceOptions = {
    minLength: nonNegativeInteger('minLength', o.minLength, { default: 1, max: MAX_UINT32 }),
    maxDocuments: nonNegativeInteger('maxDocuments', o.maxDocuments, { default: 3, max: MAX_UINT32 }),
    seed: nonNegativeInteger('seed', o.seed, { default: 0, max: MAX_UINT32 }),
    context: nonNegativeInteger('context', o.context, { default: 16, max: MAX_UINT32 }),
    window,
    ...nativeScoreOptions(o),
  };
  if (o.maxCount !== undefined) n.maxCount = nonNegativeInteger('maxCount', o.maxCount);
  if (o.delimiters !== undefined) {
    if (!Array.isArray(o.delimiters)) throw invalidArgument('delimiters', 'an array of token ids or one-token strings', o.delimiters);
    if (o.delimiters.length) n.delimiters = Uint32Array.from(o.delimiters, (d, i) => delimiter(core, d, i));
  }
  if (o.wordBoundaries) n.wordTokens = wordTokens(core);
  const budget = snippetBudget(options);
  if (budget !== undefined) n.maxSnippetTokens = budget;
  core.prepareByteOffsets();
  return n;
}

function delimiter(core: IndexCore, d: unknown, i: number): number {
  if (typeof d === 'number') return core.tokenId(d, `delimiter ${d}`);
  if (typeof d !== 'string') throw invalidArgument(`delimiters[${i}]`, 'a token id or a one-token string', d);
  const ids = core.tokenize(d);
  if (ids.length !== 1) throw new TraceIndexError('ERR_INVALID_ARGUMENT', `delimiter ${JSON.stringify(d)} is ${ids.length} tokens, not one`);
  return ids[0];
}

/** Per token id, 1 if it is part of a word (letters, digits, _, ', and UTF-8 bytes of non-ASCII characters). */
function wordTokens(core: IndexCore): Uint8Array {
  if (core.tokenizer !== bytesTokenizer)
    throw new TraceIndexError('ERR_INVALID_ARGUMENT', `wordBoundaries needs a text tokenizer that marks words; ${core.tokenizer.name} does not`);
  const w = new Uint8Array(256);
  for (let b = 0; b < 256; b++) w[b] = b >= 0x80 || /[A-Za-z0-9_']/.test(String.fromCharCode(b)) ? 1 : 0;
  return w;
}

/** Spans of a batch of outputs from one native result. */
function spansOf(core: IndexCore, native: NativeIndex, outputs: Uint32Array, offsets: Uint32Array, r: NativeTrace): TraceResult[] {
  const results: TraceResult[] = [];
  for (let i = 0; i + 1 < offsets.length; i++) results.push({ tokens: offsets[i + 1] - offsets[i], spans: [] });
  const text = core.tokenizer.readsText;
  for (let i = 0; i < r.start.length; i++) {
    const out = r.output[i];
    const scores: SpanScores = { bci: r.bci[i], density: r.density[i], maxToken: r.maxToken[i], kl: r.kl[i], countSurprisal: r.countSurprisal[i] };
    const span: Span = {
      start: r.start[i],
      end: r.end[i],
      count: r.count[i],
      bci: scores.bci,
      scores,
      documents: core.occurrenceList(native, r.occurrences, r.occurrenceOffsets[i], r.occurrenceOffsets[i + 1]),
    };
    if (text) span.text = core.tokenizer.decode(outputs.subarray(offsets[out] + span.start, offsets[out] + span.end));
    results[out].spans.push(span);
  }
  return results;
}

/** Traces each output in one native call; `window` > 0 gives shield's stride-1 windows instead of maximal spans. */
export async function traceBatch(core: IndexCore, outputs: Query[], options: TraceOptions = {}, window = 0): Promise<TraceResult[]> {
  const call = core.begin(options);
  const native = nativeTraceOptions(core, options, window);
  const [t, o] = core.batch(outputs, true);
  return call.run(async (n, cancel) => spansOf(core, n, t, o, await n.trace(t, o, native, cancel)));
}

export function traceBatchSync(core: IndexCore, outputs: Query[], options: TraceOptions = {}, window = 0): TraceResult[] {
  const call = core.begin(options);
  const native = nativeTraceOptions(core, options, window);
  const [t, o] = core.batch(outputs, true);
  return call.runSync((n) => spansOf(core, n, t, o, n.traceSync(t, o, native)));
}

// ---- TraceShield ----

interface ShieldPlan {
  tau: number;
  variant: BciVariant;
  window: number;
}

function shieldPlan(options: ShieldOptions): ShieldPlan {
  const o = plainObject('options', options);
  if (o.tau === undefined)
    throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'shield needs tau: there is no default threshold (calibrate gives the scale)');
  const tau = number('tau', o.tau);
  const variant = variantOf(o);
  const mode = o.mode ?? 'maximal';
  if (mode === 'maximal') return { tau, variant, window: 0 };
  if (typeof mode !== 'object' || mode === null) throw invalidArgument('mode', "'maximal' or {window: w}", mode);
  return { tau, variant, window: positiveInteger('mode.window', mode.window, { max: MAX_UINT32 }) };
}

function shieldDecision(result: TraceResult, plan: ShieldPlan): ShieldResult {
  let worst: Span | undefined;
  for (const s of result.spans) if (!worst || s.scores[plan.variant] > worst.scores[plan.variant]) worst = s;
  const maxBci = worst ? worst.scores[plan.variant] : 0;
  return { refuse: worst !== undefined && maxBci > plan.tau, maxBci, worst, spans: result.spans };
}

export async function shieldBatch(core: IndexCore, outputs: Query[], options: ShieldOptions): Promise<ShieldResult[]> {
  const plan = shieldPlan(options);
  return (await traceBatch(core, outputs, options, plan.window)).map((r) => shieldDecision(r, plan));
}

export function shieldBatchSync(core: IndexCore, outputs: Query[], options: ShieldOptions): ShieldResult[] {
  const plan = shieldPlan(options);
  return traceBatchSync(core, outputs, options, plan.window).map((r) => shieldDecision(r, plan));
}

// ---- CBD token weights ----

/** Options of tokenWeights. */
export interface TokenWeightOptions extends TraceOptions {
  /** Spans whose score exceeds tau are flagged. Required. */
  tau: number;
  /** The score compared with tau; default 'bci'. */
  variant?: BciVariant;
  /** Weight inside a flagged span: 1 ('binary', default) or the span's score ('score'). */
  value?: 'binary' | 'score';
}

interface WeightPlan {
  tau: number;
  variant: BciVariant;
  byScore: boolean;
}

function weightPlan(options: TokenWeightOptions): WeightPlan {
  const o = plainObject('options', options);
  if (o.tau === undefined) throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'tokenWeights needs tau');
  return { tau: number('tau', o.tau), variant: variantOf(o), byScore: oneOf('value', o.value, ['binary', 'score'] as const, 'binary') === 'score' };
}

/** CBD weights: per output, one weight per token, 0 outside flagged spans (overlaps take the maximum). */
function weightsOf(results: TraceResult[], plan: WeightPlan): Float32Array[] {
  return results.map((r) => {
    const w = new JsonFloat32Array(r.tokens);
    for (const s of r.spans) {
      const score = s.scores[plan.variant];
      if (!(score > plan.tau)) continue;
      const value = plan.byScore ? score : 1;
      for (let i = s.start; i < s.end; i++) if (value > w[i]) w[i] = value;
    }
    return w;
  });
}

export async function tokenWeightsBatch(core: IndexCore, outputs: Query[], options: TokenWeightOptions): Promise<Float32Array[]> {
  const plan = weightPlan(options);
  return weightsOf(await traceBatch(core, outputs, options), plan);
}

export function tokenWeightsBatchSync(core: IndexCore, outputs: Query[], options: TokenWeightOptions): Float32Array[] {
  const plan = weightPlan(options);
  return weightsOf(traceBatchSync(core, outputs, options), plan);
}
