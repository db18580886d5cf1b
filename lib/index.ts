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
// The HTTP service (lib/server) and the trace viewer's self-contained reports (lib/viewer).
export type { IndexSource, ServerOptions, TraceIndexServer } from './server';
export { renderScanReport, renderTraceReport } from './viewer';
export type { ReportOptions, ScanReportOptions, TraceReportItem } from './viewer';
/** createServer from lib/server, loaded on the first call: fastify and prom-client add about 0.25 s to loading traceindex. */
export function createServer(options: import('./server').ServerOptions): Promise<import('./server').TraceIndexServer> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('./server') as typeof import('./server')).createServer(options);
}
