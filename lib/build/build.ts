/**
 * buildIndex: documents in, index directory out. Documents are tokenized and packed into shards that fit
 * the memory budget; each shard is built off the JS thread (validation, SA-IS, durable writes), up to two
 * at once when the budget holds both. Every finished shard is recorded in a `shard-NNNNN.json` beside it, so
 * a build killed midway and run again with the same inputs and options resumes: it checks the finished
 * shards by checksum, skips their documents and builds the rest.
 *
 * A new build works in `.NAME.building-<fingerprint>` beside `out`, writes the manifest last and swaps the
 * directory into place atomically: a build that dies at any point leaves `out` as it was (an older index
 * there keeps working). `append` adds shards inside an existing index and replaces only its manifest.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { abortError, TraceIndexError } from '../errors';
import { resolveInputs, STDIN_PATH } from '../inputs/paths';
import { DocumentRecord, ReadOptions } from '../inputs/records';
import { readDocuments } from '../inputs/streams';
import { FORMAT_NAME, FORMAT_VERSION, Manifest, MANIFEST_FILE, PartInfo, readManifest, ShardEntry, SHARD_FILES, writeManifest } from './manifest';
import { addon, cancelFlag, nativeError } from '../native';
import { parseBytes } from '../validate';
import { tokenizeInWorkers, tokenizeNatively } from '../tokenizers/pool';
import { resolveTokenizer, separatorOf, TokenArray, Tokenizer, TokenizerSpec, TokenWidth } from '../tokenizers/tokenizer';
import { loadTokenizer } from '../tokenizers/named';

export interface BuildProgress {
  stage: 'read' | 'shard' | 'commit' | 'done';
  documents: number;
  tokens: number;
  /** Shards finished (resumed ones included). */
  shards: number;
  /** Shards being built right now. */
  building: number;
  /** Shards reused from an interrupted build. */
  resumed: number;
  /** Bytes read from the input files (compressed bytes for .gz/.zst), and their total; 0 for iterables. */
  bytesRead: number;
  bytesTotal: number;
}

export interface BuildOptions extends Omit<ReadOptions, 'signal'> {
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
  /** Add the documents as new shards of the index at `out` (same tokenizer) instead of replacing it. */
  append?: boolean;
  /** Reuse the finished shards of an interrupted build of the same inputs and options; default true. */
  resume?: boolean;
  /** Build part `index` of `count` of a deterministic partition of the input files (see combineIndexes). */
  part?: { index: number; count: number };
  onProgress?: (p: BuildProgress) => void;
  signal?: AbortSignal;
}

export interface BuildResult {
  out: string;
  /**
   * Seconds per stage: read (parse inputs, and wait for tokenization workers), tokenize (on this thread, or
   * the workers' summed time), and the shard builds' validate, suffix-array and write (summed over shards;
   * shard builds overlap reading when two run at once).
   */
  stages: Record<'read' | 'tokenize' | 'validate' | 'suffixArray' | 'write', number>;
  documents: number;
  tokens: number;
  shards: number;
  /** Shards reused from an interrupted build. */
  resumed: number;
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
/** A finished shard's record: its manifest entry and the input documents it covers. */
interface ShardRecord {
  entry: ShardEntry;
  /** Input documents consumed before and after this shard (ordinals in the document stream). */
  inputBefore: number;
  inputAfter: number;
}

interface Plan {
  tokenizer: Tokenizer;
  /** Spec the tokenization workers load, when text is tokenized off this thread. */
  workerSpec: string | null;
  workers: number;
  out: string;
  shardTokens: number;
  parallel: number;
  threads: number;
  inputs: string[] | Iterable<DocumentRecord> | AsyncIterable<DocumentRecord>;
  /** Identifies inputs + options; null when the inputs cannot be identified (iterables, stdin). */
  fingerprint: string | null;
  /** Keep only documents whose ordinal ≡ part.index (mod part.count) (a partition with fewer files than parts). */
  documentPart?: { index: number; count: number };
  part?: PartInfo;
  /** Total size of the input files (0 when reading iterables or stdin). */
  inputBytes: number;
}

export async function buildIndex(options: BuildOptions): Promise<BuildResult> {
  const started = performance.now();
  const plan = await makePlan(options);
  const existing = options.append ? readManifest(plan.out) : null;
  if (existing && plan.part) throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'a part build cannot append');
  if (existing && (existing.tokenizer.fingerprint !== plan.tokenizer.fingerprint || existing.tokenWidth !== plan.tokenizer.tokenWidth))
    throw new TraceIndexError('ERR_TOKENIZER_MISMATCH',
      `cannot append: ${plan.out} was built with tokenizer ${existing.tokenizer.name} (${existing.tokenizer.fingerprint}), not ${plan.tokenizer.name} (${plan.tokenizer.fingerprint})`);
  if (!existing) checkOut(plan.out);
  if (options.signal?.aborted) throw abortError(options.signal);

