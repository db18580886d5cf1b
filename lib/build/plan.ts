/**
 * The plan of a build, fixed before any document is read: the tokenizer, the memory budget and the shard size
 * it allows, the input files (of this part, for a partitioned build), and the fingerprint that identifies
 * inputs + options for a resume.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { TraceIndexError } from '../errors';
import { resolveInputs, STDIN_PATH } from '../inputs/paths';
import { DocumentRecord, ReadOptions } from '../inputs/records';
import { readDocuments } from '../inputs/streams';
import { loadTokenizer } from '../tokenizers/named';
import { resolveTokenizer, Tokenizer, TokenizerSpec } from '../tokenizers/tokenizer';
import { parseBytes } from '../validate';
import { PartInfo } from './manifest';

/** What makePlan reads of the build options. */
export interface PlanOptions extends Omit<ReadOptions, 'signal'> {
  /** Paths (.txt, .jsonl, .jsonl.gz, directories, globs, '-') or an (async) iterable of {text | tokens, id?, meta?}. */
  inputs: string[] | Iterable<DocumentRecord> | AsyncIterable<DocumentRecord>;
  out: string;
  /**
   * 'bytes' (UTF-8, the default), 'cl100k_base', 'o200k_base', 'llama-2', 'llama-3', a path to a Hugging Face
   * tokenizer.json, a Tokenizer object, or {name, vocabSize} for pre-tokenized ids.
   */
  tokenizer?: string | TokenizerSpec | Tokenizer;
  /** Worker threads tokenizing text (named tokenizers other than bytes); default min(4, cores); 0 = this thread. */
  tokenizerWorkers?: number;
  /** Memory budget for shard builds, bytes or '4GiB'; default a quarter of the machine's memory. */
  memory?: number | string;
  /** Upper bound on tokens per shard (documents plus separators), below what the budget allows. */
  shardTokens?: number;
  /** Threads for suffix-array construction; default 1. */
  threads?: number;
  /** Build part `index` of `count` of a deterministic partition of the input files (see combineIndexes). */
  part?: { index: number; count: number };
  /** Stops the build (ERR_ABORTED); the index at `out` is left as it was, finished shards kept for a resume. */
  signal?: AbortSignal;
}

export interface Plan {
  tokenizer: Tokenizer;
  /** Spec the tokenization workers load, when text is tokenized off this thread. */
  workerSpec: string | null;
  workers: number;
  out: string;
  shardTokens: number;
  parallel: number;
  threads: number;
  inputs: string[] | Iterable<DocumentRecord> | AsyncIterable<DocumentRecord>;
  /** The input files read (this part's), stdin excluded; null for iterables. */
  files: string[] | null;
  /** Identifies inputs + options; null when the inputs cannot be identified (iterables, stdin). */
  fingerprint: string | null;
  /**
   * Keep only the documents with ordinals in [start, end) of the input stream: a part of a partition with
   * fewer files than parts takes a contiguous run of the documents, so the combined index numbers them as a
   * one-process build does.
   */
  documentRange?: { start: number; end: number };
  part?: PartInfo;
  /** Total size of the input files (0 when reading iterables or stdin). */
  inputBytes: number;
}

/**
 * Bytes one shard build holds per token: the tokens, the suffix array and SA-IS's one byte per token of
 * working space (native/core/sais.hpp).
 */
export function buildBytesPerToken(tokenWidth: number, pointerWidth: number): number {
  return tokenWidth + pointerWidth + 1;
}

const MIN_MEMORY = 1 << 20;

/** The most tokenizer worker threads a build starts: twice the CPU cores, at least 4. */
export function maxTokenizerWorkers(): number {
  return Math.max(4, 2 * os.cpus().length);
}

