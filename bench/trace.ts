/**
 * Provenance benchmarks (issue targets: trace ≤ 5 ms per 100 output tokens, matchState.push p99 ≤ 50 µs,
 * scoreContinuations ≤ 2 ms for 8 beams × 50 candidates, scan memory flat over 1M records):
 *
 *   node dist/bench/trace.js [--generate-mb 1000 | --corpus FILE | --index DIR] [--out DIR] [--outputs 1000]
 *                            [--scan-records 1000000] [--threads 2] [--quick] [--name NAME]
 *
 * --out DIR builds the index there (default: the temp directory) or reuses the one already there, so a
 * 1 B-token index is built once and measured many times (--scan-records 0 skips the scan).
 *
 * Outputs are 100-token model-like texts: pieces copied from the corpus (20-60 bytes) spliced with fresh
 * words, so they hold real maximal spans. Each figure is a latency distribution over single calls.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildIndex, Index, openIndex, scoreContinuations } from '../lib/index';
import { corpusDocuments, fileCorpus, generateCorpus, prng } from './corpus';
import { machine, stats, writeResult } from './report';

interface Args {
  generateMb: number;
  corpus?: string;
  index?: string;
  out?: string;
  outputs: number;
  scanRecords: number;
  threads: number;
  quick: boolean;
  name?: string;
}

function parse(argv: string[]): Args {
  const a: Args = { generateMb: 1000, outputs: 1000, scanRecords: 1_000_000, threads: 2, quick: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => argv[++i];
    if (k === '--generate-mb') a.generateMb = Number(v());
    else if (k === '--corpus') a.corpus = v();
    else if (k === '--index') a.index = v();
    else if (k === '--out') a.out = v();
    else if (k === '--outputs') a.outputs = Number(v());
    else if (k === '--scan-records') a.scanRecords = Number(v());
    else if (k === '--threads') a.threads = Number(v());
    else if (k === '--name') a.name = v();
    else if (k === '--quick') a.quick = true;
    else throw new Error(`unknown option ${k}`);
  }
  if (a.quick) {
    a.generateMb = a.corpus || a.index ? a.generateMb : 20;
    a.outputs = Math.min(a.outputs, 200);
    a.scanRecords = Math.min(a.scanRecords, 20_000);
  }
  return a;
}

const nowUs = () => Number(process.hrtime.bigint()) / 1000;

/** 100-byte outputs: corpus pieces and fresh words, deterministic for the seed. */
function makeOutputs(sample: Buffer, n: number, seed: number): Buffer[] {
  const rand = prng(seed);
  const fresh = ['zebra', 'quantum', 'marmalade', 'ostensibly', 'Kilimanjaro', 'serendipity', 'xylophone', 'pangolin'];
  const outs: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const parts: Buffer[] = [];
    let len = 0;
    while (len < 100) {
      if (rand() < 0.6) {
        const l = 20 + Math.floor(rand() * 40);
        const at = Math.floor(rand() * (sample.length - l));
        parts.push(sample.subarray(at, at + l));
        len += l;
      } else {
        const w = Buffer.from(` ${fresh[Math.floor(rand() * fresh.length)]} `);
        parts.push(w);
        len += w.length;
      }
    }
    outs.push(Buffer.concat(parts).subarray(0, 100));
  }
  return outs;
}

