/**
 * upgradeIndex: adds format version 2's sampled keys (samples.bin) to the shards of an index that lack them
 * (every index written by a version 1 build, and the shards an append or a combine carried over from one),
 * in place, without the corpus. The order (docs/FORMAT.md, "Upgrading v1 to v2"): under the target lock,
 * every shard to upgrade is quick-verified first (a damaged index is refused untouched, with the open
 * checks' codes); then each gets samples.bin (temporary name, fsync, rename, fsync of its directory); the
 * manifest, written last through the durable atomic write, lists them and says version 2. Until that rename
 * the index is the version 1 index it was: readers never open a samples.bin their manifest does not list,
 * and the next upgrade replaces what a killed one left (the same names, written again).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { abortError, TraceIndexError } from '../errors';
import { ioError, isDiskFull, isErrnoError } from '../inputs/files';
import { abortSignal, plainObject } from '../validate';
import { addon, cancelFlag, nativeError } from '../native';
import { checkShardFiles, FORMAT_VERSION, looksLikeInfinigram, MANIFEST_FILE, readManifest, SAMPLES_FILE, ShardEntry, writeManifest } from './manifest';
import { lockTarget } from './workdir';

export interface UpgradeProgress {
  /** verify: checking the shards to upgrade; write: adding their samples.bin; commit: writing the manifest. */
  stage: 'verify' | 'write' | 'commit' | 'done';
  /** Shards of the index. */
  shards: number;
  /** Shards without samples.bin, which this run upgrades. */
  toUpgrade: number;
  /** Of those, shards checked (quick verify) and shards whose samples.bin is written. */
  verified: number;
  written: number;
  /** Bytes of the samples.bin files written so far. */
  bytesWritten: number;
  elapsedSeconds: number;
}

export interface UpgradeOptions {
  /** Stops the upgrade (ERR_ABORTED) before its manifest is written: the index stays as it was. */
  signal?: AbortSignal;
  /** Called on every change of stage and after every shard. */
  onProgress?: (p: UpgradeProgress) => void;
}

export interface UpgradeResult {
  /** Shards of the index. */
  shards: number;
  /** Shards that got samples.bin in this run (0: the index already had them all, and nothing was written). */
  upgraded: number;
  /** Bytes of the samples.bin files written (the manifest's own bytes not counted). */
  bytesWritten: number;
}

/**
 * Adds samples.bin to every shard of the index at `dir` that lacks it and rewrites the manifest as format
 * version 2 (docs/api.md, "upgradeIndex"). The work runs on the thread pool, one shard at a time.
 * @throws TraceIndexError ERR_INDEX_NOT_FOUND (no index), ERR_INDEX_CORRUPT / ERR_INDEX_VERSION / ERR_TOKEN_WIDTH (a
 *   damaged shard: nothing written), ERR_INVALID_ARGUMENT (an infini-gram index, a combined index whose shards to
 *   upgrade are links into its parts, bad options, the target lock held by another build, append, combine or upgrade), ERR_ABORTED, ERR_IO (permissions, a full disk: the index unchanged).
 */
export async function upgradeIndex(dir: string, options: UpgradeOptions = {}): Promise<UpgradeResult> {
  if (typeof dir !== 'string' || dir === '') throw new TraceIndexError('ERR_INVALID_ARGUMENT', `dir must be a non-empty string, got ${JSON.stringify(dir)}`);
  const o = plainObject('options', options);
  const signal = abortSignal('options.signal', o.signal);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function')
    throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'options.onProgress must be a function');
  if (signal?.aborted) throw abortError(signal);
  const target = path.resolve(dir);
  if (looksLikeInfinigram(target))
    throw new TraceIndexError('ERR_INVALID_ARGUMENT', `${target} is an infini-gram index (read in place, read-only): only traceindex indexes can be upgraded`);
  try {
    readManifest(target); // ERR_INDEX_NOT_FOUND / _CORRUPT / _VERSION before the lock is taken (read again locked)
    const lock = lockTarget(target);
    try {
      return await upgradeLocked(target, signal, o.onProgress);
    } finally {
      lock.release();
    }
  } catch (err) {
    throw isErrnoError(err) ? ioError(err) : nativeError(err);
  }
}

