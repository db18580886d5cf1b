/** Stable error codes. Native errors carry the same codes (native/core/error.hpp). */
export type ErrorCode =
  | 'ERR_INDEX_CORRUPT'
  | 'ERR_INDEX_VERSION'
  | 'ERR_INDEX_NOT_FOUND'
  | 'ERR_IO'
  | 'ERR_TOKEN_RANGE'
  | 'ERR_TOKEN_WIDTH'
  | 'ERR_TOKENIZER_MISMATCH'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_BAD_INPUT'
  | 'ERR_CLOSED'
  | 'ERR_ABORTED'
  | 'ERR_TIMEOUT'
  | 'ERR_NO_MEMORY';

/** Every error traceindex throws on purpose is a TraceIndexError with a stable `code`. */
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
