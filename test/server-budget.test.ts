/**
 * The server's per-request result budget (maxResultTokens, docs/server.md): a request whose answer may hold more
 * tokens than the limit is refused with 413 before any work (locate pages, trace and shield attributions, next-token
 * entries), documents stop at the budget, the core caps the attributions' snippets at it; the scan's query-string
 * options keep the JSON routes' bounds; a locate offset past 10^6 is refused. Answers within the budget equal the
 * library's and the oracle's.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildIndex, Index, openIndex } from '../lib/index';
import { createServer, TraceIndexServer } from '../lib/server';
import * as O from './helpers/oracle';

const scratch = O.tmpDir('server-budget');
const r = O.rng(31);
const TEXTS = Array.from({ length: 40 }, () => Array.from({ length: O.randInt(r, 20, 200) }, () => String.fromCharCode(97 + O.randInt(r, 0, 8))).join(''));
const DOCS = TEXTS.map(O.utf8);
let index: Index;
const servers: TraceIndexServer[] = [];

test.before(async () => {
  const out = path.join(scratch, 'idx');
  await buildIndex({ inputs: TEXTS.map((text, i) => ({ text, id: `d${i}` })), out, shardTokens: O.shardTokensFor(DOCS, 2) });
  index = await openIndex(out);
});
test.after.always(async () => {
  for (const s of servers) await s.shutdown();
  index?.close();
  fs.rmSync(scratch, { recursive: true, force: true });
});

async function serve(maxResultTokens?: number): Promise<TraceIndexServer> {
  const s = await createServer({ indexes: { main: index }, ...(maxResultTokens === undefined ? {} : { maxResultTokens }) });
  servers.push(s);
  return s;
}

async function post(s: TraceIndexServer, route: string, payload: unknown) {
  const res = await s.app.inject({ method: 'POST', url: `/v1/indexes/main/${route}`, payload: payload as object });
  return { status: res.statusCode, body: res.json() };
}

/** The core's refusal at the request's budget. */
const OVER = (limit: number) =>
  `the answer's snippets, documents and their records (a token per 4 bytes) exceed the limit of ${limit} tokens per request: ask for fewer attributions, occurrences or documents, or less context`;
const TOO_LARGE = (n: number, limit: number) =>
  `the answer may hold ${n} tokens, more than the limit of ${limit} per request: ask for fewer queries, occurrences, attributions or less context`;

test('default budget (2^23 tokens): the amplifying requests of the review are 413 before any work', async (t) => {
  const s = await serve();
  t.is(s.limits.maxResultTokens, 2 ** 23);
  // locate, limit 10 000 x context 4096 (the heap-exhaustion probe): each page min(10 000, count) occurrences of
  // query + 8192 tokens and 32 for the occurrence's objects, once the queries are counted.
  const letters = ['a', 'b', 'c'];
  const pages = letters.reduce((n, q) => n + Math.min(10_000, O.count(DOCS, O.utf8(q))) * (1 + 8192 + 32), 0);
  t.true(pages > 2 ** 23);
  t.deepEqual(await post(s, 'locate', { queries: letters, limit: 10_000, context: 4096 }),
    { status: 413, body: { error: { code: 'ERR_TOO_LARGE', message: TOO_LARGE(pages, 2 ** 23) } } });
  // trace: 1000 attributions per span with 4096 tokens of context on each side.
  const q = 'abcdefghia'.repeat(5);
  t.deepEqual(await post(s, 'trace', { query: q, maxDocuments: 1000, context: 4096 }),
    { status: 413, body: { error: { code: 'ERR_TOO_LARGE', message: TOO_LARGE(50 * 1000 * 8193, 2 ** 23) } } });
  t.is((await post(s, 'shield', { query: q, tau: 1, maxDocuments: 1000, context: 4096, mode: { window: 8 } })).body.error.message,
    TOO_LARGE((50 - 8 + 1) * 1000 * (8192 + 8), 2 ** 23));
  // A window longer than the output has no window to attribute.
  t.is((await post(s, 'shield', { query: q, tau: 1, maxDocuments: 1000, context: 4096, mode: { window: 51 } })).status, 200);
  // Within it, a locate page equals the oracle.
  const ok = await post(s, 'locate', { query: 'ab', limit: 10_000, context: 2 });
  t.is(ok.status, 200);
  t.deepEqual(ok.body.result.occurrences.map((o: { document: number; position: { token: number } }) => [o.document, o.position.token]),
    O.occurrences(DOCS, O.utf8('ab')).map((o) => [o.doc, o.offset]));
});

