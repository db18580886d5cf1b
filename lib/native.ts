/**
 * Loads the addon (a prebuild from prebuilds/, else build/Release) through node-gyp-build and types it.
 * Nothing else in lib/ touches the binding directly.
 */
import * as path from 'node:path';
import { TraceIndexError } from './errors';

export interface ShardOpenSpec {
  dir: string;
  tokenWidth: number;
  tokens: number;
  documents: number;
  vocabSize: number;
  /** The shard has samples.bin (format v2): open it and search through it. */
  samples?: boolean;
  /** 'traceindex' (default) or 'infini-gram': then only dir, suffix, tokenWidth and vocabSize (0 = derive) are read. */
  format?: string;
  suffix?: string;
}

export interface NativeShape {
  format: string;
  tokenWidth: number;
  vocabSize: number;
  documents: number;
  tokens: number;
  /** ranks: entries of the shard's suffix array (infini-gram's tables hold the separators' suffixes too). */
  shards: Array<{ documents: number; tokens: number; ranks: number }>;
}

/** Occurrences as parallel arrays (native/binding/occurrences.hpp). */
export interface NativeOccurrences {
  documents: Float64Array;
  offsets: Float64Array;
  shards: Uint32Array;
  records: string[];
  snippetTokens: Uint32Array;
  snippetOffsets: Uint32Array;
  snippetStarts: Float64Array;
  /** Each occurrence's UTF-8 byte offset in its document, when the index has a token byte table (setTokenBytes). */
  byteOffsets?: Float64Array;
}

export interface NativeLocate extends NativeOccurrences {
  total: number;
  /** The page's cost in the call's budget (maxTokens): snippet tokens, OCCURRENCE_COST per occurrence, its records. */
  cost: number;
}

export interface NativeScores {
  bci: Float64Array;
  density: Float64Array;
  maxToken: Float64Array;
  kl: Float64Array;
  countSurprisal: Float64Array;
}

export interface NativeTrace extends NativeScores {
  output: Uint32Array;
  start: Uint32Array;
  end: Uint32Array;
  count: Float64Array;
  occurrenceOffsets: Uint32Array;
  occurrences: NativeOccurrences;
}

export interface NativeTraceOptions {
  minLength?: number;
  maxCount?: number;
  maxDocuments?: number;
  seed?: number;
  logBase?: number;
  unseenFloor?: number;
  window?: number;
  context?: number;
  delimiters?: Uint32Array;
  wordTokens?: Uint8Array;
  /** At most 2^26 (the default): the most snippet tokens of the call's attributions. */
  maxSnippetTokens?: number;
}

export interface NativeSuffixMatch {
  length: number;
  count: number;
  bci: number;
}

export interface NativeMatchState {
  push(token: number | Uint32Array): NativeSuffixMatch;
  longest(): NativeSuffixMatch;
  peek(token: number): NativeSuffixMatch;
  fork(): NativeMatchState;
  readonly pushed: number;
}

export interface NativeNext {
  suffixLength: number;
  total: number;
  tokens: Uint32Array;
  counts: Float64Array;
}

/** Documents of a batch: document i's tokens are tokens[tokenOffsets[i], tokenOffsets[i + 1]). */
export interface NativeDocuments {
  tokens: Uint32Array;
  tokenOffsets: Float64Array;
  records: string[];
  shards: Uint32Array;
  /** Each document's cost in maxTokens: its tokens, and its record's (a token per 4 bytes) when countRecords. */
  costs: Float64Array;
}

/**
 * Suffixes by rank, each shown as its document's tokens around it (native/core/documents.hpp): item i's window
 * is tokens[tokenOffsets[i], tokenOffsets[i + 1]) and the suffix starts at needleOffsets[i] within it (-1 for
 * a suffix at an infini-gram separator).
 */
export interface NativeRankedDocuments {
  documents: Float64Array;
  lengths: Float64Array;
  needleOffsets: Float64Array;
  tokens: Uint32Array;
  tokenOffsets: Float64Array;
  records: string[];
}

