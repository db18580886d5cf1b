/**
 * createServer: the /v1 routes against the index's own answers and the brute-force oracles, the error shapes and
 * statuses, limits (413, deadline 504, overload 503 with Retry-After), auth, CORS, metrics, OpenAPI, readiness with
 * preload, and the NDJSON scan stream (order, bad lines, backpressure from a slow reader).
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { buildIndex, Index, openIndex } from '../lib/index';
import { coreOf } from '../lib/query/core';
import { createServer, TraceIndexServer } from '../lib/server';
import * as O from './helpers/oracle';
import { Corpus } from './helpers/trace-oracle';

const scratch = O.tmpDir('server');
const r = O.rng(12);
const WORDS = Array.from({ length: 120 }, () => Array.from({ length: O.randInt(r, 2, 6) }, () => String.fromCharCode(97 + O.randInt(r, 0, 8))).join(''));
const TEXTS = Array.from({ length: 60 }, () => Array.from({ length: O.randInt(r, 5, 80) }, () => O.pick(r, WORDS)).join(' '));
const DOCS = TEXTS.map(O.utf8);
let index: Index;
let server: TraceIndexServer;

test.before(async () => {
  const out = path.join(scratch, 'idx');
  await buildIndex({ inputs: TEXTS.map((text, i) => ({ text, id: `d${i}` })), out, shardTokens: O.shardTokensFor(DOCS, 2) });
  index = await openIndex(out);
  server = await createServer({ indexes: { main: index, again: out } });
});
test.after.always(async () => {
  await server?.shutdown();
  index?.close();
  fs.rmSync(scratch, { recursive: true, force: true });
});

async function post(s: TraceIndexServer, url: string, payload: unknown, headers: Record<string, string> = {}) {
  const res = await s.app.inject({ method: 'POST', url, payload: payload as object, headers });
  return { status: res.statusCode, body: res.headers['content-type']?.toString().startsWith('application/json') ? res.json() : res.body, headers: res.headers };
}

const patterns = O.patterns(O.rng(5), DOCS, 120, 8, 97);

test('count: single and batch equal the brute-force counts; a batch answers in order', async (t) => {
  const batch = await post(server, '/v1/indexes/main/count', { queries: patterns });
  t.is(batch.status, 200);
  t.deepEqual(batch.body.results, patterns.map((p) => O.count(DOCS, p)));
  t.true(batch.body.results.filter((n: number) => n > 0).length > 30);
  const text = TEXTS[3].split(' ').slice(1, 3).join(' ');
  const one = await post(server, '/v1/indexes/main/count', { query: text });
  t.deepEqual(one.body, { result: O.count(DOCS, O.utf8(text)) });
  // The index the server opened itself answers the same.
  t.deepEqual((await post(server, '/v1/indexes/again/count', { queries: patterns })).body, batch.body);
});

test('locate, longest-match and next-tokens equal the oracles', async (t) => {
  const some = patterns.slice(0, 30);
  const loc = await post(server, '/v1/indexes/main/locate', { queries: some, limit: 10_000, context: 3 });
  t.is(loc.status, 200);
  loc.body.results.forEach((res: { total: number; occurrences: Array<{ document: number; position: { token: number }; snippet: { tokens: number[] } }> }, i: number) => {
    const want = O.occurrences(DOCS, some[i]);
    t.is(res.total, want.length);
    t.deepEqual(res.occurrences.map((o) => [o.document, o.position.token]), want.map((o) => [o.doc, o.offset]));
    for (const o of res.occurrences) t.true(Array.isArray(o.snippet.tokens));
  });
  const lm = await post(server, '/v1/indexes/main/longest-match', { queries: some });
  t.deepEqual(lm.body.results.map((m: { length: number; count: number }) => [m.length, m.count]), some.map((p) => {
    const o = O.longestPrefix(DOCS, p);
    return [o.length, o.count];
  }));
  const nt = await post(server, '/v1/indexes/main/next-tokens', { queries: some, top: 1_000_000 });
  t.deepEqual(nt.body.results.map((n: { suffixLength: number; total: number; tokens: number[]; counts: number[] }) => [n.suffixLength, n.total, n.tokens, n.counts]),
    some.map((p) => {
      const o = O.nextTokens(DOCS, p);
      return [o.suffixLength, o.total, o.tokens, o.counts];
    }));
  const top = await post(server, '/v1/indexes/main/next-tokens', { query: [97], top: 2 });
  t.is(top.body.result.tokens.length, 2);
  t.is(top.body.result.distinct, O.nextTokens(DOCS, [97]).tokens.length);
});

test('trace equals the brute-force maximal spans, and index.trace itself; textOffsets locate each span in the text', async (t) => {
  const corpus = new Corpus(DOCS);
  const outputs = [0, 1, 2, 3].map((k) => `${TEXTS[k * 7].slice(10, 90)} zzq ${TEXTS[k * 7 + 1].slice(0, 60)} é ${TEXTS[k].slice(5, 40)}`);
  const res = await post(server, '/v1/indexes/main/trace', { queries: outputs, minLength: 4, maxDocuments: 2, textOffsets: true });
  t.is(res.status, 200);
  const own = await index.traceBatch(outputs, { minLength: 4, maxDocuments: 2 });
  outputs.forEach((o, i) => {
    const spans = res.body.results[i].spans as Array<{ start: number; end: number; count: number; bci: number; text: string; textStart: number; textEnd: number; documents: unknown[] }>;
    t.deepEqual(spans.map((s) => [s.start, s.end, s.count]), corpus.trace(O.utf8(o), { minLength: 4 }).map((s) => [s.start, s.end, s.count]));
    t.deepEqual(spans.map((s) => [s.start, s.end, s.count, s.bci, s.text, s.documents.length]), own[i].spans.map((s) => [s.start, s.end, s.count, s.bci, s.text, s.documents.length]));
    for (const s of spans) t.is(o.slice(s.textStart, s.textEnd), s.text);
    t.true(spans.length > 0);
  });
});

test('shield, scores and document answer like the library; unknown documents are 404', async (t) => {
  const out = TEXTS[9].slice(0, 120);
  const sh = await post(server, '/v1/indexes/main/shield', { query: out, tau: 20, minLength: 3 });
  const own = await index.shield(out, { tau: 20, minLength: 3 });
  t.is(sh.body.result.refuse, own.refuse);
  t.is(sh.body.result.maxBci, own.maxBci);
  const sc = await post(server, '/v1/indexes/main/scores', { queries: [out.slice(0, 10), [97, 98]] });
  t.deepEqual(sc.body.results, JSON.parse(JSON.stringify(await index.scoresBatch([out.slice(0, 10), [97, 98]]))));
  const doc = await post(server, '/v1/indexes/main/document', { documents: [5, 'd7'] });
  t.deepEqual(doc.body.results.map((d: { id: string; text: string; tokens: number[] }) => [d.id, d.text, d.tokens.length]), [['d5', TEXTS[5], DOCS[5].length], ['d7', TEXTS[7], DOCS[7].length]]);
  t.like((await post(server, '/v1/indexes/main/document', { document: 60 })), { status: 404, body: { error: { code: 'ERR_NOT_FOUND' } } });
  t.like((await post(server, '/v1/indexes/main/document', { document: 'nope' })), { status: 404, body: { error: { code: 'ERR_NOT_FOUND' } } });
});

test('errors: JSON shape and status for bad bodies, unknown indexes and routes, oversized queries and batches', async (t) => {
  const small = await createServer({ indexes: { main: index }, maxQueryTokens: 50, maxBatch: 4, bodyLimit: 4096 });
  const cases: Array<[unknown, number, string]> = [
    [{ query: 5 }, 400, 'ERR_INVALID_ARGUMENT'],
    [{ query: 'abc', queries: ['abc'] }, 400, 'ERR_INVALID_ARGUMENT'],
    [{}, 400, 'ERR_INVALID_ARGUMENT'],
    [{ query: 'abc', extra: true }, 400, 'ERR_INVALID_ARGUMENT'],
    [{ query: [1e300] }, 400, 'ERR_INVALID_ARGUMENT'],
    [{ query: [-1] }, 400, 'ERR_INVALID_ARGUMENT'],
    [{ query: [300] }, 400, 'ERR_TOKEN_RANGE'],
    [{ query: '' }, 400, 'ERR_INVALID_ARGUMENT'],
    [{ query: 'x'.repeat(60) }, 413, 'ERR_TOO_LARGE'],
    [{ queries: ['a', 'b', 'c', 'd', 'e'] }, 413, 'ERR_TOO_LARGE'],
    [{ query: 'a', timeoutMs: 0 }, 400, 'ERR_INVALID_ARGUMENT'],
    [{ query: 'a', timeoutMs: 2 ** 60 }, 400, 'ERR_INVALID_ARGUMENT'],
    [{ query: 'x'.repeat(5000) }, 413, 'ERR_TOO_LARGE'],
  ];
  for (const [body, status, code] of cases) {
    const res = await post(small, '/v1/indexes/main/count', body);
    t.is(res.status, status, JSON.stringify(body).slice(0, 80));
    t.is(res.body.error.code, code, JSON.stringify(body).slice(0, 80));
    t.is(typeof res.body.error.message, 'string');
    t.false(/\n\s+at /.test(res.body.error.message));
  }
  const bad = await small.app.inject({ method: 'POST', url: '/v1/indexes/main/count', payload: '{"query": ', headers: { 'content-type': 'application/json' } });
  t.is(bad.statusCode, 400);
  t.is(bad.json().error.code, 'ERR_INVALID_ARGUMENT');
  const proto = await small.app.inject({ method: 'POST', url: '/v1/indexes/main/count', payload: '{"query":"a","__proto__":{"x":1}}', headers: { 'content-type': 'application/json' } });
  t.is(proto.statusCode, 400);
  t.like(await post(small, '/v1/indexes/zzz/count', { query: 'a' }), { status: 404, body: { error: { code: 'ERR_NOT_FOUND' } } });
  t.like(await small.app.inject({ url: '/v1/nothing' }).then((x) => ({ status: x.statusCode, body: x.json() })), { status: 404, body: { error: { code: 'ERR_NOT_FOUND' } } });
  t.like(await post(small, '/v1/indexes/main/shield', { query: 'abc' }), { status: 400 });
  t.like(await post(small, '/v1/indexes/main/trace', { query: 'abc', logBase: 1 }), { status: 400 });
  const plain = await small.app.inject({ method: 'POST', url: '/v1/indexes/main/count', payload: 'query=a', headers: { 'content-type': 'text/plain' } });
  t.is(plain.statusCode, 415);  // docs/server.md: a body that is not JSON (fastify's text/plain parser made it 400)
  t.is(plain.json().error.code, 'ERR_MEDIA_TYPE');
  const wrongType = await small.app.inject({ method: 'POST', url: '/v1/indexes/main/count', payload: '<q/>', headers: { 'content-type': 'application/xml' } });
  t.is(wrongType.statusCode, 415);
  t.is(wrongType.json().error.code, 'ERR_MEDIA_TYPE');
  await small.shutdown();
});

// An output long enough that tracing it takes well over a few milliseconds.
const LONG = Array.from({ length: 3000 }, (_, i) => TEXTS[i % TEXTS.length]).join(' . ');

test.serial('the deadline reaches the core: a long trace past timeoutMs answers 504 and the server keeps answering', async (t) => {
  const s = await createServer({ indexes: { main: index }, bodyLimit: 16 << 20, maxQueryTokens: 1 << 24, timeoutMs: 60_000 });
  let t0 = Date.now();
  t.is((await post(s, '/v1/indexes/main/trace', { query: LONG, maxDocuments: 0 })).status, 200);
  const full = Date.now() - t0;
  t0 = Date.now();
  // Well inside the native part of the trace (at 150 ms a quiet machine sometimes finished it first: 200).
  const res = await post(s, '/v1/indexes/main/trace', { query: LONG, timeoutMs: 60, maxDocuments: 0 });
  const cut = Date.now() - t0;
  t.is(res.status, 504, `${cut} ms of ${full}`);
  t.is(res.body.error.code, 'ERR_TIMEOUT');
  // Cancelled in the core, not abandoned: the answer comes long before the whole trace would have finished.
  t.true(cut < full * 0.7, `504 after ${cut} ms; the whole trace takes ${full} ms`);
  t.deepEqual((await post(s, '/v1/indexes/main/count', { query: [97] })).body, { result: O.count(DOCS, [97]) });
  await s.shutdown();
});

test('overload: beyond the running and queued slots a request gets 503 with Retry-After at once', async (t) => {
  const s = await createServer({ indexes: { main: index }, bodyLimit: 16 << 20, maxQueryTokens: 1 << 24, maxConcurrent: 1, maxQueued: 1, timeoutMs: 30_000 });
  const slow = () => post(s, '/v1/indexes/main/trace', { query: LONG, maxDocuments: 0 });
  let settled = 0;
  const first = slow().finally(() => settled++);
  const second = slow().finally(() => settled++);
  await new Promise((resolve) => setTimeout(resolve, 5));
  const third = await post(s, '/v1/indexes/main/count', { query: 'a' });
  t.is(third.status, 503);
  t.is(third.body.error.code, 'ERR_OVERLOADED');
  t.is(third.headers['retry-after'], '1');
  // Refused at once: before the running and the queued request are done.
  t.is(settled, 0);
  const [a, b] = await Promise.all([first, second]);
  t.is(a.status, 200);
  t.is(b.status, 200);
  t.deepEqual(a.body, b.body);
  t.is((await post(s, '/v1/indexes/main/count', { query: 'a' })).status, 200);
  const metrics = (await s.app.inject({ url: '/metrics' })).body;
  t.regex(metrics, /traceindex_overloaded_total 1\b/);
  t.regex(metrics, /traceindex_http_requests_total\{route="\/v1\/indexes\/:name\/count",method="POST",status="503"\} 1/);
  await s.shutdown();
});

test('a queued request whose deadline passes while it waits answers 504 without running', async (t) => {
  const s = await createServer({ indexes: { main: index }, bodyLimit: 16 << 20, maxQueryTokens: 1 << 24, maxConcurrent: 1, maxQueued: 4 });
  const first = post(s, '/v1/indexes/main/trace', { query: LONG, maxDocuments: 0 });
  await new Promise((resolve) => setTimeout(resolve, 5));
  const queued = await post(s, '/v1/indexes/main/count', { query: 'a', timeoutMs: 1 });
  t.is(queued.status, 504);
  t.is((await first).status, 200);
  await s.shutdown();
});

test('bearer auth from a token file, CORS, request ids, health, readiness after preload, OpenAPI', async (t) => {
  const tokenFile = path.join(scratch, 'token');
  fs.writeFileSync(tokenFile, 's3cret\n');
  const s = await createServer({ indexes: { main: index }, tokenFile, cors: ['https://ok.example'], preload: true });
  t.like(await post(s, '/v1/indexes/main/count', { query: 'a' }), { status: 401, body: { error: { code: 'ERR_UNAUTHORIZED' } } });
  t.like(await post(s, '/v1/indexes/main/count', { query: 'a' }, { authorization: 'Bearer wrong' }), { status: 401 });
  const ok = await post(s, '/v1/indexes/main/count', { query: 'a' }, { authorization: 'Bearer s3cret', origin: 'https://ok.example', 'x-request-id': 'req-42' });
  t.is(ok.status, 200);
  t.is(ok.headers['access-control-allow-origin'], 'https://ok.example');
  t.is(ok.headers['x-request-id'], 'req-42');
  const other = await post(s, '/v1/indexes/main/count', { query: 'a' }, { authorization: 'Bearer s3cret', origin: 'https://evil.example' });
  t.is(other.headers['access-control-allow-origin'], undefined);
  const pre = await s.app.inject({ method: 'OPTIONS', url: '/v1/indexes/main/count', headers: { origin: 'https://ok.example', 'access-control-request-method': 'POST' } });
  t.is(pre.statusCode, 204);
  t.regex(String(pre.headers['access-control-allow-headers']), /authorization/);
  t.is((await s.app.inject({ url: '/healthz' })).statusCode, 200);
  for (let i = 0; i < 200 && !s.ready; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  t.true(s.ready);
  t.is((await s.app.inject({ url: '/readyz' })).statusCode, 200);
  t.is((await s.app.inject({ url: '/' })).statusCode, 200);
  // The page's own files load without a token (a <script src> cannot send one); other paths still need it.
  for (const asset of ['viewer.js', 'viewer.css']) t.is((await s.app.inject({ url: `/assets/${asset}` })).statusCode, 200, asset);
  t.is((await s.app.inject({ url: '/assets/other.js' })).statusCode, 404);
  t.is((await s.app.inject({ url: '/metrics' })).statusCode, 401);
  const metrics = await s.app.inject({ url: '/metrics', headers: { authorization: 'Bearer s3cret' } });
  t.regex(metrics.body, new RegExp(`traceindex_index_tokens\\{index="main"\\} ${index.info.tokens}`));
  t.regex(metrics.body, /traceindex_http_request_duration_seconds_bucket/);
  const api = (await s.app.inject({ url: '/openapi.json', headers: { authorization: 'Bearer s3cret' } })).json();
  t.is(api.openapi, '3.1.0');
  for (const route of ['count', 'locate', 'longest-match', 'next-tokens', 'document', 'trace', 'shield', 'scores', 'scan'])
    t.truthy(api.paths[`/v1/indexes/{name}/${route}`], route);
  t.deepEqual(api.components.schemas.CountRequest.oneOf, [{ required: ['query'] }, { required: ['queries'] }]);
  await s.shutdown();
  t.is((await s.app.inject({ url: '/readyz' }).catch(() => ({ statusCode: 503 }))).statusCode, 503);
});

test('preload: /readyz is 503 until advise(willneed) has warmed every mapping of every index, then 200', async (t) => {
  // An index of its own: the other tests' index keeps its real advise.
  const own = await openIndex(path.join(scratch, 'idx'));
  t.teardown(() => own.close());
  const core = coreOf(own);
  const real = core.advise.bind(core);
  let release!: () => void;
  const held = new Promise<void>((resolve) => { release = resolve; });
  const calls: string[] = [];
  let warmed: Awaited<ReturnType<typeof real>> | undefined;
  core.advise = async (advice, options) => {
    calls.push(advice);
    await held;  // the slow path: the kernel still reading
    warmed = await real(advice, options);
    return warmed;
  };
  const s = await createServer({ indexes: { main: own }, preload: true });
  t.teardown(() => s.shutdown());
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.deepEqual(calls, ['willneed']);
  t.false(s.ready);
  t.is((await s.app.inject({ url: '/readyz' })).statusCode, 503);
  release();
  for (let i = 0; i < 200 && !s.ready; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  t.true(s.ready);
  t.is((await s.app.inject({ url: '/readyz' })).statusCode, 200);
  // What was warmed: every file of every shard (the manifest is read, not mapped), the advice taken for each.
  const shardFiles = fs.readdirSync(own.dir).filter((d) => d.startsWith('shard-'))
    .flatMap((d) => fs.readdirSync(path.join(own.dir, d)).map((f) => fs.statSync(path.join(own.dir, d, f)).size));
  t.is(warmed?.files, shardFiles.length);
  t.is(warmed?.bytes, shardFiles.reduce((a, b) => a + b, 0));
  t.is(warmed?.advised, shardFiles.length);
  // Without preload nothing is advised and the server is ready at once.
  calls.length = 0;
  const plain = await createServer({ indexes: { main: own } });
  t.teardown(() => plain.shutdown());
  await new Promise((resolve) => setImmediate(resolve));
  t.true(plain.ready);
  t.deepEqual(calls, []);
});

// ---- scan ----

function ndjsonScan(s: TraceIndexServer, body: string | Buffer, query = '') {
  return s.app.inject({ method: 'POST', url: `/v1/indexes/main/scan${query}`, payload: body, headers: { 'content-type': 'application/x-ndjson' } });
}

test('scan: NDJSON out in input order, traced like traceBatch; bad lines get an error in their place', async (t) => {
  const outs = Array.from({ length: 150 }, (_, i) => TEXTS[i % TEXTS.length].slice(i % 17, 60 + (i % 23)));
  const lines = outs.map((text, i) => (i % 25 === 7 ? 'not json' : i % 25 === 11 ? JSON.stringify({ id: `r${i}`, tokens: [300] }) : i % 25 === 13 ? JSON.stringify({ id: `r${i}`, text, extra: 1 }) : JSON.stringify({ id: `r${i}`, text })));
  const res = await ndjsonScan(server, lines.join('\n') + '\n\n', '?minLength=4&maxDocuments=1');
  t.is(res.statusCode, 200);
  t.regex(String(res.headers['content-type']), /application\/x-ndjson/);
  const got = res.body.trim().split('\n').map((l) => JSON.parse(l));
  t.is(got.length, outs.length);
  const own = await index.traceBatch(outs, { minLength: 4, maxDocuments: 1 });
  got.forEach((g, i) => {
    t.is(g.index, i);
    if (i % 25 === 7 || i % 25 === 11 || i % 25 === 13) {
      t.is(g.error.code, 'ERR_BAD_INPUT');
      t.regex(g.error.message, new RegExp(`^line ${i + 1}`));
      return;
    }
    t.is(g.id, `r${i}`);
    t.deepEqual(g.spans.map((s: { start: number; end: number; count: number }) => [s.start, s.end, s.count]), own[i].spans.map((s) => [s.start, s.end, s.count]));
  });
  t.like((await ndjsonScan(server, '{}', '?minLength=x')), { statusCode: 400 });
  t.like((await ndjsonScan(server, '{}', '?bogus=1')), { statusCode: 400 });
  const json = await server.app.inject({ method: 'POST', url: '/v1/indexes/main/scan', payload: { text: 'a' } });
  t.is(json.statusCode, 415);
});

test('scan bodies are read as the build reads JSONL: a leading BOM is dropped, a line that is not UTF-8 is refused; a text/plain body is 415', async (t) => {
  const res = await ndjsonScan(server, Buffer.concat([Buffer.from('\ufeff{"text":"ab"}\n{"text":"'), Buffer.from([0x61, 0xff, 0x62]), Buffer.from('"}\n\ufeff{"text":"ab"}\n')]), '?maxDocuments=0');
  const got = res.body.trim().split('\n').map((l: string) => JSON.parse(l));
  const own = await index.trace('ab', { maxDocuments: 0 });
  t.deepEqual(got[0].spans.map((s: { start: number; end: number; count: number }) => [s.start, s.end, s.count]), own.spans.map((s) => [s.start, s.end, s.count]));
  t.deepEqual(got[1], { id: '1', index: 1, error: { code: 'ERR_BAD_INPUT', message: 'line 2 is not valid UTF-8' } });
  t.is(got[2].error.code, 'ERR_BAD_INPUT');  // a BOM is dropped at the start of the body only
  t.regex(got[2].error.message, /^line 3 is not JSON/);
  t.is(got.length, 3);
  const plain = await server.app.inject({ method: 'POST', url: '/', payload: '{"query_type":"count","query":"ab"}', headers: { 'content-type': 'text/plain' } });
  t.deepEqual([plain.statusCode, plain.json().code], [415, 'ERR_MEDIA_TYPE']);
});

test('scan over HTTP: a reader that does not read stops the reading of the body; the server stays well', async (t) => {
  const s = await createServer({ indexes: { main: index }, maxScans: 1 });
  const { port } = await s.listen({ port: 0 });
  const line = JSON.stringify({ text: TEXTS[1].slice(0, 200) }) + '\n';
  const total = 200 << 20;  // far more than any socket buffer holds
  let written = 0;
  const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/indexes/main/scan?minLength=1&maxDocuments=0', headers: { 'content-type': 'application/x-ndjson' } });
  req.on('error', () => {});
  let response: http.IncomingMessage | undefined;
  req.on('response', (res) => { response = res; res.pause(); });
  // Write until the server has answered (its headers came with the first results) and the socket refuses more
  // and stays refused for a while: the server has stopped reading. On a loaded machine the server may be slow to
  // answer at all: a full socket before the answer says nothing yet, so the quiet time restarts until it arrives.
  const stalled = await new Promise<boolean>((resolve) => {
    let quiet: NodeJS.Timeout | undefined;
    const giveUp = Date.now() + 60_000;  // no answer in a minute: let the assertions below say so
    const waitQuiet = () => { quiet = setTimeout(() => (response || Date.now() > giveUp ? resolve(true) : waitQuiet()), 1500); };
    const pump = () => {
      clearTimeout(quiet);
      while (written < total) {
        const chunk = line.repeat(512);
        written += chunk.length;
        if (!req.write(chunk)) {
          waitQuiet();
          req.once('drain', pump);
          return;
        }
      }
      resolve(false);
    };
    pump();
  });
  t.true(stalled, 'the whole body was accepted though nobody read the results');
  t.true(written < total / 4, `${written} bytes accepted`);
  t.truthy(response);
  // A second scan is refused while the first holds the only scan slot.
  const busy = await fetch(`http://127.0.0.1:${port}/v1/indexes/main/scan`, { method: 'POST', body: '{"text":"a"}\n', headers: { 'content-type': 'application/x-ndjson' } });
  t.is(busy.status, 503);
  req.destroy();
  // The slot comes back once the aborted scan has wound down.
  let status = 0;
  for (let i = 0; i < 100 && status !== 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const again = await fetch(`http://127.0.0.1:${port}/v1/indexes/main/scan`, { method: 'POST', body: JSON.stringify({ id: 'x', text: TEXTS[2] }) + '\n', headers: { 'content-type': 'application/x-ndjson' } });
    status = again.status;
    if (status === 200) t.is(JSON.parse((await again.text()).trim()).id, 'x');
  }
  t.is(status, 200);
  await s.shutdown();
});

test('renderScanReport keeps the riskiest outputs of a scan, by largest BCI, as a self-contained page', async (t) => {
  const { renderScanReport, renderTraceReport } = await import('../lib/viewer');
  const outs = Array.from({ length: 40 }, (_, i) => ({ id: `o${i}`, text: TEXTS[i].slice(i % 5, 20 + 3 * i) }));
  const results = [];
  for await (const res of index.scan(outs, { minLength: 3 })) results.push(res);
  const html = await renderScanReport(index, results, { top: 5, tau: 30, textOf: (id) => outs.find((o) => o.id === id)?.text });
  const data = JSON.parse(/<script type="application\/json" id="traceindex-data">(.*?)<\/script>/s.exec(html)![1]);
  const want = [...results].sort((a, b) => b.maxBci - a.maxBci).slice(0, 5);
  t.deepEqual(data.items.map((it: { id: string }) => it.id), want.map((w) => w.id));
  t.deepEqual(data.items[0].result.spans.map((s: { start: number; end: number }) => [s.start, s.end]), want[0].spans.map((s) => [s.start, s.end]));
  for (const it of data.items) for (const s of it.result.spans) t.is(it.text.slice(s.textStart, s.textEnd), s.text);
  t.is(data.note, '40 scanned, ' + results.filter((x) => x.spans.length).length + ' with spans, 0 error(s)');
  t.false(/<script src=|<link rel="stylesheet" href=/.test(html));
  // A text that would close the script element stays inside the data.
  const evil = '</script><script>alert(1)</script>';
  const one = renderTraceReport(index, { output: evil, result: await index.trace(evil) });
  t.is(one.split('</script>').length - 1, 2);
});

test('a client that goes away cancels its native call; requests after it on a kept-alive connection are not; shutdown cancels', async (t) => {
  // A second Index of the same files, its countBatch held until its signal aborts (tests in this file run at once).
  const own = await openIndex(path.join(scratch, 'idx'));
  const real = own.countBatch.bind(own);
  const signals: AbortSignal[] = [];
  let hold = false;
  own.countBatch = (queries, o) => {
    const signal = o!.signal!;
    signals.push(signal);
    if (!hold) return real(queries, o);
    return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
  };
  const s = await createServer({ indexes: { main: own } });
  const { port } = await s.listen({ port: 0 });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const count = (a: http.Agent | false, query: string) => new Promise<{ status: number; body: string; req: http.ClientRequest }>((resolve, reject) => {
    const body = JSON.stringify({ query });
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/indexes/main/count', agent: a, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode!, body: data, req }));
    });
    req.on('error', reject);
    req.end(body);
  });
  const until = async (what: () => boolean) => {
    for (const giveUp = Date.now() + 10_000; !what() && Date.now() < giveUp;) await new Promise((resolve) => setTimeout(resolve, 5));
  };
  for (const q of [TEXTS[0].slice(0, 7), TEXTS[1].slice(0, 5)]) {
    const a = await count(agent, q);
    t.is(a.status, 200);
    t.is(JSON.parse(a.body).result, O.count(DOCS, O.utf8(q)));
  }
  t.is(signals.length, 2);
  t.is(signals[0], signals[1], 'one signal for the requests of one connection');
  t.false(signals[0].aborted);
  hold = true;
  // A request whose client goes away mid-call: its signal aborts, the kept-alive connection's does not.
  const body = JSON.stringify({ query: 'abc' });
  const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/indexes/main/count', agent: false, headers: { 'content-type': 'application/json', 'content-length': body.length } });
  req.on('error', () => {});
  req.end(body);
  await until(() => signals.length === 3);
  t.is(signals.length, 3);
  t.false(signals[2].aborted);
  req.destroy();
  await until(() => signals[2].aborted);
  t.true(signals[2].aborted, 'the call of a client that went away is cancelled');
  t.false(signals[0].aborted, 'the kept-alive connection is still open: its signal has not fired');
  // Shutdown past its drain deadline cancels a call still running.
  const held = count(false, 'abd').catch(() => undefined);
  await until(() => signals.length === 4);
  t.false(signals[3].aborted);
  await s.shutdown({ drainMs: 50 });
  t.true(signals[3].aborted, 'shutdown cancelled the call in flight');
  await held;
  agent.destroy();
  own.close();
});