test('a small budget: locate, next-tokens and documents at the boundary answer, one token more is 413', async (t) => {
  // locate: min(limit, count - offset) x (query + 2 x context + 32 for the occurrence's objects) per query, checked
  // before any work; then in the core each occurrence's record too, a token per 4 bytes ({"id":"dN"}: 2 or 3), each
  // query within its share of the budget (what it needs and the slack in proportion).
  const body = { queries: ['ab', 'ba', 'ca'], limit: 7, context: 4, offset: 2 };
  const page = (q: string) => Math.min(7, O.count(DOCS, O.utf8(q)) - 2) * (q.length + 8 + 32);
  const records = (q: string) => O.occurrences(DOCS, O.utf8(q)).slice(2, 9).reduce((n, o) => n + Math.floor(JSON.stringify({ id: `d${o.doc}` }).length / 4), 0);
  const pages = page('ab') + page('ba') + page('ca');
  const s = await serve(pages + 2 * (records('ab') + records('ba') + records('ca')));
  const ok = await post(s, 'locate', body);
  t.is(ok.status, 200);
  ok.body.results.forEach((res: { total: number; occurrences: Array<{ document: number; position: { token: number } }> }, i: number) => {
    const want = O.occurrences(DOCS, O.utf8(body.queries[i]));
    t.is(res.total, want.length);
    t.deepEqual(res.occurrences.map((o) => [o.document, o.position.token]), want.slice(2, 9).map((o) => [o.doc, o.offset]));
  });
  const tooMany = pages + page('a');
  t.true(tooMany > s.limits.maxResultTokens);
  t.deepEqual((await post(s, 'locate', { ...body, queries: [...body.queries, 'a'] })).body.error,
    { code: 'ERR_TOO_LARGE', message: TOO_LARGE(tooMany, s.limits.maxResultTokens) });
  // A page past the last occurrence holds none.
  t.is((await post(s, 'locate', { ...body, queries: [...body.queries, 'a'], offset: 1_000_000 })).status, 200);
  // One query: what its page holds (snippets cut at their documents' edges, 32 per occurrence, the records) fits
  // exactly; a token less passes the estimate and is refused in the core.
  const held = O.occurrences(DOCS, O.utf8('ab')).slice(2, 9)
    .reduce((n, o) => n + Math.min(DOCS[o.doc].length, o.offset + 2 + 4) - Math.max(0, o.offset - 4) + 32, records('ab'));
  t.true(held <= page('ab') + records('ab'));
  t.is((await post(await serve(held), 'locate', { ...body, queries: ['ab'] })).status, 200);
  t.deepEqual((await post(await serve(held - 1), 'locate', { ...body, queries: ['ab'] })).body.error, { code: 'ERR_TOO_LARGE', message: OVER(held - 1) });

  // next-tokens: min(top, vocabulary = 255) entries per query.
  const nt = await serve(3 * 255);
  const three = await post(nt, 'next-tokens', { queries: ['a', 'b', 'c'], top: 1_000_000 });
  t.is(three.status, 200);
  t.deepEqual(three.body.results.map((n: { tokens: number[]; counts: number[] }) => [n.tokens, n.counts]),
    ['a', 'b', 'c'].map((q) => { const o = O.nextTokens(DOCS, O.utf8(q)); return [o.tokens, o.counts]; }));
  t.deepEqual((await post(nt, 'next-tokens', { queries: ['a', 'b', 'c', 'd'], top: 1_000_000 })).body.error,
    { code: 'ERR_TOO_LARGE', message: TOO_LARGE(4 * 255, 3 * 255) });
  t.is((await post(nt, 'next-tokens', { queries: ['a', 'b', 'c', 'd'], top: 191 })).status, 200);

  // documents: their tokens and records, each document refused by the core before it is read when it would go over.
  const record = (i: number) => Math.floor(JSON.stringify({ id: `d${i}` }).length / 4);
  const upTo = DOCS[0].length + record(0) + DOCS[1].length + record(1);
  const docs = await serve(upTo);
  const two = await post(docs, 'document', { documents: [0, 'd1'] });
  t.deepEqual(two.body.results.map((d: { text: string }) => d.text), [TEXTS[0], TEXTS[1]]);
  t.deepEqual((await post(docs, 'document', { documents: [0, 1, 2] })).body.error,
    { code: 'ERR_TOO_LARGE', message: `the documents asked for hold more than the limit of ${upTo} tokens per request: ask for fewer documents` });
  const one = await serve(DOCS[1].length + record(1) - 1);
  t.is((await post(one, 'document', { documents: ['d1'] })).status, 413);
  t.is((await post(one, 'document', { documents: [0] })).status, DOCS[0].length + record(0) < DOCS[1].length + record(1) ? 200 : 413);
  t.is((await post(await serve(DOCS[1].length + record(1)), 'document', { documents: ['d1'] })).status, 200);
});

