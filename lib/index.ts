/** traceindex: exact provenance queries over suffix-array indexes of tokenized corpora. */
export { buildIndex, buildBytesPerToken, partitionFiles } from './build';
export { combineIndexes } from './combine';
export type { CombineResult } from './combine';
export type { BuildOptions, BuildProgress, BuildResult } from './build';
export { openIndex, Index, MAX_QUERY_TOKENS } from './open-index';
export type { CallOptions, DocumentInfo, IndexInfo, LocateOptions, LocateResult, LongestMatch, NextTokens, Occurrence, OpenOptions, Query } from './open-index';
export { TraceIndexError } from './errors';
export type { ErrorCode } from './errors';
export { bytesTokenizer, pretokenized, resolveTokenizer } from './tokenizer';
export type { Tokenizer, TokenizerSpec, TokenWidth } from './tokenizer';
export type { DocumentRecord } from './inputs';
export { FORMAT_VERSION } from './manifest';
export { simd } from './simd';
export { MatchState, penalizeLogits, scoreContinuations } from './trace';
export type {
  BciVariant, Calibration, CalibrationOptions, ContinuationOptions, ContinuationScores, ScoreOptions, ShieldOptions,
  ShieldResult, Span, SpanScores, TokenWeightOptions, TraceOptions, TraceResult,
} from './trace';
export type { ScanOptions, ScanResult, ScanSource } from './scan';
