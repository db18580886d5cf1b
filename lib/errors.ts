/**
 * Every error traceindex raises on purpose carries one of these codes, from this module or from the native
 * core (native/core/error.hpp, whose codes are a subset of ERROR_CODES: test/errors-list.test.ts checks it).
 */

/**
 * The stable error codes, the only values of `TraceIndexError.code`:
 *
 * | code | raised when |
 * |---|---|
 * | `ERR_INDEX_CORRUPT` | an index file fails a header, size, checksum, offset or suffix-order check |
 * | `ERR_INDEX_VERSION` | the index was written by a format version this package does not read |
 * | `ERR_INDEX_NOT_FOUND` | the directory holds no index (no manifest.json, or no infini-gram files) |
 * | `ERR_IO` | reading, writing, mapping or syncing a file failed, or the addon could not be loaded |
 * | `ERR_TOKEN_RANGE` | a token id (query, delimiter, input record) is outside the index's vocabulary |
 * | `ERR_TOKEN_WIDTH` | token ids do not fit the index's token width |
 * | `ERR_TOKENIZER_MISMATCH` | token ids or a tokenizer were made for another vocabulary than the index's |
 * | `ERR_INVALID_ARGUMENT` | any other argument or option the caller got wrong (the message names it) |
 * | `ERR_TOO_LARGE` | an answer would exceed a size bound: one call's 2^26 snippet tokens, a document's `maxTokens` (the service: HTTP 413, and a body, query, batch or answer above its limits) |
 * | `ERR_BAD_INPUT` | an input file or record cannot be read as a document (the message says where) |
 * | `ERR_CLOSED` | a method was called on a closed Index |
 * | `ERR_ABORTED` | the call's AbortSignal fired (before or during the call) |
 * | `ERR_TIMEOUT` | the call ran longer than its `timeoutMs` (`timeoutMs: 0` always times out) |
 * | `ERR_NO_MEMORY` | an allocation failed (a build's memory budget, or the system) |
 * | `ERR_MISSING_PACKAGE` | a tokenizer's optional npm package is not installed (the message names it) |
 * | `ERR_INTERNAL` | a bug: an invariant of traceindex itself failed (please report it) |
 *
 * The HTTP service (`traceindex serve`, docs/server.md) answers with these too, and with its own:
 *
 * | code | HTTP status | raised when |
 * |---|---|---|
 * | `ERR_NOT_FOUND` | 404 | no such index, route or document |
 * | `ERR_MEDIA_TYPE` | 415 | a body that is not `application/json` (or NDJSON for scans) |
 * | `ERR_UNAUTHORIZED` | 401 | a missing or wrong bearer token |
 * | `ERR_UNSUPPORTED` | 400 | an infini-gram query type the engine does not answer |
 * | `ERR_OVERLOADED` | 503 | the queue of native work is full (with `Retry-After`) |
 * | `ERR_SHUTTING_DOWN` | 503 | the server is draining after SIGTERM |
 */
export const ERROR_CODES = [
  'ERR_INDEX_CORRUPT',
  'ERR_INDEX_VERSION',
  'ERR_INDEX_NOT_FOUND',
  'ERR_IO',
  'ERR_TOKEN_RANGE',
  'ERR_TOKEN_WIDTH',
  'ERR_TOKENIZER_MISMATCH',
  'ERR_INVALID_ARGUMENT',
  'ERR_TOO_LARGE',
  'ERR_BAD_INPUT',
  'ERR_CLOSED',
  'ERR_ABORTED',
  'ERR_TIMEOUT',
  'ERR_NO_MEMORY',
  'ERR_MISSING_PACKAGE',
  'ERR_INTERNAL',
  'ERR_NOT_FOUND',
  'ERR_MEDIA_TYPE',
  'ERR_UNAUTHORIZED',
  'ERR_UNSUPPORTED',
  'ERR_OVERLOADED',
  'ERR_SHUTTING_DOWN',
] as const;

/** One of ERROR_CODES. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Every error traceindex throws on purpose is a TraceIndexError with a stable `code` (see ERROR_CODES). */
export class TraceIndexError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TraceIndexError';
    this.code = code;
  }
}

export function abortError(signal?: AbortSignal): TraceIndexError {
  const reason = signal?.reason;
  return new TraceIndexError('ERR_ABORTED', reason instanceof Error ? reason.message : 'The operation was aborted', { cause: reason });
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortError(signal);
}
