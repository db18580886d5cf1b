/**
 * The service under abuse, over real HTTP on loopback: thousands of malformed requests each get a JSON error and
 * the server stays up with flat memory; slow clients are cut off (a JSON 408 for a trickled body); SIGTERM under
 * load drains in-flight requests and exits 0 (traceindex serve in a child process), and cuts what outlasts the
 * drain deadline. Loops are bounded in count and time.
 */
import test from 'ava';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { buildIndex, Index, openIndex } from '../lib/index';
import { createServer } from '../lib/server';
import { BatchedLog } from '../lib/server/log-stream';
import * as O from './helpers/oracle';

const scratch = O.tmpDir('server-faults');
const dir = path.join(scratch, 'idx');
const r = O.rng(31);
const WORDS = Array.from({ length: 300 }, () => Array.from({ length: O.randInt(r, 2, 7) }, () => String.fromCharCode(97 + O.randInt(r, 0, 20))).join(''));
const TEXTS = Array.from({ length: 200 }, () => Array.from({ length: O.randInt(r, 50, 400) }, () => O.pick(r, WORDS)).join(' '));
let index: Index;

test.before(async () => {
  await buildIndex({ inputs: TEXTS.map((text, i) => ({ text, id: `d${i}` })), out: dir });
  index = await openIndex(dir);
});
test.after.always(() => {
  index?.close();
  fs.rmSync(scratch, { recursive: true, force: true });
});

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

interface Answer { status: number; type: string; body: string }

