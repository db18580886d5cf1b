/**
 * Benchmark harness (compiled to dist/bench/run.js; `npm run bench`). See bench/README.md.
 *
 *   node dist/bench/run.js [--corpus PATH | --generate-mb N] [--quick] [--only search,build,sais]
 *                          [--name NAME] [--out DIR] [--native-dir DIR] [--seed N] [--build-threads N]
 *
 * build:  buildIndex of the corpus in a child process (wall time and peak RSS of that whole process).
 * search: JS-level query latency with Benchmark.js, then build/native/bench_search on the same corpus.
 * sais:   build/native/bench_sais on the same corpus.
 * Results: <out>/<name>.json, and <out>/summary.md re-rendered from every result file in <out>.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Benchmark from 'benchmark';
import { buildIndex, Index, openIndex, simd } from '../lib/index';
import { Corpus, corpusDocuments, DOC_BYTES, fileCorpus, generateCorpus, prng } from './corpus';

const ROOT = path.resolve(__dirname, '..', '..');
const STEPS = ['search', 'build', 'sais'] as const;
type Step = (typeof STEPS)[number];
/** The corpus is cut into documents at the first newline after this many bytes (as bench_search does). */
/** Token-id queries of this length for the JS-level latencies. */
const JS_QUERY_TOKENS = 10;
const JS_QUERIES = 1000;

interface Args {
  corpus?: string;
  generateMb: number;
  quick: boolean;
  only: Step[];
  name?: string;
  out: string;
  nativeDir: string;
  seed: number;
  buildThreads: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    generateMb: 0, quick: false, only: [...STEPS], out: path.join(ROOT, 'bench', 'results'),
    nativeDir: path.join(ROOT, 'build', 'native'), seed: 1, buildThreads: 1,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const val = (): string => {
      if (i + 1 >= argv.length) usage(`${flag} needs a value`);
      return argv[++i];
    };
    if (flag === '--corpus') a.corpus = path.resolve(val());
    else if (flag === '--generate-mb') a.generateMb = Number(val());
    else if (flag === '--quick') a.quick = true;
    else if (flag === '--only') a.only = val().split(',').map((s) => (STEPS as readonly string[]).includes(s) ? s as Step : usage(`unknown step ${s}`));
    else if (flag === '--name') a.name = val();
    else if (flag === '--out') a.out = path.resolve(val());
    else if (flag === '--native-dir') a.nativeDir = path.resolve(val());
    else if (flag === '--seed') a.seed = Number(val());
    else if (flag === '--build-threads') a.buildThreads = Number(val());
    else usage(`unknown option ${flag}`);
  }
  if (a.corpus === undefined && !(a.generateMb > 0)) a.generateMb = a.quick ? 10 : 100;
  if (a.corpus !== undefined && a.generateMb > 0) usage('--corpus and --generate-mb exclude each other');
  return a;
}

function usage(why: string): never {
  process.stderr.write(`${why}\nusage: node dist/bench/run.js [--corpus PATH | --generate-mb N] [--quick] [--only search,build,sais]\n` +
    '         [--name NAME] [--out DIR] [--native-dir DIR] [--seed N] [--build-threads N]\n');
  process.exit(2);
}

// ---------------------------------------------------------------- build (in a child process)

interface ChildBuild {
  documents: number;
  tokens: number;
  shards: number;
  bytesOnDisk: number;
  buildSeconds: number;
  maxRssKiB: number;
  userSeconds: number;
  systemSeconds: number;
}

/** Child mode: build, then report; the parent times the whole process (start-up and addon load included). */
async function buildChild(job: { corpus: string; out: string; threads: number }): Promise<void> {
  const r = await buildIndex({ inputs: corpusDocuments(job.corpus), out: job.out, threads: job.threads });
  const ru = process.resourceUsage();
  const report: ChildBuild = {
    documents: r.documents, tokens: r.tokens, shards: r.shards, bytesOnDisk: r.bytesOnDisk, buildSeconds: r.seconds,
    maxRssKiB: ru.maxRSS, userSeconds: ru.userCPUTime / 1e6, systemSeconds: ru.systemCPUTime / 1e6,
  };
  process.stdout.write(JSON.stringify(report));
}

