/**
 * buildIndex: documents in, index directory out. Documents are tokenized and packed into shards that fit
 * the memory budget; each shard is built off the JS thread (validation, SA-IS, durable writes), up to two
 * at once when the budget holds both. Every finished shard is recorded in a `shard-NNNNN.json` beside it, so
 * a build killed midway and run again with the same inputs and options resumes: it checks the finished
 * shards by checksum, skips their documents and builds the rest.
 *
 * A new build works in `.NAME.building-<fingerprint>` beside `out`, writes the manifest last and swaps the
 * directory into place atomically: a build that dies at any point leaves `out` as it was (an older index
 * there keeps working). `append` adds shards inside an existing index and replaces only its manifest. The
 * target lock is held from the start until after the swap (./workdir).
 *
 * The steps: plan (./plan) → lock and prepare the target → read documents into shards
 * (./shard-accumulator) → compose the manifest → commit (write it, swap) — or, on failure, keep what a
 * resume can use and remove the rest.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { abortError, TraceIndexError } from '../errors';
import { ioError, isDiskFull, isErrnoError } from '../inputs/files';
import { STDIN_PATH } from '../inputs/paths';
import { DocumentRecord, invalidUtf8Of } from '../inputs/records';
import { readDocuments } from '../inputs/streams';
import { addon, cancelFlag, nativeError } from '../native';
import { tokenizeInWorkers, tokenizeNatively } from '../tokenizers/pool';
import { bytesTokenizer } from '../tokenizers/tokenizer';
import { checkShardFiles, FORMAT_NAME, FORMAT_VERSION, Manifest, readManifest, shardFiles, writeManifest } from './manifest';
import { inputFingerprint, makePlan, Plan, PlanOptions } from './plan';
import { documentTokens, metaRecord, ShardAccumulator, ShardBuilds } from './shard-accumulator';
import {
  checkReplaceable, directoryBytes, lockTarget, prepareWorkDirectory, recordShard, removeOrphans, removeUnlistedShards,
  ShardRecord, swapIntoPlace, workDirectory,
} from './workdir';

export { buildBytesPerToken, partitionFiles } from './plan';

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
  /**
   * Work of the shard builds started in this run, in the core's units (native/core/shard_writer.hpp): one per
   * token validated, then six per token over the suffix array's induction passes. A shard adds its total when
   * its native build starts; `done` equals `total` once every started shard has its suffix array (its files'
   * final write follows).
   */
  suffixArray: { done: number; total: number };
  /** Seconds since the build started. */
  elapsedSeconds: number;
  /**
   * Estimated seconds to the end, over reading and the shard builds still to come (model: docs/cli.md,
   * "Progress"); undefined until this run has measured the rates it needs.
   */
  etaSeconds?: number;
}

/** Options of buildIndex: what the plan reads (./plan: inputs, tokenizer, memory, shards), and these. */
export interface BuildOptions extends PlanOptions {
  /**
   * Add the documents as new shards of the index at `out` (same tokenizer) instead of replacing it. An input
   * file the index already holds (same content fingerprint, see docs/FORMAT.md) is refused with
   * ERR_INVALID_ARGUMENT, so a retried append does not count its documents twice.
   */
  append?: boolean;
  /** With `append`: leave out the input files the index already holds instead of refusing them; default false. */
  skipDuplicateInputs?: boolean;
  /** Reuse the finished shards of an interrupted build of the same inputs and options; default true. */
  resume?: boolean;
  /** Build part `index` of `count` of a deterministic partition of the input files (see combineIndexes). */
  onProgress?: (p: BuildProgress) => void;
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
  /**
   * U+FFFD characters substituted for invalid UTF-8 in .txt inputs, whose text a tokenizer other than bytes
   * then encoded (the bytes tokenizer indexes such a file's raw bytes instead). A warning reports them too.
   */
  replacements: number;
  /** Input files left out because the index already held them (`skipDuplicateInputs`). */
  skippedInputs: string[];
  bytesOnDisk: number;
  seconds: number;
}