function request(agent: http.Agent, port: number, method: string, url: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: url, agent, headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: Buffer.concat(parts).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Malformed request number i (deterministic): what is sent, and the status expected. */
function malformed(i: number): { method: string; url: string; body?: string | Buffer; headers?: Record<string, string>; status: number; compat?: boolean } {
  const k = i % 16;
  const url = '/v1/indexes/main/count';
  switch (k) {
    case 0: return { method: 'POST', url, body: '{"query": "abc"', status: 400 };
    case 1: return { method: 'POST', url, body: JSON.stringify({ query: { a: 1 } }), status: 400 };
    case 2: return { method: 'POST', url, body: '{"query": [1e400]}', status: 400 };
    case 3: return { method: 'POST', url, body: JSON.stringify({ query: 'abc', [`field${i}`]: i }), status: 400 };
    case 4: return { method: 'POST', url, body: JSON.stringify({ query: 'x'.repeat(70_000) }), status: 413 };
    case 5: return { method: 'POST', url, body: '['.repeat(20_000) + ']'.repeat(20_000), status: 400 };
    case 6: return { method: 'POST', url, body: Buffer.from([0x7b, 0x22, 0x71, 0xff, 0xfe, 0x22, 0x7d]), status: 400 };
    case 7: return { method: 'POST', url, body: '', status: 400 };
    case 8: return { method: 'POST', url, body: 'query=abc', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415 };
    case 9: return { method: 'POST', url: `/v1/indexes/nope${i}/trace`, body: JSON.stringify({ query: 'a' }), status: 404 };
    case 10: return { method: 'PUT', url, body: '{}', status: 404 };
    case 11: return { method: 'POST', url: '/v1/indexes/main/trace', body: JSON.stringify({ query: 'abc', minLength: -1, maxDocuments: 2 ** 80 }), status: 400 };
    case 12: return { method: 'POST', url: '/v1/indexes/main/locate', body: JSON.stringify({ query: 'abc', limit: 1e9 }), status: 400 };
    case 13: return (i >> 4) % 2
      ? { method: 'POST', url: '/', body: JSON.stringify({ index: 'main', query_type: 'get_doc_by_ptr', query: 'abc', s: 0, ptr: 0 }), status: 400, compat: true }
      : { method: 'POST', url: '/', body: JSON.stringify({ index: 'main', query_type: 'get_doc_by_rank', s: 0, rank: 2 ** 52 }), status: 404, compat: true };
    case 14: return { method: 'POST', url: '/', body: JSON.stringify({ index: 'main', query_type: 'count', query_ids: [[1, 2]] }), status: 400, compat: true };
    default: return { method: 'POST', url: '/v1/indexes/main/document', body: JSON.stringify({ document: Number.MAX_SAFE_INTEGER }), status: 404 };
  }
}

test('thousands of malformed requests each get a JSON error; the server stays up with flat memory', async (t) => {
  const s = await createServer({ indexes: { main: index }, bodyLimit: 64 << 10 });
  const { port } = await s.listen({ port: 0 });
  t.teardown(() => s.shutdown({ drainMs: 0 }));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const N = 4000;
  const deadline = Date.now() + 90_000;
  let checked = 0;
  let heapAtWarm = 0;
  const run = async (from: number, to: number) => {
    for (let i = from; i < to && Date.now() < deadline; i += 8) {
      await Promise.all(Array.from({ length: Math.min(8, to - i) }, async (_, j) => {
        const m = malformed(i + j);
        const a = await request(agent, port, m.method, m.url, m.body, m.headers);
        if (a.status !== m.status) t.fail(`request ${i + j} (kind ${(i + j) % 16}): status ${a.status}, expected ${m.status}: ${a.body.slice(0, 200)}`);
        if (!a.type.startsWith('application/json')) t.fail(`request ${i + j}: content-type ${a.type}`);
        const body = JSON.parse(a.body);
        if (m.compat ? typeof body.error !== 'string' : typeof body.error?.code !== 'string' || typeof body.error?.message !== 'string')
          t.fail(`request ${i + j}: body ${a.body.slice(0, 200)}`);
        if (/\n\s+at /.test(a.body)) t.fail(`request ${i + j}: a stack trace in ${a.body.slice(0, 200)}`);
        checked++;
      }));
    }
  };
  await run(0, 800);
  gc();
  heapAtWarm = process.memoryUsage().heapUsed;
  await run(800, N);
  gc();
  const growth = process.memoryUsage().heapUsed - heapAtWarm;
  t.true(checked >= 2000, `only ${checked} requests in the time allowed`);
  t.true(growth < 24 << 20, `heap grew by ${(growth / 2 ** 20).toFixed(1)} MiB over ${checked - 800} requests`);
  // Still up and right.
  const ok = await request(agent, port, 'POST', '/v1/indexes/main/count', JSON.stringify({ query: TEXTS[0].slice(0, 12) }));
  t.is(ok.status, 200);
  t.deepEqual(JSON.parse(ok.body), { result: O.count(TEXTS.map(O.utf8), O.utf8(TEXTS[0].slice(0, 12))) });
  t.log(`${checked} malformed requests, heap growth ${(growth / 2 ** 20).toFixed(2)} MiB`);
  agent.destroy();
});

/** Opens a raw socket, writes `head`, then one byte of `rest` every `everyMs`; resolves with what came back and when the socket closed. */
function trickle(port: number, head: string, rest: string, everyMs: number, maxMs: number): Promise<{ data: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    let i = 0;
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearInterval(timer);
      clearTimeout(cap);
      resolve({ data, ms: Date.now() - t0 });
    };
    const cap = setTimeout(() => { sock.destroy(); }, maxMs);
    sock.on('connect', () => {
      sock.write(head);
      timer = setInterval(() => { if (i < rest.length && !sock.destroyed) sock.write(rest[i++]); }, everyMs);
    });
    sock.on('data', (d) => { data += d.toString('utf8'); });
    sock.on('error', () => {});
    sock.on('close', done);
  });
}

