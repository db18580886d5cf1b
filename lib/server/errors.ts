/**
 * Errors of the HTTP service: every failure leaves as `{ "error": { "code", "message" } }` with a status that says
 * whose fault it was. Library codes map to statuses here and nowhere else; a 500 never carries a stack trace.
 */

/** An error that already knows its HTTP status, code and extra headers (Retry-After). */
export class HttpError extends Error {
  constructor(readonly statusCode: number, readonly code: string, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
  }
}

/** HTTP status of a library error code (lib/errors.ts). */
const STATUS_OF_CODE: Record<string, number> = {
  ERR_INVALID_ARGUMENT: 400,
  ERR_TOKEN_RANGE: 400,
  ERR_TOKENIZER_MISMATCH: 400,
  ERR_TOO_LARGE: 413,
  ERR_BAD_INPUT: 400,
  ERR_TIMEOUT: 504,
  ERR_CLOSED: 503,
  ERR_NO_MEMORY: 503,
  ERR_ABORTED: 499,
};

export interface ErrorBody {
  error: { code: string; message: string };
}

/** Status, body and headers for any thrown value. `requestId` goes into the message of a 500. */
export function describeError(err: unknown, requestId?: string): { status: number; body: ErrorBody; headers: Record<string, string>; internal: boolean } {
  if (err instanceof HttpError)
    return { status: err.statusCode, body: { error: { code: err.code, message: err.message } }, headers: err.headers, internal: false };
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown; validation?: unknown; name?: unknown };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (code && code in STATUS_OF_CODE) {
    const status = STATUS_OF_CODE[code];
    const headers: Record<string, string> = status === 503 ? { 'retry-after': '1' } : {};
    return { status, body: { error: { code, message } }, headers, internal: false };
  }
  // fastify's own errors: body too large, bad JSON, bad content type, schema validation.
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return { status: 413, body: { error: { code: 'ERR_TOO_LARGE', message: 'request body is larger than the limit' } }, headers: {}, internal: false };
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return { status: 415, body: { error: { code: 'ERR_MEDIA_TYPE', message } }, headers: {}, internal: false };
  if (e?.validation)
    return { status: 400, body: { error: { code: 'ERR_INVALID_ARGUMENT', message } }, headers: {}, internal: false };
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500)
    return { status, body: { error: { code: status === 413 ? 'ERR_TOO_LARGE' : 'ERR_INVALID_ARGUMENT', message } }, headers: {}, internal: false };
  return {
    status: 500,
    body: { error: { code: 'ERR_INTERNAL', message: `internal error${code ? ` (${code})` : ''}${requestId ? `; request id ${requestId}` : ''}` } },
    headers: {},
    internal: true,
  };
}
