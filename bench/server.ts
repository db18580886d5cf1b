/**
 * HTTP load on loopback (issue 12 targets: `count` ≥ 10 000 requests/s with p99 ≤ 10 ms at concurrency 64 on 2
 * cores, and ≥ 5× a Python server doing the same job with infini-gram's engine):
 *
 *   node dist/bench/server.js --index DIR [--ig-index IG_DIR --python PY] [--peers fastapi:1,fastapi:2,flask:2,stdlib]
 *                             [--duration 10] [--connections 1,16,64] [--ops count,trace] [--name server-load] [--smoke]
 *                             [--floors] [--workers N] [--baseline DIST]
 *
 * The traceindex server runs as `traceindex serve` in a child process (so autocannon does not share its event
 * loop); the peers are bench/python/server_peer.py over an infini-gram index of the same documents (build it with
 * bench/python/ig_index.py), one per FRAMEWORK:WORKERS in --peers (fastapi: FastAPI on uvicorn, the stack of
 * allenai/infinigram-api; flask: Flask on gunicorn gthread, the original infini-gram API's; stdlib: Python's
 * ThreadingHTTPServer), each loaded in turn after ours. Queries: `count` of 2-20-token pieces of the documents;
 * `trace` of 400-token outputs spliced from them (attribute on the peer, min_len 1, max_cnt 10, the same spans).
 * --floors also loads bench/server-floor.ts (bare node:http and one bare fastify route answering a constant) with the
 * `count` bodies: what the stack answers with no work of ours. Every case records the server's CPU time (user +
 * system, its process and all its children) per request answered: the cost that decides throughput once the
 * load generator and the server share the cores. --workers N runs ours as `serve --workers N`. --baseline DIST also
 * runs the `serve` of another build (DIST: its compiled dist/ directory, e.g. of the commit before a change) with
 * our bodies, loaded in turn like a peer: before and after in the same run.
 * --smoke runs each case for one second and writes nothing. Before any load, every peer must answer the first 200
 * counts as ours does. Before every case the index files are read once, so that both servers answer from the page
 * cache (a figure bound by disk reads says nothing about either server).
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Index, openIndex } from '../lib';
import { prng } from './corpus';
import { machine, writeResult } from './report';

// autocannon ships no types: the part used here.
interface CannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
type Cannon = (opts: Record<string, unknown>) => Promise<CannonResult>;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as Cannon;

interface Args {
  index?: string;
  igIndex?: string;
  python: string;
  peers: string[];
  duration: number;
  connections: number[];
  ops: string[];
  name: string;
  smoke: boolean;
  floors: boolean;
  workers: number;
  baseline?: string;
}

function parse(argv: string[]): Args {
  const a: Args = { python: 'python3', peers: ['fastapi:1', 'fastapi:2', 'flask:2', 'stdlib:1'], duration: 10, connections: [1, 16, 64], ops: ['count', 'trace'], name: 'server-load', smoke: false, floors: false, workers: 1 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => argv[++i];
    if (k === '--index') a.index = v();
    else if (k === '--ig-index') a.igIndex = v();
    else if (k === '--python') a.python = v();
    else if (k === '--peers') a.peers = v().split(',').map((x) => (x.includes(':') ? x : `${x}:1`));
    else if (k === '--duration') a.duration = Number(v());
    else if (k === '--connections') a.connections = v().split(',').map(Number);
    else if (k === '--ops') a.ops = v().split(',');
    else if (k === '--name') a.name = v();
    else if (k === '--smoke') a.smoke = true;
    else if (k === '--floors') a.floors = true;
    else if (k === '--workers') a.workers = Number(v());
    else if (k === '--baseline') a.baseline = v();
    else throw new Error(`unknown argument ${k}`);
  }
  if (!a.index) throw new Error('--index DIR is required');
  if (a.smoke) a.duration = 1;
  return a;
}

/** Token-id queries cut from the documents: count pieces, and trace outputs spliced from pieces and noise. */
async function queries(index: Index, n: number) {
  const rand = prng(7);
  const docs = index.info.documents;
  const vocab = index.info.vocabSize;
  const piece = async (min: number, max: number) => {
    for (;;) {
      const d = (await index.document(Math.floor(rand() * docs))).tokens;
      if (d.length < min) continue;
      const len = Math.min(d.length, min + Math.floor(rand() * (max - min + 1)));
      const at = Math.floor(rand() * (d.length - len + 1));
      return Array.from(d.subarray(at, at + len));
    }
  };
  const counts: number[][] = [];
  for (let i = 0; i < n; i++) counts.push(await piece(2, 20));
  const outputs: number[][] = [];
  for (let i = 0; i < Math.max(10, n / 20); i++) {
    const o: number[] = [];
    while (o.length < 400) {
      o.push(...(await piece(20, 60)));
      for (let k = 0; k < 5; k++) o.push(Math.floor(rand() * Math.min(vocab, 128)));
    }
    outputs.push(o.slice(0, 400));
  }
  return { counts, outputs };
}