function buildInChild(corpus: Corpus, out: string, threads: number) {
  const t0 = performance.now();
  const child = spawnSync(process.execPath, [__filename, '--build-child', JSON.stringify({ corpus: corpus.path, out, threads })],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
  const wallSeconds = (performance.now() - t0) / 1000;
  if (child.status !== 0) throw new Error(`index build child failed (status ${child.status}, signal ${child.signal})`);
  const r = JSON.parse(child.stdout) as ChildBuild;
  return {
    ...r,
    wallSeconds,
    corpusBytes: corpus.bytes,
    mbPerSecond: corpus.bytes / 1e6 / wallSeconds,
    peakRssMiB: r.maxRssKiB / 1024,
    rssOverCorpus: (r.maxRssKiB * 1024) / corpus.bytes,
    bytesPerTokenOnDisk: r.bytesOnDisk / r.tokens,
  };
}

// ---------------------------------------------------------------- JS-level queries

/** Present: windows of `len` tokens inside indexed documents. Absent: the last token changed until count is 0. */
function sampleQueries(idx: Index, len: number, n: number, seed: number): { present: Uint32Array[]; absent: Uint32Array[] } {
  const rand = prng(seed);
  const docs = new Map<number, Uint32Array>();
  const vocab = idx.manifest.vocabSize;
  const present: Uint32Array[] = [];
  const absent: Uint32Array[] = [];
  const sample = (): Uint32Array => {
    for (;;) {
      const d = Math.floor(rand() * idx.manifest.documents);
      let toks = docs.get(d);
      if (!toks) docs.set(d, toks = idx.documentSync(d).tokens);
      if (toks.length < len) continue;
      const at = Math.floor(rand() * (toks.length - len + 1));
      return toks.slice(at, at + len);
    }
  };
  while (present.length < n) present.push(sample());
  for (let attempts = 0; absent.length < n && attempts < 50 * n; attempts++) {
    const q = sample();
    for (let k = 0; k < 16; k++) {
      q[len - 1] = Math.floor(rand() * vocab);
      if (idx.countSync(q) === 0) {
        absent.push(q);
        break;
      }
    }
  }
  return { present, absent };
}

interface JsResult {
  operation: string;
  queriesPerCall: number;
  meanMicros: number;     // per query
  medianMicros: number;   // median of Benchmark.js sample means, per query
  opsPerSecond: number;   // queries per second
  rmePercent: number;
  samples: number;
}

function runBenchmark(name: string, fn: ((d: Benchmark.Deferred) => void) | (() => void), defer: boolean, quick: boolean, perCall: number): Promise<JsResult> {
  return new Promise((resolve, reject) => {
    const bench = new Benchmark(name, fn as () => void, {
      defer,
      maxTime: quick ? 0.5 : 3,
      minSamples: quick ? 5 : 20,
      onError: () => reject(bench.error ?? new Error(`${name} failed`)),
      onComplete: () => {
        const s = bench.stats;
        const sorted = [...s.sample].sort((x, y) => x - y);
        const median = sorted[Math.floor(sorted.length / 2)];
        resolve({
          operation: name, queriesPerCall: perCall, meanMicros: (s.mean * 1e6) / perCall, medianMicros: (median * 1e6) / perCall,
          opsPerSecond: bench.hz * perCall, rmePercent: s.rme, samples: s.sample.length,
        });
      },
    });
    bench.run({ async: true });
  });
}

async function jsQueries(dir: string, quick: boolean, seed: number) {
  const idx = await openIndex(dir);
  try {
    const { present, absent } = sampleQueries(idx, JS_QUERY_TOKENS, JS_QUERIES, seed);
    const n = present.length;
    let i = 0;
    const next = (set: Uint32Array[]) => set[i++ % set.length];
    let sink = 0;
    let failure: unknown;
    // A deferred benchmark must always be resolved, or Benchmark.js waits forever: errors are kept and rethrown.
    const settle = (d: Benchmark.Deferred, p: Promise<unknown>) => p.then(() => d.resolve(), (e) => { failure ??= e; d.resolve(); });
    const results: JsResult[] = [];
    // Each op cycles through the sampled queries so caches see a realistic spread, not one hot pattern.
    const ops: Array<[string, ((d: Benchmark.Deferred) => void) | (() => void), boolean, number]> = [
      ['countSync', () => { sink += idx.countSync(next(present)); }, false, 1],
      ['count (async)', (d: Benchmark.Deferred) => settle(d, idx.count(next(present)).then((c) => { sink += c; })), true, 1],
      [`countBatch (${n} queries)`, (d: Benchmark.Deferred) => settle(d, idx.countBatch(present).then((c) => { sink += c[0]; })), true, n],
      ['locateSync (limit 10)', () => { sink += idx.locateSync(next(present), { limit: 10 }).total; }, false, 1],
      ['longestMatchSync (absent)', () => { sink += idx.longestMatchSync(next(absent)).length; }, false, 1],
      ['nextTokensSync', () => { sink += idx.nextTokensSync(next(present)).total; }, false, 1],
    ];
    for (const [name, fn, defer, perCall] of ops) {
      if (name.includes('absent') && absent.length === 0) continue;  // every sampled variant occurred
      const r = await runBenchmark(name, fn, defer, quick, perCall);
      if (failure) throw failure;
      process.stderr.write(`  ${name}: ${r.meanMicros.toFixed(2)} µs/query ±${r.rmePercent.toFixed(1)}%\n`);
      results.push(r);
    }
    if (sink < 0) console.log(sink);  // keeps results observable
    return { queryTokens: JS_QUERY_TOKENS, queries: n, absentQueries: absent.length, simd: simd.active(), results };
  } finally {
    idx.close();
  }
}

// ---------------------------------------------------------------- native benches

function runNative(nativeDir: string, exe: string, args: string[]) {
  const bin = path.join(nativeDir, exe);
  if (!fs.existsSync(bin)) {
    const message = `${exe}: skipped (${path.relative(ROOT, bin) || bin} not built; see bench/README.md)`;
    process.stderr.write(`${message}\n`);
    return { skipped: message };
  }
  const json = path.join(os.tmpdir(), `traceindex-${exe}-${process.pid}.json`);
  const full = [...args, '--json', json];
  process.stderr.write(`running ${bin} ${full.join(' ')}\n`);
  const t0 = performance.now();
  const r = spawnSync(bin, full, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) {
    process.stderr.write(`${exe} exited with status ${r.status} (signal ${r.signal}): see its output in the results\n`);
    process.exitCode = 1;
  }
  let result: unknown;
  try {
    result = JSON.parse(fs.readFileSync(json, 'utf8'));
    fs.rmSync(json);
  } catch {
    result = undefined;
  }
  return { command: [bin, ...full.slice(0, -2)].join(' '), status: r.status, seconds, stdout: r.stdout, result };
}

// ---------------------------------------------------------------- machine and report

function machine() {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch { /* not Linux */ }
  return {
    cpu, cores: os.cpus().length, ramGiB: +(os.totalmem() / 2 ** 30).toFixed(1), loadAverage: os.loadavg().map((x) => +x.toFixed(2)),
    os: `${os.type()} ${os.release()} ${os.arch()}`, node: process.version,
  };
}

const shellQuote = (s: string) => /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;

const f = (x: number | undefined, digits = 2) => x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function renderResult(r: any): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(`## ${r.name}`, '',
    `- date: ${r.date}`,
    `- command: \`${r.command}\``,
    `- machine: ${m.cpu}, ${m.cores} logical cores, ${m.ramGiB} GiB RAM, ${m.os}; load average at start ${m.loadAverage.join(' / ')}`,
    `- node ${m.node}; mode: ${r.quick ? 'quick' : 'full'}`,
    `- corpus: ${r.corpus.description}, ${f(r.corpus.bytes / 1e6, 1)} MB, cut into documents at the first newline after ${DOC_BYTES / 1024} KiB`, '');
  if (r.build) {
    const b = r.build;
    out.push('### Index build (buildIndex, whole child process)', '',
      '| corpus MB | documents | tokens | wall s | MB/s | buildIndex s | peak RSS MiB | peak RSS / corpus | bytes on disk | bytes/token on disk | bytes/token (tokens + SA) |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
      `| ${f(b.corpusBytes / 1e6, 1)} | ${b.documents} | ${b.tokens} | ${f(b.wallSeconds)} | ${f(b.mbPerSecond, 1)} | ${f(b.buildSeconds)} | ${f(b.peakRssMiB, 0)} | ${f(b.rssOverCorpus)} | ${b.bytesOnDisk} | ${f(b.bytesPerTokenOnDisk)} | ${f(b.bytesPerTokenTokensSa)} |`, '');
  }
  if (r.js) {
    out.push(`### JS-level query latency (Benchmark.js; ${r.js.queries} token-id queries of ${r.js.queryTokens} tokens, kernel ${r.js.simd})`, '',
      '| operation | mean µs/query | median µs/query | queries/s | ± rme | samples |', '|---|---|---|---|---|---|');
    for (const x of r.js.results)
      out.push(`| ${x.operation} | ${f(x.meanMicros, 3)} | ${f(x.medianMicros, 3)} | ${f(x.opsPerSecond, 0)} | ${f(x.rmePercent, 1)}% | ${x.samples} |`);
    if (r.ratios) {
      const x = r.ratios;
      out.push('', `N-API cost of one sync call (countSync − countBatch per query): ${f(x.syncCallOverheadNs / 1000, 2)} µs; ` +
        `count (async) / countSync: ${f(x.asyncOverSync, 1)}x` + (x.nativeCountMeanNs === undefined ? '' :
        `; countSync / bench_search mean count (${r.js.queryTokens} tokens, ${x.kernel}, ${f(x.nativeCountMeanNs, 0)} ns): ` +
        `${f(x.countSyncOverNative, 1)}x (indicative: cache warmth differs, see bench/README.md)`));
    }
    out.push('');
  }
  for (const [title, key] of [['Native search (bench_search)', 'benchSearch'], ['Suffix array (bench_sais)', 'benchSais']]) {
    const n = r[key];
    if (!n) continue;
    out.push(`### ${title}`, '');
    if (n.skipped) out.push(n.skipped, '');
    else out.push(`\`${n.command}\` (exit ${n.status}, ${f(n.seconds, 1)} s)`, '', n.stdout.trim(), '');
  }
  return out.join('\n');
}

