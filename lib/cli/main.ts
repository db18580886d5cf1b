#!/usr/bin/env node
/**
 * The traceindex command line. Every query command prints a human summary, or one JSON object with --json.
 * Errors go to stderr with their code; the exit code is 1 on error, 2 on bad usage.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { buildIndex, BuildOptions, combineIndexes, DocumentRecord, Index, openIndex, TraceIndexError } from '../index';
import { createSkipCollector } from '../inputs/records';
import { parseBytes } from '../validate';
import { formatBytes, formatCount, ProgressReporter } from './format';
import { contamination, exportSurprisal, runScan, traceCommandOptions, traceLines, TRACE_DEFAULTS } from './trace-commands';

const USAGE = `traceindex — exact provenance queries over suffix-array indexes

Usage:
  traceindex build <inputs...> --out DIR [--tokenizer NAME|PATH|pretokenized:VOCAB] [--text-field text]
                   [--tokens-field F] [--id-field id] [--memory 4GiB] [--shard-tokens N] [--threads N]
                   [--tokenizer-workers N]
                   [--skip-bad-lines] [--append [--skip-duplicate-append]] [--no-resume] [--shard i/N]
                   [--quiet] [--json]
  traceindex combine OUT PART_DIRS... [--verify] [--json]   tie the parts of a --shard i/N build into one index
  traceindex info DIR [--json]
     query commands also read an infini-gram index in place: DIR [--format infini-gram] [--token-width 1|2|4]
                   [--vocab-size V] [--tokenizer bytes]   (format detected and width inferred when omitted)
  traceindex count DIR <text> [--tokens 1,2,3] [--json]
  traceindex locate DIR <text> [--limit 10] [--offset 0] [--context 16] [--json]
  traceindex longest DIR <text> [--json]          longest prefix of the text that occurs
  traceindex next DIR <text> [--top 10] [--json]  ∞-gram next-token distribution
  traceindex document DIR <number|id> [--json]
  traceindex verify DIR [--json]                  checksums, content and suffix order
  traceindex trace DIR <text|-> [--min-length N] [--max-count N] [--delimiters ".,\\n"] [--no-word-boundaries]
                   [--max-documents N] [--seed N] [--log-base B] [--json]
  traceindex shield DIR <text|-> --tau T [--window W] [--max-count N] [--json]
  traceindex scan DIR <outputs.jsonl...> [--field text] [--id-field id] [--out results.jsonl] [trace options]
  traceindex contamination DIR <eval.jsonl...> --min-length N [--field text] [--json]
  traceindex calibrate DIR [--lengths 8,16,32] [--samples 1000] [--seed N] [--json]
  traceindex export-surprisal DIR --out FILE.npy [--log-base B]
  traceindex demo [--out DIR] [--json]            build and query an index of the docs under node_modules

Inputs: .txt (one document per file), .jsonl, .jsonl.gz, .jsonl.zst, directories, globs, - for stdin (JSONL).
Tokenizers: bytes (default), cl100k_base, o200k_base, llama-2, llama-3, a path to a tokenizer.json, or
pretokenized:VOCAB with --tokens-field. Query commands take --tokenizer PATH for a local copy of the index's.
`;

type Flags = Record<string, string | boolean | undefined>;

const OPTIONS = {
  out: { type: 'string' },
  tokenizer: { type: 'string' },
  'text-field': { type: 'string' },
  'tokens-field': { type: 'string' },
  'id-field': { type: 'string' },
  memory: { type: 'string' },
  'shard-tokens': { type: 'string' },
  threads: { type: 'string' },
  'skip-bad-lines': { type: 'boolean' },
  'tokenizer-workers': { type: 'string' },
  append: { type: 'boolean' },
  'skip-duplicate-append': { type: 'boolean' },
  'no-resume': { type: 'boolean' },
  shard: { type: 'string' },
  verify: { type: 'boolean' },
  quiet: { type: 'boolean' },
  json: { type: 'boolean' },
  tokens: { type: 'string' },
  limit: { type: 'string' },
  offset: { type: 'string' },
  context: { type: 'string' },
  top: { type: 'string' },
  'min-length': { type: 'string' },
  'max-count': { type: 'string' },
  delimiters: { type: 'string' },
  'no-word-boundaries': { type: 'boolean' },
  'max-documents': { type: 'string' },
  seed: { type: 'string' },
  'log-base': { type: 'string' },
  tau: { type: 'string' },
  window: { type: 'string' },
  field: { type: 'string' },
  lengths: { type: 'string' },
  samples: { type: 'string' },
  format: { type: 'string' },
  'token-width': { type: 'string' },
  'vocab-size': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

class UsageError extends Error {}

function int(flags: Flags, name: string, fallback: number): number {
  const v = flags[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--${name} takes a non-negative integer, got ${v}`);
  return n;
}

function print(flags: Flags, json: unknown, human: string): void {
  process.stdout.write(flags.json ? JSON.stringify(json) + '\n' : human + '\n');
}

/** The query of a command: the text argument, or --tokens 1,2,3. */
function queryOf(flags: Flags, rest: string[]): string | number[] {
  if (typeof flags.tokens === 'string') {
    const ids = flags.tokens.split(',').filter((s) => s.trim() !== '').map(Number);
    if (ids.some((x) => !Number.isInteger(x) || x < 0)) throw new UsageError('--tokens takes comma-separated token ids');
    return ids;
  }
  if (rest.length === 0) throw new UsageError('missing query text');
  return rest.join(' ');
}