  // Where shards go: the index itself when appending, else a work directory swapped in at the end.
  const work = existing ? plan.out : workDirectory(plan);
  const firstOrdinal = existing ? existing.shards.length : 0;
  const records = existing ? (removeOrphans(plan.out, existing), []) : await resumable(work, plan, options.resume ?? true);
  const cancel = cancelFlag(options.signal);
  const inflight: Array<Promise<void>> = [];
  try {
    const done: ShardRecord[] = [...records];
    const skip = records.length ? records[records.length - 1].inputAfter : 0;
    const progress: BuildProgress = {
      stage: 'read', documents: sum(records, (r) => r.entry.documents), tokens: sum(records, (r) => r.entry.tokens - r.entry.documents),
      shards: records.length, building: 0, resumed: records.length, bytesRead: 0, bytesTotal: plan.inputBytes,
    };
    const report = () => options.onProgress?.({ ...progress });
    const acc = new ShardAccumulator(plan.tokenizer.tokenWidth, plan.shardTokens);
    let ordinal = 0; // documents read from the stream (the partition's, when filtered)
    let inputBefore = skip;
    let nextShard = firstOrdinal + records.length;
    // Launches the filled shard, which covers input documents [inputBefore, upTo).
    const launch = async (upTo: number) => {
      const shard = acc.take();
      const at = nextShard++;
      const before = inputBefore;
      const after = upTo;
      inputBefore = upTo;
      progress.building++;
      progress.stage = 'shard';
      report();
      const job = shard.write(work, at, plan.tokenizer.vocabSize, plan.threads, cancel.flag).then(({ entry, seconds }) => {
        stages.validate += seconds.validate ?? 0;
        stages.suffixArray += seconds['suffix-array'] ?? 0;
        stages.write += seconds.write ?? 0;
        const record = { entry, inputBefore: before, inputAfter: after };
        if (!existing) writeJsonDurably(path.join(work, `${entry.dir}.json`), { ...record, fingerprint: plan.fingerprint });
        done.push(record);
        done.sort((a, b) => a.entry.dir.localeCompare(b.entry.dir));
        progress.building--;
        progress.shards++;
        progress.stage = 'read';
        report();
      });
      inflight.push(job);
      job.catch(() => {}); // awaited below; this only keeps an early failure from going unhandled
      if (inflight.length >= plan.parallel) await inflight.shift();
    };
    let lastReport = 0;
    const stages = { read: 0, tokenize: 0, validate: 0, suffixArray: 0, write: 0 };
    let waited = 0;
    const loopStarted = performance.now();
    // Records this build takes (its part, past the resumed shards), numbered by their input ordinal.
    const ordinals = new WeakMap<DocumentRecord, number>();
    const selected = async function* () {
      const onBytes = (b: number) => { progress.bytesRead += b; };
      for await (const record of readDocuments(plan.inputs, { ...options, signal: options.signal, onBytes })) {
        const n = ordinal++;
        if (plan.documentPart && n % plan.documentPart.count !== plan.documentPart.index) continue;
        if (n < skip) continue;
        ordinals.set(record, n);
        yield record;
      }
    };
    const direct = (record: DocumentRecord) => tokenize(record, plan.tokenizer, ordinals.get(record)!);
    const workerStats = { tokenizeSeconds: 0 };
    // A native tokenizer batches off the JS thread itself; JS tokenizers run in worker threads.
    const tokenized = plan.workerSpec && plan.tokenizer.encodeBatch
      ? tokenizeNatively(selected(), plan.tokenizer, plan.workers, direct, workerStats)
      : plan.workerSpec
      ? tokenizeInWorkers(selected(), plan.workerSpec, plan.workers, direct, workerStats)
      : (async function* () {
        for await (const record of selected()) {
          const t0 = performance.now();
          const tokens = direct(record);
          stages.tokenize += performance.now() - t0;
          yield { record, tokens };
        }
      })();
    for await (const { record, tokens } of tokenized) {
      const n = ordinals.get(record)!;
      if (tokens.length + 1 > plan.shardTokens)
        throw new TraceIndexError('ERR_INVALID_ARGUMENT',
          `document ${JSON.stringify(record.id)} has ${tokens.length} tokens, more than one shard holds under the memory budget (${plan.shardTokens - 1})`);
      if (!acc.fits(tokens.length)) {
        const t1 = performance.now();
        await launch(n);
        waited += performance.now() - t1;
      }
      acc.add(tokens, metaRecord(record));
      progress.documents++;
      progress.tokens += tokens.length;
      if (options.onProgress && performance.now() - lastReport > 200) {
        lastReport = performance.now();
        report();
      }
    }
    stages.read = (performance.now() - loopStarted - stages.tokenize - waited) / 1000;
    // On this thread: time spent tokenizing; with workers: their summed tokenizing time (CPU seconds).
    stages.tokenize = stages.tokenize / 1000 + workerStats.tokenizeSeconds;
    if (options.signal?.aborted) throw abortError(options.signal);
    if (acc.documents > 0) await launch(ordinal);
    while (inflight.length) await inflight.shift();
    if (done.length === 0) throw new TraceIndexError('ERR_BAD_INPUT', existing ? 'no documents to append' : 'no documents to index');

    progress.stage = 'commit';
    report();
    const shards = [...(existing?.shards ?? []), ...done.map((r) => r.entry)];
    const manifest: Manifest = {
      format: FORMAT_NAME,
      formatVersion: FORMAT_VERSION,
      tokenizer: { name: plan.tokenizer.name, fingerprint: plan.tokenizer.fingerprint },
      tokenWidth: plan.tokenizer.tokenWidth,
      vocabSize: plan.tokenizer.vocabSize,
      tokens: sum(shards, (s) => s.tokens - s.documents),
      documents: sum(shards, (s) => s.documents),
      shards,
      ...(plan.part ? { part: plan.part } : {}),
    };
    if (options.signal?.aborted) throw abortError(options.signal);
    if (existing) {
      writeManifest(plan.out, manifest, addon.fsyncPath);
    } else {
      fs.rmSync(path.join(work, LOCK_FILE), { force: true });
      writeManifest(work, manifest, addon.fsyncPath);
      checkOut(plan.out);
      const exchanged = addon.exchangeOrRename(work, plan.out);
      addon.fsyncPath(path.dirname(plan.out));
      if (exchanged) fs.rmSync(work, { recursive: true, force: true });
      // The shard records go last: a build killed before the swap still resumes from all its shards.
      for (const r of done) fs.rmSync(path.join(plan.out, `${r.entry.dir}.json`), { force: true });
    }
    progress.stage = 'done';
    report();
    return {
      out: plan.out,
      documents: manifest.documents,
      tokens: manifest.tokens,
      shards: shards.length,
      resumed: records.length,
      stages,
      bytesOnDisk: sum(shards, (sh) => sum(SHARD_FILES, (f) => sh.files[f].bytes)),
      seconds: (performance.now() - started) / 1000,
    };
  } catch (err) {
    // An interrupted build (abort, I/O error, out of memory, or a kill, which runs no code at all) keeps its
    // finished shards for a resume when its inputs can be identified; one that failed on its input cannot
    // resume (fixing the input changes the fingerprint) and is removed. Appends leave orphan shards that
    // the next append removes.
    const code = (err as { code?: string })?.code;
    const resumable = plan.fingerprint !== null && (code === 'ERR_ABORTED' || code === 'ERR_IO' || code === 'ERR_NO_MEMORY');
    // Shard writes still in flight keep writing into the work directory: a build about to remove it cancels
    // them, and every failed build lets them settle before it touches the directory or returns.
    if (!existing && !resumable) cancel.flag[0] = 1;
    await Promise.allSettled(inflight);
    if (!existing && !resumable) fs.rmSync(work, { recursive: true, force: true });
    else if (!existing) fs.rmSync(path.join(work, LOCK_FILE), { force: true });
    throw nativeError(err);
  } finally {
    cancel.dispose();
  }
}

