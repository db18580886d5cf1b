/**
 * Belief Conflict Index scores of arbitrary token sequences, the surprisal table, and calibration (BCI quantiles
 * of corpus spans). All scoring runs in the core (native/core/scoring.hpp); this module shapes options and results.
 */
import type { NativeSampledSpans, NativeScores, NativeTraceOptions } from '../native';
import type { Call, IndexCore } from '../query/core';
import { JsonFloat32Array } from '../query/json-arrays';
import type { CallOptions, Query } from '../query/types';
import { finiteNumber, invalidArgument, MAX_UINT32, nonNegativeInteger, oneOf, positiveInteger } from '../validate';

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

/** Which score a threshold is compared with. */
export type BciVariant = keyof SpanScores;

/** Every BciVariant. */
export const BCI_VARIANTS: readonly BciVariant[] = ['bci', 'density', 'maxToken', 'kl', 'countSurprisal'];

/** Options of every scoring call (and of trace, which scores its spans). */
export interface ScoreOptions extends CallOptions {
  /** Log base of every score: a finite number > 0, not 1. Default e. */
  logBase?: number;
  /** Occurrences assumed for a token the corpus never contains (scoring arbitrary sequences): > 0. Default 0.5. */
  unseenFloor?: number;
}

/** A sequence's scores with its corpus count ℳ (exact). */
export type SequenceScores = SpanScores & { count: number };

/** The score options of the native trace and scoring calls (the core checks logBase > 0, ≠ 1 and unseenFloor > 0). */
export function nativeScoreOptions(o: ScoreOptions): NativeTraceOptions {
  const n: NativeTraceOptions = {};
  if (o.logBase !== undefined) n.logBase = finiteNumber('logBase', o.logBase);
  if (o.unseenFloor !== undefined) n.unseenFloor = finiteNumber('unseenFloor', o.unseenFloor);
  return n;
}

function scoreSpans(call: Call, t: Uint32Array, o: Uint32Array, counts: Float64Array | undefined, n: NativeTraceOptions): Promise<NativeScores & { count: Float64Array }> {
  return call.run((native, cancel) => native.scoreSpans(t, o, counts, n, cancel));
}
function scoreSpansSync(call: Call, t: Uint32Array, o: Uint32Array, counts: Float64Array | undefined, n: NativeTraceOptions): NativeScores & { count: Float64Array } {
  return call.runSync((native) => native.scoreSpansSync(t, o, counts, n));
}

function sequenceScores(r: NativeScores & { count: Float64Array }): SequenceScores[] {
  return Array.from(r.bci, (_, i) => ({ bci: r.bci[i], density: r.density[i], maxToken: r.maxToken[i], kl: r.kl[i], countSurprisal: r.countSurprisal[i], count: r.count[i] }));
}

/** Scores of arbitrary token sequences, with their exact corpus counts. */
export async function scoreBatch(core: IndexCore, sequences: Query[], options: ScoreOptions = {}): Promise<SequenceScores[]> {
  const call = core.begin(options);
  const n = nativeScoreOptions(options);
  const [t, o] = core.batch(sequences, true);
  return sequenceScores(await scoreSpans(call, t, o, undefined, n));
}

export function scoreBatchSync(core: IndexCore, sequences: Query[], options: ScoreOptions = {}): SequenceScores[] {
  const call = core.begin(options);
  const n = nativeScoreOptions(options);
  const [t, o] = core.batch(sequences, true);
  return sequenceScores(scoreSpansSync(call, t, o, undefined, n));
}

/** The variant `bci` returns (default 'bci'). */
export function variantOf(options: { variant?: BciVariant } | undefined): BciVariant {
  return oneOf('variant', options?.variant, BCI_VARIANTS, 'bci');
}

/** Every token id as a one-token sequence counted once: its BCI is h(t) = −log P_train(t). */
function vocabulary(core: IndexCore): [Uint32Array, Uint32Array, Float64Array] {
  const v = core.manifest.vocabSize;
  const tokens = new Uint32Array(v);
  const offsets = new Uint32Array(v + 1);
  for (let i = 0; i < v; i++) { tokens[i] = i; offsets[i + 1] = i + 1; }
  return [tokens, offsets, new Float64Array(v).fill(1)];
}

/** h(t) = −log P_train(t) for every token id. */
export async function surprisalTable(core: IndexCore, options: ScoreOptions = {}): Promise<Float32Array> {
  const call = core.begin(options);
  const n = nativeScoreOptions(options);
  const [t, o, ones] = vocabulary(core);
  return JsonFloat32Array.from((await scoreSpans(call, t, o, ones, n)).bci);
}