/** Where a build writes: the index itself when appending, else its work directory. */
interface Target {
  /** The index appended to, or null for a new build. */
  existing: Manifest | null;
  dir: string;
  /** Shards reused from an interrupted build (new builds only). */
  resumed: ShardRecord[];
  /** Fingerprints of the input files this build reads (see inputFingerprint). */
  inputs: string[];
  /** Input files left out as already in the index (appends with skipDuplicateInputs). */
  skipped: string[];
}

export async function buildIndex(options: BuildOptions): Promise<BuildResult> {
  const started = performance.now();
  try {
    const plan = await makePlan(options);
    if (options.append) readManifest(plan.out); // ERR_INDEX_NOT_FOUND before anything is created (read again locked)
    else fs.mkdirSync(path.dirname(plan.out), { recursive: true });
    const lock = lockTarget(plan.out);
    try {
      if (options.signal?.aborted) throw abortError(options.signal);
      const target = await prepareTarget(plan, options);
      if (target.existing && plan.files !== null && plan.files.length === 0 && !readsStdin(plan))
        return { ...resultOf(plan, target.existing, target, emptyStages(), started), replacements: 0 }; // every file already held
      return await buildInto(plan, target, options, started);
    } finally {
      lock.release();
    }
  } catch (err) {
    throw publicError(err);
  }
}

function readsStdin(plan: Plan): boolean {
  return Array.isArray(plan.inputs) && (plan.inputs as unknown[]).includes(STDIN_PATH);
}

/** Raw Node file-system errors become ERR_IO naming the path; native ones carry their code. */
function publicError(err: unknown): Error {
  if (isErrnoError(err)) return ioError(err);
  return nativeError(err);
}

/**
 * Checks the target and gets it ready, holding the lock: for an append, the index's manifest (same
 * tokenizer, none of the input files already in it), its unlisted shards removed; for a new build, a
 * replaceable target, orphans removed, and the work directory with the shards it can reuse.
 */
async function prepareTarget(plan: Plan, options: BuildOptions): Promise<Target> {
  const fingerprints: string[] = [];
  for (const f of plan.files ?? []) fingerprints.push(await inputFingerprint(f)); // one at a time: no descriptor storm
  if (!options.append) {
    checkReplaceable(plan.out);
    const work = workDirectory(plan.out, plan.fingerprint);
    removeOrphans(plan.out, work);
    const resumed = await prepareWorkDirectory(work, plan.fingerprint, options.resume ?? true);
    return { existing: null, dir: work, resumed, inputs: fingerprints, skipped: [] };
  }
  const existing = readManifest(plan.out);
  checkShardFiles(plan.out, existing);  // a damaged index is refused as it is, not appended to
  if (plan.part) throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'a part build cannot append');
  if (existing.tokenizer.fingerprint !== plan.tokenizer.fingerprint || existing.tokenWidth !== plan.tokenizer.tokenWidth)
    throw new TraceIndexError('ERR_TOKENIZER_MISMATCH',
      `cannot append: ${plan.out} was built with tokenizer ${existing.tokenizer.name} (${existing.tokenizer.fingerprint}), not ${plan.tokenizer.name} (${plan.tokenizer.fingerprint})`);
  const held = new Set(existing.inputs ?? []);
  const files = plan.files ?? [];
  const duplicates = files.filter((_, i) => held.has(fingerprints[i]));
  if (duplicates.length > 0 && !options.skipDuplicateInputs)
    throw new TraceIndexError('ERR_INVALID_ARGUMENT',
      `cannot append ${duplicates.length === 1 ? duplicates[0] : `${duplicates.length} files (${duplicates.slice(0, 3).join(', ')}${duplicates.length > 3 ? ', …' : ''})`}: ` +
      `${plan.out} already holds ${duplicates.length === 1 ? 'its' : 'their'} documents (same content fingerprint: size, first and last MiB); ` +
      'skipDuplicateInputs (--skip-duplicate-append) leaves such files out');
  if (duplicates.length > 0) {
    const keep = files.filter((_, i) => !held.has(fingerprints[i]));
    plan.inputs = readsStdin(plan) ? [...keep, STDIN_PATH] : keep;
    plan.files = keep;
    plan.inputBytes = sum(keep, (f) => fs.statSync(f).size);
  }
  removeOrphans(plan.out);
  removeUnlistedShards(plan.out, existing.shards);
  return { existing, dir: plan.out, resumed: [], inputs: fingerprints.filter((f) => !held.has(f)), skipped: duplicates };
}

