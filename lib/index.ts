/** traceindex: exact provenance queries over suffix-array indexes of tokenized corpora. */
export { buildIndex, buildBytesPerToken, partitionFiles } from './build/build';
export { combineIndexes } from './build/combine';
export type { CombineResult } from './build/combine';
export type { BuildOptions, BuildProgress, BuildResult } from './build/build';
export { upgradeIndex } from './build/upgrade';
export type { UpgradeOptions, UpgradeProgress, UpgradeResult } from './build/upgrade';
export { openIndex, Index, MAX_LOCATE_LIMIT, MAX_QUERY_TOKENS } from './query/open-index';
export type { CallOptions, CountOptions, DocumentInfo, DocumentOptions, IndexInfo, LocateOptions, LocateResult, LongestMatch, NextTokens, Occurrence, OpenOptions, Query, VerifyOptions, VerifyResult } from './query/types';
export { ERROR_CODES, TraceIndexError } from './errors';
export type { ErrorCode } from './errors';
export { bytesTokenizer, pretokenized, resolveTokenizer } from './tokenizers/tokenizer';
export type { Tokenizer, TokenizerSpec, TokenWidth } from './tokenizers/tokenizer';
export type { DocumentRecord } from './inputs/records';
export { FORMAT_VERSION } from './build/manifest';
export { simd } from './query/simd';
export { version } from './version';
// Installs the provenance methods (trace, shield, scores, ...) on Index.prototype.
import './provenance/index-methods';
export type { BciOptions, IndexProvenance } from './provenance/index-methods';
export { MatchState, penalizeLogits, scoreContinuations } from './provenance/match-state';
export type { ContinuationOptions, ContinuationScores, MatchStateOptions, SuffixMatch } from './provenance/match-state';
export { MAX_CALIBRATION_SAMPLES } from './provenance/scores';
export type { BciVariant, Calibration, CalibrationOptions, ScoreOptions, SequenceScores, SpanScores } from './provenance/scores';
export type { ShieldOptions, ShieldResult, Span, TokenWeightOptions, TraceOptions, TraceResult } from './provenance/trace';
export type { ScanOptions, ScanResult, ScanSource } from './provenance/scan';
// The HTTP service (lib/server) and the trace viewer's self-contained reports (lib/viewer).
export type { IndexSource, ServerOptions, TraceIndexServer } from './server';
export { renderScanReport, renderTraceReport } from './viewer';
export type { ReportOptions, ScanReportOptions, TraceReportItem } from './viewer';
/** createServer from lib/server, loaded on the first call: fastify and prom-client add about 0.25 s to loading traceindex. */
export function createServer(options: import('./server').ServerOptions): Promise<import('./server').TraceIndexServer> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('./server') as typeof import('./server')).createServer(options);
}