test('slow clients: a trickled body gets a JSON 408, trickled headers and idle connections are closed', async (t) => {
  const s = await createServer({ indexes: { main: index }, bodyTimeoutMs: 600, headersTimeoutMs: 600, idleTimeoutMs: 800, keepAliveTimeoutMs: 500 });
  const { port } = await s.listen({ port: 0 });
  t.teardown(() => s.shutdown({ drainMs: 0 }));
  const body = JSON.stringify({ query: 'abc' });
  const slowBody = await trickle(port, `POST /v1/indexes/main/count HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`, body, 300, 8000);
  t.regex(slowBody.data, /^HTTP\/1\.1 408/);
  const json = slowBody.data.slice(slowBody.data.indexOf('\r\n\r\n') + 4);
  t.is(JSON.parse(json).error.code, 'ERR_TIMEOUT');
  t.true(slowBody.ms < 4000, `closed after ${slowBody.ms} ms`);
  const slowHead = await trickle(port, 'GET /healthz HTTP/1.1\r\n', 'X-Slow: ' + 'a'.repeat(100), 300, 8000);
  t.true(slowHead.ms < 5000, `closed after ${slowHead.ms} ms`);
  t.false(slowHead.data.includes('"status":"ok"'));
  // Answered by Node's parser before any route, in the service's error shape all the same.
  if (slowHead.data !== '') {
    t.regex(slowHead.data, /^HTTP\/1\.1 408/);
    t.deepEqual(JSON.parse(slowHead.data.slice(slowHead.data.indexOf('\r\n\r\n') + 4)), { error: { code: 'ERR_TIMEOUT', message: 'the request headers took longer than the limit' } });
  }
  const garbage = await trickle(port, 'GARBAGE\r\n\r\n', '', 1000, 3000);
  t.regex(garbage.data, /^HTTP\/1\.1 400/);
  t.deepEqual(JSON.parse(garbage.data.slice(garbage.data.indexOf('\r\n\r\n') + 4)), { error: { code: 'ERR_INVALID_ARGUMENT', message: 'not a valid HTTP request' } });
  const idle = await trickle(port, '', '', 1000, 8000);
  t.true(idle.ms < 5000, `idle connection closed after ${idle.ms} ms`);
  const ok = await fetch(`http://127.0.0.1:${port}/v1/indexes/main/count`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  t.is(ok.status, 200);
  await s.shutdown();
});

// ---- SIGTERM: traceindex serve in a child process ----

const SERVE = path.join(O.REPO, 'dist', 'lib', 'server', 'index.js');

function serve(args: string[], from = dir): Promise<{ child: ChildProcess; port: number; exited: Promise<number | null>; stderr: () => string }> {
  const script = `require(${JSON.stringify(SERVE)}).runServe(process.argv.slice(1)).then((code) => process.exit(code));`;
  const child = spawn(process.execPath, ['-e', script, 'serve', `${from}=main`, '--port', '0', '--log-level', 'silent', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      err += d.toString();
      const m = /at http:\/\/127\.0\.0\.1:(\d+)/.exec(err);
      if (m) resolve({ child, port: Number(m[1]), exited, stderr: () => err });
    });
    exited.then((code) => reject(new Error(`serve exited (${code}) before listening: ${err}`)));
  });
}

/**
 * One count through a --workers server, checked against the library, then two /metrics scrapes in a row
 * (connections go to the workers in turn, so the pair reaches both), adding the worker ids they name to `seen`.
 */
async function countThroughWorkers(t: import('ava').ExecutionContext, agent: http.Agent, port: number, query: string, seen: Set<string>): Promise<void> {
  const a = await request(agent, port, 'POST', '/v1/indexes/main/count', JSON.stringify({ query }));
  t.is(a.status, 200);
  t.is(JSON.parse(a.body).result, await index.count(query));
  for (let k = 0; k < 2; k++) {
    const m = await request(agent, port, 'GET', '/metrics');
    const w = /traceindex_http_requests_in_flight\{worker="(\d+)"\}/.exec(m.body);
    if (w) seen.add(w[1]);
  }
}

const MEDIUM = Array.from({ length: 40 }, (_, i) => TEXTS[i]).join(' ');
const HUGE = Array.from({ length: 2000 }, (_, i) => TEXTS[i % TEXTS.length]).join(' . ');

