/**
 * manifest.json: what an index directory holds (docs/FORMAT.md). Written last by a build, so a directory
 * without one is never an index; read and checked first by openIndex.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TraceIndexError } from '../errors';
import { ioError, isErrnoError, readRegularFile } from '../inputs/files';
import { separatorOf, TokenWidth } from '../tokenizers/tokenizer';

export const FORMAT_NAME = 'traceindex';
/** The version this build writes; it reads MIN_FORMAT_VERSION to FORMAT_VERSION. */
export const FORMAT_VERSION = 2;
export const MIN_FORMAT_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';
/** The files every shard has. */
export const SHARD_FILES = ['tokens.bin', 'sa.bin', 'docs.bin', 'meta.bin', 'unigram.bin'] as const;
/**
 * Version 2's sampled keys: listed for every shard a v2 writer built; a shard carried over from a version 1
 * index (by an append or a combine) has none and is searched without them.
 */
export const SAMPLES_FILE = 'samples.bin';
export type ShardFileName = (typeof SHARD_FILES)[number] | typeof SAMPLES_FILE;
/** A manifest larger than this is refused unread (ERR_INDEX_CORRUPT). */
export const MAX_MANIFEST_BYTES = 64 << 20;

export interface FileEntry {
  bytes: number;
  xxh64: string;
}

export interface ShardEntry {
  dir: string;
  /** Tokens in the shard's token file, one separator per document included. */
  tokens: number;
  documents: number;
  pointerWidth: 4 | 8;
  files: Record<(typeof SHARD_FILES)[number], FileEntry> & { [SAMPLES_FILE]?: FileEntry };
}

/** The files a shard entry lists: SHARD_FILES, then samples.bin if it has one. */
export function shardFiles(s: ShardEntry): ShardFileName[] {
  return s.files[SAMPLES_FILE] === undefined ? [...SHARD_FILES] : [...SHARD_FILES, SAMPLES_FILE];
}

export interface Manifest {
  format: typeof FORMAT_NAME;
  formatVersion: number;
  tokenizer: { name: string; fingerprint: string };
  tokenWidth: TokenWidth;
  vocabSize: number;
  /** Document tokens over all shards (separators excluded). */
  tokens: number;
  documents: number;
  shards: ShardEntry[];
  /** Set on a part of a partitioned build (`build --shard i/N`): which part, and of which partition. */
  part?: PartInfo;
  /**
   * Content fingerprints of the input files whose documents the index holds (build, appends and combined
   * parts, in order; see inputFingerprint in ./plan): an append of a file already listed is refused.
   * Absent in indexes written before it existed and for documents from iterables or stdin.
   */
  inputs?: string[];
}

export interface PartInfo {
  index: number;
  count: number;
  /** Identifies the whole partition: all input files, tokenizer and read options. Parts combine only if equal. */
  partition: string;
}

export function manifestPath(dir: string): string {
  return path.join(dir, MANIFEST_FILE);
}

/** Reads and checks a manifest: ERR_INDEX_NOT_FOUND, ERR_INDEX_VERSION, ERR_INDEX_CORRUPT or ERR_IO naming the file. */
export function readManifest(dir: string): Manifest {
  const m = parseManifest(dir);
  checkManifest(m, manifestPath(dir));
  return m;
}

/**
 * The parsed manifest.json of `dir`, unchecked: read only if it is a regular file of at most
 * MAX_MANIFEST_BYTES. ERR_INDEX_NOT_FOUND when there is none, ERR_INDEX_CORRUPT when it is no JSON.
 */
export function parseManifest(dir: string): Manifest {
  const file = manifestPath(dir);
  let bytes: Buffer;
  try {
    bytes = readRegularFile(file, MAX_MANIFEST_BYTES, (why) => new TraceIndexError('ERR_INDEX_CORRUPT', `${file}: ${why}`));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (err instanceof TraceIndexError) throw err;
    if (e.code === 'EISDIR') throw new TraceIndexError('ERR_INDEX_CORRUPT', `${file}: a directory, not a regular file`);
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR')
      throw new TraceIndexError('ERR_INDEX_NOT_FOUND', `no traceindex index at ${dir} (${MANIFEST_FILE} is missing)`);
    throw ioError(e, 'cannot read');
  }
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new TraceIndexError('ERR_INDEX_CORRUPT', `${file}: not valid JSON (${(err as Error).message})`);
  }
}