let openOptions: Parameters<typeof openIndex>[1] = {};

async function withIndex<T>(dir: string | undefined, fn: (idx: Index) => Promise<T>): Promise<T> {
  if (!dir) throw new UsageError('missing index directory');
  const idx = await openIndex(dir, openOptions);
  try {
    return await fn(idx);
  } finally {
    idx.close();
  }
}

function partOption(spec: string | undefined): { index: number; count: number } | undefined {
  if (spec === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(spec);
  if (!m || Number(m[1]) >= Number(m[2])) throw new UsageError(`--shard takes i/N with 0 <= i < N, got ${spec}`);
  return { index: Number(m[1]), count: Number(m[2]) };
}

function tokenizerOption(spec: string | undefined): BuildOptions['tokenizer'] {
  if (spec === undefined) return 'bytes';
  const m = /^pretokenized:(\d+)$/.exec(spec);
  if (m) return { name: 'pretokenized', vocabSize: Number(m[1]) };
  return spec;  // a tokenizer name or a tokenizer.json path (loadTokenizer says if it is neither)
}

async function build(flags: Flags, inputs: string[] | AsyncIterable<DocumentRecord> | Iterable<DocumentRecord>, out: string) {
  const quiet = Boolean(flags.quiet || flags.json);
  // One line for the whole build: against the input files' bytes (with an ETA) when they are known.
  let progress: ProgressReporter | null = null;
  const skips = createSkipCollector(5);
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const result = await buildIndex({
      inputs,
      out,
      tokenizer: tokenizerOption(flags.tokenizer as string | undefined),
      textField: flags['text-field'] as string | undefined,
      tokensField: flags['tokens-field'] as string | undefined,
      idField: flags['id-field'] as string | undefined,
      memory: flags.memory === undefined ? undefined : parseBytes(flags.memory as string),
      shardTokens: flags['shard-tokens'] === undefined ? undefined : int(flags, 'shard-tokens', 0),
      threads: int(flags, 'threads', 1),
      tokenizerWorkers: flags['tokenizer-workers'] === undefined ? undefined : int(flags, 'tokenizer-workers', 0),
      skipBadLines: Boolean(flags['skip-bad-lines']),
      append: Boolean(flags.append),
      skipDuplicateInputs: Boolean(flags['skip-duplicate-append']),
      resume: !flags['no-resume'],
      part: partOption(flags.shard as string | undefined),
      onSkip: skips.onSkip,
      signal: controller.signal,
      onProgress: (p) => {
        if (!progress) {
          progress = new ProgressReporter({ unit: p.bytesTotal > 0 ? 'bytes in' : 'docs', quiet });
          progress.start('build', p.bytesTotal > 0 ? p.bytesTotal : undefined);
        }
        const note = `${formatCount(p.documents)} docs, ${formatCount(p.tokens)} tokens, ${p.shards} shard(s) done` +
          `${p.building ? `, ${p.building} building` : ''}${p.resumed ? ` (${p.resumed} resumed)` : ''}, ${p.stage}`;
        progress.update(p.bytesTotal > 0 ? { done: p.bytesRead, note } : { done: p.documents, note });
      },
    });
    (progress ?? new ProgressReporter({ quiet })).done(`${formatCount(result.documents)} docs, ${formatCount(result.tokens)} tokens, ${result.shards} shard(s)${result.resumed ? ` (${result.resumed} resumed)` : ''}, ${formatBytes(result.bytesOnDisk)} in ${result.seconds.toFixed(2)} s`);
    if (skips.skipped > 0 && !quiet)
      process.stderr.write(`skipped ${skips.skipped} bad line(s); first: ${skips.first.map((b) => `${b.file}:${b.line}: ${b.reason}`).join('; ')}\n`);
    return { ...result, skipped: skips.skipped };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function infoLines(idx: Index): string {
  const i = idx.info;
  return [
    `index        ${i.dir}`,
    `format       ${i.format === 'infini-gram' ? 'infini-gram (read in place)' : `v${i.formatVersion}`}`,
    `tokenizer    ${i.tokenizer.name} (${i.tokenizer.fingerprint}), vocabulary ${i.vocabSize}, ${i.tokenWidth}-byte tokens`,
    `documents    ${formatCount(i.documents)}`,
    `tokens       ${formatCount(i.tokens)}`,
    `shards       ${i.shards.length} (${i.shards.map((s) => `${s.dir}: ${formatCount(s.tokens)} tokens, ${s.pointerWidth}-byte pointers`).join('; ')})`,
    `on disk      ${formatBytes(i.bytesOnDisk)}, ${i.bytesPerToken.toFixed(3)} bytes/token (tokens + suffix array)`,
    `search SIMD  ${i.simd}`,
  ].join('\n');
}

/** Markdown and licence files of the installed packages: a corpus every installation has. */
function demoCorpus(): DocumentRecord[] {
  const roots = [path.resolve(__dirname, '..', '..', '..', 'node_modules'), path.resolve(__dirname, '..', '..', '..', '..')];
  const root = roots.find((r) => fs.existsSync(r) && path.basename(r) === 'node_modules') ?? roots[0];
  const docs: DocumentRecord[] = [];
  const walk = (dir: string, depth: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory() && depth < 6) walk(p, depth + 1);
      else if (e.isFile() && /(\.md|\.markdown|^LICEN[CS]E(\.txt)?)$/i.test(e.name)) {
        const text = fs.readFileSync(p, 'utf8');
        if (text.length > 0) docs.push({ text, id: path.relative(root, p) });
      }
    }
  };
  walk(root, 0);
  if (docs.length === 0) throw new TraceIndexError('ERR_BAD_INPUT', `no Markdown or licence files under ${root}: run npm install first`);
  return docs;
}