async function main() {
  const args = parse(process.argv.slice(2));
  const started = new Date().toISOString();
  let dir = args.index;
  let corpusFile: string;
  let buildSeconds: number | undefined;
  if (dir) {
    corpusFile = args.corpus ?? '';
  } else {
    const c = args.corpus ? fileCorpus(args.corpus) : generateCorpus(args.generateMb, 1);
    corpusFile = c.path;
    dir = args.out ?? path.join(os.tmpdir(), `traceindex-bench-trace-${path.basename(c.path)}`);
    if (!fs.existsSync(path.join(dir, 'manifest.json'))) {
      process.stderr.write(`building ${dir} from ${c.path} ...\n`);
      const r = await buildIndex({ inputs: corpusDocuments(c.path), out: dir, threads: args.threads });
      buildSeconds = r.seconds;
    }
  }
  const index: Index = await openIndex(dir);
  const info = index.info;
  process.stderr.write(`index: ${info.tokens} tokens, ${info.shards.length} shard(s)\n`);
  // Sample the corpus for output pieces: from documents spread over the index.
  const sample = Buffer.concat(Array.from({ length: 64 }, (_, i) => Buffer.from(index.documentSync(Math.floor((i * info.documents) / 64)).tokens)));
  const outputs = makeOutputs(sample, args.outputs, 7);

  // Warm the pages the queries touch (the index is memory-mapped): one pass over the outputs.
  index.traceBatchSync(outputs.slice(0, 50));

  const traceUs: number[] = [];
  let spans = 0;
  // A digest of every span and sampled occurrence, so that runs of two builds show they answered the same.
  const digest = crypto.createHash('sha256');
  for (const o of outputs) {
    const t0 = nowUs();
    const r = index.traceSync(o);
    traceUs.push(nowUs() - t0);
    spans += r.spans.length;
    for (const s of r.spans) digest.update(`${s.start},${s.end},${s.count},${s.bci};${s.documents.map((d) => `${d.document}:${d.position.token}:${d.snippet.start}`).join(' ')}\n`);
  }
  const batch = 64;
  const t0 = nowUs();
  for (let i = 0; i < outputs.length; i += batch) await index.traceBatch(outputs.slice(i, i + batch));
  const batchedPerOutputUs = (nowUs() - t0) / outputs.length;

  const pushUs: number[] = [];
  for (const o of outputs.slice(0, Math.min(outputs.length, 500))) {
    const st = index.matchState({ window: 0 });
    for (const b of o) {
      const t1 = nowUs();
      st.push(b);
      pushUs.push(nowUs() - t1);
    }
  }

  const rand = prng(11);
  const stepUs: number[] = [];
  for (let step = 0; step < Math.min(200, outputs.length); step++) {
    const o = outputs[step];
    const base = index.matchState({ window: 16 });
    for (const b of o.subarray(0, 60)) base.push(b);
    const states = Array.from({ length: 8 }, () => base.fork());
    const cands = Array.from({ length: 8 }, () => Array.from({ length: 50 }, (_, j) => (j === 0 ? o[60] : 32 + Math.floor(rand() * 90))));
    const t1 = nowUs();
    scoreContinuations(states, cands, { tau: 40 });
    stepUs.push(nowUs() - t1);
  }

  // Scan: records generated on the fly (nothing held), RSS sampled along the way.
  const rss: Array<{ records: number; rssMiB: number }> = [];
  const records = args.scanRecords;
  async function* source() {
    for (let i = 0; i < records; i++) yield { id: String(i), text: outputs[i % outputs.length].toString('latin1') };
  }
  let n = 0;
  let scanTokens = 0;
  const s0 = nowUs();
  for await (const r of index.scan(source(), { concurrency: 2, batchSize: 64 })) {
    n++;
    scanTokens += r.tokens;
    if (n % Math.max(1, Math.floor(records / 20)) === 0) rss.push({ records: n, rssMiB: process.memoryUsage.rss() / 2 ** 20 });
  }
  const scanSeconds = (nowUs() - s0) / 1e6;
  index.close();

  const result = {
    started,
    machine: machine(),
    index: { dir, tokens: info.tokens, documents: info.documents, shards: info.shards.length, corpus: corpusFile, buildSeconds },
    outputs: { count: outputs.length, tokensEach: 100, spansPerOutput: spans / outputs.length, digest: digest.digest('hex').slice(0, 16) },
    traceUsPer100Tokens: stats(traceUs),
    traceBatchedUsPerOutput: batchedPerOutputUs,
    matchStatePushUs: stats(pushUs),
    scoreContinuationsUs8x50: stats(stepUs),
    scan: { records: n, seconds: scanSeconds, outputTokensPerSecond: scanTokens / scanSeconds, rss },
    command: `node dist/bench/trace.js ${process.argv.slice(2).join(' ')}`,
  };
  const name = args.name ?? `trace-${Math.round(info.tokens / 1e6)}m`;
  const f = (x: number) => x.toFixed(x < 10 ? 2 : 0);
  const md = [
    `### Provenance latency: ${(info.tokens / 1e9).toFixed(2)} B-token index (${info.shards.length} shard(s)), ${result.machine.cpu}, ${result.machine.cores} cores`,
    '',
    '| measure | p50 | p90 | p99 | target |',
    '|---|---:|---:|---:|---|',
    `| trace, one 100-token output (µs) | ${f(result.traceUsPer100Tokens.p50)} | ${f(result.traceUsPer100Tokens.p90)} | ${f(result.traceUsPer100Tokens.p99)} | ≤ 5000 (paper's TraceShield: < 80 000) |`,
    `| matchState.push (µs) | ${f(result.matchStatePushUs.p50)} | ${f(result.matchStatePushUs.p90)} | ${f(result.matchStatePushUs.p99)} | p99 ≤ 50 |`,
    `| scoreContinuations, 8 beams × 50 candidates (µs) | ${f(result.scoreContinuationsUs8x50.p50)} | ${f(result.scoreContinuationsUs8x50.p90)} | ${f(result.scoreContinuationsUs8x50.p99)} | ≤ 2000 |`,
    '',
    `traceBatch of 64: ${f(batchedPerOutputUs)} µs per output. Spans and sampled documents of the traceSync outputs: digest ${result.outputs.digest}. ` +
      (n === 0 ? 'Scan not run.' : `Scan: ${n} records in ${scanSeconds.toFixed(1)} s = ${Math.round(result.scan.outputTokensPerSecond).toLocaleString('en-US')} output tokens/s; RSS ${rss.map((x) => x.rssMiB.toFixed(0)).join(', ')} MiB at every ${Math.floor(records / 20)} records.`),
    '',
    `Command: \`${result.command}\``,
  ].join('\n');
  writeResult(name, result, md);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