test('SIGTERM under load: requests in flight finish, later ones are refused, the process exits 0', async (t) => {
  const { child, port, exited } = await serve(['--drain-ms', '20000']);
  const agent = new http.Agent({ keepAlive: false });
  const trace = () => request(agent, port, 'POST', '/v1/indexes/main/trace', JSON.stringify({ query: MEDIUM, maxDocuments: 1 })).then((a) => a, (e: Error) => ({ status: -1, type: '', body: e.message }));
  const before = Array.from({ length: 12 }, trace);
  // SIGTERM once all twelve have reached the server (in flight or answered): on a loaded machine a fixed pause
  // can end before they connect, and a request that arrives after SIGTERM is refused, as it should be.
  const reached = async () => {
    const m = (await request(agent, port, 'GET', '/metrics')).body;
    const inFlight = Number(/^traceindex_http_requests_in_flight(?:\{[^}]*\})? (\S+)$/m.exec(m)?.[1] ?? 1) - 1;  // less this scrape
    const answered = [...m.matchAll(/^traceindex_http_requests_total\{[^}]*route="\/v1\/indexes\/:name\/trace"[^}]*\} (\S+)$/gm)]
      .reduce((sum, x) => sum + Number(x[1]), 0);
    return inFlight + answered;
  };
  for (const giveUp = Date.now() + 20_000; (await reached()) < 12 && Date.now() < giveUp;) await new Promise((resolve) => setTimeout(resolve, 20));
  child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 100));
  // Probes while it drains: the process lives (/healthz 200), it takes no work (/readyz 503 draining).
  const health = await request(agent, port, 'GET', '/healthz').then((a) => a, () => ({ status: -1, body: '' }));
  const ready = await request(agent, port, 'GET', '/readyz').then((a) => a, () => ({ status: -1, body: '' }));
  t.true(health.status === 200 || health.status === -1, `/healthz while draining: ${health.status} ${health.body}`);
  t.true((ready.status === 503 && JSON.parse(ready.body).status === 'draining') || ready.status === -1, `/readyz while draining: ${ready.status} ${ready.body}`);
  const after = await trace();
  const answers = await Promise.all(before);
  // Each request is either answered in full (it was in flight: drained) or refused cleanly (it reached the
  // server after SIGTERM): never a cut connection.
  const own = await index.trace(MEDIUM, { maxDocuments: 1 });
  for (const a of answers) {
    if (a.status === 200) t.is(JSON.parse(a.body).result.spans.length, own.spans.length);
    else t.is(a.status === 503 && JSON.parse(a.body).error.code, 'ERR_SHUTTING_DOWN', a.body.slice(0, 200));
  }
  t.true(answers.filter((a) => a.status === 200).length >= 6, answers.map((a) => a.status).join(' '));
  t.true(after.status === -1 || after.status === 503, `a request after SIGTERM got ${after.status}`);
  t.is(await exited, 0);
});

test('SIGTERM with work that outlasts the drain deadline: it is cancelled and the process still exits 0', async (t) => {
  const { child, port, exited } = await serve(['--drain-ms', '300', '--body-limit', String(32 << 20), '--max-query-tokens', String(1 << 24), '--timeout-ms', '120000']);
  const agent = new http.Agent({ keepAlive: false });
  const pending = request(agent, port, 'POST', '/v1/indexes/main/trace', JSON.stringify({ query: HUGE + HUGE + HUGE, maxDocuments: 0 })).then((a) => a.status, () => -1);
  await new Promise((resolve) => setTimeout(resolve, 400));
  const t0 = Date.now();
  child.kill('SIGTERM');
  t.is(await exited, 0);
  t.true(Date.now() - t0 < 5000, `exited ${Date.now() - t0} ms after SIGTERM`);
  t.not(await pending, 200);
});

test('--workers 2: two processes answer on one port; SIGTERM drains both and the primary exits 0', async (t) => {
  const { child, port, exited, stderr } = await serve(['--workers', '2']);
  t.regex(stderr(), /\(2 workers\)/);
  const kids = () => fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  const workers = kids();
  t.is(workers.length, 2, `worker pids: ${workers.join(' ')}`);
  const agent = new http.Agent({ keepAlive: false });
  const seen = new Set<string>();
  for (let i = 0; i < 20; i++) {
    await countThroughWorkers(t, agent, port, TEXTS[i % TEXTS.length], seen);
  }
  t.deepEqual([...seen].map(Number).sort(), [...workers].sort(), 'both workers answered (each labels its metrics)');
  child.kill('SIGTERM');
  t.is(await exited, 0);
  for (const pid of workers) t.throws(() => process.kill(pid, 0), undefined, `worker ${pid} is gone`);
});

test('serve --log-level info: every request is logged under its id (arrival and completion), none lost at SIGTERM', async (t) => {
  const script = `require(${JSON.stringify(SERVE)}).runServe(process.argv.slice(1)).then((code) => process.exit(code));`;
  const child = spawn(process.execPath, ['-e', script, 'serve', `${dir}=main`, '--port', '0', '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => { out += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      err += d.toString();
      const m = /at http:\/\/127\.0\.0\.1:(\d+)/.exec(err);
      if (m) resolve(Number(m[1]));
    });
    exited.then((code) => reject(new Error(`serve exited (${code}): ${err}`)));
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const ids = Array.from({ length: 200 }, (_, i) => `log-test-${i}`);
  const answers = await Promise.all(ids.map((id, i) =>
    request(agent, port, 'POST', '/v1/indexes/main/count', JSON.stringify({ query: TEXTS[i % TEXTS.length].slice(0, 9) }), { 'x-request-id': id })));
  for (const a of answers) t.is(a.status, 200);
  agent.destroy();
  child.kill('SIGTERM');
  t.is(await exited, 0);
  const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { reqId?: string; msg: string; res?: { statusCode: number } });
  for (const id of ids) {
    const mine = lines.filter((l) => l.reqId === id);
    t.deepEqual(mine.map((l) => l.msg), ['incoming request', 'request completed'], id);
    t.is(mine[1]?.res?.statusCode, 200);
  }
});

