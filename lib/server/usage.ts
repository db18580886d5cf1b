/** The flags and usage of `traceindex serve`, apart from the server so that the CLI's usage does not load fastify. */
import { DEFAULT_LIMITS, Limits } from './limits';

/** Flags that set a limit (docs/server.md, Limits), by the Limits field they set. */
export const LIMIT_FLAGS: Record<string, keyof Limits> = {
  'body-limit': 'bodyLimit', 'max-query-tokens': 'maxQueryTokens', 'max-batch': 'maxBatch', 'max-result-tokens': 'maxResultTokens', 'timeout-ms': 'timeoutMs',
  'max-concurrent': 'maxConcurrent', 'max-queued': 'maxQueued', 'max-scans': 'maxScans', 'drain-ms': 'drainMs',
  'headers-timeout-ms': 'headersTimeoutMs', 'body-timeout-ms': 'bodyTimeoutMs', 'idle-timeout-ms': 'idleTimeoutMs',
  'keep-alive-timeout-ms': 'keepAliveTimeoutMs', 'max-line-bytes': 'maxLineBytes',
};

/** Every flag `serve` takes (node:util parseArgs specs). */
export const SERVE_FLAGS = {
  port: { type: 'string' }, host: { type: 'string' }, 'token-file': { type: 'string' }, preload: { type: 'boolean' },
  cors: { type: 'string', multiple: true }, tokenizer: { type: 'string' }, 'eos-token-id': { type: 'string' },
  'log-level': { type: 'string' }, workers: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  ...Object.fromEntries(Object.keys(LIMIT_FLAGS).map((k) => [k, { type: 'string' as const }])),
} as const;

export const SERVE_USAGE = `traceindex serve DIR[=NAME]... [--port 8080] [--host 127.0.0.1] [--workers 1] [--token-file FILE] [--preload]
                 [--cors ORIGIN|*] [--tokenizer PATH] [--eos-token-id N] [--log-level info|warn|error|silent]
                 [--body-limit ${DEFAULT_LIMITS.bodyLimit}] [--max-query-tokens ${DEFAULT_LIMITS.maxQueryTokens}] [--max-batch ${DEFAULT_LIMITS.maxBatch}]
                 [--max-result-tokens ${DEFAULT_LIMITS.maxResultTokens}]
                 [--timeout-ms ${DEFAULT_LIMITS.timeoutMs}] [--max-concurrent ${DEFAULT_LIMITS.maxConcurrent}] [--max-queued ${DEFAULT_LIMITS.maxQueued}]
                 [--max-scans ${DEFAULT_LIMITS.maxScans}] [--drain-ms ${DEFAULT_LIMITS.drainMs}] [--headers-timeout-ms ${DEFAULT_LIMITS.headersTimeoutMs}]
                 [--body-timeout-ms ${DEFAULT_LIMITS.bodyTimeoutMs}] [--idle-timeout-ms ${DEFAULT_LIMITS.idleTimeoutMs}]
                 [--keep-alive-timeout-ms ${DEFAULT_LIMITS.keepAliveTimeoutMs}]
  Serves the indexes over HTTP (docs/server.md): JSON endpoints under /v1, the trace viewer at /, an
  infini-gram compatible POST /, /healthz, /readyz, /metrics, /openapi.json. NAME defaults to DIR's base name.
  Binds to loopback unless --host says otherwise. --workers N runs N server processes on one port (one per core).`;