test("trace: the attributions' own span tokens are capped in the core at the budget (413), the context part before any work", async (t) => {
  // An output of random letters: its maximal spans overlap, so their tokens sum to more than the output's. Each
  // attribution costs its snippet tokens and 32 for its objects.
  const out = Array.from({ length: 120 }, () => String.fromCharCode(97 + O.randInt(r, 0, 8))).join('');
  const options = { maxDocuments: 1, context: 0 };
  const own = await index.trace(out, options);
  // Each attribution: its snippet, 32 for its objects, and its document's record ({"id":"dN"}) at a token per 4 bytes.
  const recordTokens = (id: string) => Math.floor(Buffer.byteLength(JSON.stringify({ id })) / 4);
  const snippetTokens = own.spans.reduce((n, s) => n + s.documents.reduce((m, d) => m + s.end - s.start + 32 + recordTokens(d.id), 0), 0);
  t.true(snippetTokens > out.length, `${snippetTokens} snippet tokens`);
  const exact = await serve(snippetTokens);
  const ok = await post(exact, 'trace', { query: out, ...options });
  t.is(ok.status, 200);
  t.deepEqual(ok.body.result.spans.map((s: { start: number; end: number; count: number }) => [s.start, s.end, s.count]), own.spans.map((s) => [s.start, s.end, s.count]));
  const under = await serve(snippetTokens - 1);
  t.deepEqual((await post(under, 'trace', { query: out, ...options })).body,
    { error: { code: 'ERR_TOO_LARGE', message: OVER(snippetTokens - 1) } });
  t.is((await post(under, 'shield', { query: out, tau: 1e9, ...options })).status, 413);
  // A budget above the most one call may hold (2^26) is that most.
  const wide = await serve(2 ** 27);
  t.deepEqual((await post(wide, 'trace', { query: out, ...options })).body, ok.body);
});

test('scan: query-string options keep the JSON routes\' bounds; a record over the budget gets an error in its place', async (t) => {
  const s = await serve(1000);
  const scan = (qs: string, payload: string) => s.app.inject({ method: 'POST', url: `/v1/indexes/main/scan?${qs}`, headers: { 'content-type': 'application/x-ndjson' }, payload });
  for (const [qs, message] of [
    ['maxDocuments=1001', 'maxDocuments must be an integer in [0, 1000], got "1001"'],
    ['context=4097', 'context must be an integer in [0, 4096], got "4097"'],
    ['minLength=1073741825', 'minLength must be an integer in [0, 1073741824], got "1073741825"'],
    ['logBase=1000001', 'logBase must be a positive number, at most 1000000'],
  ]) {
    const res = await scan(qs, '{"text":"abc"}\n');
    t.is(res.statusCode, 400, qs);
    t.deepEqual(res.json(), { error: { code: 'ERR_INVALID_ARGUMENT', message } }, qs);
  }
  // 1000 tokens of budget: maxDocuments 2, context 4 → 18 per output token; 55 tokens fit, 56 do not.
  const long = TEXTS.find((x) => x.length >= 56) as string;
  const fits = long.slice(0, 55), over = long.slice(0, 56);
  const res = await scan('maxDocuments=2&context=4', `{"text":${JSON.stringify(fits)}}\n{"text":${JSON.stringify(over)}}\n`);
  t.is(res.statusCode, 200);
  const [a, b] = res.body.trim().split('\n').map((l) => JSON.parse(l));
  const own = await index.trace(fits, { maxDocuments: 2, context: 4 });
  t.deepEqual(a.spans.map((x: { start: number; end: number }) => [x.start, x.end]), own.spans.map((x) => [x.start, x.end]));
  t.deepEqual(b, { id: '1', index: 1, error: { code: 'ERR_BAD_INPUT', message: 'line 2: its attributions may hold 1008 tokens, more than the limit of 1000: ask for fewer (maxDocuments) or less context' } });
});

