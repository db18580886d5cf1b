/**
 * createServer: the engine behind HTTP (fastify 5). JSON routes under /v1 validated by JSON schemas, the scan
 * stream, the infini-gram compatible POST /, the trace viewer at GET /, /healthz, /readyz, /metrics and
 * /openapi.json. Every limit is in ./limits (defaults in docs/server.md); native work passes through one
 * WorkGate so load beyond the queue is refused with 503 at once instead of piling up.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import * as fs from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import Fastify, { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import '../provenance/index-methods'; // the provenance methods on Index (trace, shield, scores)
import { coreOf } from '../query/core';
import { Index, openIndex } from '../query/open-index';
import { version } from '../version';
import type { IndexInfo, OpenOptions } from '../query/types';
import { viewerAsset, VIEWER_ASSETS } from '../viewer/assets';
import { describeError, HttpError } from './errors';
import { INFINIGRAM_QUERY_TYPES, infinigramQuery, InfinigramBody } from './infinigram';
import { Limits, resolveLimits, WorkGate } from './limits';
import { ServerMetrics } from './metrics';
import { answer, batchOf, checkResultBudget, documents, QueryBody, tokenizeQuery, Query } from './routes';
import { scanOptions, scanStream } from './scan';
import { BODY_SCHEMAS, openApiDocument, QueryRoute } from './schemas';

/** An index to serve: an opened Index (the caller keeps it and closes it), or a directory the server opens and closes. */
export type IndexSource = Index | string | { dir: string; open?: OpenOptions };

export interface ServerOptions extends Partial<Limits> {
  /** Name → index. Names are path segments: letters, digits, '.', '_', '-'. */
  indexes: Record<string, IndexSource>;
  /** Bearer token every request must carry (except /healthz, /readyz and the viewer's static files). */
  token?: string;
  /** Read the bearer token from this file (its content, trimmed). */
  tokenFile?: string;
  /** CORS: true or '*' for any origin, a list of allowed origins, or false (default). */
  cors?: boolean | string | string[];
  /**
   * Warm every index before /readyz turns ready: madvise(WILLNEED) over all its mappings, then every page faulted
   * in (docs/server.md, Operations).
   */
  preload?: boolean;
  /** fastify's logger: false (default), true, or pino options. Request ids come from x-request-id or are generated. */
  logger?: boolean | Record<string, unknown>;
  /** The token infini-gram's ntd reports for document ends (its eos_token_id); default: the separator id of the width. */
  eosTokenId?: number;
  /** Labels on every metric (`serve --workers` sets `worker`: each process reports its own). */
  metricLabels?: Record<string, string>;
}

export interface ServedIndex {
  name: string;
  index: Index;
  owned: boolean;
  /** index.info when the server started (an opened index does not change; info stats the manifest). */
  info: IndexInfo;
}

export interface TraceIndexServer {
  /** The fastify instance (inject() for tests, or register more routes before listen). */
  readonly app: FastifyInstance;
  readonly indexes: ReadonlyMap<string, ServedIndex>;
  readonly limits: Readonly<Limits>;
  readonly metrics: ServerMetrics;
  /** True once the indexes are open (and, with preload, warmed). */
  readonly ready: boolean;
  /** Starts listening (default 127.0.0.1:8080); resolves with the bound address. */
  listen(options?: { port?: number; host?: string }): Promise<{ url: string; host: string; port: number }>;
  /**
   * Stops accepting, lets in-flight requests finish for up to `drainMs` (default the limit), then cuts what is left
   * (its native calls are cancelled), closes the indexes the server opened and the server. Idempotent.
   */
  shutdown(options?: { drainMs?: number }): Promise<void>;
}

const NAME = /^[A-Za-z0-9._-]{1,128}$/;
const QUERY_ROUTES: QueryRoute[] = ['count', 'locate', 'longest-match', 'next-tokens', 'trace', 'shield', 'scores'];
// Route patterns (req.routeOptions.url): the viewer's files are served by /assets/:file, which allows only them.
const PUBLIC_PATHS = new Set(['/healthz', '/readyz', '/', '/assets/:file']);
/** Probes answer while the server drains: /healthz ok (the process lives), /readyz 503 "draining". */
const PROBES = new Set(['/healthz', '/readyz']);

/**
 * A request Node's parser refuses before any route sees it (headers too slow or too large, not HTTP): answered in
 * the service's error shape, `{ error: { code, message } }`, as fastify's default handler does in its own.
 */