// The SIGTERM test above has every line out before the signal; this one exits in the same turn as the write,
// so only the exit flush can get the line out.
test('BatchedLog: lines written in the turn that calls process.exit still go out (the exit flush)', async (t) => {
  const mod = path.join(O.REPO, 'dist', 'lib', 'server', 'log-stream.js');
  const script = `const { BatchedLog } = require(${JSON.stringify(mod)}); const log = new BatchedLog();` +
    `log.write('first\\n'); log.write('last\\n'); process.exit(3);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d.toString(); });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));  // after stdout ended
  t.is(code, 3);
  t.is(out, 'first\nlast\n');
});

test('BatchedLog: the lines of one turn go out in one write, in order; 64 KiB go out at once', async (t) => {
  const writes: string[] = [];
  const log = new BatchedLog({ write: (s: string) => writes.push(s) });
  log.write('a\n');
  log.write('b\n');
  t.deepEqual(writes, []);
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(writes, ['a\nb\n']);
  const big = 'x'.repeat(40 * 1024) + '\n';
  log.write(big);
  t.is(writes.length, 1);
  log.write(big);
  t.deepEqual(writes.slice(1), [big + big]);
  log.write('c\n');
  let flushed = false;
  log.flush(() => { flushed = true; });
  t.true(flushed, 'flush calls back (pino\'s logger.flush)');
  t.deepEqual(writes.slice(2), ['c\n']);
  await new Promise((resolve) => setImmediate(resolve));
  t.is(writes.length, 3, 'nothing written twice');
});

test('--workers 2: a worker that dies is replaced (and said so on stderr); the service keeps answering, SIGTERM still exits 0', async (t) => {
  const { child, port, exited, stderr } = await serve(['--workers', '2']);
  t.teardown(() => { child.kill('SIGKILL'); });
  const kids = () => fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  const first = kids();
  t.is(first.length, 2, `worker pids: ${first.join(' ')}`);
  process.kill(first[0], 'SIGKILL');
  let now = kids();
  const said = new RegExp(`worker ${first[0]} exited \\(SIGKILL\\); starting another`);
  for (const giveUp = Date.now() + 20_000; !(now.length === 2 && !now.includes(first[0]) && said.test(stderr())) && Date.now() < giveUp;) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    now = kids();
  }
  t.is(now.length, 2, `worker pids after the kill: ${now.join(' ')}`);
  t.false(now.includes(first[0]));
  t.true(now.includes(first[1]), 'the other worker was left alone');
  t.regex(stderr(), said);
  // The replacement listens once it has opened the index: from then on connections are handed to both in turn,
  // and every one is answered, and right.
  const agent = new http.Agent({ keepAlive: false });
  const seen = new Set<string>();
  for (let i = 0, giveUp = Date.now() + 20_000; seen.size < 2 && Date.now() < giveUp; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    await countThroughWorkers(t, agent, port, TEXTS[i % TEXTS.length].slice(0, 12), seen);
  }
  t.deepEqual([...seen].map(Number).sort(), [...now].sort(), 'both workers, the replacement included, answered');
  child.kill('SIGTERM');
  t.is(await exited, 0);
});

test('--workers 2: replacements that cannot start (the index gone) are retried with growing pauses, then serve stops with 1', async (t) => {
  const copy = path.join(scratch, 'idx-gone');
  fs.cpSync(dir, copy, { recursive: true });
  const { child, exited, stderr } = await serve(['--workers', '2'], copy);
  t.teardown(() => { child.kill('SIGKILL'); });
  const kids = fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  fs.renameSync(path.join(copy, 'manifest.json'), path.join(copy, 'manifest.json.away'));
  process.kill(kids[0], 'SIGKILL');
  const started = Date.now();
  t.is(await exited, 1);
  const seconds = (Date.now() - started) / 1000;
  t.regex(stderr(), /5 replacement workers in a row exited before serving; stopping/);
  t.is(stderr().match(/starting another in \d+ ms/g)?.length, 4, stderr());
  t.true(seconds >= 3.5 && seconds < 60, `stopped after ${seconds} s (pauses of 0.5, 1, 2 and 4 s)`);
});
