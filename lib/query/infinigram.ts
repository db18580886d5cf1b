/**
 * Opening an infini-gram index in place (read-only): the files its indexer writes (tokenized, table, offset,
 * and optionally metadata + metaoff; v4 names with a `.N` suffix per shard, v6 names without), read by
 * native/core/infinigram_shard.cpp. See docs/FORMAT.md, "Reading infini-gram indexes".
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TraceIndexError } from '../errors';
import { FORMAT_NAME, Manifest } from '../build/manifest';
import { addon, NativeIndex, nativeError } from '../native';
import { bytesTokenizer, pretokenized, TokenWidth, Tokenizer } from '../tokenizers/tokenizer';
import { loadTokenizer } from '../tokenizers/named';
import { nonNegativeInteger, oneOf } from '../validate';

export const INFINIGRAM_FORMAT = 'infini-gram';
/** The largest vocabulary of an infini-gram index (each shard counts its tokens in a table of one u64 per id). */
const MAX_INFINIGRAM_VOCAB = 2 ** 28;

export interface InfinigramOptions {
  /** 1 (u8), 2 (u16) or 4 (u32); inferred from the files when omitted. */
  tokenWidth?: number;
  /**
   * Token ids are < vocabSize, at most 2^28. Default: the separator (all ids below it) for u8/u16, the largest id + 1
   * for u32 (refused when that is 2^20 or more and above the shard's token count: pass vocabSize then).
   */
  vocabSize?: number;
  /**
   * The tokenizer that made the ids, for text queries: 'bytes' (u8 indexes built without --tokenizer: UTF-8
   * bytes), or a tokenizer name / tokenizer.json path. Default: pre-tokenized ids only.
   */
  tokenizer?: string;
}

/** One shard's files: the suffix ("" or ".N") and the files' sizes. */
export interface InfinigramShardFiles {
  suffix: string;
  files: Record<string, number>;
}

const SHARD_FILE_NAMES = ['tokenized', 'table', 'offset', 'metadata', 'metaoff'];

/**
 * The shard suffixes of an infini-gram directory, in the engine's order: sorted as strings (so tokenized.10
 * comes before tokenized.2), which is also the order of its global document numbers.
 */
export function infinigramSuffixes(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    throw new TraceIndexError('ERR_INDEX_NOT_FOUND', `no infini-gram index at ${dir} (${(err as Error).message})`);
  }
  const suffixes = names.filter((f) => /^tokenized(\.\d+)?$/.test(f)).sort().map((f) => f.slice('tokenized'.length));
  if (suffixes.length === 0) throw new TraceIndexError('ERR_INDEX_NOT_FOUND', `no infini-gram index at ${dir} (no tokenized files)`);
  return suffixes;
}

/**
 * The token width of a shard, from its first bytes: the stream starts with a separator (all-ones) and the
 * second document's byte offset is a multiple of the width. The widest width that fits is the right one for
 * any well-formed index (a document never starts with the separator).
 */
export function inferTokenWidth(dir: string, suffix: string): TokenWidth {
  const tok = path.join(dir, 'tokenized' + suffix);
  const { bytes: head, size } = readBytes(tok, 0, 4);
  const { bytes: off } = readBytes(path.join(dir, 'offset' + suffix), 8, 8);
  const second = off.length === 8 ? off.readBigUInt64LE(0) : undefined;
  for (const w of [4, 2, 1] as const) {
    if (size < w || size % w !== 0 || second !== undefined && second % BigInt(w) !== 0n) continue;
    if (head.subarray(0, w).every((b) => b === 0xff) && head.length >= w) return w;
  }
  throw new TraceIndexError('ERR_INDEX_CORRUPT', `${tok}: does not start with a separator (0xFF…) of width 1, 2 or 4`);
}