function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'ERR_TIMEOUT', 'the request headers took longer than the limit']
    : err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'ERR_TOO_LARGE', 'the request headers are larger than the limit']
    : [400, 'ERR_INVALID_ARGUMENT', 'not a valid HTTP request'];
  const body = JSON.stringify({ error: { code, message } });
  if (socket.writable)
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`);
  socket.destroy(err);
}

declare module 'fastify' {
  interface FastifyRequest {
    bodyTimer: NodeJS.Timeout | null;
  }
}

async function openSources(sources: Record<string, IndexSource>): Promise<Map<string, ServedIndex>> {
  const served = new Map<string, ServedIndex>();
  try {
    for (const [name, source] of Object.entries(sources)) {
      if (!NAME.test(name)) throw new HttpError(400, 'ERR_INVALID_ARGUMENT', `index name ${JSON.stringify(name)}: use letters, digits, '.', '_' and '-'`);
      const add = (index: Index, owned: boolean) => served.set(name, { name, index, owned, info: index.info });
      if (typeof source === 'string') add(await openIndex(source), true);
      else if (source instanceof Index) add(source, false);
      else if (source && typeof source.dir === 'string') add(await openIndex(source.dir, source.open), true);
      else throw new HttpError(400, 'ERR_INVALID_ARGUMENT', `index ${name}: an Index, a directory, or { dir, open }`);
    }
  } catch (err) {
    for (const s of served.values()) if (s.owned) s.index.close();
    throw err;
  }
  return served;
}

function corsHeaders(allowed: ServerOptions['cors'], origin: string | undefined): Record<string, string> | undefined {
  if (!allowed || !origin) return undefined;
  const any = allowed === true || allowed === '*';
  const list = typeof allowed === 'string' ? [allowed] : Array.isArray(allowed) ? allowed : [];
  if (!any && !list.includes(origin)) return undefined;
  return { 'access-control-allow-origin': any ? '*' : origin, vary: 'origin' };
}

export async function createServer(options: ServerOptions): Promise<TraceIndexServer> {
  if (!options || typeof options.indexes !== 'object' || options.indexes === null)
    throw new HttpError(400, 'ERR_INVALID_ARGUMENT', 'createServer needs { indexes: { name: Index | dir } }');
  const limits = resolveLimits(options);
  let token = options.token;
  if (options.tokenFile !== undefined) token = fs.readFileSync(options.tokenFile, 'utf8').trim();
  if (token !== undefined && token.length === 0) throw new HttpError(400, 'ERR_INVALID_ARGUMENT', 'the bearer token is empty');
  const tokenDigest = token === undefined ? undefined : createHash('sha256').update(token).digest();

  const indexes = await openSources(options.indexes);
  const gate = new WorkGate(limits.maxConcurrent, limits.maxQueued, limits.retryAfterSeconds);
  const state = { ready: false, draining: false, scans: 0, inFlight: 0, closed: false };
  // The gauges are read when /metrics is scraped, not set per request.
  const metrics = new ServerMetrics(Array.from(indexes.values()), options.metricLabels,
    { inFlight: () => state.inFlight, nativeRunning: () => gate.active, nativeQueued: () => gate.queued });
  const active = new Set<FastifyRequest>();
  const preloadAbort = new AbortController();

  const app = Fastify({
    logger: options.logger ?? false,
    clientErrorHandler,
    bodyLimit: limits.bodyLimit,
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    requestTimeout: 0,  // bodies are timed per route below: a scan may stream for hours
    // Node checks the headers deadline on this interval (30 s by default): check often enough to hold it.
    http: { headersTimeout: limits.headersTimeoutMs, connectionsCheckingInterval: Math.max(100, Math.min(1000, limits.headersTimeoutMs >> 1)) },
    routerOptions: { maxParamLength: 200 },
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    return503OnClosing: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
  });
  app.decorateRequest('bodyTimer', null);

  const lookup = (name: string): ServedIndex => {
    const s = indexes.get(name);
    if (!s) throw new HttpError(404, 'ERR_NOT_FOUND', `no index named ${JSON.stringify(String(name).slice(0, 128))}`);
    return s;
  };
  const isCompat = (req: FastifyRequest) => req.method === 'POST' && req.routeOptions.url === '/';

  // ---- hooks: request ids, draining, auth, CORS, body deadline, metrics ----

  // A signal per connection, made on first use: it aborts when the connection closes (the client went away, or
  // shutdown cut it), which cancels the native calls of every request on it. One per request cost more than the
  // count it would cancel.
  const connectionAborts = new WeakMap<Socket, AbortController>();
  const signalOf = (req: FastifyRequest): AbortSignal => {
    const socket = req.raw.socket;
    let c = connectionAborts.get(socket);
    if (!c) {
      const ac = new AbortController();
      // Every native call of a batch (locate runs one per query) listens to the signal; pipelined requests share it.
      setMaxListeners(0, ac.signal);
      if (socket.destroyed) ac.abort(new Error('the client went away'));
      else socket.once('close', () => ac.abort(new Error('the client went away')));
      connectionAborts.set(socket, ac);
      c = ac;
    }
    return c.signal;
  };

  // Callback hooks, not async ones: an async hook costs a promise and a turn of the microtask queue per request.
  app.addHook('onRequest', (req, reply, done) => {
    const started = performance.now();
    state.inFlight++;
    active.add(req);
    reply.header('x-request-id', req.id);
    reply.raw.on('close', () => {
      state.inFlight--;
      active.delete(req);
      if (req.bodyTimer !== null) clearTimeout(req.bodyTimer);
      const route = req.routeOptions.url ?? 'unmatched';
      const labels = { route, method: req.method, status: String(reply.raw.statusCode) };
      metrics.requests.inc(labels);
      metrics.latency.observe(labels, (performance.now() - started) / 1e3);
    });
    const cors = corsHeaders(options.cors, req.headers.origin);
    if (cors) reply.headers(cors);
    if (state.draining && !(req.method === 'GET' && PROBES.has(req.routeOptions.url ?? ''))) {
      reply.header('connection', 'close');
      return done(new HttpError(503, 'ERR_SHUTTING_DOWN', 'the server is shutting down', { 'retry-after': String(limits.retryAfterSeconds) }));
    }
    if (req.method === 'OPTIONS') return done();
    const url = req.routeOptions.url;
    if (tokenDigest && !(req.method === 'GET' && url !== undefined && PUBLIC_PATHS.has(url))) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      const given = m ? createHash('sha256').update(m[1]).digest() : undefined;
      if (!given || !timingSafeEqual(given, tokenDigest)) {
        reply.header('www-authenticate', 'Bearer');
        return done(new HttpError(401, 'ERR_UNAUTHORIZED', 'a valid bearer token is required (Authorization: Bearer TOKEN)'));
      }
    }
    if (req.method === 'POST' && url !== '/v1/indexes/:name/scan') {
      // A client that trickles its body gets a JSON 408 and the connection is closed.
      req.bodyTimer = setTimeout(() => {
        if (reply.raw.headersSent) return;
        reply.hijack();
        const body = JSON.stringify({ error: { code: 'ERR_TIMEOUT', message: `the request body did not arrive within ${limits.bodyTimeoutMs} ms` } });
        reply.raw.writeHead(408, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close', 'x-request-id': req.id });
        reply.raw.end(body, () => req.raw.socket?.destroy());
      }, limits.bodyTimeoutMs);
    }
    done();
  });
  app.addHook('preValidation', (req, _reply, done) => {
    if (req.bodyTimer !== null) clearTimeout(req.bodyTimer);
    done();
  });

  app.setErrorHandler((err, req, reply) => {
    if (req.bodyTimer !== null) clearTimeout(req.bodyTimer);
    const d = describeError(err, req.id);
    if (d.internal) req.log.error({ err }, 'internal error');
    if (d.status === 503 && d.body.error.code === 'ERR_OVERLOADED') metrics.overloaded.inc();
    reply.code(d.status).headers(d.headers);
    // The infini-gram endpoint answers errors in infini-gram's shape: { error: message } (plus our code).
    if (isCompat(req)) return reply.send({ error: d.body.error.message, code: d.body.error.code });
    return reply.send(d.body);
  });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: { code: 'ERR_NOT_FOUND', message: `no route ${req.method} ${req.url.slice(0, 200)}` } });
  });
  app.options('*', async (req, reply) => {
    const cors = corsHeaders(options.cors, req.headers.origin);
    if (!cors) return reply.code(404).send({ error: { code: 'ERR_NOT_FOUND', message: 'CORS is not enabled for this origin' } });
    return reply.code(204).headers({
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      'access-control-allow-headers': 'authorization, content-type, x-request-id',
      'access-control-max-age': '600',
    }).send();
  });

  // Only JSON bodies (and NDJSON for scan) are taken: fastify's own text/plain parser would hand a string to the
  // schema (400) where a body that is not JSON is 415 (docs/server.md, Errors).
  app.removeContentTypeParser('text/plain');
  // NDJSON bodies reach the scan route as the raw stream (no buffering, no body limit: lines are bounded instead).
  app.addContentTypeParser(['application/x-ndjson', 'application/jsonl', 'application/ndjson'], (_req, payload, done) => done(null, payload));

  // ---- operations ----

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (!state.ready || state.draining) return reply.code(503).header('retry-after', '1').send({ status: state.draining ? 'draining' : 'starting' });
    return { status: 'ready', indexes: Array.from(indexes.keys()) };
  });
  app.get('/metrics', async (_req, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  const openapi = JSON.stringify(openApiDocument(version));
  app.get('/openapi.json', async (_req, reply) => reply.type('application/json; charset=utf-8').send(openapi));

  // ---- the viewer ----

  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(viewerAsset('index.html')));
  app.get('/assets/:file', async (req, reply) => {
    const file = (req.params as { file: string }).file;
    if (!VIEWER_ASSETS.includes(file)) throw new HttpError(404, 'ERR_NOT_FOUND', 'no such asset');
    const type = file.endsWith('.js') ? 'text/javascript; charset=utf-8' : file.endsWith('.css') ? 'text/css; charset=utf-8' : 'application/octet-stream';
    return reply.type(type).header('cache-control', 'no-cache').send(viewerAsset(file));
  });

  // ---- /v1 ----

  app.get('/v1/indexes', async () => ({ indexes: Array.from(indexes.values()).map((s) => ({ name: s.name, info: s.info })) }));
  app.get('/v1/indexes/:name', async (req) => {
    const s = lookup((req.params as { name: string }).name);
    return { name: s.name, info: s.info };
  });

  const deadlineOf = (req: FastifyRequest, asked: unknown) => {
    const ms = typeof asked === 'number' ? Math.min(asked, limits.timeoutMs) : limits.timeoutMs;
    return { deadline: Date.now() + ms, call: (left: number) => ({ timeoutMs: left, signal: signalOf(req) }) };
  };

  for (const route of QUERY_ROUTES) {
    app.post(`/v1/indexes/:name/${route}`, { schema: { body: BODY_SCHEMAS[route] } }, async (req) => {
      const { index, info } = lookup((req.params as { name: string }).name);
      const body = req.body as QueryBody;
      const { single, items } = batchOf<Query>(body, 'query', 'queries', limits);
      const ids = items.map((q, i) => tokenizeQuery(index, q, single ? undefined : i, limits));
      checkResultBudget(route, body, ids, info.vocabSize, limits);
      const { deadline, call } = deadlineOf(req, body.timeoutMs);
      const results = await gate.run(deadline, (left) => answer(route, index, body, ids, call(left), limits));
      return single ? { result: results[0] } : { results };
    });
  }
  app.post('/v1/indexes/:name/document', { schema: { body: BODY_SCHEMAS.document } }, async (req) => {
    const { index, info } = lookup((req.params as { name: string }).name);
    const body = req.body as { document?: number | string; documents?: Array<number | string>; timeoutMs?: number };
    const { single, items } = batchOf<number | string>(body, 'document', 'documents', limits);
    const { deadline, call } = deadlineOf(req, body.timeoutMs);
    const results = await gate.run(deadline, (left) => documents(index, info.documents, items, call(left), limits));
    return single ? { result: results[0] } : { results };
  });

  app.post('/v1/indexes/:name/scan', async (req, reply) => {
    const { index, info } = lookup((req.params as { name: string }).name);
    const type = String(req.headers['content-type'] ?? '');
    if (!/^application\/(x-ndjson|jsonl|ndjson)\b/.test(type))
      throw new HttpError(415, 'ERR_MEDIA_TYPE', 'send the outputs as NDJSON (content-type: application/x-ndjson)');
    const traceOptions = scanOptions(req.query as Record<string, unknown>);
    if (state.scans >= limits.maxScans)
      throw new HttpError(503, 'ERR_OVERLOADED', `${state.scans} scans are streaming already: retry later`, { 'retry-after': String(limits.retryAfterSeconds) });
    state.scans++;
    let ended = false;
    const end = () => {
      if (!ended) { ended = true; state.scans--; }
    };
    reply.raw.once('close', end);
    const stream = scanStream(index, info.vocabSize, req.body as AsyncIterable<Buffer>, { ...traceOptions, timeoutMs: limits.timeoutMs }, limits, signalOf(req), end);
    return reply.type('application/x-ndjson; charset=utf-8').send(stream);
  });

  // ---- infini-gram compatible ----

  app.post('/', { schema: { body: BODY_SCHEMAS.infinigram } }, async (req) => {
    const body = req.body as InfinigramBody;
    const name = body.index ?? body.corpus ?? (indexes.size === 1 ? Array.from(indexes.keys())[0] : undefined);
    if (name === undefined) throw new HttpError(400, 'ERR_INVALID_ARGUMENT', `Missing required field: 'index' (one of ${Array.from(indexes.keys()).join(', ')})`);
    const served = indexes.get(name);
    if (!served) throw new HttpError(404, 'ERR_NOT_FOUND', `Invalid index: ${String(name).slice(0, 128)}`);
    const { index, info } = served;
    const width = info.tokenWidth;
    const eosTokenId = options.eosTokenId ?? (width === 4 ? 0xffffffff : (1 << (8 * width)) - 1);
    const { deadline } = deadlineOf(req, undefined);
    return gate.run(deadline, () => infinigramQuery({
      index, info, eosTokenId, limits,
      call: () => ({ timeoutMs: Math.max(1, deadline - Date.now()), signal: signalOf(req) }),
    }, body));
  });
  void INFINIGRAM_QUERY_TYPES;

  // ---- lifecycle ----

  // Ready once every index is warmed: advise resolves after its pages were faulted in, not when the
  // (asynchronous) WILLNEED advice was merely given. Shutdown cancels a preload in progress.
  const readiness = (async () => {
    if (options.preload) {
      for (const s of indexes.values()) {
        const t0 = Date.now();
        const warmed = await coreOf(s.index).advise('willneed', { signal: preloadAbort.signal });
        app.log.info({ index: s.name, ...warmed, ms: Date.now() - t0 }, 'preloaded');
      }
    }
    if (!preloadAbort.signal.aborted) state.ready = true;
  })().catch((err) => {
    if (!preloadAbort.signal.aborted) app.log.error({ err }, 'preload failed');
  });

  let shutdownPromise: Promise<void> | undefined;
  const server: TraceIndexServer = {
    app,
    indexes,
    limits,
    metrics,
    get ready() {
      return state.ready && !state.draining;
    },
    async listen(o = {}) {
      const host = o.host ?? '127.0.0.1';
      await app.listen({ port: o.port ?? 8080, host });
      const addr = app.server.address() as AddressInfo;
      const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      return { url: `http://${shown}:${addr.port}`, host: addr.address, port: addr.port };
    },
    shutdown(o = {}) {
      shutdownPromise ??= (async () => {
        state.draining = true;
        preloadAbort.abort();
        const drainMs = o.drainMs ?? limits.drainMs;
        // Stop accepting work: from now on every request is answered 503 ERR_SHUTTING_DOWN with connection: close
        // (the listener stays open meanwhile, so a client connecting during the drain gets that answer instead of
        // a reset); idle keep-alive connections go now, busy ones once their response is sent.
        app.server.closeIdleConnections?.();
        const until = Date.now() + drainMs;
        while (state.inFlight > 0 && Date.now() < until) {
          await new Promise((r) => setTimeout(r, 20));
          app.server.closeIdleConnections?.();
        }
        // Past the deadline: cancel what is left (native calls stop at their next check) and cut the connections.
        gate.failWaiting(new HttpError(503, 'ERR_SHUTTING_DOWN', 'the server is shutting down'));
        for (const req of active) connectionAborts.get(req.raw.socket)?.abort(new Error('shutdown'));
        const closing = app.server.listening ? new Promise<void>((resolve) => app.server.close(() => resolve())) : Promise.resolve();
        app.server.closeAllConnections?.();
        await closing;
        await app.close();
        await readiness;
        for (const s of indexes.values()) if (s.owned) s.index.close();
        state.closed = true;
      })();
      return shutdownPromise;
    },
  };
  return server;
}

export type { FastifyReply };
