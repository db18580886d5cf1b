// ESM entry: the same module as the CommonJS one (dist/lib/index.js), with named exports.
import cjs from '../dist/lib/index.js';

export const { buildIndex, buildBytesPerToken, partitionFiles, combineIndexes, upgradeIndex, openIndex, Index, MAX_LOCATE_LIMIT, MAX_QUERY_TOKENS, MAX_CALIBRATION_SAMPLES, ERROR_CODES, TraceIndexError, bytesTokenizer, pretokenized, resolveTokenizer, FORMAT_VERSION, simd, MatchState, penalizeLogits, scoreContinuations, renderScanReport, renderTraceReport, createServer, version } = cjs;
export default cjs;
