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
 * | `ERR_BAD_INPUT` | an input file or record cannot be read as a document (the message says where) |
 * | `ERR_CLOSED` | a method was called on a closed Index |
 * | `ERR_ABORTED` | the call's AbortSignal fired (before or during the call) |
 * | `ERR_TIMEOUT` | the call ran longer than its `timeoutMs` (`timeoutMs: 0` always times out) |
 * | `ERR_NO_MEMORY` | an allocation failed (a build's memory budget, or the system) |
 * | `ERR_INTERNAL` | a bug: an invariant of traceindex itself failed (please report it) |
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
  'ERR_BAD_INPUT',
  'ERR_CLOSED',
  'ERR_ABORTED',
  'ERR_TIMEOUT',
  'ERR_NO_MEMORY',
  'ERR_INTERNAL',
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
