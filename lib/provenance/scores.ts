/**
 * Belief Conflict Index scores of arbitrary token sequences, the surprisal table, and calibration (BCI quantiles
 * of corpus spans). All scoring runs in the core (native/core/scoring.hpp); this module shapes options and results.
 */
import type { NativeScores, NativeTraceOptions } from '../native';
import type { Index, Query } from '../query/open-index';

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

export interface ScoreOptions {
  /** Log base of every score; default e. */
  logBase?: number;
  /** Occurrences assumed for a token the corpus never contains (scoring arbitrary sequences); default 0.5. */
  unseenFloor?: number;
}

/** The score options of the native trace and scoring calls. */
export function nativeScoreOptions(o: ScoreOptions): NativeTraceOptions {
  const n: NativeTraceOptions = {};
  if (o.logBase !== undefined) n.logBase = o.logBase;
  if (o.unseenFloor !== undefined) n.unseenFloor = o.unseenFloor;
  return n;
}

/** Scores of arbitrary token sequences (counts are the exact corpus counts unless given). */
export function scoreSequences(index: Index, sequences: Query[], options: ScoreOptions = {}, counts?: ArrayLike<number>): Array<SpanScores & { count: number }> {
  const [t, o] = index.batch(sequences, true);
  const native = nativeScoreOptions(options);
  const r = index.callSync((n) => n.scoreSpans(t, o, counts ? Float64Array.from(counts) : undefined, native));
  return Array.from(r.bci, (_, i) => ({ bci: r.bci[i], density: r.density[i], maxToken: r.maxToken[i], kl: r.kl[i], countSurprisal: r.countSurprisal[i], count: r.count[i] }));
}

/** h(t) = −log P_train(t) for every token id: the BCI of each one-token sequence. */
export function surprisalTable(index: Index, options: ScoreOptions = {}): Float32Array {
  const v = index.manifest.vocabSize;
  const tokens = new Uint32Array(v);
  const offsets = new Uint32Array(v + 1);
  for (let i = 0; i < v; i++) { tokens[i] = i; offsets[i + 1] = i + 1; }
  const r: NativeScores = index.callSync((n) => n.scoreSpans(tokens, offsets, new Float64Array(v).fill(1), nativeScoreOptions(options)));
  return Float32Array.from(r.bci);
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