export function surprisalTableSync(core: IndexCore, options: ScoreOptions = {}): Float32Array {
  const call = core.begin(options);
  const n = nativeScoreOptions(options);
  const [t, o, ones] = vocabulary(core);
  return JsonFloat32Array.from(scoreSpansSync(call, t, o, ones, n).bci);
}

// ---- calibration ----

/** The most spans calibrate samples per length (ERR_INVALID_ARGUMENT above). */
export const MAX_CALIBRATION_SAMPLES = 1_000_000;

/** Options of `calibrate`. */
export interface CalibrationOptions extends ScoreOptions {
  /**
   * Span lengths to sample, in tokens: positive integers, at most 1024 of them, with samples × their number at most
   * 2^22 spans and samples × their sum at most 2^26 tokens (ERR_INVALID_ARGUMENT before any draw). Default [8, 16, 32].
   */
  lengths?: number[];
  /** Spans per length: a positive integer ≤ 1 000 000. Default 1000. */
  samples?: number;
  /** Seed of the sampling (the PRNG is documented: the same seed gives the same spans), ≤ 2^32 − 1. Default 0. */
  seed?: number;
  /** The score whose quantiles are reported; default 'bci'. */
  variant?: BciVariant;
}

/** BCI quantiles of corpus spans of one length. */
export interface Calibration {
  /** Span length in tokens. */
  length: number;
  /** Spans sampled (fewer than asked when few documents are that long: up to samples × 20 draws are made). */
  samples: number;
  /** Quantiles of the chosen score over the sampled spans (NaN when none was sampled). */
  quantiles: Record<'p50' | 'p90' | 'p95' | 'p99' | 'max', number>;
}

interface Plan {
  lengths: Uint32Array;
  samples: number;
  seed: number;
  variant: BciVariant;
  score: NativeTraceOptions;
}

function calibrationPlan(o: CalibrationOptions): Plan {
  const lengths = o.lengths ?? [8, 16, 32];
  if (!Array.isArray(lengths)) throw invalidArgument('lengths', 'an array of positive integers', lengths);
  return {
    lengths: Uint32Array.from(lengths, (l, i) => positiveInteger(`lengths[${i}]`, l, { max: MAX_UINT32 })),
    samples: positiveInteger('samples', o.samples, { default: 1000, max: MAX_CALIBRATION_SAMPLES }),
    seed: nonNegativeInteger('seed', o.seed, { default: 0, max: MAX_UINT32 }),
    variant: variantOf(o),
    score: nativeScoreOptions(o),
  };
}

/** The quantiles calibrate reports, of ascending `sorted` values: p = values[min(n − 1, ⌊p·n⌋)]; NaN if empty. */
export function quantiles(sorted: ArrayLike<number>): Calibration['quantiles'] {
  const n = sorted.length;
  const q = (p: number) => (n ? sorted[Math.min(n - 1, Math.floor(p * n))] : NaN);
  return { p50: q(0.5), p90: q(0.9), p95: q(0.95), p99: q(0.99), max: n ? sorted[n - 1] : NaN };
}

/** Per length, the quantiles of its spans' values. */
function calibrationOf(plan: Plan, spans: NativeSampledSpans, scores: NativeScores): Calibration[] {
  const values = scores[plan.variant];
  const byLength: number[][] = Array.from(plan.lengths, () => []);
  for (let i = 0; i < spans.lengthIndex.length; i++) byLength[spans.lengthIndex[i]].push(values[i]);
  return Array.from(plan.lengths, (length, li) => {
    const mine = byLength[li].sort((a, b) => a - b);
    return { length, samples: mine.length, quantiles: quantiles(mine) };
  });
}

/**
 * BCI quantiles over spans sampled uniformly from the corpus's documents, per span length: what a τ means
 * on this corpus (a τ at the p99 of corpus spans refuses the rarest 1 % of verbatim spans of that length).
 */
export async function calibrate(core: IndexCore, options: CalibrationOptions = {}): Promise<Calibration[]> {
  const plan = calibrationPlan(options);
  const call = core.begin(options);
  const spans = await call.run((n, cancel) => n.sampleSpans(plan.lengths, plan.samples, plan.seed, cancel));
  return calibrationOf(plan, spans, await scoreSpans(call, spans.tokens, spans.offsets, undefined, plan.score));
}

export function calibrateSync(core: IndexCore, options: CalibrationOptions = {}): Calibration[] {
  const plan = calibrationPlan(options);
  const call = core.begin(options);
  const spans = call.runSync((n) => n.sampleSpansSync(plan.lengths, plan.samples, plan.seed));
  return calibrationOf(plan, spans, scoreSpansSync(call, spans.tokens, spans.offsets, undefined, plan.score));
}
