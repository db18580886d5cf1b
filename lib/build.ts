/**
 * buildIndex: documents in, index directory out. Documents are tokenized and packed into shards that fit
 * the memory budget; each shard is built off the JS thread (validation, SA-IS, durable writes), and the
 * manifest is written last into a temporary directory that then atomically replaces `out`. A build that
 * dies at any point leaves `out` as it was (an older index there keeps working) and nothing that opens.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { abortError, TraceIndexError } from './errors';
import { DocumentRecord, readDocuments, ReadOptions, resolveInputs } from './inputs';
import { FORMAT_NAME, FORMAT_VERSION, Manifest, MANIFEST_FILE, ShardEntry, SHARD_FILES, writeManifest } from './manifest';
import { addon, cancelFlag, nativeError } from './native';
import { parseBytes } from './progress';
import { resolveTokenizer, separatorOf, TokenArray, Tokenizer, TokenizerSpec, TokenWidth } from './tokenizer';

export interface BuildProgress {
  stage: 'read' | 'shard' | 'commit' | 'done';
  documents: number;
  tokens: number;
  shards: number;
  /** Shard being built, during 'shard'. */
  shard?: number;
}

export interface BuildOptions extends Omit<ReadOptions, 'signal'> {
  /** Paths (.txt, .jsonl, .jsonl.gz, directories, globs) or an (async) iterable of {text | tokens, id?, meta?}. */
  inputs: string[] | Iterable<DocumentRecord> | AsyncIterable<DocumentRecord>;
  out: string;
  /** 'bytes' (UTF-8, the default) or {name, vocabSize} for pre-tokenized ids. */
  tokenizer?: 'bytes' | TokenizerSpec | Tokenizer;
  /** Memory budget for one shard build, bytes or '4GiB'; default half of the free memory. */
  memory?: number | string;
  /** Upper bound on tokens per shard (documents plus separators), below what the budget allows. */
  shardTokens?: number;
  /** Threads for suffix-array construction; default 1. */
  threads?: number;
  onProgress?: (p: BuildProgress) => void;
  signal?: AbortSignal;
}

export interface BuildResult {
  out: string;
  documents: number;
  tokens: number;
  shards: number;
  bytesOnDisk: number;
  seconds: number;
}

/**
 * Bytes one shard build holds per token: the tokens, the suffix array and SA-IS's one byte per token of
 * working space (native/core/sais.hpp).
 */
export function buildBytesPerToken(tokenWidth: number, pointerWidth: number): number {
  return tokenWidth + pointerWidth + 1;
}

const MIN_MEMORY = 1 << 20;

