/** `traceindex serve` and createServer: the engine behind HTTP (docs/server.md). */
export { createServer } from './server';
export type { IndexSource, ServedIndex, ServerOptions, TraceIndexServer } from './server';
export { DEFAULT_LIMITS } from './limits';
export type { Limits } from './limits';
export { HttpError } from './errors';
export { runServe, SERVE_USAGE } from './serve';