/** Up to n bytes at `at` of a regular file, and its size (a FIFO or device is refused without a read: docs/FORMAT.md). */
function readBytes(file: string, at: number, n: number): { bytes: Buffer; size: number } {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer (lib/inputs/files.ts readRegularFile does the same).
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (err) {
    throw new TraceIndexError('ERR_INDEX_CORRUPT', `missing index file ${file}: ${(err as Error).message}`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new TraceIndexError('ERR_INDEX_CORRUPT', `${file}: not a regular file`);
    const b = Buffer.alloc(n);
    const got = fs.readSync(fd, b, 0, n, at);
    return { bytes: b.subarray(0, got), size: st.size };
  } finally {
    fs.closeSync(fd);
  }
}

export interface OpenedInfinigram {
  manifest: Manifest;
  native: NativeIndex;
  tokenizer: Tokenizer;
  shards: InfinigramShardFiles[];
}

/** Opens every shard of the directory as one index. */
export async function openInfinigram(dir: string, options: InfinigramOptions): Promise<OpenedInfinigram> {
  const suffixes = infinigramSuffixes(dir);
  const width = oneOf('tokenWidth', options.tokenWidth, [1, 2, 4] as const, options.tokenWidth === undefined ? inferTokenWidth(dir, suffixes[0]) : undefined);
  // 0: derive it from the files.
  const vocabSize = nonNegativeInteger('vocabSize', options.vocabSize, { default: 0, max: MAX_INFINIGRAM_VOCAB });
  let native: NativeIndex;
  try {
    native = await addon.NativeIndex.open(suffixes.map((suffix) => ({
      dir, format: INFINIGRAM_FORMAT, suffix, tokenWidth: width, tokens: 0, documents: 0, vocabSize,
    })));
  } catch (err) {
    throw nativeError(err);
  }
  const shape = native.shape();
  let tokenizer: Tokenizer;
  try {
    tokenizer = await infinigramTokenizer(options.tokenizer, width as TokenWidth, shape.vocabSize);
  } catch (err) {
    native.close();
    throw err;
  }
  const shards = suffixes.map((suffix) => {
    const files: Record<string, number> = {};
    for (const f of SHARD_FILE_NAMES) {
      const file = path.join(dir, f + suffix);
      if (fs.existsSync(file)) files[f + suffix] = fs.statSync(file).size;
    }
    return { suffix, files };
  });
  const tableBytes = (i: number) => shards[i].files['table' + suffixes[i]] ?? 0;
  const manifest = {
    format: FORMAT_NAME,
    formatVersion: 0,
    tokenizer: { name: tokenizer.name, fingerprint: tokenizer.fingerprint },
    tokenWidth: width as TokenWidth,
    vocabSize: shape.vocabSize,
    tokens: shape.tokens,
    documents: shape.documents,
    shards: shape.shards.map((s, i) => ({
      dir: 'tokenized' + suffixes[i],
      tokens: s.tokens,
      documents: s.documents,
      // infini-gram's table entries are p bytes (p = ceil(log2(stream bytes) / 8)), not traceindex's 4 or 8.
      pointerWidth: (s.tokens > 0 ? tableBytes(i) / s.tokens : 0) as 4 | 8,
      files: {} as Manifest['shards'][number]['files'],
    })),
  } as Manifest;
  return { manifest, native, tokenizer, shards };
}

async function infinigramTokenizer(spec: string | undefined, width: TokenWidth, vocabSize: number): Promise<Tokenizer> {
  if (spec === undefined || spec === 'pretokenized') return pretokenized(vocabSize, 'pretokenized');
  if (spec === 'bytes') {
    if (width !== 1)
      throw new TraceIndexError('ERR_INVALID_ARGUMENT', `the bytes tokenizer reads u8 indexes; this one has ${width}-byte tokens`);
    return bytesTokenizer;
  }
  const t = await loadTokenizer(spec);
  if (t.vocabSize > vocabSize)
    throw new TraceIndexError('ERR_INVALID_ARGUMENT',
      `tokenizer ${t.name} has ${t.vocabSize} ids, more than this index's vocabulary (${vocabSize}): pass vocabSize`);
  return t;
}