export async function makePlan(options: PlanOptions): Promise<Plan> {
  const spec = typeof options.tokenizer === 'string' ? options.tokenizer : null;
  const tokenizer = spec !== null ? await loadTokenizer(spec) : resolveTokenizer(options.tokenizer);
  // Each worker thread holds a V8 isolate and the tokenizer (~10 MB): more than the cores can use only costs memory.
  const maxWorkers = maxTokenizerWorkers();
  const workers = spec !== null && spec !== 'bytes' ? options.tokenizerWorkers ?? Math.min(4, os.cpus().length) : 0;
  if (!Number.isInteger(workers) || workers < 0 || workers > maxWorkers)
    throw new TraceIndexError('ERR_INVALID_ARGUMENT', `tokenizerWorkers must be an integer in [0, ${maxWorkers}] (twice the CPU cores, at least 4), got ${String(workers)}`);
  const out = path.resolve(options.out);
  // The default budget depends on the machine, not on its momentary free memory, so that shard cuts (and
  // with them the files) are the same from one run to the next.
  const memory = options.memory === undefined ? Math.max(64 << 20, Math.floor(os.totalmem() / 4)) : parseBytes(options.memory);
  if (memory < MIN_MEMORY) throw new TraceIndexError('ERR_INVALID_ARGUMENT', `memory budget ${memory} is below 1 MiB`);
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'threads must be a positive integer');
  let perToken = buildBytesPerToken(tokenizer.tokenWidth, 4);
  let shardTokens = Math.floor(memory / perToken);
  if (shardTokens >= 2 ** 32) {
    perToken = buildBytesPerToken(tokenizer.tokenWidth, 8);
    shardTokens = Math.floor(memory / perToken);
  }
  if (options.shardTokens !== undefined) {
    if (!Number.isInteger(options.shardTokens) || options.shardTokens < 2)
      throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'shardTokens must be an integer >= 2');
    shardTokens = Math.min(shardTokens, options.shardTokens);
  }
  // A second shard builds while the next one fills when the budget holds both builds plus one filling.
  const parallel = memory >= shardTokens * (2 * perToken + tokenizer.tokenWidth) ? 2 : 1;

  let inputs = options.inputs;
  let documentRange: Plan['documentRange'];
  let part: PartInfo | undefined;
  let files: string[] | null = null;
  const read = [options.textField ?? 'text', options.tokensField ?? null, options.idField ?? 'id', options.metaFields ?? 'all', Boolean(options.skipBadLines)];
  const identify = (list: string[], extra: unknown) => createHash('sha256').update(JSON.stringify({
    // ctime and inode too: mtime can be set back (cp -p, rsync -a, tar x), ctime cannot, and a file saved by
    // rename is a new inode; a changed input must not resume onto shards of its old content.
    files: list.map((f) => { const st = fs.statSync(f); return [path.resolve(f), st.size, st.mtimeMs, st.ctimeMs, st.ino]; }),
    tokenizer: tokenizer.fingerprint, read, extra,
  })).digest('hex').slice(0, 16);
  if (Array.isArray(inputs) && inputs.every((x) => typeof x === 'string')) {
    files = await resolveInputs(inputs as string[]);
    if (options.part) {
      const { index, count } = checkPart(options.part);
      if (files.includes(STDIN_PATH)) throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'part builds cannot read stdin');
      if (files.length >= count) {
        part = { index, count, partition: identify(files, count) };
        files = partitionFiles(files, count)[index];
      } else {
        // ("contiguous" keeps parts of the older round-robin partition from combining with these.)
        part = { index, count, partition: identify(files, { count, documents: 'contiguous' }) };
        const total = await countDocuments(files, options);
        documentRange = { start: Math.floor((index * total) / count), end: Math.floor(((index + 1) * total) / count) };
      }
    }
    inputs = files;
  } else if (options.part) {
    throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'part builds need input paths (each part must read the same inputs)');
  }
  const fingerprint = files && !files.includes(STDIN_PATH) ? identify(files, { shardTokens, documentRange }) : null;
  const inputBytes = files ? files.reduce((t, f) => t + (f === STDIN_PATH ? 0 : fs.statSync(f).size), 0) : 0;
  return {
    tokenizer, workerSpec: workers > 0 ? spec : null, workers, out, shardTokens, parallel, threads, inputs,
    files: files && files.filter((f) => f !== STDIN_PATH), fingerprint, documentRange, part, inputBytes,
  };
}

/** Documents in the input files as the build reads them (bad lines fail, or are skipped uncounted). */
async function countDocuments(files: string[], options: PlanOptions): Promise<number> {
  let n = 0;
  for await (const _ of readDocuments(files, { ...options, onSkip: () => {}, onBytes: undefined })) n++;
  return n;
}

function checkPart(part: { index: number; count: number }): { index: number; count: number } {
  if (!Number.isSafeInteger(part.count) || part.count < 1 || !Number.isSafeInteger(part.index) || part.index < 0 || part.index >= part.count)
    throw new TraceIndexError('ERR_INVALID_ARGUMENT', `part ${part.index}/${part.count} is not a part i/N with 0 <= i < N`);
  return part;
}

/** Contiguous runs of the (sorted) files with about equal bytes: part i's documents precede part i+1's. */
export function partitionFiles(files: string[], count: number): string[][] {
  const sizes = files.map((f) => (f === STDIN_PATH ? 0 : fs.statSync(f).size));
  const total = sizes.reduce((s, x) => s + x, 0);
  const parts: string[][] = [[]];
  let acc = 0;
  files.forEach((f, i) => {
    const current = parts[parts.length - 1];
    const partsLeft = count - parts.length;
    // Start the next part when this one holds its share of the bytes, or when every remaining file is
    // needed to give each remaining part one.
    if (current.length > 0 && partsLeft > 0 && (files.length - i <= partsLeft || acc >= (parts.length * total) / count)) parts.push([]);
    parts[parts.length - 1].push(f);
    acc += sizes[i];
  });
  while (parts.length < count) parts.push([]);
  return parts;
}

const SAMPLE_BYTES = 1 << 20;

/**
 * Identifies an input file by content, cheaply: SHA-256 over its size, its first MiB and its last MiB (the
 * whole file up to 2 MiB), first 32 hex digits. Path and mtime are left out, so a copied or touched file is
 * the same input; two files of equal size that agree on both ends are taken as the same (docs/FORMAT.md).
 */
export async function inputFingerprint(file: string): Promise<string> {
  // Read off the JS thread (a build of many large inputs must not stall the event loop); O_NONBLOCK: a FIFO
  // must not block the open (the type check then refuses it).
  const fh = await fsp.open(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new TraceIndexError('ERR_BAD_INPUT', `${file}: not a regular file`);
    const size = st.size;
    const hash = createHash('sha256').update(`traceindex:input:${size}\0`);
    const read = async (at: number, n: number) => {
      const buf = Buffer.alloc(n);
      let got = 0;
      for (let k; got < n && (k = (await fh.read(buf, got, n - got, at + got)).bytesRead) > 0; ) got += k;
      hash.update(buf.subarray(0, got));
    };
    await read(0, Math.min(size, SAMPLE_BYTES));
    if (size > SAMPLE_BYTES) await read(Math.max(SAMPLE_BYTES, size - SAMPLE_BYTES), Math.min(SAMPLE_BYTES, size - SAMPLE_BYTES));
    return hash.digest('hex').slice(0, 32);
  } finally {
    await fh.close();
  }
}
