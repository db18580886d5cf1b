/**
 * The provenance methods of Index: trace, shield, scores and bci, the surprisal table, calibrate, matchState,
 * tokenWeights and scan.
 *
 * Provenance depends on query, never the reverse: query/open-index.ts knows nothing of tracing. This module
 * declares these methods on Index (declaration merging, the TypeScript mixin pattern) and installs them on
 * Index.prototype when it loads; lib/index.ts loads it, so every Index the package hands out has them. They
 * reach the index through coreOf (query/core.ts), the same narrow interface Index's own methods use.
 */
import { coreOf } from '../query/core';
import { Index } from '../query/open-index';
import type { Query } from '../query/types';
import { MatchState, matchState, MatchStateOptions } from './match-state';
import { scan, ScanOptions, ScanResult, ScanSource } from './scan';
import {
  BciVariant, calibrate, Calibration, calibrateSync, CalibrationOptions, scoreBatch, scoreBatchSync, ScoreOptions,
  SequenceScores, surprisalTable, surprisalTableSync, variantOf,
} from './scores';
import {
  shieldBatch, shieldBatchSync, ShieldOptions, ShieldResult, tokenWeightsBatch, tokenWeightsBatchSync, TokenWeightOptions,
  traceBatch, traceBatchSync, TraceOptions, TraceResult,
} from './trace';

/** Options of bci: the score options, and which score to return. */
export interface BciOptions extends ScoreOptions {
  /** The score returned; default 'bci'. */
  variant?: BciVariant;
}

/**
 * What provenance adds to Index. Like every Index method, each takes CallOptions (inside its options) and
 * refuses with ERR_CLOSED, ERR_ABORTED or ERR_TIMEOUT (timeoutMs 0) before any work.
 */
export interface IndexProvenance {
  /**
   * The maximal spans of `output` that occur in the corpus, with their counts ℳ, BCI scores and up to
   * `maxDocuments` sampled occurrences. Errors: ERR_INVALID_ARGUMENT for a bad option, ERR_TOKEN_RANGE for a
   * delimiter or query id outside the vocabulary.
   */
  trace(output: Query, options?: TraceOptions): Promise<TraceResult>;
  /** trace, on the calling thread. */
  traceSync(output: Query, options?: TraceOptions): TraceResult;
  /** trace of each output, in one native call. */
  traceBatch(outputs: Query[], options?: TraceOptions): Promise<TraceResult[]>;
  /** traceBatch, on the calling thread. */
  traceBatchSync(outputs: Query[], options?: TraceOptions): TraceResult[];

  /**
   * TraceShield: refuse when a matched span (maximal, or a stride-1 window with `mode: {window}`) scores above
   * `tau`. Errors: ERR_INVALID_ARGUMENT without tau or with a bad mode, plus trace's.
   */
  shield(output: Query, options: ShieldOptions): Promise<ShieldResult>;
  /** shield, on the calling thread. */
  shieldSync(output: Query, options: ShieldOptions): ShieldResult;
  /** shield of each output, in one native call. */
  shieldBatch(outputs: Query[], options: ShieldOptions): Promise<ShieldResult[]>;
  /** shieldBatch, on the calling thread. */
  shieldBatchSync(outputs: Query[], options: ShieldOptions): ShieldResult[];

  /** BCI (or another variant) of any token sequence, with its exact corpus count ℳ; unseen tokens count `unseenFloor`. */
  bci(sequence: Query, options?: BciOptions): Promise<number>;
  /** bci, on the calling thread. */
  bciSync(sequence: Query, options?: BciOptions): number;
  /** Every score of a sequence, with its exact corpus count. */
  scores(sequence: Query, options?: ScoreOptions): Promise<SequenceScores>;
  /** scores, on the calling thread. */
  scoresSync(sequence: Query, options?: ScoreOptions): SequenceScores;
  /** scores of each sequence, in one native call. */
  scoresBatch(sequences: Query[], options?: ScoreOptions): Promise<SequenceScores[]>;
  /** scoresBatch, on the calling thread. */
  scoresBatchSync(sequences: Query[], options?: ScoreOptions): SequenceScores[];
  /** −log P_train(t) for every token id (a Float32Array of length vocabSize), for callers computing BCI themselves. */
  surprisalTable(options?: ScoreOptions): Promise<Float32Array>;
  /** surprisalTable, on the calling thread. */
  surprisalTableSync(options?: ScoreOptions): Float32Array;

