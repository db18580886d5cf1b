/**
 * Provenance tracing over an Index: maximal matching spans with attributions and Belief Conflict Index
 * scores, TraceShield, and CBD token weights. The span finding and all scoring run in the core
 * (native/core/trace.hpp, scoring.hpp); this module shapes options and results.
 */
import { TraceIndexError } from '../errors';
import type { NativeTrace, NativeTraceOptions } from '../native';
import type { Index, Occurrence, Query } from '../query/open-index';
import { bytesTokenizer } from '../tokenizers/tokenizer';
import { BciVariant, nativeScoreOptions, ScoreOptions, SpanScores } from './scores';

export interface Span {
  /** [start, end) in the output's tokens (UTF-8 byte offsets with the bytes tokenizer). */
  start: number;
  end: number;
  text?: string;
  /** ℳ(s): occurrences in the corpus. */
  count: number;
  bci: number;
  scores: SpanScores;
  /** Up to maxDocuments occurrences, sampled deterministically for the seed, in document order. */
  documents: Occurrence[];
}

export interface TraceOptions extends ScoreOptions {
  /** Async calls only: an AbortSignal, and a time limit (ERR_TIMEOUT). */
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Drop spans shorter than this (tokens); default 1. */
  minLength?: number;
  /** Keep spans occurring at most this often (the paper's ℳ ≤ 3 filter); default unlimited. */
  maxCount?: number;
  /** Tokens (ids, or one-token strings) that end a span's piece: no span continues past one. Default none. */
  delimiters?: Array<number | string>;
  /** Trim spans to whole words (text tokenizers); default false. */
  wordBoundaries?: boolean;
  /** Occurrences reported per span; default 3. */
  maxDocuments?: number;
  /** Seed of the occurrence sampling; default 0. */
  seed?: number;
  /** Snippet tokens on each side of an occurrence; default 16. */
  context?: number;
}

export interface TraceResult {
  /** Tokens of the output. */
  tokens: number;
  spans: Span[];
}

export interface ShieldOptions extends TraceOptions {
  /** Refuse when a matched span's score exceeds tau. Required: see README "Calibrating τ". */
  tau: number;
  /** 'maximal' (default): maximal spans; {window: w}: the paper's stride-1 windows of w tokens. */
  mode?: 'maximal' | { window: number };
  /** Score compared with tau; default 'bci'. */
  variant?: BciVariant;
}

export interface ShieldResult {
  refuse: boolean;
  /** Largest score among the matched spans (0 if none). */
  maxBci: number;
  worst?: Span;
  spans: Span[];
}

/** Options accepted by the native trace call, from the public ones. */
export function nativeTraceOptions(index: Index, o: TraceOptions = {}, window = 0): NativeTraceOptions {
  const n: NativeTraceOptions = {
    minLength: nonNegative(o.minLength, 'minLength', 1),
    maxDocuments: nonNegative(o.maxDocuments, 'maxDocuments', 3),
    seed: nonNegative(o.seed, 'seed', 0),
    context: nonNegative(o.context, 'context', 16),
    window,
  };
  if (o.maxCount !== undefined) n.maxCount = nonNegative(o.maxCount, 'maxCount', 0);
  Object.assign(n, nativeScoreOptions(o));
  if (o.delimiters?.length) {
    n.delimiters = Uint32Array.from(o.delimiters, (d) => {
      if (typeof d === 'number') return d;
      const ids = index.tokenize(d);
      if (ids.length !== 1) throw new TraceIndexError('ERR_INVALID_ARGUMENT', `delimiter ${JSON.stringify(d)} is ${ids.length} tokens, not one`);
      return ids[0];
    });
  }
  if (o.wordBoundaries) n.wordTokens = wordTokens(index);
  return n;
}

function nonNegative(v: number | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || v < 0) throw new TraceIndexError('ERR_INVALID_ARGUMENT', `${name} must be a non-negative integer`);
  return v;
}