async function demo(flags: Flags) {
  const out = (flags.out as string | undefined) ?? path.join(os.tmpdir(), 'traceindex-demo');
  const corpus = demoCorpus();
  const built = await build({ ...flags, quiet: true }, corpus, out);
  return withIndex(out, async (idx) => {
    const sample = 'Permission is hereby granted, free of charge, to any person obtaining a copy';
    // A second sample: a deterministic 48-byte window from the middle of a mid-corpus document.
    const doc = corpus[Math.floor(corpus.length / 2)];
    const bytes = Buffer.from(doc.text!, 'utf8');
    const at = Math.floor(bytes.length / 2);
    const window = bytes.subarray(at, Math.min(bytes.length, at + 48)).toString('utf8').replace(/^\uFFFD+|\uFFFD+$/g, '');
    const results = [];
    for (const text of [sample, window]) {
      const t0 = performance.now();
      const count = await idx.count(text);
      const located = await idx.locate(text, { limit: 3, context: 0 });
      results.push({ text, count, microseconds: Math.round((performance.now() - t0) * 1000), sources: located.occurrences.map((o) => ({ id: o.id, byte: o.position.byte })) });
    }
    // The main job: trace a model-like output (a corpus sentence spliced into new text) back to its sources.
    const output = `As the model put it: ${window.trim()} — and, as every licence says, ${sample.toLowerCase()} of this demo.`;
    const traceOptions = { minLength: 12, wordBoundaries: true, maxDocuments: 2 };
    const t0 = performance.now();
    const traced = await idx.trace(output, traceOptions);
    const traceMicroseconds = Math.round((performance.now() - t0) * 1000);
    const summary = {
      index: out, documents: built.documents, tokens: built.tokens, shards: built.shards, buildSeconds: built.seconds, bytesPerToken: idx.info.bytesPerToken, queries: results,
      trace: { output, options: traceOptions, microseconds: traceMicroseconds, spans: traced.spans.map((sp) => ({ start: sp.start, end: sp.end, text: sp.text, count: sp.count, bci: sp.bci, sources: sp.documents.map((d) => d.id) })) },
    };
    const human = [
      `Indexed ${formatCount(built.documents)} Markdown/licence files from node_modules (${formatCount(built.tokens)} UTF-8 byte tokens) into ${out} in ${built.seconds.toFixed(2)} s.`,
      ...results.map((r) => [
        ``,
        `"${r.text.length > 70 ? r.text.slice(0, 67) + '...' : r.text}"`,
        `  occurs ${r.count} time(s) (count + locate: ${r.microseconds} µs); from:`,
        ...r.sources.map((s) => `    ${s.id} at byte ${s.byte}`),
        ...(r.count > r.sources.length ? [`    ... and ${r.count - r.sources.length} more`] : []),
      ].join('\n')),
      ``,
      `Tracing a model-like output (${traced.tokens} tokens, ${traceMicroseconds} µs; spans of >= 12 tokens on word boundaries):`,
      `  ${JSON.stringify(output)}`,
      ...traced.spans.map((sp) => `  [${sp.start}, ${sp.end}) BCI ${sp.bci.toFixed(1)}, ${sp.count} occurrence(s), e.g. ${sp.documents.map((d) => d.id).join(', ')}: ${JSON.stringify(sp.text)}`),
      ``,
      `Try: traceindex trace ${out} "<any text>"    traceindex locate ${out} "MIT License" --limit 5`,
    ].join('\n');
    print(flags, summary, human);
  });
}