/** Reads every file under `dir` once, so that both servers answer from the page cache (they share the files). */
function warm(dir: string): void {
  const buf = Buffer.allocUnsafe(4 << 20);
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) { warm(p); continue; }
    if (!e.isFile()) continue;
    const fd = fs.openSync(p, 'r');
    try {
      while (fs.readSync(fd, buf, 0, buf.length, null) > 0);
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** CPU seconds (user + system) of `pid` and every process below it (a peer's or our workers). */
function treeCpuSeconds(pid: number): number {
  const tick = 100;  // USER_HZ on Linux
  const procs = new Map<number, { ppid: number; cpu: number }>();
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const f = fs.readFileSync(`/proc/${e}/stat`, 'utf8').split(') ')[1].split(' ');
      procs.set(Number(e), { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / tick });
    } catch {
      // gone meanwhile
    }
  }
  let sum = 0;
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop()!;
    sum += procs.get(p)?.cpu ?? 0;
    for (const [c, x] of procs) if (x.ppid === p) todo.push(c);
  }
  return sum;
}

function waitFor(child: ChildProcess, stream: NodeJS.ReadableStream, re: RegExp): Promise<number> {
  return new Promise((resolve, reject) => {
    let seen = '';
    stream.on('data', (d) => {
      seen += d.toString();
      const m = re.exec(seen);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code}): ${seen.slice(-2000)}`)));
  });
}

async function load(url: string, connections: number, duration: number, bodies: string[], path_: string, pid: number) {
  let i = 0;
  const cpu0 = treeCpuSeconds(pid);
  const r = await autocannon({
    url, connections, duration, method: 'POST',
    requests: [{ method: 'POST', path: path_, headers: { 'content-type': 'application/json' }, setupRequest: (req: Record<string, unknown>) => ({ ...req, body: bodies[i++ % bodies.length] }) }],
  });
  const cpuUsPerRequest = +((treeCpuSeconds(pid) - cpu0) * 1e6 / Math.max(1, r.requests.total)).toFixed(1);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, requests: r.requests.total, errors: r.errors + r.timeouts, non2xx: r.non2xx, cpuUsPerRequest };
}

/** Every peer must answer the same counts as ours before its speed means anything. */
async function sameCounts(port: number, peers: Array<{ name: string; port: number }>, counts: number[][]): Promise<void> {
  const post = async (p: number, url: string, body: unknown) => {
    const r = await fetch(`http://127.0.0.1:${p}${url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`POST ${url} on port ${p}: ${r.status} ${await r.text()}`);
    return r.json() as Promise<Record<string, unknown>>;
  };
  const ours = (await post(port, '/v1/indexes/main/count', { queries: counts })).results as number[];
  for (const peer of peers) {
    for (let i = 0; i < counts.length; i++) {
      const theirs = (await post(peer.port, '/', { index: 'main', query_type: 'count', query_ids: counts[i] })).count;
      if (theirs !== ours[i]) throw new Error(`${peer.name} counts ${theirs} for query ${i} (${JSON.stringify(counts[i])}), traceindex ${ours[i]}`);
    }
  }
}

async function main() {
  const a = parse(process.argv.slice(2));
  const index = await openIndex(a.index as string);
  const q = await queries(index, a.smoke ? 200 : 5000);
  index.close();
  const cases: Array<Record<string, unknown>> = [];

  const serveFrom = (dist: string, workers: number) => {
    const serve = path.join(dist, 'lib', 'server', 'index.js');
    const script = `require(${JSON.stringify(serve)}).runServe(process.argv.slice(1)).then((c) => process.exit(c));`;
    return spawn(process.execPath, ['-e', script, 'serve', `${a.index}=main`, '--port', '0', '--log-level', 'silent', '--max-queued', '100000', '--max-concurrent', '16',
      ...(workers > 1 ? ['--workers', String(workers)] : [])],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '4' } });
  };
  const ours = serveFrom(path.join(__dirname, '..'), a.workers);
  const port = await waitFor(ours, ours.stderr!, /at http:\/\/127\.0\.0\.1:(\d+)/);
  const peers: Array<{ name: string; child: ChildProcess; port: number }> = [];
  const floors: Array<{ name: string; child: ChildProcess; port: number }> = [];
  const stopAll = () => { ours.kill('SIGTERM'); for (const p of [...peers, ...floors]) p.child.kill('SIGTERM'); };
  try {
    if (a.baseline) {
      const child = serveFrom(path.resolve(a.baseline), 1);
      floors.push({ name: 'baseline', child, port: await waitFor(child, child.stderr!, /at http:\/\/127\.0\.0\.1:(\d+)/) });
    }
    if (a.floors) {
      for (const kind of ['http', 'fastify']) {
        const child = spawn(process.execPath, [path.join(__dirname, 'server-floor.js'), kind], { stdio: ['ignore', 'ignore', 'pipe'] });
        floors.push({ name: `floor:${kind}`, child, port: await waitFor(child, child.stderr!, /at http:\/\/127\.0\.0\.1:(\d+)/) });
      }
    }
    if (a.igIndex) {
      for (const name of a.peers) {
        const [framework, workers] = name.split(':');
        const child = spawn(a.python, [path.join(__dirname, '..', '..', 'bench', 'python', 'server_peer.py'), '--index-dir', a.igIndex,
          '--framework', framework, '--workers', workers, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
        peers.push({ name, child, port: await waitFor(child, child.stdout!, /listening on (\d+)/) });
      }
    }
    await sameCounts(port, peers, q.counts.slice(0, 200));
    for (const op of a.ops) {
      const oursBodies = op === 'count' ? q.counts.map((x) => JSON.stringify({ query: x })) : q.outputs.map((x) => JSON.stringify({ query: x, maxCount: 10, maxDocuments: 10 }));
      const peerBodies = op === 'count' ? q.counts.map((x) => JSON.stringify({ index: 'main', query_type: 'count', query_ids: x }))
        : q.outputs.map((x) => JSON.stringify({ index: 'main', query_type: 'attribute', query_ids: x, min_len: 1, max_cnt: 10 }));
      for (const c of a.connections) {
        warm(a.index as string);
        if (a.igIndex && a.igIndex !== a.index) warm(a.igIndex);
        const mine = await load(`http://127.0.0.1:${port}`, c, a.duration, oursBodies, `/v1/indexes/main/${op}`, ours.pid!);
        const theirs: Record<string, Awaited<ReturnType<typeof load>> & { ratio?: number }> = {};
        let line = `${op} c=${c}: traceindex ${mine.rps.toFixed(0)} req/s p50 ${mine.p50} ms p99 ${mine.p99} ms cpu ${mine.cpuUsPerRequest} us/req` + (mine.errors || mine.non2xx ? ` (errors ${mine.errors}, non-2xx ${mine.non2xx})` : '');
        // The floors answer a constant: only `count` bodies mean anything to them. The baseline is a traceindex.
        for (const p of [...peers, ...floors.filter((f) => op === 'count' || f.name === 'baseline')]) {
          const floor = !peers.includes(p);
          const r = await load(`http://127.0.0.1:${p.port}`, c, a.duration, floor ? oursBodies : peerBodies, floor ? `/v1/indexes/main/${op}` : '/', p.child.pid!);
          theirs[p.name] = { ...r, ratio: r.rps > 0 ? mine.rps / r.rps : undefined };
          line += ` | ${p.name} ${r.rps.toFixed(0)} req/s p50 ${r.p50} ms p99 ${r.p99} ms cpu ${r.cpuUsPerRequest} us/req` + (r.errors || r.non2xx ? ` (errors ${r.errors}, non-2xx ${r.non2xx})` : '');
        }
        cases.push({ op, connections: c, traceindex: mine, peers: theirs });
        process.stderr.write(`${line}\n`);
      }
    }
  } finally {
    stopAll();
  }
  if (a.smoke) return;
  type Row = { rps: number; p50: number; p99: number; cpuUsPerRequest: number; ratio?: number };
  const fmt = (r: Row | undefined) => (r ? `${r.rps.toFixed(0)} (${r.p50} / ${r.p99}) ${r.cpuUsPerRequest} µs` : '–');
  const others = [...peers, ...floors];
  const md = [`Requests/s (p50 / p99 ms) and server CPU per request; ratio = traceindex's requests/s over the other's.\n`,
    `| op | connections | traceindex${a.workers > 1 ? ` (${a.workers} workers)` : ''} | ${others.map((p) => `${p.name} | ratio`).join(' | ')} |`,
    `|---|---:|---:|${others.map(() => '---:|---:').join('|')}|`,
    ...cases.map((c) => {
      const ps = c.peers as Record<string, Row>;
      return `| ${c.op} | ${c.connections} | ${fmt(c.traceindex as Row)} | ` +
        others.map((p) => `${fmt(ps[p.name])} | ${ps[p.name]?.ratio ? ps[p.name].ratio!.toFixed(2) + '×' : '–'}`).join(' | ') + ' |';
    })].join('\n');
  writeResult(a.name, { machine: machine(), args: a, cases }, md);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
