/**
 * Scale benchmark: one large build within a memory budget, measured per stage, then query latency warm and
 * cold (the index's files evicted from the page cache with posix_fadvise(DONTNEED) before the cold run), and
 * how count latency grows with the number of shards over the same documents.
 *
 *   node dist/bench/scale.js [--generate-mb 2000 [--prose] | --corpus FILE] [--tokenizer bytes] [--memory 8GiB]
 *                            [--threads 2] [--sweep-mb 200] [--sweep 1,2,4,8] [--name NAME] [--keep]
 *
 * --prose generates English-like JSONL (bench/corpus.ts generateProse) instead of Zipf words; a .jsonl corpus
 * is built from its path, as `traceindex build FILE` reads it (the native reader and tokenizer pipeline).
 * --tokenizer names the model's tokenizer (cl100k_base, llama-3, ...): the figures that matter for real corpora.
 *
 * The build runs in a child process so its peak RSS is its own (getrusage of the child).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildIndex, openIndex } from '../lib/index';
import { corpusDocuments, evict, fileCorpus, generateCorpus, generateProse, sampleQueries } from './corpus';
import { machine, quantile, writeResult } from './report';

interface Args {
  generateMb: number;
  prose: boolean;
  corpus?: string;
  tokenizer: string;
  memory: string;
  threads: number;
  sweepMb: number;
  sweep: number[];
  name?: string;
  keep: boolean;
}

function parse(argv: string[]): Args {
  const a: Args = { generateMb: 2000, prose: false, tokenizer: 'bytes', memory: '8GiB', threads: 2, sweepMb: 200, sweep: [1, 2, 4, 8], keep: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => argv[++i];
    if (k === '--generate-mb') a.generateMb = Number(v());
    else if (k === '--prose') a.prose = true;
    else if (k === '--tokenizer') a.tokenizer = v();
    else if (k === '--corpus') a.corpus = v();
    else if (k === '--memory') a.memory = v();
    else if (k === '--threads') a.threads = Number(v());
    else if (k === '--sweep-mb') a.sweepMb = Number(v());
    else if (k === '--sweep') a.sweep = v().split(',').map(Number);
    else if (k === '--name') a.name = v();
    else if (k === '--keep') a.keep = true;
    else throw new Error(`unknown option ${k}`);
  }
  return a;
}


/** Child mode: build and print the result with this process's peak RSS. */
async function child(corpus: string, out: string, memory: string, threads: number, tokenizer: string, shardTokens?: number) {
  const inputs = corpus.endsWith('.jsonl') ? [corpus] : corpusDocuments(corpus);
  const r = await buildIndex({ inputs, out, memory, threads, shardTokens, tokenizer });
  process.stdout.write(JSON.stringify({ ...r, maxRssKiB: process.resourceUsage().maxRSS }) + '\n');
}