/** What advise('willneed') warmed: files and bytes; files the kernel took the advice for; files MADV_POPULATE_READ faulted in. */
export interface NativeWarmStats {
  files: number;
  bytes: number;
  advised: number;
  populated: number;
}

/** Sampled corpus spans: span i is tokens[offsets[i], offsets[i + 1]), drawn for lengths[lengthIndex[i]]. */
export interface NativeSampledSpans {
  tokens: Uint32Array;
  offsets: Uint32Array;
  lengthIndex: Uint32Array;
}

export interface NativeIndex {
  /** The answer itself when the work was tiny and ran inline (query_method.hpp), else a promise. */
  count(tokens: Uint32Array, offsets: Uint32Array, cancel?: Uint8Array): Promise<Float64Array> | Float64Array;
  countSync(tokens: Uint32Array, offsets: Uint32Array): Float64Array;
  /** ERR_TOO_LARGE when the page costs more than maxTokens (snippet tokens, per occurrence and per record: occurrences.hpp). */
  /** withBytes: byte offsets too (when the tokenizer's table is set); false for probes whose occurrences are only compared. */
  locate(tokens: Uint32Array, offsets: Uint32Array, offset: number, limit: number, context: number, maxTokens: number, withBytes: boolean, cancel?: Uint8Array): Promise<NativeLocate>;
  locateSync(tokens: Uint32Array, offsets: Uint32Array, offset: number, limit: number, context: number, maxTokens: number, withBytes: boolean): NativeLocate;
  longestMatch(tokens: Uint32Array, offsets: Uint32Array, cancel?: Uint8Array): Promise<{ lengths: Uint32Array; counts: Float64Array }>;
  longestMatchSync(tokens: Uint32Array, offsets: Uint32Array): { lengths: Uint32Array; counts: Float64Array };
  nextTokens(tokens: Uint32Array, offsets: Uint32Array, cancel?: Uint8Array): Promise<NativeNext[]>;
  nextTokensSync(tokens: Uint32Array, offsets: Uint32Array): NativeNext[];
  /** Query q's suffix-array range [lo, hi) in shard s at [2 * (q * shards + s), + 2) (the empty query: the whole array). */
  suffixRanges(tokens: Uint32Array, offsets: Uint32Array, cancel?: Uint8Array): Promise<Float64Array>;
  suffixRangesSync(tokens: Uint32Array, offsets: Uint32Array): Float64Array;
  /** ERR_TOO_LARGE when the windows and their records (a token per 4 bytes) hold more than maxTokens, before any is read. */
  documentsByRank(shards: Uint32Array, ranks: Float64Array, maxDispLen: number, maxTokens: number, cancel?: Uint8Array): Promise<NativeRankedDocuments>;
  documentsByRankSync(shards: Uint32Array, ranks: Float64Array, maxDispLen: number, maxTokens: number): NativeRankedDocuments;
  /** 'willneed': madvise(WILLNEED) over every mapping, then every page faulted in (resolves when they are resident). */
  advise(advice: 'willneed', cancel?: Uint8Array): Promise<NativeWarmStats>;
  /** ERR_TOO_LARGE when the documents hold more than maxTokens tokens, records included (a token per 4 bytes) when countRecords; checked before reading them. */
  documents(numbers: Float64Array, maxTokens: number, countRecords: boolean, cancel?: Uint8Array): Promise<NativeDocuments>;
  documentsSync(numbers: Float64Array, maxTokens: number, countRecords: boolean): NativeDocuments;
  /** The tokenizer's byte lengths (core TokenBytes): set once, at the first locate or trace that reports bytes (IndexCore.prepareByteOffsets). */
  setTokenBytes(bytes: Uint32Array, first: Uint32Array): void;
  findDocument(recordPrefix: string, cancel?: Uint8Array): Promise<number>;
  findDocumentSync(recordPrefix: string): number;
  /** calibrate's sampling (native/core/sampling.hpp); samples at most 10^6 per length. */
  sampleSpans(lengths: Uint32Array, samples: number, seed: number, cancel?: Uint8Array): Promise<NativeSampledSpans>;
  sampleSpansSync(lengths: Uint32Array, samples: number, seed: number): NativeSampledSpans;
  unigram(): Float64Array;
  shape(): NativeShape;
  trace(tokens: Uint32Array, offsets: Uint32Array, options: NativeTraceOptions, cancel?: Uint8Array): Promise<NativeTrace>;
  traceSync(tokens: Uint32Array, offsets: Uint32Array, options: NativeTraceOptions): NativeTrace;
  scoreSpans(tokens: Uint32Array, offsets: Uint32Array, counts: Float64Array | undefined, options: NativeTraceOptions, cancel?: Uint8Array):
    Promise<NativeScores & { count: Float64Array }>;
  scoreSpansSync(tokens: Uint32Array, offsets: Uint32Array, counts: Float64Array | undefined, options: NativeTraceOptions): NativeScores & { count: Float64Array };
  matchState(window: number): NativeMatchState;
  /** quick: structure, offsets, unigram sums and sampled suffix order instead of every token and suffix. */
  verify(cancel?: Uint8Array, quick?: boolean): Promise<void>;
  close(): void;
}