test('locate offset: at most 10^6 on the server (a deep page costs passes over every occurrence)', async (t) => {
  const s = await serve();
  const deep = await post(s, 'locate', { query: 'a', offset: 1_000_001 });
  t.is(deep.status, 400);
  t.is(deep.body.error.code, 'ERR_INVALID_ARGUMENT');
  const last = await post(s, 'locate', { query: 'a', offset: 1_000_000 });
  t.deepEqual(last.body.result, { total: O.occurrences(DOCS, [97]).length, occurrences: [] });
});

test("a document's record counts in the budget (a token per 4 bytes): 100 KiB of metadata repeated per attribution is 413, not unbounded", async (t) => {
  const out = path.join(scratch, 'big-meta');
  const meta = 'm'.repeat(100 << 10);
  await buildIndex({ inputs: [{ text: 'zqzqzq plain', id: 'big', meta: { note: meta } }, { text: 'other words' }], out });
  const own = await openIndex(out);
  t.teardown(() => own.close());
  const serveOwn = async (maxResultTokens: number) => {
    const s = await createServer({ indexes: { main: own }, maxResultTokens });
    servers.push(s);
    return s;
  };
  const options = { query: 'zqzqzq', maxDocuments: 1, context: 0, minLength: 3 };
  const small = await post(await serveOwn(20_000), 'trace', options);
  t.is(small.status, 413, JSON.stringify(small.body).slice(0, 300));
  t.is(small.body.error.code, 'ERR_TOO_LARGE');
  const large = await post(await serveOwn(100_000), 'trace', options);
  t.is(large.status, 200);
  t.is(large.body.result.spans[0].documents[0].metadata.note, meta);
  // The document route, locate and infini-gram's search_docs and get_doc_by_rank count the record the same way
  // (each shown document repeats it): refused by the core before the record is copied.
  const recordTokens = Math.floor(Buffer.byteLength(JSON.stringify({ id: 'big', meta: { note: meta } })) / 4);
  const tight = await serveOwn(12 + recordTokens - 1), roomy = await serveOwn(12 + recordTokens);
  t.like(await post(tight, 'document', { documents: ['big'] }), { status: 413, body: { error: { code: 'ERR_TOO_LARGE' } } });
  t.is((await post(roomy, 'document', { documents: ['big'] })).body.results[0].metadata.note, meta);
  // locate: the snippet (4 tokens), 32 for the occurrence, the record.
  const one = { query: 'zqzq', limit: 1, context: 0 };
  t.like(await post(await serveOwn(4 + 32 + recordTokens - 1), 'locate', one), { status: 413, body: { error: { code: 'ERR_TOO_LARGE' } } });
  t.is((await post(await serveOwn(4 + 32 + recordTokens), 'locate', one)).body.result.occurrences[0].metadata.note, meta);
  const ig = async (s: TraceIndexServer, body: object) => {
    const res = await s.app.inject({ method: 'POST', url: '/', payload: { index: 'main', ...body } });
    return { status: res.statusCode, body: res.json() };
  };
  const search = { query_type: 'search_docs', query_ids: [...Buffer.from('zqzq')], max_disp_len: 4 };
  const three = await serveOwn(3 * (4 + recordTokens));
  t.is((await ig(three, { ...search, maxnum: 3 })).status, 200);
  t.like(await ig(three, { ...search, maxnum: 4 }), { status: 413, body: { code: 'ERR_TOO_LARGE' } });
  const ranks = (await ig(roomy, { query_type: 'find', query_ids: [...Buffer.from('zqzq')] })).body.segment_by_shard as Array<[number, number]>;
  const rank = { query_type: 'get_doc_by_rank', s: 0, rank: ranks[0][0], max_disp_len: 4 };
  t.is((await ig(await serveOwn(4 + recordTokens), rank)).status, 200);
  t.like(await ig(await serveOwn(4 + recordTokens - 1), rank), { status: 413, body: { code: 'ERR_TOO_LARGE' } });
  // The library's own bound (2^26) holds records the same way.
  const located = await own.locate('zqzq', { limit: 3, context: 0 });
  t.is(located.occurrences.length, 2);
  t.is(located.occurrences[0].metadata!.note, meta);
});