function sum<T>(xs: readonly T[], f: (x: T) => number): number {
  let s = 0;
  for (const x of xs) s += f(x);
  return s;
}

async function makePlan(options: BuildOptions): Promise<Plan> {
  const spec = typeof options.tokenizer === 'string' ? options.tokenizer : null;
  const tokenizer = spec !== null ? await loadTokenizer(spec) : resolveTokenizer(options.tokenizer);
  const workers = spec !== null && spec !== 'bytes' ? options.tokenizerWorkers ?? Math.min(4, os.cpus().length) : 0;
  if (!Number.isInteger(workers) || workers < 0) throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'tokenizerWorkers must be a non-negative integer');
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
  let documentPart: Plan['documentPart'];
  let part: PartInfo | undefined;
  let files: string[] | null = null;
  const read = [options.textField ?? 'text', options.tokensField ?? null, options.idField ?? 'id', options.metaFields ?? 'all', Boolean(options.skipBadLines)];
  const identify = (list: string[], extra: unknown) => createHash('sha256').update(JSON.stringify({
    files: list.map((f) => { const st = fs.statSync(f); return [path.resolve(f), st.size, st.mtimeMs]; }),
    tokenizer: tokenizer.fingerprint, read, extra,
  })).digest('hex').slice(0, 16);
  if (Array.isArray(inputs) && inputs.every((x) => typeof x === 'string')) {
    files = await resolveInputs(inputs as string[]);
    if (options.part) {
      const { index, count } = checkPart(options.part);
      if (files.includes(STDIN_PATH)) throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'part builds cannot read stdin');
      part = { index, count, partition: identify(files, count) };
      if (files.length >= count) files = partitionFiles(files, count)[index];
      else documentPart = { index, count };
    }
    inputs = files;
  } else if (options.part) {
    throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'part builds need input paths (each part must read the same inputs)');
  }
  const fingerprint = files && !files.includes(STDIN_PATH) ? identify(files, { shardTokens, documentPart }) : null;
  const inputBytes = files ? files.reduce((t, f) => t + (f === STDIN_PATH ? 0 : fs.statSync(f).size), 0) : 0;
  return { tokenizer, workerSpec: workers > 0 ? spec : null, workers, out, shardTokens, parallel, threads, inputs, fingerprint, documentPart, part, inputBytes };
}