export interface WrittenFile {
  name: string;
  bytes: number;
  xxh64: string;
}

/** The reference zstd decoder (native/core/zstd_stream.hpp), one stream of frames. */
export interface NativeZstdDecoder {
  /**
   * Decodes the chunk (copied) off the JS thread until it is read or `limit` bytes are out: `consumed` bytes of it
   * were read; `more`, call again (with the rest, or an empty chunk) for output the decoder still holds. Rejects with
   * ERR_BAD_INPUT for damage (what came before it resolves first, and the next call throws it). Throws
   * ERR_INVALID_ARGUMENT when closed or while a decode is under way.
   */
  decode(chunk: Uint8Array, limit: number): Promise<{ output: Buffer; consumed: number; more: boolean }>;
  /** ERR_BAD_INPUT when the last frame is not complete; frees the decoder either way. */
  end(): void;
  /** Frees the decoder's native memory (its window), or lets the decode under way free it; idempotent; decode/end after it: ERR_INVALID_ARGUMENT. */
  close(): void;
}

export interface Addon {
  NativeIndex: { open(specs: ShardOpenSpec[]): Promise<NativeIndex> };
  ZstdDecoder: new () => NativeZstdDecoder;
  buildShard(job: {
    dir: string;
    tokens: Uint8Array | Uint16Array | Uint32Array;
    tokenWidth: number;
    docStarts: Float64Array;
    metaOffsets: Float64Array;
    metaBlob: Uint8Array;
    vocabSize: number;
    threads: number;
    cancel?: Uint8Array;
    /** [done, total] work units, advanced by the build as it goes (read it on a timer). */
    progress?: BigUint64Array;
  }): Promise<{ files: WrittenFile[]; seconds: Record<string, number> }>;
  /** Quick-verifies a shard without samples.bin, then (write) adds it: null when !write (native/core/shard_writer.hpp upgrade_shard). */
  upgradeShard(job: { dir: string; tokenWidth: number; tokens: number; documents: number; vocabSize: number; write: boolean; cancel?: Uint8Array }):
    Promise<WrittenFile | null>;
  checksumFile(path: string, cancel?: Uint8Array): Promise<string>;
  scoreContinuations(states: NativeMatchState[], candidates: Uint32Array, k: number,
    options: { tau?: number; maxCount?: number; minLength?: number; logBase?: number }):
    { risk: Float32Array; veto: Uint8Array; length: Uint32Array; count: Float64Array };
  exchangeOrRename(from: string, to: string): boolean;
  fsyncPath(path: string): void;
  /** Target locks of this process (lib/build/workdir.ts): held by this thread's environment until released or torn down. */
  holdLock(token: string): void;
  releaseLock(token: string): void;
  lockHeld(token: string): boolean;
  simdKernels(): string[];
  selectSimd(name?: string): string | false;
  formatVersion: number;
  /** What an occurrence costs in a call's snippet budget besides its tokens, and the largest budget (occurrences.hpp). */
  snippetBudget: { occurrenceCost: number; maxTokens: number };
  // Native tokenizers (native/binding/tokenizer_binding.cpp; wrapped by lib/tokenizers/native.ts).
  loadNativeTokenizer(kind: string, data: string | Uint8Array, data2?: string | Uint8Array): Promise<NativeTokenizerHandle>;
  loadByteLevelBpe(spec: NativeByteLevelBpe): Promise<NativeTokenizerHandle>;
  tokenizerEncode(handle: NativeTokenizerHandle, text: string, width: number): Uint8Array | Uint16Array | Uint32Array;
  tokenizerEncodeBatchSync(handle: NativeTokenizerHandle, texts: NativeTexts, width: number): NativeEncodedBatch;
  tokenizerEncodeBatch(handle: NativeTokenizerHandle, texts: NativeTexts, width: number, threads?: number): Promise<NativeEncodedBatch>;
}