/** Per token id, 1 if it is part of a word (letters, digits, _, ', and UTF-8 bytes of non-ASCII characters). */
function wordTokens(index: Index): Uint8Array {
  if (index.tokenizer !== bytesTokenizer)
    throw new TraceIndexError('ERR_INVALID_ARGUMENT', `wordBoundaries needs a text tokenizer that marks words; ${index.tokenizer.name} does not`);
  const w = new Uint8Array(256);
  for (let b = 0; b < 256; b++) w[b] = b >= 0x80 || /[A-Za-z0-9_']/.test(String.fromCharCode(b)) ? 1 : 0;
  return w;
}

/** Spans of a batch of outputs from one native result. */
export function spansOf(index: Index, outputs: Uint32Array, offsets: Uint32Array, r: NativeTrace): TraceResult[] {
  const results: TraceResult[] = [];
  for (let i = 0; i + 1 < offsets.length; i++) results.push({ tokens: offsets[i + 1] - offsets[i], spans: [] });
  const text = index.tokenizer.readsText;
  for (let i = 0; i < r.start.length; i++) {
    const out = r.output[i];
    const scores: SpanScores = { bci: r.bci[i], density: r.density[i], maxToken: r.maxToken[i], kl: r.kl[i], countSurprisal: r.countSurprisal[i] };
    const span: Span = {
      start: r.start[i],
      end: r.end[i],
      count: r.count[i],
      bci: scores.bci,
      scores,
      documents: index.occurrenceList(r.occurrences, r.occurrenceOffsets[i], r.occurrenceOffsets[i + 1]),
    };
    if (text) span.text = index.tokenizer.decode(outputs.subarray(offsets[out] + span.start, offsets[out] + span.end));
    results[out].spans.push(span);
  }
  return results;
}

export async function traceBatch(index: Index, outputs: Query[], options: TraceOptions = {}, window = 0): Promise<TraceResult[]> {
  const native = nativeTraceOptions(index, options, window);
  const [t, o] = index.batch(outputs, true);
  return spansOf(index, t, o, await index.call((n, cancel) => n.trace(t, o, native, cancel), options));
}

export function traceBatchSync(index: Index, outputs: Query[], options: TraceOptions = {}, window = 0): TraceResult[] {
  const native = nativeTraceOptions(index, options, window);
  const [t, o] = index.batch(outputs, true);
  return spansOf(index, t, o, index.callSync((n) => n.traceSync(t, o, native)));
}

export function shieldDecision(result: TraceResult, options: ShieldOptions): ShieldResult {
  const variant = options.variant ?? 'bci';
  let worst: Span | undefined;
  for (const s of result.spans) if (!worst || s.scores[variant] > worst.scores[variant]) worst = s;
  const maxBci = worst ? worst.scores[variant] : 0;
  return { refuse: worst !== undefined && maxBci > options.tau, maxBci, worst, spans: result.spans };
}

export function shieldWindow(options: ShieldOptions): number {
  if (typeof options?.tau !== 'number' || Number.isNaN(options.tau))
    throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'shield needs tau: there is no default threshold (see README, "Calibrating τ")');
  const mode = options.mode ?? 'maximal';
  if (mode === 'maximal') return 0;
  if (typeof mode === 'object' && Number.isInteger(mode.window) && mode.window > 0) return mode.window;
  throw new TraceIndexError('ERR_INVALID_ARGUMENT', "mode is 'maximal' or {window: w} with w a positive integer");
}

export interface TokenWeightOptions extends TraceOptions {
  /** Spans whose score exceeds tau are flagged. */
  tau: number;
  variant?: BciVariant;
  /** Weight inside a flagged span: 1 ('binary', default) or the span's score ('score'). */
  value?: 'binary' | 'score';
}

/** CBD weights: per output, one weight per token, 0 outside flagged spans (overlaps take the maximum). */
export function weightsOf(results: TraceResult[], options: TokenWeightOptions): Float32Array[] {
  if (typeof options?.tau !== 'number') throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'tokenWeights needs tau');
  const variant = options.variant ?? 'bci';
  return results.map((r) => {
    const w = new Float32Array(r.tokens);
    for (const s of r.spans) {
      const score = s.scores[variant];
      if (!(score > options.tau)) continue;
      const value = options.value === 'score' ? score : 1;
      for (let i = s.start; i < s.end; i++) if (value > w[i]) w[i] = value;
    }
    return w;
  });
}
