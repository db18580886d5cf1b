/**
 * Provenance tracing over an Index: maximal matching spans with attributions and Belief Conflict Index
 * scores, TraceShield, the generation-time match state with Prov-Decode's continuation scoring, CBD token
 * weights, and BCI of arbitrary sequences. The span finding and all scoring run in the core
 * (native/core/trace.hpp, scoring.hpp, match_state.hpp); this module shapes options and results.
 */
import { TraceIndexError } from './errors';
import type { Index, Occurrence, Query } from './open-index';
import { addon, NativeMatchState, NativeScores, NativeSuffixMatch, NativeTrace, NativeTraceOptions } from './native';
import { bytesTokenizer } from './tokenizer';

/** Scores of a span (natural log unless `logBase` is given). */
export interface SpanScores {
  /** BCI(s) = −Σ log P_train(t). */
  bci: number;
  /** BCI / |s|. */
  density: number;
  /** max −log P_train(t). */
  maxToken: number;
  /** KL(span's own token distribution ‖ P_train). */
  kl: number;
  /** −log(ℳ(s) / N): the span's own rarity, from its occurrence count ℳ(s). */
  countSurprisal: number;
}

export type BciVariant = keyof SpanScores;

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

export interface ScoreOptions {
  /** Log base of every score; default e. */
  logBase?: number;
  /** Occurrences assumed for a token the corpus never contains (scoring arbitrary sequences); default 0.5. */
  unseenFloor?: number;
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
  if (o.logBase !== undefined) n.logBase = o.logBase;
  if (o.unseenFloor !== undefined) n.unseenFloor = o.unseenFloor;
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

/** Scores of arbitrary token sequences (counts are the exact corpus counts unless given). */
export function scoreSequences(index: Index, sequences: Query[], options: ScoreOptions = {}, counts?: ArrayLike<number>): Array<SpanScores & { count: number }> {
  const [t, o] = index.batch(sequences, true);
  const native = nativeTraceOptions(index, options);
  const r = index.callSync((n) => n.scoreSpansSync(t, o, counts ? Float64Array.from(counts) : undefined, native));
  return Array.from(r.bci, (_, i) => ({ bci: r.bci[i], density: r.density[i], maxToken: r.maxToken[i], kl: r.kl[i], countSurprisal: r.countSurprisal[i], count: r.count[i] }));
}

/** h(t) = −log P_train(t) for every token id: the BCI of each one-token sequence. */
export function surprisalTable(index: Index, options: ScoreOptions = {}): Float32Array {
  const v = index.manifest.vocabSize;
  const tokens = new Uint32Array(v);
  const offsets = new Uint32Array(v + 1);
  for (let i = 0; i < v; i++) { tokens[i] = i; offsets[i + 1] = i + 1; }
  const r: NativeScores = index.callSync((n) => n.scoreSpansSync(tokens, offsets, new Float64Array(v).fill(1), nativeTraceOptions(index, options)));
  return Float32Array.from(r.bci);
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

/**
 * Generation-time state: push the tokens a model emits; longest() is the longest suffix that occurs in the
 * corpus, with its count and BCI (natural log), at amortised O(log n) per token. fork() for beams.
 */
export class MatchState {
  /** @internal */
  constructor(readonly native: NativeMatchState, private readonly index: Index) {}

  push(token: number | ArrayLike<number>): NativeSuffixMatch {
    if (typeof token === 'number') return this.native.push(token);
    return this.native.push(this.index.tokenize(token));
  }
  longest(): NativeSuffixMatch {
    return this.native.longest();
  }
  /** What longest() would be after push(token), leaving the state as it is. */
  peek(token: number): NativeSuffixMatch {
    return this.native.peek(token);
  }
  fork(): MatchState {
    return new MatchState(this.native.fork(), this.index);
  }
  get pushed(): number {
    return this.native.pushed;
  }
}

export interface ContinuationOptions {
  /** Veto a candidate whose completed span scores above tau. */
  tau?: number;
  maxCount?: number;
  minLength?: number;
  logBase?: number;
}

export interface ContinuationScores {
  /** Per beam × candidate (row-major): BCI of the longest corpus-matching suffix the candidate would complete. */
  risk: Float32Array;
  /** 1 where the candidate is vetoed. */
  veto: Uint8Array;
  length: Uint32Array;
  count: Float64Array;
}

/** Prov-Decode: one call per decoding step for all beams; candidates are B rows of k ids (or a flat array). */
export function scoreContinuations(states: MatchState[], candidates: ArrayLike<number>[] | Uint32Array, options: ContinuationOptions = {}, k?: number): ContinuationScores {
  let flat: Uint32Array;
  let width: number;
  if (candidates instanceof Uint32Array) {
    width = k ?? (states.length ? candidates.length / states.length : 0);
    flat = candidates;
  } else {
    if (candidates.length !== states.length) throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'one row of candidates per state');
    width = candidates[0]?.length ?? 0;
    flat = new Uint32Array(states.length * width);
    candidates.forEach((row, b) => {
      if (row.length !== width) throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'every beam needs the same number of candidates');
      flat.set(row, b * width);
    });
  }
  if (!Number.isInteger(width)) throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'candidates must hold states.length × k ids');
  try {
    return addon.scoreContinuations(states.map((s) => s.native), flat, width, options);
  } catch (err) {
    throw new TraceIndexError((err as { code?: string }).code as never ?? 'ERR_INVALID_ARGUMENT', (err as Error).message);
  }
}