/** summary.md = every result file in `dir`, newest first: one run never hides another. */
function writeSummary(dir: string): void {
  const results = fs.readdirSync(dir).filter((x) => x.endsWith('.json')).flatMap((x) => {
    try {
      const r = JSON.parse(fs.readFileSync(path.join(dir, x), 'utf8'));
      return r.harness === 'traceindex-bench' ? [r] : [];
    } catch {
      return [];
    }
  }).sort((a, b) => b.date.localeCompare(a.date));
  const head = ['# traceindex benchmark results', '',
    'Generated by bench/run.ts from the JSON files next to this one; see bench/README.md for what each figure means.', ''];
  fs.writeFileSync(path.join(dir, 'summary.md'), head.concat(results.map(renderResult)).join('\n'));
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  if (process.argv[2] === '--build-child') return buildChild(JSON.parse(process.argv[3]));
  const args = parseArgs(process.argv.slice(2));
  const corpus = args.corpus ? fileCorpus(args.corpus) : generateCorpus(args.generateMb, args.seed);
  const name = args.name ?? `${corpus.label}-${args.quick ? 'quick' : 'full'}`;
  const command = ['node', path.relative(process.cwd(), __filename) || __filename, ...process.argv.slice(2)].map(shellQuote).join(' ');
  const report: Record<string, unknown> = {
    harness: 'traceindex-bench', name, date: new Date().toISOString(), command, cwd: process.cwd(), quick: args.quick,
    machine: machine(), corpus: { path: corpus.path, bytes: corpus.bytes, description: corpus.description }, steps: args.only,
  };
  process.stderr.write(`corpus: ${corpus.description} (${corpus.path}, ${(corpus.bytes / 1e6).toFixed(1)} MB)\n`);
  const wants = (s: Step) => args.only.includes(s);
  const started = performance.now();

  if (wants('build') || wants('search')) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'traceindex-bench-index-'));
    const out = path.join(dir, 'index');
    try {
      process.stderr.write('build: buildIndex in a child process...\n');
      const build = buildInChild(corpus, out, args.buildThreads);
      const idx = await openIndex(out);
      const bytesPerTokenTokensSa = idx.info.bytesPerToken;
      idx.close();
      if (wants('build')) report.build = { ...build, threads: args.buildThreads, bytesPerTokenTokensSa };
      if (wants('search')) {
        process.stderr.write('search: JS-level query latency (Benchmark.js)...\n');
        report.js = await jsQueries(out, args.quick, args.seed);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const mb = String(Math.ceil(corpus.bytes / 1e6));
  if (wants('search')) {
    const quick = args.quick ? ['--queries', '1000', '--aux-queries', '200', '--aux-budget', '0.25', '--rounds', '3'] : [];
    report.benchSearch = runNative(args.nativeDir, 'bench_search', ['--file', corpus.path, '--mb', mb, '--seed', String(args.seed), ...quick]);
    // What the JS layer costs. Within JS (same cache warmth): countSync - countBatch per query is the price of
    // one N-API call; async / sync that of the thread-pool hop. Against bench_search's per-call mean at the
    // same length and kernel: indicative only, the JS loop re-runs a 1000-query working set and stays warmer.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const js = report.js as any;
    if (js) {
      const op = (prefix: string) => js.results.find((x: JsResult) => x.operation.startsWith(prefix)).meanMicros * 1000;
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const native = (report.benchSearch as any).result;
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const row = native?.results.find((x: any) => x.kernel === js.simd && x.length === JS_QUERY_TOKENS);
      report.ratios = {
        kernel: js.simd, syncCallOverheadNs: op('countSync') - op('countBatch'), asyncOverSync: op('count (async)') / op('countSync'),
        nativeCountMeanNs: row?.count_present_mean_ns, countSyncOverNative: row ? op('countSync') / row.count_present_mean_ns : undefined,
      };
    }
  }
  if (wants('sais')) {
    const quick = args.quick ? ['--repeat', '1', '--mb', String(Math.min(10, Number(mb)))] : ['--mb', mb];
    report.benchSais = runNative(args.nativeDir, 'bench_sais', ['--file', corpus.path, ...quick]);
  }
  report.totalSeconds = (performance.now() - started) / 1000;

  fs.mkdirSync(args.out, { recursive: true });
  const file = path.join(args.out, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  writeSummary(args.out);
  process.stdout.write(renderResult(report) + '\n');
  process.stderr.write(`wrote ${file} and ${path.join(args.out, 'summary.md')} (${(report.totalSeconds as number).toFixed(1)} s)\n`);
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
