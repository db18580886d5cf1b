/**
 * The provenance methods of Index (trace, shield, scores, calibrate, matchState, tokenWeights, scan).
 *
 * Provenance depends on query, never the reverse: query/open-index.ts knows nothing of tracing. This module
 * declares these methods on Index (declaration merging, the TypeScript mixin pattern) and installs them on
 * Index.prototype when it loads; lib/index.ts loads it, so every Index the package hands out has them.
 */
import { TraceIndexError } from '../errors';
import { Index, Query } from '../query/open-index';
import { MatchState } from './match-state';
import { scan, ScanOptions, ScanResult, ScanSource } from './scan';
import { BciVariant, calibrate, Calibration, CalibrationOptions, ScoreOptions, scoreSequences, SpanScores, surprisalTable } from './scores';
import {
  shieldDecision, ShieldOptions, ShieldResult, shieldWindow, TokenWeightOptions, traceBatch, traceBatchSync, TraceOptions,
  TraceResult, weightsOf,
} from './trace';

/** What provenance adds to Index. */
export interface IndexProvenance {
  /** Maximal spans of the output that occur in the corpus, with counts, attributions and scores. */
  trace(output: Query, options?: TraceOptions): Promise<TraceResult>;
  traceSync(output: Query, options?: TraceOptions): TraceResult;
  traceBatch(outputs: Query[], options?: TraceOptions): Promise<TraceResult[]>;
  traceBatchSync(outputs: Query[], options?: TraceOptions): TraceResult[];

  /** TraceShield: refuse when a matched span (maximal, or a stride-1 window) scores above tau. */
  shield(output: Query, options: ShieldOptions): Promise<ShieldResult>;
  shieldBatch(outputs: Query[], options: ShieldOptions): Promise<ShieldResult[]>;
  shieldSync(output: Query, options: ShieldOptions): ShieldResult;

  /** BCI (or a variant) of any token sequence; its count ℳ is the exact corpus count. */
  bci(tokens: Query, options?: ScoreOptions & { variant?: BciVariant }): number;
  /** Every score of each sequence, with its corpus count. */
  scores(sequences: Query[], options?: ScoreOptions): Array<SpanScores & { count: number }>;
  /** −log P_train(t) for every token id (Float32Array of length vocabSize), for callers computing BCI themselves. */
  surprisalTable(options?: ScoreOptions): Float32Array;
  /** BCI quantiles of corpus spans, per length: the scale on which to pick tau. */
  calibrate(options?: CalibrationOptions): Calibration[];

  /** Streaming state for generation: push tokens, read the longest corpus-matching suffix. */
  matchState(options?: { window?: number }): MatchState;

  /** CBD weights for DPO: per output, per token, 0 outside spans scoring above tau. */
  tokenWeights(outputs: Query[], options: TokenWeightOptions): Promise<Float32Array[]>;

  /** Traces a stream of outputs: an AsyncIterable of results in input order, with backpressure. */
  scan(source: ScanSource, options?: ScanOptions): AsyncGenerator<ScanResult>;
}

declare module '../query/open-index' {
  // eslint-disable-next-line @typescript-eslint/no-empty-interface
  interface Index extends IndexProvenance {}
}

const methods: IndexProvenance & ThisType<Index> = {
  async trace(output, options) {
    return (await traceBatch(this, [output], options))[0];
  },
  traceSync(output, options) {
    return traceBatchSync(this, [output], options)[0];
  },
  traceBatch(outputs, options) {
    return traceBatch(this, outputs, options);
  },
  traceBatchSync(outputs, options) {
    return traceBatchSync(this, outputs, options);
  },

  async shield(output, options) {
    return (await this.shieldBatch([output], options))[0];
  },
  async shieldBatch(outputs, options) {
    const window = shieldWindow(options);
    return (await traceBatch(this, outputs, options, window)).map((r) => shieldDecision(r, options));
  },
  shieldSync(output, options) {
    return shieldDecision(traceBatchSync(this, [output], options, shieldWindow(options))[0], options);
  },

  bci(tokens, options = {}) {
    return scoreSequences(this, [tokens], options)[0][options.variant ?? 'bci'];
  },
  scores(sequences, options = {}) {
    return scoreSequences(this, sequences, options);
  },
  surprisalTable(options = {}) {
    return surprisalTable(this, options);
  },
  calibrate(options) {
    return calibrate(this, options);
  },

  matchState(options = {}) {
    const w = options.window ?? 0;
    if (!Number.isInteger(w) || w < 0) throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'window must be a non-negative integer');
    return new MatchState(this.callSync((n) => n.matchState(w)), this);
  },

  async tokenWeights(outputs, options) {
    return weightsOf(await traceBatch(this, outputs, options), options);
  },

  scan(source, options) {
    return scan(this, source, options);
  },
};

// Installed like class methods: non-enumerable, writable, configurable.
for (const [name, value] of Object.entries(methods))
  Object.defineProperty(Index.prototype, name, { value, writable: true, configurable: true, enumerable: false });