/** Strings for the native tokenizer: string i is bytes[sum of lengths[0..i), + lengths[i]), with id ids[i]. */
export interface NativeStrings { bytes: Uint8Array; lengths: Uint32Array; ids: Uint32Array }
/** A tokenizer.json byte-level BPE (native/core/tokenizer/tokenizer.hpp, Tokenizer::ByteLevelBpe). */
export interface NativeByteLevelBpe {
  pattern: 'cl100k' | 'o200k' | 'gpt2' | 'whole';
  /** \s is Unicode White_Space rather than JavaScript's. */
  unicodeSpace: boolean;
  /** ByteLevel add_prefix_space: before each text between added tokens, or before each piece. */
  prefix: 'none' | 'text' | 'piece';
  /** ignore_merges: a piece that is a token is taken whole. */
  wholePieces: boolean;
  /** Token bytes (decoded from the byte-level alphabet). */
  tokens: NativeStrings;
  /** (left, right, result) ids per merge rank; left 0xFFFFFFFF: a merge that never applies. */
  merges: Uint32Array;
  /** Added tokens' UTF-8 content, cut out of the text first. */
  added: NativeStrings;
  /** Per added token: 1 lstrip, 2 rstrip (the JS whitespace before / after it is dropped). */
  addedStrip: Uint8Array;
  /** A SentencePiece BPE: `tokens` are the pieces' UTF-8 (not byte-level), byteIds the <0xNN> tokens. */
  sentencepiece?: boolean;
  byteIds?: Uint32Array;
}
/** An opaque native tokenizer. */
export type NativeTokenizerHandle = { readonly __nativeTokenizer: unique symbol };
/** Documents as strings, or as UTF-8 bytes: document i is bytes[offsets[i], offsets[i+1]). */
export type NativeTexts = string[] | { bytes: Uint8Array; offsets: Float64Array };
/** Document i's tokens are tokens[offsets[i], offsets[i+1]). */
export interface NativeEncodedBatch {
  tokens: Uint8Array | Uint16Array | Uint32Array;
  offsets: Float64Array;
}

function load(): Addon {
  const root = path.resolve(__dirname, '..', '..');
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return require('node-gyp-build')(root) as Addon;
  } catch (err) {
    throw new TraceIndexError('ERR_IO', `cannot load the traceindex addon (run \`npm install\` to build it): ${(err as Error).message}`, { cause: err });
  }
}

export const addon: Addon = load();

/** Rethrows native errors (which carry `code`) as TraceIndexError, keeping the message. */
export function nativeError(err: unknown): Error {
  const e = err as Error & { code?: string };
  if (e && typeof e.code === 'string' && e.code.startsWith('ERR_') && !(e instanceof TraceIndexError)) {
    return new TraceIndexError(e.code as never, e.message, { cause: e });
  }
  return e as Error;
}

/** A Uint8Array the native side polls; set to 1 when `signal` aborts. */
export function cancelFlag(signal?: AbortSignal, flag = new Uint8Array(1)): { flag: Uint8Array; dispose(): void } {
  if (!signal) return { flag, dispose() {} };
  const onAbort = () => { flag[0] = 1; };
  if (signal.aborted) flag[0] = 1;
  signal.addEventListener('abort', onAbort, { once: true });
  return { flag, dispose: () => signal.removeEventListener('abort', onAbort) };
}