/** The text argument, or stdin when it is "-". */
async function textArg(rest: string[]): Promise<string> {
  if (rest.length === 1 && rest[0] === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  if (rest.length === 0) throw new UsageError('missing text (or - for stdin)');
  return rest.join(' ');
}

/** Typed arrays as plain arrays, for JSON output. */
function jsonSafe<T>(v: T): T {
  return JSON.parse(JSON.stringify(v, (_k, x) => (ArrayBuffer.isView(x) ? Array.from(x as unknown as ArrayLike<number>) : x)));
}

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    process.stderr.write(`traceindex: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const flags = parsed.values as Flags;
  const [command, ...rest] = parsed.positionals;
  // Query commands: --tokenizer names a local copy of the index's tokenizer (checked by fingerprint).
  openOptions = command !== 'build' && typeof flags.tokenizer === 'string' ? { tokenizer: flags.tokenizer } : {};
  if (flags.help || !command) {
    process.stdout.write(USAGE);
    return command || flags.help ? 0 : 2;
  }
  try {
    // Query commands on an infini-gram index: --format infini-gram (detected when omitted), --token-width 1|2|4
    // (inferred when omitted), --vocab-size, and --tokenizer bytes (or a name) for text queries.
    if (flags.format !== undefined) {
      if (flags.format !== 'traceindex' && flags.format !== 'infini-gram') throw new UsageError(`--format takes traceindex or infini-gram, got ${flags.format}`);
      openOptions.format = flags.format;
    }
    if (flags['token-width'] !== undefined) {
      const w = int(flags, 'token-width', 0);
      if (![1, 2, 4].includes(w)) throw new UsageError(`--token-width takes 1, 2 or 4, got ${flags['token-width']}`);
      openOptions.tokenWidth = w;
    }
    if (flags['vocab-size'] !== undefined) openOptions.vocabSize = int(flags, 'vocab-size', 0);
    switch (command) {
      case 'build': {
        if (!flags.out) throw new UsageError('build needs --out DIR');
        if (rest.length === 0) throw new UsageError('build needs at least one input');
        const r = await build(flags, rest, flags.out as string);
        if (flags.json) print(flags, r, '');
        break;
      }
      case 'combine': {
        const [out, ...parts] = rest;
        if (!out || parts.length === 0) throw new UsageError('combine needs OUT and at least one part directory');
        const r = await combineIndexes(out, parts, { verify: Boolean(flags.verify) });
        print(flags, r, `combined ${r.parts} part(s), ${r.shards} shard(s), ${formatCount(r.documents)} docs, ${formatCount(r.tokens)} tokens into ${r.out}`);
        break;
      }
      case 'info':
        await withIndex(rest[0], async (idx) => print(flags, idx.info, infoLines(idx)));
        break;
      case 'count':
        await withIndex(rest[0], async (idx) => {
          const count = await idx.count(queryOf(flags, rest.slice(1)));
          print(flags, { count }, String(count));
        });
        break;
      case 'locate':
        await withIndex(rest[0], async (idx) => {
          const r = await idx.locate(queryOf(flags, rest.slice(1)), { limit: int(flags, 'limit', 10), offset: int(flags, 'offset', 0), context: int(flags, 'context', 16) });
          const json = { total: r.total, occurrences: r.occurrences.map((o) => ({ ...o, snippet: { ...o.snippet, tokens: Array.from(o.snippet.tokens) } })) };
          const human = [`${r.total} occurrence(s)`, ...r.occurrences.map((o) =>
            `  doc ${o.document} ${JSON.stringify(o.id)} token ${o.position.token}${o.position.byte !== undefined ? ` byte ${o.position.byte}` : ''}: ${o.snippet.text !== undefined ? JSON.stringify(o.snippet.text) : Array.from(o.snippet.tokens).join(' ')}`)].join('\n');
          print(flags, json, human);
        });
        break;
      case 'longest':
        await withIndex(rest[0], async (idx) => {
          const m = await idx.longestMatch(queryOf(flags, rest.slice(1)));
          print(flags, m, `${m.length} token(s) match, ${m.count} occurrence(s)${m.text !== undefined ? `: ${JSON.stringify(m.text)}` : ''}`);
        });
        break;
      case 'next':
        await withIndex(rest[0], async (idx) => {
          const q = typeof flags.tokens === 'string' ? queryOf(flags, []) : rest.slice(1).join(' ');
          const n = await idx.nextTokens(q);
          const top = Math.min(n.tokens.length, int(flags, 'top', 10));
          const rows = Array.from({ length: top }, (_, i) => ({ token: n.tokens[i], count: n.counts[i], probability: n.counts[i] / n.total }));
          const show = (t: number) => (idx.tokenizer.readsText ? JSON.stringify(idx.tokenizer.decode([t])) : String(t));
          print(flags, { suffixLength: n.suffixLength, total: n.total, approximate: n.approximate, distinct: n.tokens.length, top: rows },
            [`context suffix of ${n.suffixLength} token(s), ${n.total} continuation(s), ${n.tokens.length} distinct`,
              ...rows.map((r) => `  ${show(r.token)}  ${r.count}  ${(r.probability * 100).toFixed(2)}%`)].join('\n'));
        });
        break;
      case 'document':
        await withIndex(rest[0], async (idx) => {
          const ref = rest[1];
          if (ref === undefined) throw new UsageError('document needs a number or an id');
          const d = await idx.document(/^\d+$/.test(ref) ? Number(ref) : ref);
          print(flags, { ...d, tokens: Array.from(d.tokens) }, d.text ?? Array.from(d.tokens).join(' '));
        });
        break;
      case 'verify':
        await withIndex(rest[0], async (idx) => {
          const r = await idx.verify();
          print(flags, { ok: true, ...r }, idx.format === 'infini-gram'
            ? `ok: ${r.files} infini-gram files (${formatBytes(r.bytes)}, no checksums in that format); ${r.shards} shard(s) pass content and byte-order suffix checks`
            : `ok: ${r.files} files (${formatBytes(r.bytes)}) match their checksums; ${r.shards} shard(s) pass content and suffix-order checks`);
        });
        break;
      case 'trace':
        await withIndex(rest[0], async (idx) => {
          const options = traceCommandOptions(flags, idx);
          const r = await idx.trace(await textArg(rest.slice(1)), options);
          print(flags, { options, ...jsonSafe(r) }, traceLines(idx, r, options));
        });
        break;
      case 'shield':
        await withIndex(rest[0], async (idx) => {
          if (flags.tau === undefined) throw new UsageError('shield needs --tau (see README, "Calibrating τ": traceindex calibrate DIR)');
          const tau = Number(flags.tau);
          const options = { ...traceCommandOptions(flags, idx), tau, mode: flags.window ? { window: int(flags, 'window', 8) } : ('maximal' as const) };
          const r = await idx.shield(await textArg(rest.slice(1)), options);
          print(flags, jsonSafe(r), `${r.refuse ? 'REFUSE' : 'allow'}: max BCI ${r.maxBci.toFixed(3)} (tau ${tau})${r.worst ? ` from ${JSON.stringify(r.worst.text ?? '')} (${r.worst.count} occurrence(s))` : ''}`);
        });
        break;
      case 'scan':
        await withIndex(rest[0], (idx) => runScan(idx, rest.slice(1), flags, traceCommandOptions(flags, idx)));
        break;
      case 'contamination':
        await withIndex(rest[0], async (idx) => {
          if (flags['min-length'] === undefined) throw new UsageError('contamination needs --min-length N');
          const r = await contamination(idx, rest.slice(1), flags, traceCommandOptions(flags, idx));
          print(flags, r, `${r.contaminated} of ${r.items} item(s) (${(r.share * 100).toFixed(2)}%) share a span of >= ${r.minLength} tokens with the corpus${r.errors.length ? `; ${r.errors.length} unreadable record(s), first: ${r.errors[0].message}` : ''}`);
        });
        break;
      case 'calibrate':
        await withIndex(rest[0], async (idx) => {
          const lengths = typeof flags.lengths === 'string' ? flags.lengths.split(',').map(Number) : undefined;
          const r = idx.calibrate({ lengths, samples: flags.samples === undefined ? undefined : int(flags, 'samples', 1000), seed: int(flags, 'seed', 0) });
          print(flags, r, r.map((c) => `length ${c.length}: ${c.samples} spans, BCI p50 ${c.quantiles.p50.toFixed(2)} p90 ${c.quantiles.p90.toFixed(2)} p95 ${c.quantiles.p95.toFixed(2)} p99 ${c.quantiles.p99.toFixed(2)} max ${c.quantiles.max.toFixed(2)}`).join('\n'));
        });
        break;
      case 'export-surprisal':
        await withIndex(rest[0], async (idx) => {
          if (typeof flags.out !== 'string') throw new UsageError('export-surprisal needs --out FILE.npy');
          const n = exportSurprisal(idx, flags.out, flags['log-base'] === undefined ? undefined : Number(flags['log-base']));
          print(flags, { out: flags.out, entries: n }, `wrote ${n} surprisal values (float32) to ${flags.out}`);
        });
        break;
      case 'demo':
        await demo(flags);
        break;
      default:
        throw new UsageError(`unknown command ${command}`);
    }
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`traceindex: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    const e = err as Error & { code?: string };
    process.stderr.write(`traceindex: ${e.code ? `${e.code}: ` : ''}${e.message}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