function buildInChild(corpus: string, out: string, memory: string, threads: number, tokenizer: string, shardTokens?: number) {
  const t0 = performance.now();
  const args = [__filename, '--child', corpus, out, memory, String(threads), tokenizer, String(shardTokens ?? '')];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`);
  return { ...JSON.parse(r.stdout.trim().split('\n').pop()!), wallSeconds: (performance.now() - t0) / 1000 };
}

/**
 * count latency of `queries` on a freshly opened index: the first pass (after evicting the files from the
 * page cache when `cold`; otherwise it still pays this process's page faults on the fresh mapping) and the
 * second pass over the same queries in the same mapping (warm).
 */
async function latency(dir: string, queries: Uint32Array[], cold: boolean) {
  if (cold && !evict(dir)) return null;
  const idx = await openIndex(dir);
  const pass = () => queries.map((q) => {
    const t0 = process.hrtime.bigint();
    idx.countSync(q);
    return Number(process.hrtime.bigint() - t0) / 1000;
  });
  const first = pass();
  const second = pass();
  idx.close();
  const summary = (us: number[]) => ({ p50: quantile(us, 0.5), p99: quantile(us, 0.99), mean: us.reduce((a, b) => a + b, 0) / us.length });
  return { first: summary(first), warm: summary(second) };
}

async function main() {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') return child(argv[1], argv[2], argv[3], Number(argv[4]), argv[5], argv[6] ? Number(argv[6]) : undefined);
  const a = parse(argv);
  const corpus = a.corpus ? fileCorpus(a.corpus) : a.prose ? generateProse(a.generateMb, 1) : generateCorpus(a.generateMb, 1);
  const out = path.join(os.tmpdir(), `traceindex-scale-${path.basename(corpus.path)}`);
  fs.rmSync(out, { recursive: true, force: true });
  process.stderr.write(`building ${out} from ${corpus.path} (${(corpus.bytes / 1e6).toFixed(0)} MB) ...\n`);
  const b = buildInChild(corpus.path, out, a.memory, a.threads, a.tokenizer);
  const mb = corpus.bytes / 1e6;
  const idx = await openIndex(out);
  const info = idx.info;
  const docs = Array.from({ length: Math.min(256, info.documents) }, (_, i) => idx.documentSync(Math.floor((i * info.documents) / Math.min(256, info.documents))).tokens);
  idx.close();
  const queries = sampleQueries(docs, 300, 3);
  const measured = await latency(out, queries, true);
  const cold = measured?.first;
  const warm = measured?.warm ?? (await latency(out, queries, false))!.warm;

  // Latency against the number of shards: the same (smaller) corpus cut into k shards.
  const sweepCorpus = a.corpus ? corpus : a.prose ? generateProse(a.sweepMb, 2) : generateCorpus(a.sweepMb, 2);
  const sweep: Array<{ shards: number; p50: number; p99: number }> = [];
  let sweepQueries: Uint32Array[] | null = null;
  for (const k of a.sweep) {
    const dir = path.join(os.tmpdir(), `traceindex-scale-sweep-${k}`);
    fs.rmSync(dir, { recursive: true, force: true });
    const sweepInputs = sweepCorpus.path.endsWith('.jsonl') ? [sweepCorpus.path] : corpusDocuments(sweepCorpus.path);
    await buildIndex({ inputs: sweepInputs, out: dir, tokenizer: a.tokenizer, shardTokens: Math.ceil((sweepCorpus.bytes * 1.02) / k) });
    const si = await openIndex(dir);
    sweepQueries ??= sampleQueries(Array.from({ length: Math.min(128, si.info.documents) }, (_, i) => si.documentSync(i).tokens), 500, 5);
    const shards = si.info.shards.length;
    si.close();
    const l = (await latency(dir, sweepQueries, false))!.warm;
    sweep.push({ shards, p50: l.p50, p99: l.p99 });
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const result = {
    date: new Date().toISOString(),
    machine: machine(),
    corpus: { description: corpus.description, mb },
    build: {
      tokenizer: a.tokenizer, memory: a.memory, threads: a.threads, wallSeconds: b.wallSeconds, shards: b.shards, tokens: b.tokens, documents: b.documents,
      peakRssMiB: b.maxRssKiB / 1024, bytesOnDisk: b.bytesOnDisk, bytesPerTokenOnDisk: b.bytesOnDisk / b.tokens,
      inputMBps: mb / b.wallSeconds, tokensPerSecond: b.tokens / b.wallSeconds, stages: b.stages,
      stageMBps: Object.fromEntries(Object.entries(b.stages as Record<string, number>).map(([k, s]) => [k, s > 0 ? mb / s : null])),
    },
    count: { queries: queries.length, coldUs: cold, warmUs: warm },
    shardSweep: { corpusMb: sweepCorpus.bytes / 1e6, points: sweep },
    command: `node dist/bench/scale.js ${argv.join(' ')}`,
  };
  if (!a.keep) fs.rmSync(out, { recursive: true, force: true });
  const name = a.name ?? `scale-${Math.round(b.tokens / 1e6)}m`;
  const f = (x: number | null | undefined, d = 1) => (x === null || x === undefined ? 'n/a' : x.toFixed(d));
  const st = b.stages as Record<string, number>;
  const md = [
    `### Scale: ${(b.tokens / 1e9).toFixed(2)} B tokens, ${result.machine.cpu}, ${result.machine.cores} cores, ${result.machine.ramGiB} GiB`,
    '',
    `Build (tokenizer ${a.tokenizer}, memory budget ${a.memory}, ${a.threads} SA threads): ${f(b.wallSeconds)} s wall, ${f(mb / b.wallSeconds)} MB/s input, ${(b.tokens / b.wallSeconds / 1e6).toFixed(2)} M tokens/s, ${b.shards} shard(s), peak RSS ${f(b.maxRssKiB / 1024 / 1024, 2)} GiB, ${f(b.bytesOnDisk / b.tokens, 3)} bytes/token on disk (${f(b.bytesOnDisk / 2 ** 30, 2)} GiB).`,
    '',
    '| stage | seconds | MB/s of input |',
    '|---|---:|---:|',
    ...['read', 'tokenize', 'validate', 'suffixArray', 'write'].map((k) => `| ${k} | ${f(st[k], 2)} | ${st[k] > 0 ? f(mb / st[k], 0) : 'n/a'} |`),
    '',
    `count of 2-20-token queries (µs): cold (page cache evicted) p50 ${f(cold?.p50)} p99 ${f(cold?.p99)}; warm (second pass) p50 ${f(warm?.p50, 2)} p99 ${f(warm?.p99, 2)}.`,
    '',
    `Warm count latency against shards (same ${f(sweepCorpus.bytes / 1e6, 0)} MB corpus): ${sweep.map((s) => `${s.shards} shard(s): p50 ${f(s.p50, 2)} µs, p99 ${f(s.p99, 2)} µs`).join('; ')}.`,
    '',
    `Command: \`${result.command}\``,
  ].join('\n');
  writeResult(name, result, md);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