  /**
   * BCI quantiles of spans sampled uniformly from the corpus, per length: the scale on which to pick tau.
   * The same seed gives the same spans on any sharding of the same documents. Errors: ERR_INVALID_ARGUMENT
   * for samples outside [1, 10^6] or a length that is not a positive integer.
   */
  calibrate(options?: CalibrationOptions): Promise<Calibration[]>;
  /** calibrate, on the calling thread. */
  calibrateSync(options?: CalibrationOptions): Calibration[];

  /** Streaming state for generation: push tokens, read the longest corpus-matching suffix. */
  matchState(options?: MatchStateOptions): MatchState;

  /** CBD weights for DPO: one weight per token of `output`, 0 outside spans scoring above tau. */
  tokenWeights(output: Query, options: TokenWeightOptions): Promise<Float32Array>;
  /** tokenWeights, on the calling thread. */
  tokenWeightsSync(output: Query, options: TokenWeightOptions): Float32Array;
  /** tokenWeights of each output, in one native call. */
  tokenWeightsBatch(outputs: Query[], options: TokenWeightOptions): Promise<Float32Array[]>;
  /** tokenWeightsBatch, on the calling thread. */
  tokenWeightsBatchSync(outputs: Query[], options: TokenWeightOptions): Float32Array[];

  /**
   * Traces a stream of outputs: an AsyncIterable of results in input order, with backpressure. Errors of one
   * record are reported in its result; ERR_CLOSED and ERR_ABORTED end the scan (the next read rejects).
   */
  scan(source: ScanSource, options?: ScanOptions): AsyncGenerator<ScanResult>;
}

declare module '../query/open-index' {
  // eslint-disable-next-line @typescript-eslint/no-empty-interface
  interface Index extends IndexProvenance {}
}

const methods: IndexProvenance & ThisType<Index> = {
  async trace(output, options) {
    return (await traceBatch(coreOf(this), [output], options))[0];
  },
  traceSync(output, options) {
    return traceBatchSync(coreOf(this), [output], options)[0];
  },
  async traceBatch(outputs, options) {
    return traceBatch(coreOf(this), outputs, options);
  },
  traceBatchSync(outputs, options) {
    return traceBatchSync(coreOf(this), outputs, options);
  },

  async shield(output, options) {
    return (await shieldBatch(coreOf(this), [output], options))[0];
  },
  shieldSync(output, options) {
    return shieldBatchSync(coreOf(this), [output], options)[0];
  },
  async shieldBatch(outputs, options) {
    return shieldBatch(coreOf(this), outputs, options);
  },
  shieldBatchSync(outputs, options) {
    return shieldBatchSync(coreOf(this), outputs, options);
  },

  async bci(sequence, options) {
    const variant = variantOf(options);
    return (await scoreBatch(coreOf(this), [sequence], options))[0][variant];
  },
  bciSync(sequence, options) {
    const variant = variantOf(options);
    return scoreBatchSync(coreOf(this), [sequence], options)[0][variant];
  },
  async scores(sequence, options) {
    return (await scoreBatch(coreOf(this), [sequence], options))[0];
  },
  scoresSync(sequence, options) {
    return scoreBatchSync(coreOf(this), [sequence], options)[0];
  },
  async scoresBatch(sequences, options) {
    return scoreBatch(coreOf(this), sequences, options);
  },
  scoresBatchSync(sequences, options) {
    return scoreBatchSync(coreOf(this), sequences, options);
  },
  async surprisalTable(options) {
    return surprisalTable(coreOf(this), options);
  },
  surprisalTableSync(options) {
    return surprisalTableSync(coreOf(this), options);
  },

  async calibrate(options) {
    return calibrate(coreOf(this), options);
  },
  calibrateSync(options) {
    return calibrateSync(coreOf(this), options);
  },

  matchState(options) {
    return matchState(coreOf(this), options);
  },

  async tokenWeights(output, options) {
    return (await tokenWeightsBatch(coreOf(this), [output], options))[0];
  },
  tokenWeightsSync(output, options) {
    return tokenWeightsBatchSync(coreOf(this), [output], options)[0];
  },
  async tokenWeightsBatch(outputs, options) {
    return tokenWeightsBatch(coreOf(this), outputs, options);
  },
  tokenWeightsBatchSync(outputs, options) {
    return tokenWeightsBatchSync(coreOf(this), outputs, options);
  },

  scan(source, options) {
    return scan(coreOf(this), source, options);
  },
};

// Installed like class methods: non-enumerable, writable, configurable.
for (const [name, value] of Object.entries(methods))
  Object.defineProperty(Index.prototype, name, { value, writable: true, configurable: true, enumerable: false });