function checkPart(part: { index: number; count: number }): { index: number; count: number } {
  if (!Number.isInteger(part.count) || part.count < 1 || !Number.isInteger(part.index) || part.index < 0 || part.index >= part.count)
    throw new TraceIndexError('ERR_INVALID_ARGUMENT', `part ${part.index}/${part.count} is not a part i/N with 0 <= i < N`);
  return part;
}

/** Contiguous runs of the (sorted) files with about equal bytes: part i's documents precede part i+1's. */
export function partitionFiles(files: string[], count: number): string[][] {
  const sizes = files.map((f) => (f === STDIN_PATH ? 0 : fs.statSync(f).size));
  const total = sum(sizes, (s) => s);
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

const LOCK_FILE = 'build.lock';

function workDirectory(plan: Plan): string {
  const base = `.${path.basename(plan.out)}.building-`;
  const name = base + (plan.fingerprint ?? `${process.pid}-${Math.random().toString(16).slice(2, 10)}`);
  // Work directories of other (dead) builds of this target are removed.
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(path.dirname(plan.out));
  } catch {
    // the parent is created below
  }
  for (const e of entries) {
    if (!e.startsWith(base) || e === name) continue;
    const dir = path.join(path.dirname(plan.out), e);
    if (!lockHeldByLiveProcess(dir)) fs.rmSync(dir, { recursive: true, force: true });
  }
  return path.join(path.dirname(plan.out), name);
}

