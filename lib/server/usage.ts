/** The usage of `traceindex serve`, apart from the server so that the CLI's usage does not load fastify. */
import { DEFAULT_LIMITS } from './limits';

export const SERVE_USAGE = `traceindex serve DIR[=NAME]... [--port 8080] [--host 127.0.0.1] [--token-file FILE] [--preload]
                 [--cors ORIGIN|*] [--tokenizer PATH] [--eos-token-id N] [--log-level info|warn|error|silent]
                 [--body-limit ${DEFAULT_LIMITS.bodyLimit}] [--max-query-tokens ${DEFAULT_LIMITS.maxQueryTokens}] [--max-batch ${DEFAULT_LIMITS.maxBatch}]
                 [--timeout-ms ${DEFAULT_LIMITS.timeoutMs}] [--max-concurrent ${DEFAULT_LIMITS.maxConcurrent}] [--max-queued ${DEFAULT_LIMITS.maxQueued}]
                 [--max-scans ${DEFAULT_LIMITS.maxScans}] [--drain-ms ${DEFAULT_LIMITS.drainMs}] [--headers-timeout-ms ${DEFAULT_LIMITS.headersTimeoutMs}]
                 [--body-timeout-ms ${DEFAULT_LIMITS.bodyTimeoutMs}] [--idle-timeout-ms ${DEFAULT_LIMITS.idleTimeoutMs}]
                 [--keep-alive-timeout-ms ${DEFAULT_LIMITS.keepAliveTimeoutMs}]
  Serves the indexes over HTTP (docs/server.md): JSON endpoints under /v1, the trace viewer at /, an
  infini-gram compatible POST /, /healthz, /readyz, /metrics, /openapi.json. NAME defaults to DIR's base name.
  Binds to loopback unless --host says otherwise.`;