type Stages = BuildResult['stages'];

function emptyStages(): Stages {
  return { read: 0, tokenize: 0, validate: 0, suffixArray: 0, write: 0 };
}

/** How often the build reports progress while it runs (ms); tests shorten it. */
export const progressTick = { ms: 250 };

/**
 * Progress as the build goes: the state, reported whole on every change of stage and shard, at most every
 * 200 ms as documents are read, and every `progressTick.ms` on a timer (the shard builds' work counters move
 * while nothing is read).
 */
class Progress {
  readonly state: BuildProgress;
  /** Milliseconds the reader waited for shard builds (and since when it waits now), whether reading is over, tokens read and handed to builds (separators included). */
  waitedMs = 0;
  waitingSince: number | undefined;
  readingDone = false;
  readTokens = 0;
  launchedTokens = 0;
  builds: ShardBuilds | null = null;
  private last = 0;
  private readonly startedAt = performance.now();
  private readonly timer: ReturnType<typeof setInterval> | null = null;
  private failure: unknown = null; // a throw of onProgress on the timer, rethrown on the build's path

  constructor(private readonly onProgress: ((p: BuildProgress) => void) | undefined, plan: Plan, resumed: readonly ShardRecord[]) {
    this.state = {
      stage: 'read', documents: sum(resumed, (r) => r.entry.documents), tokens: sum(resumed, (r) => r.entry.tokens - r.entry.documents),
      shards: resumed.length, building: 0, resumed: resumed.length, bytesRead: 0, bytesTotal: plan.inputBytes,
      suffixArray: { done: 0, total: 0 }, elapsedSeconds: 0,
    };
    if (onProgress) {
      this.timer = setInterval(() => {
        try {
          this.report();
        } catch (err) {
          this.failure ??= err;
        }
      }, progressTick.ms);
      this.timer.unref();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  report(): void {
    if (this.failure) throw this.failure;
    if (!this.onProgress) return;
    const now = performance.now();
    const work = { done: 0, total: 0 };
    for (const shard of this.builds?.started ?? []) {
      work.done += Number(shard.work[0]);
      work.total += Number(shard.work[1]);
    }
    this.state.suffixArray = work;
    this.state.elapsedSeconds = (now - this.startedAt) / 1000;
    this.state.etaSeconds = this.state.stage === 'done' ? 0 : this.eta(now);
    this.onProgress({ ...this.state, suffixArray: { ...work } });
  }

  stage(stage: BuildProgress['stage']): void {
    this.state.stage = stage;
    this.report();
  }

  throttled(): void {
    if (this.onProgress && performance.now() - this.last > 200) {
      this.last = performance.now();
      this.report();
    }
  }

  /**
   * Seconds left: what remains to read plus the shard builds still to do, at rates measured in this run.
   *  - read: remaining input bytes × reading seconds per byte so far (wall time less the waits for shard
   *    builds); 0 once reading is over; unknown for stdin and iterables until then.
   *  - shard builds: tokens still to build × build milliseconds per token. Tokens still to build = those read
   *    but not yet in a shard, those still to read (remaining bytes × tokens per byte so far), and each running
   *    build's unfinished share: its work counter covers validation and the suffix array, and the write after
   *    it takes the share of build time the finished shards spent writing. The rate is the finished shards'
   *    (wall time per token), before any has finished the running build's (elapsed over the share done).
   *  Builds are counted one after another: an upper bound when two run at once. The commit is not counted.
   */
  private eta(now: number): number | undefined {
    const s = this.state;
    const bytesLeft = Math.max(s.bytesTotal - s.bytesRead, 0);
    let readLeft: number;
    if (this.readingDone) readLeft = 0;
    else if (s.bytesTotal > 0 && s.bytesRead > 0) {
      const readingMs = now - this.startedAt - this.waitedMs - (this.waitingSince === undefined ? 0 : now - this.waitingSince);
      readLeft = (bytesLeft * Math.max(readingMs, 0)) / s.bytesRead / 1000;
    }
    else return undefined;
    const shardSeconds = this.builds?.seconds;
    const spent = shardSeconds ? shardSeconds.validate + shardSeconds.suffixArray + shardSeconds.write : 0;
    const writeShare = spent > 0 ? shardSeconds!.write / spent : 0.1;
    let tokensLeft = (this.readingDone ? 0 : s.bytesRead > 0 ? (bytesLeft * this.readTokens) / s.bytesRead : 0) + (this.readTokens - this.launchedTokens);
    let finishedMs = 0;
    let finishedTokens = 0;
    let running: number | undefined; // ms per token of the furthest running build
    let runningShare = 0;
    for (const shard of this.builds?.started ?? []) {
      if (shard.finishedAt !== undefined) {
        finishedMs += shard.finishedAt - shard.startedAt;
        finishedTokens += shard.tokens;
        continue;
      }
      const total = Number(shard.work[1]);
      const share = total > 0 ? (Number(shard.work[0]) / total) * (1 - writeShare) : 0;
      tokensLeft += (1 - share) * shard.tokens;
      if (share > runningShare) {
        runningShare = share;
        running = (now - shard.startedAt) / (share * shard.tokens);
      }
    }
    const msPerToken = finishedTokens > 0 ? finishedMs / finishedTokens : running;
    if (tokensLeft <= 0) return readLeft;
    if (msPerToken === undefined) return undefined;
    return readLeft + (tokensLeft * msPerToken) / 1000;
  }
}

/** Reads the documents into shards, then commits; on failure, keeps what a resume can use. */
async function buildInto(plan: Plan, target: Target, options: BuildOptions, started: number): Promise<BuildResult> {
  const cancel = cancelFlag(options.signal);
  const progress = new Progress(options.onProgress, plan, target.resumed);
  const builds = progress.builds = new ShardBuilds(target.dir, { vocabSize: plan.tokenizer.vocabSize, threads: plan.threads, parallel: plan.parallel, cancel: cancel.flag }, target.resumed, (record) => {
    if (!target.existing) recordShard(target.dir, record, plan.fingerprint);
    progress.state.building--;
    progress.state.shards++;
    progress.state.stage = 'read';
    progress.report();
  });
  try {
    const { stages, replacements } = await readIntoShards(plan, target, options, builds, progress);
    await builds.finish();
    if (builds.done.length === 0) throw new TraceIndexError('ERR_BAD_INPUT', target.existing ? 'no documents to append' : 'no documents to index');
    Object.assign(stages, builds.seconds);
    progress.stage('commit');
    const manifest = composeManifest(plan, target, builds.done);
    if (options.signal?.aborted) throw abortError(options.signal);
    commit(plan, target, manifest, builds.done);
    progress.stage('done');
    if (replacements.count > 0)
      process.emitWarning(`replaced ${replacements.count} invalid UTF-8 sequence(s) with U+FFFD in ${replacements.files.length} .txt file(s); first: ${replacements.files[0]}`, {
        code: 'TRACEINDEX_INVALID_UTF8',
      });
    return { ...resultOf(plan, manifest, target, stages, started), replacements: replacements.count };
  } catch (err) {
    throw await failed(publicError(err), plan, target, builds, cancel.flag);
  } finally {
    progress.stop();
    cancel.dispose();
  }
}

function resultOf(plan: Plan, manifest: Manifest, target: Target, stages: Stages, started: number): Omit<BuildResult, 'replacements'> {
  return {
    out: plan.out,
    documents: manifest.documents,
    tokens: manifest.tokens,
    shards: manifest.shards.length,
    resumed: target.resumed.length,
    skippedInputs: target.skipped,
    stages,
    bytesOnDisk: sum(manifest.shards, (sh) => sum(shardFiles(sh), (f) => sh.files[f]!.bytes)),
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * Reads the plan's documents (past the resumed shards, within its document range), tokenizes them (in
 * workers for named tokenizers) and starts a shard build whenever the next document does not fit.
 */
async function readIntoShards(plan: Plan, target: Target, options: BuildOptions, builds: ShardBuilds, progress: Progress) {
  const stages = emptyStages();
  const replacements = { count: 0, files: [] as string[] };
  const acc = new ShardAccumulator(plan.tokenizer.tokenWidth, plan.shardTokens);
  const resumed = target.resumed;
  const skip = Math.max(resumed.length ? resumed[resumed.length - 1].inputAfter : 0, plan.documentRange?.start ?? 0);
  const end = plan.documentRange?.end ?? Infinity;
  let inputBefore = skip;
  let nextShard = (target.existing?.shards.length ?? 0) + resumed.length;
  // Starts the filled shard, which covers input documents [inputBefore, upTo).
  const launch = async (upTo: number) => {
    progress.state.building++;
    progress.stage('shard');
    const before = inputBefore;
    inputBefore = upTo;
    const shard = acc.take();
    progress.launchedTokens += shard.length;
    await builds.start(shard, nextShard++, before, upTo);
  };

  // Records this build takes (its range, past the resumed shards), numbered by their input ordinal.
  const ordinals = new WeakMap<DocumentRecord, number>();
  const keepBytes = plan.tokenizer === bytesTokenizer;
  const selected = async function* () {
    let ordinal = 0;
    const onBytes = (b: number) => { progress.state.bytesRead += b; };
    for await (let record of readDocuments(plan.inputs, { ...options, signal: options.signal, onBytes })) {
      const n = ordinal++;
      if (n >= end) break;
      if (n < skip) continue;
      const invalid = invalidUtf8Of(record);
      if (invalid && keepBytes) {
        record = rawBytesRecord(record, invalid.bytes);
      } else if (invalid) {
        replacements.count += invalid.replacements;
        replacements.files.push(String(record.meta?.path));
      }
      ordinals.set(record, n);
      yield record;
    }
  };
  const direct = (record: DocumentRecord) => documentTokens(record, plan.tokenizer, ordinals.get(record)!);
  const workerStats = { tokenizeSeconds: 0 };
  let tokenizeMs = 0;
  // A native tokenizer batches off the JS thread itself; JS tokenizers run in worker threads.
  const tokenized = plan.workerSpec && plan.tokenizer.encodeBatch
    ? tokenizeNatively(selected(), plan.tokenizer, plan.workers, direct, workerStats)
    : plan.workerSpec
    ? tokenizeInWorkers(selected(), plan.workerSpec, plan.tokenizer.fingerprint, plan.workers, direct, workerStats)
    : (async function* () {
      for await (const record of selected()) {
        const t0 = performance.now();
        const tokens = direct(record);
        tokenizeMs += performance.now() - t0;
        yield { record, tokens };
      }
    })();
  let waitedMs = 0;
  let next = skip; // ordinal after the last document taken
  const loopStarted = performance.now();
  for await (const { record, tokens } of tokenized) {
    const n = ordinals.get(record)!;
    if (tokens.length + 1 > plan.shardTokens)
      throw new TraceIndexError('ERR_INVALID_ARGUMENT',
        `document ${JSON.stringify(record.id)} has ${tokens.length} tokens, more than one shard holds under the memory budget (${plan.shardTokens - 1})`);
    if (!acc.fits(tokens.length)) {
      const t1 = performance.now();
      progress.waitingSince = t1;
      await launch(n);
      waitedMs += performance.now() - t1;
      progress.waitedMs = waitedMs;
      progress.waitingSince = undefined;
    }
    acc.add(tokens, metaRecord(record));
    next = n + 1;
    progress.state.documents++;
    progress.state.tokens += tokens.length;
    progress.readTokens += tokens.length + 1;
    progress.throttled();
  }
  stages.read = (performance.now() - loopStarted - tokenizeMs - waitedMs) / 1000;
  // On this thread: time spent tokenizing; with workers: their summed tokenizing time (CPU seconds).
  stages.tokenize = tokenizeMs / 1000 + workerStats.tokenizeSeconds;
  if (options.signal?.aborted) throw abortError(options.signal);
  progress.readingDone = true;
  if (acc.documents > 0) await launch(next);
  return { stages, replacements };
}

/**
 * A .txt file that is not valid UTF-8, for the bytes tokenizer: its raw bytes are its tokens, so the index
 * holds the file as it is. 0xFF is the separator and cannot be indexed (ERR_BAD_INPUT naming the offset).
 */
function rawBytesRecord(record: DocumentRecord, bytes: Buffer): DocumentRecord {
  const at = bytes.indexOf(0xff);
  if (at >= 0)
    throw new TraceIndexError('ERR_BAD_INPUT',
      `${String(record.meta?.path)}: byte 0xFF at offset ${at} is not UTF-8 and cannot be indexed by the bytes tokenizer (0xFF is its document separator)`);
  return { tokens: bytes, id: record.id, meta: record.meta };
}

function composeManifest(plan: Plan, target: Target, done: ShardRecord[]): Manifest {
  const shards = [...(target.existing?.shards ?? []), ...done.map((r) => r.entry)];
  const inputs = [...new Set([...(target.existing?.inputs ?? []), ...target.inputs])];
  return {
    format: FORMAT_NAME,
    formatVersion: FORMAT_VERSION,
    tokenizer: { name: plan.tokenizer.name, fingerprint: plan.tokenizer.fingerprint },
    tokenWidth: plan.tokenizer.tokenWidth,
    vocabSize: plan.tokenizer.vocabSize,
    tokens: sum(shards, (s) => s.tokens - s.documents),
    documents: sum(shards, (s) => s.documents),
    shards,
    ...(plan.part ? { part: plan.part } : {}),
    ...(inputs.length > 0 ? { inputs } : {}),
  };
}

/** Writes the manifest: in place for an append; else into the work directory, which is then swapped in. */
function commit(plan: Plan, target: Target, manifest: Manifest, done: ShardRecord[]): void {
  if (target.existing) {
    writeManifest(plan.out, manifest, addon.fsyncPath);
    return;
  }
  writeManifest(target.dir, manifest, addon.fsyncPath);
  swapIntoPlace(target.dir, plan.out);
  // The shard records go last: a build killed before the swap still resumes from all its shards.
  for (const r of done) fs.rmSync(path.join(plan.out, `${r.entry.dir}.json`), { force: true });
}

/**
 * After a failure: an interrupted build (abort, I/O error, out of memory, or a kill, which runs no code at
 * all) keeps its finished shards for a resume when its inputs can be identified; one that failed on its
 * input cannot resume (fixing the input changes the fingerprint) and is removed, as are the new shards of a
 * failed append. Shard writes still in flight settle first (cancelled when their directory goes). A full
 * disk is named with the work directory kept and its size.
 */
async function failed(err: Error, plan: Plan, target: Target, builds: ShardBuilds, cancel: Uint8Array): Promise<Error> {
  const code = (err as { code?: string }).code;
  const resumable = !target.existing && plan.fingerprint !== null && (code === 'ERR_ABORTED' || code === 'ERR_IO' || code === 'ERR_NO_MEMORY');
  if (!resumable) cancel[0] = 1;
  await builds.settle();
  if (target.existing) removeUnlistedShards(plan.out, target.existing.shards);
  else if (!resumable) fs.rmSync(target.dir, { recursive: true, force: true });
  if (!isDiskFull(err)) return err;
  const kept = resumable
    ? `the finished shards are kept in ${target.dir} (${formatMiB(directoryBytes(target.dir))}): free space and run the same build again to resume, or remove that directory`
    : target.existing ? `the new shards were removed; ${plan.out} is unchanged` : 'the partial build was removed';
  return new TraceIndexError('ERR_IO', `${err.message} — the disk is full; ${kept}`, { cause: err });
}

function formatMiB(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function sum<T>(xs: readonly T[], f: (x: T) => number): number {
  let s = 0;
  for (const x of xs) s += f(x);
  return s;
}
