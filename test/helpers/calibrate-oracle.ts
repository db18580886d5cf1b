/**
 * calibrate recomputed from its documented definition (README, "Calibrating τ"; COMMON interface contract),
 * from the documents alone: the same PRNG draws the same spans, the trace oracle scores them, and the
 * quantiles are taken by the documented rule. Nothing here imports lib/.
 */
import type { Tokens } from './oracle';
import type { AllScores, Corpus } from './trace-oracle';

const MASK64 = (1n << 64n) - 1n;

/**
 * The documented PRNG: state = seed ^ 0x9e3779b97f4a7c15; each draw sets state = state × 6364136223846793005 +
 * 1442695040888963407 mod 2^64 and returns (state >> 33) mod n.
 */
export function calibrationPrng(seed: number): (n: number) => number {
  let state = (BigInt(seed) ^ 0x9e3779b97f4a7c15n) & MASK64;
  return (n: number) => {
    state = (state * 6364136223846793005n + 1442695040888963407n) & MASK64;
    return Number((state >> 33n) % BigInt(n));
  };
}

/**
 * The spans calibrate samples: one PRNG for all lengths, in order; per length, up to samples × 20 tries, each
 * drawing a document d = next(documents), skipping it if shorter than the length, else taking the span at
 * next(|d| − length + 1).
 */
export function sampledSpans(docs: Tokens[], lengths: number[], samples: number, seed: number): number[][][] {
  const next = calibrationPrng(seed);
  return lengths.map((len) => {
    const spans: number[][] = [];
    for (let tries = 0; spans.length < samples && tries < samples * 20; tries++) {
      const d = docs[next(docs.length)];
      if (d.length < len) continue;
      const at = next(d.length - len + 1);
      spans.push(Array.from({ length: len }, (_, i) => d[at + i]));
    }
    return spans;
  });
}

export interface OracleCalibration {
  length: number;
  samples: number;
  quantiles: { p50: number; p90: number; p95: number; p99: number; max: number };
}

/** Quantile p of n ascending values: the value at rank min(n − 1, ⌊p·n⌋); NaN when there is none. */
function quantile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN;
}

export function calibrateOracle(corpus: Corpus, lengths: number[], samples: number, seed: number,
  opts: { variant?: keyof AllScores; logBase?: number } = {}): OracleCalibration[] {
  const spans = sampledSpans(corpus.docs, lengths, samples, seed);
  return lengths.map((length, i) => {
    const values = spans[i].map((s) => corpus.scores(s, { logBase: opts.logBase })[opts.variant ?? 'bci']).sort((a, b) => a - b);
    return {
      length,
      samples: values.length,
      quantiles: { p50: quantile(values, 0.5), p90: quantile(values, 0.9), p95: quantile(values, 0.95), p99: quantile(values, 0.99), max: values.length ? values[values.length - 1] : NaN },
    };
  });
}