async function upgradeLocked(dir: string, signal: AbortSignal | undefined, onProgress: UpgradeOptions['onProgress']): Promise<UpgradeResult> {
  const started = performance.now();
  const m = readManifest(dir);
  checkShardFiles(dir, m);
  const todo = m.shards.filter((s) => s.files[SAMPLES_FILE] === undefined);
  refuseLinkedShards(dir, m.shards, todo);
  const p: UpgradeProgress = { stage: 'verify', shards: m.shards.length, toUpgrade: todo.length, verified: 0, written: 0, bytesWritten: 0, elapsedSeconds: 0 };
  const report = (stage: UpgradeProgress['stage']) => {
    p.stage = stage;
    p.elapsedSeconds = (performance.now() - started) / 1000;
    onProgress?.({ ...p });
  };
  if (todo.length === 0) {
    report('done');
    return { shards: m.shards.length, upgraded: 0, bytesWritten: 0 };
  }
  const cancel = cancelFlag(signal);
  const job = (s: ShardEntry, write: boolean) => addon.upgradeShard({
    dir: path.join(dir, s.dir), tokenWidth: m.tokenWidth, tokens: s.tokens, documents: s.documents, vocabSize: m.vocabSize, write, cancel: cancel.flag,
  });
  try {
    report('verify');
    for (const s of todo) {
      await job(s, false);
      p.verified++;
      report('verify');
    }
    report('write');
    for (const s of todo) {
      const f = await job(s, true);
      if (!f) throw new TraceIndexError('ERR_INTERNAL', `${path.join(dir, s.dir)}: no ${SAMPLES_FILE} written`);
      s.files[SAMPLES_FILE] = { bytes: f.bytes, xxh64: f.xxh64 };
      p.written++;
      p.bytesWritten += f.bytes;
      report('write');
    }
    if (signal?.aborted) throw abortError(signal);
    report('commit');
    m.formatVersion = FORMAT_VERSION;
    writeManifest(dir, m, addon.fsyncPath);
  } catch (err) {
    // Only temporary files of ours go; a renamed samples.bin stays unlisted until the next upgrade replaces it.
    for (const s of todo) fs.rmSync(path.join(dir, s.dir, `${SAMPLES_FILE}.tmp`), { force: true });
    fs.rmSync(path.join(dir, `${MANIFEST_FILE}.tmp`), { force: true });
    const e = isErrnoError(err) ? ioError(err) : nativeError(err);
    if (!isDiskFull(e)) throw e;
    throw new TraceIndexError('ERR_IO', `${e.message} — the disk is full; ${dir} is unchanged (its manifest does not list the new files): free space and run the upgrade again`, { cause: e });
  } finally {
    cancel.dispose();
  }
  report('done');
  return { shards: m.shards.length, upgraded: todo.length, bytesWritten: p.bytesWritten };
}

/**
 * A shard directory that is a symlink (a combined index's shards are links into its parts) belongs to another
 * index: writing samples.bin through it would change that index, and racing its own upgrade. Refused before
 * anything is written, naming one linked shard per part; the parts are upgraded themselves and combined again,
 * into a new directory when the index holds shards of its own (appended), which a combine will not replace.
 */
function refuseLinkedShards(dir: string, shards: ShardEntry[], todo: ShardEntry[]): void {
  const byPart = new Map<string, string>();
  for (const s of todo) {
    const at = path.join(dir, s.dir);
    if (!fs.lstatSync(at).isSymbolicLink()) continue;
    const real = fs.realpathSync(at);
    const part = path.dirname(real);
    if (!byPart.has(part)) byPart.set(part, `${s.dir} is a link into ${fs.existsSync(path.join(part, MANIFEST_FILE)) ? 'part ' : ''}${part} (its ${path.basename(real)})`);
  }
  if (byPart.size === 0) return;
  const own: string[] = [];
  let first = 0;
  for (const s of shards) {
    if (!fs.lstatSync(path.join(dir, s.dir)).isSymbolicLink()) own.push(`${s.dir} (documents ${first}–${first + s.documents - 1})`);
    first += s.documents;
  }
  const again = own.length === 0
    ? 'combine them again'
    : `combine them again into a new directory, then append to it the documents of ${dir}'s own shards, ${own.join(', ')} (appended after the combine; a combine into ${dir} is refused, as it would delete them)`;
  throw new TraceIndexError('ERR_INVALID_ARGUMENT', `${dir} not upgraded (nothing written): shards to upgrade live in other indexes' directories: ${[...byPart.values()].join('; ')}. Upgrading them here would write into those indexes. Upgrade each part (traceindex upgrade PART) and ${again}`);
}
