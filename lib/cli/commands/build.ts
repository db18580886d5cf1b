/** traceindex build: index input files (or stdin) into a directory, with a progress line. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BuildOptions, BuildProgress, BuildResult, buildIndex, DocumentRecord } from '../../index';
import { createSkipCollector } from '../../inputs/records';
import { maxTokenizerWorkers } from '../../build/plan';
import { parseBytes } from '../../validate';
import { Command, Flags, Interrupted, intFlag, print, UsageError } from '../command';
import { formatBytes, formatCount, ProgressFields, ProgressOptions, ProgressReporter } from '../format';

function partOption(spec: string | undefined): { index: number; count: number } | undefined {
  if (spec === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(spec);
  if (!m || !Number.isSafeInteger(Number(m[2])) || Number(m[1]) >= Number(m[2])) throw new UsageError(`--shard takes i/N with 0 <= i < N < 2^53, got ${spec}`);
  return { index: Number(m[1]), count: Number(m[2]) };
}

function tokenizerOption(spec: string | undefined): BuildOptions['tokenizer'] {
  if (spec === undefined) return 'bytes';
  const m = /^pretokenized:(\d+)$/.exec(spec);
  if (m) return { name: 'pretokenized', vocabSize: Number(m[1]) };
  return spec;  // a tokenizer name or a tokenizer.json path (loadTokenizer says if it is neither)
}

/** Build options from the flags (checked before anything is read). */
function buildFlags(flags: Flags): Omit<BuildOptions, 'inputs' | 'out'> {
  let memory: number | undefined;
  if (flags.memory !== undefined) {
    try {
      memory = parseBytes(flags.memory as string, '--memory');
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  return {
    tokenizer: tokenizerOption(flags.tokenizer as string | undefined),
    textField: flags['text-field'] as string | undefined,
    tokensField: flags['tokens-field'] as string | undefined,
    idField: flags['id-field'] as string | undefined,
    memory,
    shardTokens: intFlag(flags, 'shard-tokens'),
    threads: intFlag(flags, 'threads', { default: 1, positive: true }),
    tokenizerWorkers: intFlag(flags, 'tokenizer-workers', { max: maxTokenizerWorkers() }),
    skipBadLines: Boolean(flags['skip-bad-lines']),
    append: Boolean(flags.append),
    skipDuplicateInputs: Boolean(flags['skip-duplicate-append']),
    resume: !flags['no-resume'],
    part: partOption(flags.shard as string | undefined),
  };
}

/**
 * The progress line of a build: a bar over the estimated share of the whole job (elapsed / (elapsed + ETA),
 * the ETA covering reading and the shard builds still to come: BuildProgress.etaSeconds); until the build has
 * the rates for an estimate, a bar over the input bytes read with "ETA ?" (documents for iterables).
 */
export function buildProgressFields(p: BuildProgress): ProgressFields {
  const eta = p.etaSeconds;
  const sa = p.suffixArray.total > 0 && p.suffixArray.done < p.suffixArray.total
    ? ` (shard build ${((100 * p.suffixArray.done) / p.suffixArray.total).toFixed(0)}%)` : '';
  const note = `${p.bytesTotal > 0 ? `${formatBytes(p.bytesRead)}/${formatBytes(p.bytesTotal)} read, ` : ''}` +
    `${formatCount(p.documents)} docs, ${formatCount(p.tokens)} tokens, ${p.shards} shard(s) done` +
    `${p.building ? `, ${p.building} building${sa}` : ''}${p.resumed ? ` (${p.resumed} resumed)` : ''}, ${p.stage}`;
  if (eta !== undefined)
    return { fraction: p.elapsedSeconds / Math.max(p.elapsedSeconds + eta, 1e-9), etaSeconds: eta, note, done: undefined, total: undefined, rate: '' };
  if (p.bytesTotal > 0) return { fraction: p.bytesRead / p.bytesTotal, etaSeconds: NaN, note, done: undefined, total: undefined, rate: '' };
  return { fraction: undefined, done: p.documents, etaSeconds: NaN, note, rate: undefined };
}

/** Builds `inputs` into `out` as the build command does (also used by demo). `progressOptions`: tests' stream and clock. */
export async function runBuild(flags: Flags, inputs: string[] | AsyncIterable<DocumentRecord> | Iterable<DocumentRecord>, out: string,
  signal?: AbortSignal, progressOptions: ProgressOptions = {}): Promise<BuildResult & { skipped: number }> {
  const options = buildFlags(flags);
  const quiet = Boolean(flags.quiet || flags.json);
  // One line for the whole build, redrawn on a timer (the shard builds move while nothing is read).
  let progress: ProgressReporter | null = null;
  const skips = createSkipCollector(5);
  let result: BuildResult;
  try {
    result = await buildIndex({
      ...options,
      inputs,
      out,
      onSkip: skips.onSkip,
      signal,
      onProgress: (p) => {
        if (!progress) {
          progress = new ProgressReporter({ unit: 'docs', quiet, live: true, spinner: true, ...progressOptions });
          progress.start('build');
        }
        progress.update(buildProgressFields(p));
      },
    });
  } finally {
    (progress as ProgressReporter | null)?.stop();
  }
  (progress ?? new ProgressReporter({ quiet, ...progressOptions })).done(`${formatCount(result.documents)} docs, ${formatCount(result.tokens)} tokens, ${result.shards} shard(s)${result.resumed ? ` (${result.resumed} resumed)` : ''}, ${formatBytes(result.bytesOnDisk)} in ${result.seconds.toFixed(2)} s`);
  if (skips.skipped > 0 && !quiet)
    process.stderr.write(`skipped ${skips.skipped} bad line(s); first: ${skips.first.map((b) => `${b.file}:${b.line}: ${b.reason}`).join('; ')}\n`);
  return { ...result, skipped: skips.skipped };
}

/**
 * What an interrupted build left, and how to go on. buildIndex works in `.NAME.building-<fingerprint>` beside
 * the target and keeps it after an abort when it can resume (docs/api.md, "Durability"); it reports no path,
 * so the directory is found by that documented name.
 */
function interruptedBuild(signal: string, out: string, flags: Flags): string {
  const target = path.resolve(out);
  const head = `interrupted (${signal}): ${target} is left as it was`;
  if (flags.append) return `${head}; the shards this append wrote are removed by the next one: run the command again to append`;
  const prefix = `.${path.basename(target)}.building-`;
  let partial: string[] = [];
  try {
    partial = fs.readdirSync(path.dirname(target)).filter((e) => e.startsWith(prefix)).map((e) => path.join(path.dirname(target), e));
  } catch {
    // no parent directory: nothing was kept
  }
  if (partial.length > 0) return `${head}; the partial build is in ${partial.join(', ')}: run the same command again to resume it (--no-resume starts over)`;
  return `${head}; nothing to resume (a build reading stdin starts over): run the command again`;
}

export const build: Command = {
  name: 'build',
  summary: 'index documents: .txt, .jsonl, .jsonl.gz, .jsonl.zst files, directories, globs, - for stdin (JSONL)',
  usage: `<inputs...> --out DIR [--tokenizer NAME|PATH|pretokenized:VOCAB] [--text-field text]
        [--tokens-field F] [--id-field id] [--memory 4GiB] [--shard-tokens N] [--threads N]
        [--tokenizer-workers N] [--skip-bad-lines] [--append [--skip-duplicate-append]] [--no-resume] [--shard i/N] [--quiet] [--json]`,
  options: ['out', 'tokenizer', 'text-field', 'tokens-field', 'id-field', 'memory', 'shard-tokens', 'threads', 'tokenizer-workers',
    'skip-bad-lines', 'append', 'skip-duplicate-append', 'no-resume', 'shard', 'quiet', 'json'],
  interruptible: true,
  async run(args, flags, signal) {
    if (!flags.out) throw new UsageError('build needs --out DIR');
    if (args.length === 0) throw new UsageError('build needs at least one input');
    const out = flags.out as string;
    let r: BuildResult & { skipped: number };
    try {
      r = await runBuild(flags, args, out, signal);
    } catch (err) {
      if (signal?.reason instanceof Interrupted) throw new Interrupted(signal.reason.signal, interruptedBuild(signal.reason.signal, out, flags));
      throw err;
    }
    if (flags.json) print(flags, r, '');
  },
};