/**
 * Applies Prov-Decode's penalty to candidate logits in place: logit −= gamma · risk, or −Infinity where
 * vetoed (unless vetoToMinusInfinity is false). `logits` is laid out like the candidates.
 */
export function penalizeLogits(logits: Float32Array | Float64Array, scores: ContinuationScores, options: { gamma?: number; vetoToMinusInfinity?: boolean } = {}): void {
  const gamma = options.gamma ?? 1;
  const hard = options.vetoToMinusInfinity ?? true;
  if (logits.length !== scores.risk.length) throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'logits must align with the candidates');
  for (let i = 0; i < logits.length; i++) logits[i] = hard && scores.veto[i] ? -Infinity : logits[i] - gamma * scores.risk[i];
}

export interface CalibrationOptions extends ScoreOptions {
  /** Span lengths to sample; default [8, 16, 32]. */
  lengths?: number[];
  /** Spans per length; default 1000. */
  samples?: number;
  seed?: number;
  variant?: BciVariant;
}

export interface Calibration {
  length: number;
  samples: number;
  quantiles: Record<'p50' | 'p90' | 'p95' | 'p99' | 'max', number>;
}

/**
 * BCI quantiles over spans sampled uniformly from the corpus's documents, per span length: what a τ means
 * on this corpus (a τ at the p99 of corpus spans refuses the rarest 1 % of verbatim spans of that length).
 */
export function calibrate(index: Index, options: CalibrationOptions = {}): Calibration[] {
  const lengths = options.lengths ?? [8, 16, 32];
  const samples = options.samples ?? 1000;
  const variant = options.variant ?? 'bci';
  let state = BigInt(options.seed ?? 0) ^ 0x9e3779b97f4a7c15n;
  const next = (n: number) => {
    state = (state * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    return Number((state >> 33n) % BigInt(n));
  };
  const docs = index.manifest.documents;
  return lengths.map((len) => {
    const spans: Uint32Array[] = [];
    for (let tries = 0; spans.length < samples && tries < samples * 20; tries++) {
      const d = index.documentSync(next(docs)).tokens;
      if (d.length < len) continue;
      const at = next(d.length - len + 1);
      spans.push(d.slice(at, at + len));
    }
    const values = scoreSequences(index, spans, options).map((s) => s[variant]).sort((a, b) => a - b);
    const q = (p: number) => (values.length ? values[Math.min(values.length - 1, Math.floor(p * values.length))] : NaN);
    return { length: len, samples: values.length, quantiles: { p50: q(0.5), p90: q(0.9), p95: q(0.95), p99: q(0.99), max: values.length ? values[values.length - 1] : NaN } };
  });
}