// Regression (found by review): a locate batch's pages first get the budget in proportion to their snippets, so a
// query whose document has a large record got about half of it and the request was refused though its answer fit.
// Now the pages refused are read again in turn, each bound by what the others cost: 413 only when it does not fit.
test('a locate batch whose answer fits is answered even when one page holds most of the records; one token less is 413', async (t) => {
  const out = path.join(scratch, 'share-meta');
  const note = 'm'.repeat(4000);
  await buildIndex({ inputs: [{ text: 'zqzq here', id: 'big', meta: { note } }, { text: 'xyxy there', id: 's' }], out });
  const own = await openIndex(out);
  t.teardown(() => own.close());
  const rec = (r: object) => Math.floor(Buffer.byteLength(JSON.stringify(r)) / 4);
  const held = (4 + 32 + rec({ id: 'big', meta: { note } })) + (4 + 32 + rec({ id: 's' }));
  const body = { queries: ['zqzq', 'xyxy'], limit: 1, context: 0 };
  for (const [budget, status] of [[held, 200], [held - 1, 413], [held + 500, 200]] as const) {
    const s = await createServer({ indexes: { main: own }, maxResultTokens: budget });
    servers.push(s);
    const res = await post(s, 'locate', body);
    t.is(res.status, status, `budget ${budget}: ${JSON.stringify(res.body).slice(0, 200)}`);
    if (status === 200) {
      t.deepEqual(res.body.results.map((r: { occurrences: Array<{ id: string }> }) => r.occurrences.map((o) => o.id)), [['big'], ['s']]);
      t.is(res.body.results[0].occurrences[0].metadata.note, note);
    } else t.is(res.body.error.code, 'ERR_TOO_LARGE');
  }
});

// Regression (found by review rev5): the pages read again were each bound by the cap less the later queries' worst
// case (query + 2 × context + 32), so with context past the documents' ends an answer that fit was 413 or not
// depending on the order of the queries. The pages that fit their share are kept at their exact cost.
test('a locate batch with context is answered in either order when it fits (413 one token less): refused pages are bound by the exact costs of the others', async (t) => {
  const out = path.join(scratch, 'share-order');
  const long = 'x'.repeat(6000);
  await buildIndex({ inputs: [{ text: 'ab zq cd', id: long }, { text: 'ef zw gh', id: 'b' }], out });
  const own = await openIndex(out);
  t.teardown(() => own.close());
  const rec = (r: object) => Math.floor(Buffer.byteLength(JSON.stringify(r)) / 4);
  // Context 8 takes each whole 8-byte document as the snippet; the worst case is 2 + 16 + 32 = 50 a page.
  const total = (8 + 32 + rec({ id: long })) + (8 + 32 + rec({ id: 'b' }));
  t.true(total > 1000);
  for (const queries of [['zq', 'zw'], ['zw', 'zq']]) {
    for (const [budget, status] of [[total, 200], [total - 1, 413]] as const) {
      const s = await createServer({ indexes: { main: own }, maxResultTokens: budget });
      servers.push(s);
      const res = await post(s, 'locate', { queries, limit: 1, context: 8 });
      t.is(res.status, status, `${queries} at ${budget}: ${JSON.stringify(res.body).slice(0, 200)}`);
      if (status === 200) {
        t.deepEqual(res.body.results.map((r: { occurrences: Array<{ id: string; snippet: { text: string } }> }) => r.occurrences.map((o) => [o.id, o.snippet.text])),
          queries.map((q) => (q === 'zq' ? [[long, 'ab zq cd']] : [['b', 'ef zw gh']])));
      } else t.deepEqual(res.body, { error: { code: 'ERR_TOO_LARGE', message: OVER(budget) } });
    }
  }
});