export async function buildIndex(options: BuildOptions): Promise<BuildResult> {
  const started = performance.now();
  const tokenizer = resolveTokenizer(options.tokenizer);
  const out = path.resolve(options.out);
  const memory = options.memory === undefined ? Math.max(64 << 20, Math.floor(os.freemem() / 2)) : parseBytes(options.memory);
  if (memory < MIN_MEMORY) throw new TraceIndexError('ERR_INVALID_ARGUMENT', `memory budget ${memory} is below 1 MiB`);
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new TraceIndexError('ERR_INVALID_ARGUMENT', `threads must be a positive integer`);
  let shardTokens = Math.floor(memory / buildBytesPerToken(tokenizer.tokenWidth, 4));
  if (shardTokens >= 2 ** 32) shardTokens = Math.floor(memory / buildBytesPerToken(tokenizer.tokenWidth, 8));
  if (options.shardTokens !== undefined) {
    if (!Number.isInteger(options.shardTokens) || options.shardTokens < 2)
      throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'shardTokens must be an integer >= 2');
    shardTokens = Math.min(shardTokens, options.shardTokens);
  }
  checkOut(out);
  const inputs = Array.isArray(options.inputs) && options.inputs.every((x) => typeof x === 'string')
    ? await resolveInputs(options.inputs as string[])
    : options.inputs;
  if (options.signal?.aborted) throw abortError(options.signal);

  removeStaleBuilds(out);
  const tmp = path.join(path.dirname(out), `.${path.basename(out)}.building-${process.pid}-${randomBytes(4).toString('hex')}`);
  fs.mkdirSync(tmp);
  const cancel = cancelFlag(options.signal);
  try {
    const shards: ShardEntry[] = [];
    const acc = new ShardAccumulator(tokenizer.tokenWidth, shardTokens);
    const progress: BuildProgress = { stage: 'read', documents: 0, tokens: 0, shards: 0 };
    const report = () => options.onProgress?.({ ...progress });
    const flush = async () => {
      progress.stage = 'shard';
      progress.shard = shards.length;
      report();
      shards.push(await acc.writeShard(tmp, shards.length, tokenizer.vocabSize, threads, cancel.flag));
      progress.shards = shards.length;
      progress.stage = 'read';
      delete progress.shard;
      report();
    };
    let lastReport = 0;
    const records = readDocuments(inputs, { ...options, signal: options.signal });
    for await (const record of records) {
      const tokens = tokenize(record, tokenizer, progress.documents);
      if (tokens.length + 1 > shardTokens)
        throw new TraceIndexError('ERR_INVALID_ARGUMENT',
          `document ${JSON.stringify(record.id)} has ${tokens.length} tokens, more than one shard holds under the memory budget (${shardTokens - 1})`);
      if (!acc.fits(tokens.length)) await flush();
      acc.add(tokens, metaRecord(record));
      progress.documents++;
      progress.tokens += tokens.length;
      if (options.onProgress && performance.now() - lastReport > 200) {
        lastReport = performance.now();
        report();
      }
    }
    if (options.signal?.aborted) throw abortError(options.signal);
    if (acc.documents > 0) await flush();
    if (shards.length === 0) throw new TraceIndexError('ERR_BAD_INPUT', 'no documents to index');

    progress.stage = 'commit';
    report();
    const manifest: Manifest = {
      format: FORMAT_NAME,
      formatVersion: FORMAT_VERSION,
      tokenizer: { name: tokenizer.name, fingerprint: tokenizer.fingerprint },
      tokenWidth: tokenizer.tokenWidth,
      vocabSize: tokenizer.vocabSize,
      tokens: progress.tokens,
      documents: progress.documents,
      shards,
    };
    writeManifest(tmp, manifest, addon.fsyncPath);
    if (options.signal?.aborted) throw abortError(options.signal);
    checkOut(out);
    const exchanged = addon.exchangeOrRename(tmp, out);
    addon.fsyncPath(path.dirname(out));
    if (exchanged) fs.rmSync(tmp, { recursive: true, force: true });
    progress.stage = 'done';
    report();
    const bytesOnDisk = shards.reduce((s, sh) => s + SHARD_FILES.reduce((t, f) => t + sh.files[f].bytes, 0), 0);
    return { out, documents: progress.documents, tokens: progress.tokens, shards: shards.length, bytesOnDisk, seconds: (performance.now() - started) / 1000 };
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw nativeError(err);
  } finally {
    cancel.dispose();
  }
}

/** `out` may be absent, an empty directory or an index (replaced); anything else is refused, untouched. */
function checkOut(out: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(out);
  } catch {
    return;
  }
  if (!st.isDirectory()) throw new TraceIndexError('ERR_INVALID_ARGUMENT', `${out} exists and is not a directory`);
  const entries = fs.readdirSync(out);
  if (entries.length > 0 && !entries.includes(MANIFEST_FILE))
    throw new TraceIndexError('ERR_INVALID_ARGUMENT', `${out} exists, is not empty and holds no index: refusing to replace it`);
}