function lockHeldByLiveProcess(dir: string): boolean {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8'));
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Prepares the work directory and returns the finished shards it can reuse: consecutive shard-NNNNN.json
 * records of this fingerprint whose files pass their checksums. Everything else in it is removed.
 */
async function resumable(work: string, plan: Plan, resume: boolean): Promise<ShardRecord[]> {
  if (lockHeldByLiveProcess(work)) throw new TraceIndexError('ERR_INVALID_ARGUMENT', `another build of ${plan.out} is running (${work})`);
  fs.mkdirSync(path.dirname(work), { recursive: true });
  const reused: ShardRecord[] = [];
  if (fs.existsSync(work) && resume && plan.fingerprint) {
    for (let i = 0; ; i++) {
      const dir = `shard-${String(i).padStart(5, '0')}`;
      let rec: ShardRecord & { fingerprint?: string };
      try {
        rec = JSON.parse(fs.readFileSync(path.join(work, `${dir}.json`), 'utf8'));
      } catch {
        break;
      }
      if (rec.fingerprint !== plan.fingerprint || rec.entry?.dir !== dir || !(await shardIntact(work, rec.entry))) break;
      reused.push({ entry: rec.entry, inputBefore: rec.inputBefore, inputAfter: rec.inputAfter });
    }
  }
  if (fs.existsSync(work)) {
    const keep = new Set(reused.flatMap((r) => [r.entry.dir, `${r.entry.dir}.json`]));
    for (const e of fs.readdirSync(work)) if (!keep.has(e)) fs.rmSync(path.join(work, e), { recursive: true, force: true });
  } else {
    fs.mkdirSync(work);
  }
  fs.writeFileSync(path.join(work, LOCK_FILE), String(process.pid));
  return reused;
}

async function shardIntact(root: string, entry: ShardEntry): Promise<boolean> {
  try {
    for (const f of SHARD_FILES) {
      const file = path.join(root, entry.dir, f);
      if (fs.statSync(file).size !== entry.files[f].bytes) return false;
      if ((await addon.checksumFile(file)) !== entry.files[f].xxh64) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/** Shard directories in an index that its manifest does not list: left by an interrupted append. */
function removeOrphans(dir: string, m: Manifest): void {
  const listed = new Set(m.shards.map((s) => s.dir));
  for (const e of fs.readdirSync(dir)) if (/^shard-\d+(\.json)?$/.test(e) && !listed.has(e)) fs.rmSync(path.join(dir, e), { recursive: true, force: true });
}

function writeJsonDurably(file: string, value: unknown): void {
  const tmp = file + '.tmp';
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, JSON.stringify(value));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** `out` may be absent, an empty directory or an index (replaced); anything else is refused, untouched. */
export function checkOut(out: string): void {
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

/** One shard's documents, handed off from the accumulator to its build. */
class PendingShard {
  constructor(
    private readonly width: TokenWidth,
    private readonly tokens: TokenArray,
    private readonly starts: number[],
    private readonly meta: Buffer[],
    private readonly metaOffsets: number[],
  ) {}

  async write(root: string, ordinal: number, vocabSize: number, threads: number, cancel: Uint8Array): Promise<{ entry: ShardEntry; seconds: Record<string, number> }> {
    const dir = `shard-${String(ordinal).padStart(5, '0')}`;
    const { files: written, seconds } = await addon.buildShard({
      dir: path.join(root, dir),
      tokens: this.tokens,
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
      tokens: this.tokens.length,
      documents: this.starts.length - 1,
      pointerWidth: this.tokens.length < 2 ** 32 ? 4 : 8,
      files: Object.fromEntries(written.map((f) => [f.name, { bytes: f.bytes, xxh64: f.xxh64 }])) as ShardEntry['files'],
    };
    return { entry, seconds };
  }
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
    this.tokens.set(doc, this.length);
    this.length += doc.length;
    this.tokens[this.length++] = this.separator;
    this.starts.push(this.length);
    this.meta.push(meta);
    this.metaOffsets.push(this.metaOffsets[this.metaOffsets.length - 1] + meta.length);
  }

  /** Hands the filled shard over and starts an empty one (the buffers now belong to the shard's build). */
  take(): PendingShard {
    const shard = new PendingShard(this.width, this.tokens.subarray(0, this.length), this.starts, this.meta, this.metaOffsets);
    this.tokens = allocTokens(this.width, Math.min(this.capacity, 1 << 16));
    this.length = 0;
    this.starts = [0];
    this.meta = [];
    this.metaOffsets = [0];
    return shard;
  }
}

function allocTokens(width: TokenWidth, n: number): TokenArray {
  return width === 1 ? new Uint8Array(n) : width === 2 ? new Uint16Array(n) : new Uint32Array(n);
}
