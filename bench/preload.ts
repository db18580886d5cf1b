/**
 * `serve --preload` from a cold page cache: the time until the server would turn ready and the latency of the
 * first queries after it, on an index whose files are evicted (posix_fadvise DONTNEED) before every run. Three
 * ways, rounds alternating their order:
 *   none    open, then query at once (the queries fault the pages in)
 *   read    open, read every file once (the server's preload before advise; the peer)
 *   advise  open, IndexCore.advise('willneed') (madvise WILLNEED over every mapping, then every page faulted in)
 *
 *   node dist/bench/preload.js [--generate-mb 100] [--rounds 3] [--queries 1000]
 * Writes bench/results/preload.json and .md. Run under the timing lock.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildIndex, openIndex } from '../lib/index';
import { coreOf } from '../lib/query/core';
import { corpusDocuments, evict, generateCorpus, sampleQueries } from './corpus';
import { machine, quantile, writeResult } from './report';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** The server's preload before advise: every file under the index read once through a 4 MiB buffer. */
function readAll(dir: string): number {
  const buf = Buffer.allocUnsafe(4 << 20);
  let bytes = 0;
  for (const s of fs.readdirSync(dir)) {
    const p = path.join(dir, s);
    const files = fs.statSync(p).isDirectory() ? fs.readdirSync(p).map((f) => path.join(p, f)) : [p];
    for (const f of files) {
      const fd = fs.openSync(f, 'r');
      for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) bytes += n;
      fs.closeSync(fd);
    }
  }
  return bytes;
}

type Mode = 'none' | 'read' | 'advise';

async function run(dir: string, mode: Mode, queries: Uint32Array[]) {
  if (!evict(dir)) throw new Error('cannot evict the index from the page cache (python3 with os.posix_fadvise needed)');
  const t0 = performance.now();
  const idx = await openIndex(dir);
  if (mode === 'read') readAll(dir);
  if (mode === 'advise') await coreOf(idx).advise('willneed');
  const readyMs = performance.now() - t0;
  const us = queries.map((q) => {
    const s = process.hrtime.bigint();
    idx.countSync(q);
    return Number(process.hrtime.bigint() - s) / 1000;
  });
  idx.close();
  const total = us.reduce((a, b) => a + b, 0);
  return { readyMs, p50: quantile(us, 0.5), p99: quantile(us, 0.99), max: Math.max(...us), queriesMs: total / 1000 };
}

async function main() {
  const mb = arg('generate-mb', 100);
  const rounds = arg('rounds', 3);
  const n = arg('queries', 1000);
  const corpus = generateCorpus(mb, 1);
  const dir = path.join(os.tmpdir(), `traceindex-preload-${path.basename(corpus.path)}`);
  if (!fs.existsSync(path.join(dir, 'manifest.json'))) {
    process.stderr.write(`building ${dir} ...\n`);
    await buildIndex({ inputs: corpusDocuments(corpus.path), out: dir });
  }
  const idx = await openIndex(dir);
  const info = idx.info;
  const docs = Array.from({ length: Math.min(256, info.documents) }, (_, i) => idx.documentSync(Math.floor((i * info.documents) / Math.min(256, info.documents))).tokens);
  const bytes = info.shards.reduce((a, s) => a + s.bytes, 0);
  idx.close();
  const queries = sampleQueries(docs, n, 7);
  const modes: Mode[] = ['none', 'read', 'advise'];
  const runs: Record<Mode, Array<Awaited<ReturnType<typeof run>>>> = { none: [], read: [], advise: [] };
  for (let r = 0; r < rounds; r++)
    for (const m of r % 2 ? [...modes].reverse() : modes) runs[m].push(await run(dir, m, queries));
  const median = (xs: number[]) => quantile(xs, 0.5);
  const summary = Object.fromEntries(modes.map((m) => [m, {
    readyMs: median(runs[m].map((x) => x.readyMs)), p50Us: median(runs[m].map((x) => x.p50)), p99Us: median(runs[m].map((x) => x.p99)),
    maxUs: median(runs[m].map((x) => x.max)), queriesMs: median(runs[m].map((x) => x.queriesMs)),
  }])) as Record<Mode, { readyMs: number; p50Us: number; p99Us: number; maxUs: number; queriesMs: number }>;
  const f = (x: number, d = 1) => x.toFixed(d);
  const md = [
    `# --preload from a cold page cache`,
    ``,
    `Index of ${f(bytes / 1e6, 0)} MB (${info.tokens} tokens, ${info.shards.length} shards), files evicted before each run; ${n} count queries of 2-20 tokens; median of ${rounds} rounds.`,
    ``,
    `| preload | open to ready (ms) | first queries p50 (µs) | p99 (µs) | max (µs) | all ${n} queries (ms) |`,
    `|---|---|---|---|---|---|`,
    ...modes.map((m) => `| ${m} | ${f(summary[m].readyMs)} | ${f(summary[m].p50Us)} | ${f(summary[m].p99Us)} | ${f(summary[m].maxUs)} | ${f(summary[m].queriesMs)} |`),
    ``,
    `advise against read (same run): ready ${f(summary.read.readyMs / summary.advise.readyMs, 2)}x sooner; first-query p99 ${f(summary.read.p99Us / summary.advise.p99Us, 2)}x lower.`,
  ].join('\n');
  writeResult('preload', { machine: machine(), index: { bytes, tokens: info.tokens, shards: info.shards.length }, queries: n, rounds, runs, summary }, md + '\n');
  process.stdout.write(md + '\n');
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