/** Removes temporary directories left by builds of `out` whose process is gone. */
function removeStaleBuilds(out: string): void {
  const prefix = `.${path.basename(out)}.building-`;
  let entries: string[];
  try {
    entries = fs.readdirSync(path.dirname(out));
  } catch {
    return;
  }
  for (const name of entries) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    fs.rmSync(path.join(path.dirname(out), name), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tokenize(record: DocumentRecord, tokenizer: Tokenizer, n: number): ArrayLike<number> {
  if (record.tokens !== undefined) {
    const t = record.tokens;
    const limit = tokenizer.vocabSize;
    for (let i = 0; i < t.length; i++) {
      const v = t[i];
      if (!(Number.isInteger(v) && v >= 0 && v < limit))
        throw new TraceIndexError('ERR_TOKEN_RANGE',
          `document ${JSON.stringify(record.id ?? String(n))}: token ${v} at ${i} is not an id of the ${tokenizer.name} vocabulary (0..${limit - 1})`);
    }
    return t;
  }
  if (typeof record.text !== 'string') throw new TraceIndexError('ERR_BAD_INPUT', `document ${JSON.stringify(record.id ?? String(n))} has neither text nor tokens`);
  return tokenizer.encode(record.text);
}

function metaRecord(record: DocumentRecord): Buffer {
  return Buffer.from(JSON.stringify(record.meta === undefined ? { id: record.id } : { id: record.id, meta: record.meta }), 'utf8');
}

/** The documents of the shard being filled: tokens + separators, document starts and metadata records. */
class ShardAccumulator {
  private tokens: TokenArray;
  private length = 0;
  private starts: number[] = [0];
  private meta: Buffer[] = [];
  private metaOffsets: number[] = [0];
  private readonly separator: number;

  constructor(private readonly width: TokenWidth, private readonly capacity: number) {
    this.tokens = allocTokens(width, Math.min(capacity, 1 << 16));
    this.separator = separatorOf(width);
  }

  get documents(): number {
    return this.starts.length - 1;
  }

  fits(docTokens: number): boolean {
    return this.documents === 0 || this.length + docTokens + 1 <= this.capacity;
  }

  add(doc: ArrayLike<number>, meta: Buffer): void {
    const need = this.length + doc.length + 1;
    if (need > this.tokens.length) {
      let size = this.tokens.length;
      while (size < need) size = Math.min(this.capacity, size * 2);
      const grown = allocTokens(this.width, size);
      grown.set(this.tokens.subarray(0, this.length));
      this.tokens = grown;
    }
    this.tokens.set(doc as ArrayLike<number>, this.length);
    this.length += doc.length;
    this.tokens[this.length++] = this.separator;
    this.starts.push(this.length);
    this.meta.push(meta);
    this.metaOffsets.push(this.metaOffsets[this.metaOffsets.length - 1] + meta.length);
  }

  async writeShard(root: string, ordinal: number, vocabSize: number, threads: number, cancel: Uint8Array): Promise<ShardEntry> {
    const dir = `shard-${String(ordinal).padStart(5, '0')}`;
    const tokens = this.tokens.subarray(0, this.length);
    const written = await addon.buildShard({
      dir: path.join(root, dir),
      tokens,
      tokenWidth: this.width,
      docStarts: Float64Array.from(this.starts),
      metaOffsets: Float64Array.from(this.metaOffsets),
      metaBlob: Buffer.concat(this.meta),
      vocabSize,
      threads,
      cancel,
    });
    const entry: ShardEntry = {
      dir,
      tokens: this.length,
      documents: this.documents,
      pointerWidth: this.length < 2 ** 32 ? 4 : 8,
      files: Object.fromEntries(written.map((f) => [f.name, { bytes: f.bytes, xxh64: f.xxh64 }])) as ShardEntry['files'],
    };
    this.length = 0;
    this.starts = [0];
    this.meta = [];
    this.metaOffsets = [0];
    return entry;
  }
}

function allocTokens(width: TokenWidth, n: number): TokenArray {
  return width === 1 ? new Uint8Array(n) : width === 2 ? new Uint16Array(n) : new Uint32Array(n);
}