function checkManifest(m: Manifest, file: string): void {
  const bad = (why: string): never => {
    throw new TraceIndexError('ERR_INDEX_CORRUPT', `${file}: ${why}`);
  };
  const count = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (!m || typeof m !== 'object' || m.format !== FORMAT_NAME) bad('not a traceindex manifest');
  if (!Number.isInteger(m.formatVersion) || m.formatVersion < MIN_FORMAT_VERSION || m.formatVersion > FORMAT_VERSION)
    throw new TraceIndexError(
      'ERR_INDEX_VERSION',
      `${file}: format version ${m.formatVersion}, this version of traceindex reads versions ${MIN_FORMAT_VERSION} to ${FORMAT_VERSION}`,
    );
  if (![1, 2, 4].includes(m.tokenWidth)) bad(`token width ${m.tokenWidth} is not 1, 2 or 4`);
  if (!count(m.vocabSize) || m.vocabSize < 1 || m.vocabSize > separatorOf(m.tokenWidth)) bad('vocabulary size does not fit the token width');
  if (!m.tokenizer || typeof m.tokenizer.name !== 'string' || typeof m.tokenizer.fingerprint !== 'string') bad('tokenizer missing');
  if (!count(m.tokens) || !count(m.documents)) bad('token or document count missing');
  if (!Array.isArray(m.shards) || m.shards.length === 0) bad('no shards');
  let tokens = 0;
  let documents = 0;
  const seen = new Set<string>();
  for (const s of m.shards) {
    if (!s || typeof s.dir !== 'string' || !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)?$/.test(s.dir) || s.dir.split('/').includes('..'))
      bad(`shard directory ${JSON.stringify(s?.dir)} is not a plain relative name`);
    if (seen.has(s.dir)) bad(`shard ${s.dir} listed twice`);
    seen.add(s.dir);
    if (!count(s.tokens) || !count(s.documents) || s.documents < 1 || s.tokens < s.documents) bad(`shard ${s.dir}: bad counts`);
    if (s.pointerWidth !== (s.tokens < 2 ** 32 ? 4 : 8)) bad(`shard ${s.dir}: bad pointer width`);
    for (const f of SHARD_FILES) {
      const e = s.files?.[f];
      if (!e || !count(e.bytes) || typeof e.xxh64 !== 'string' || !/^[0-9a-f]{16}$/.test(e.xxh64)) bad(`shard ${s.dir}: entry for ${f} missing`);
    }
    const samples = s.files[SAMPLES_FILE];
    if (samples !== undefined) {
      if (m.formatVersion < 2) bad(`shard ${s.dir}: ${SAMPLES_FILE} is not part of format version ${m.formatVersion}`);
      if (!samples || !count(samples.bytes) || typeof samples.xxh64 !== 'string' || !/^[0-9a-f]{16}$/.test(samples.xxh64))
        bad(`shard ${s.dir}: bad entry for ${SAMPLES_FILE}`);
    }
    tokens += s.tokens - s.documents;
    documents += s.documents;
  }
  if (tokens !== m.tokens || documents !== m.documents) bad('token or document totals differ from the shards');
  if (m.inputs !== undefined && !(Array.isArray(m.inputs) && m.inputs.every((x) => typeof x === 'string'))) bad('inputs is not a list of fingerprints');
}

/**
 * Whether `dir` looks like an infini-gram index: tokenized* files and no manifest.json (read in place by
 * lib/query/infinigram.ts, never written: upgradeIndex refuses it).
 */
export function looksLikeInfinigram(dir: string): boolean {
  if (fs.existsSync(path.join(dir, MANIFEST_FILE))) return false;
  try {
    return fs.readdirSync(dir).some((f) => /^tokenized(\.\d+)?$/.test(f));
  } catch {
    return false;
  }
}

/** Checks that every shard file exists with the size the manifest records (cheap: stat only). */
export function checkShardFiles(dir: string, m: Manifest): void {
  for (const s of m.shards) {
    for (const f of shardFiles(s)) {
      const file = path.join(dir, s.dir, f);
      let size: number;
      try {
        size = fs.statSync(file).size;
      } catch (err) {
        // Missing is damage; unreadable (a permission, a failing disk) is not.
        const e = err as NodeJS.ErrnoException;
        if (e.code === 'ENOENT' || e.code === 'ENOTDIR') throw new TraceIndexError('ERR_INDEX_CORRUPT', `${file}: missing`);
        throw ioError(e, 'cannot read');
      }
      const want = s.files[f]!.bytes;
      if (size !== want) throw new TraceIndexError('ERR_INDEX_CORRUPT', `${file}: ${size} bytes, the manifest records ${want}${size < want ? ' (truncated)' : ''}`);
    }
  }
}

/**
 * Writes `text` to `file` durably: a temporary name, fsync, rename. A failed write or fsync names the file
 * (Node's errors on a descriptor carry no path).
 */
export function writeFileDurably(file: string, text: string): void {
  const tmp = file + '.tmp';
  // A new file of ours: a stale one (a crash) goes first, and what stands there is never followed (a planted link).
  try {
    fs.unlinkSync(tmp);
  } catch (err) {
    if (!isErrnoError(err) || err.code !== 'ENOENT') throw err;
  }
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
  const fd = fs.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
  try {
    // writeFileSync on a descriptor writes until every byte is down (one writeSync may write part: a full disk).
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
  } catch (err) {
    if (isErrnoError(err) && err.path === undefined) err.path = tmp;
    throw err;
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** Writes manifest.json durably (writeFileDurably), then fsyncs the directory. */
export function writeManifest(dir: string, m: Manifest, fsyncDir: (p: string) => void): void {
  writeFileDurably(manifestPath(dir), JSON.stringify(m, null, 2) + '\n');
  fsyncDir(dir);
}
