/**
 * The machinery behind Index, kept off its public type: the native handle, the checks every call makes before
 * it starts, cancellation and time limits, query tokenization and batching, and native results as objects.
 * Index (./open-index.ts) and the provenance layer reach it through coreOf(index).
 */
import * as path from 'node:path';
import { abortError, TraceIndexError } from '../errors';
import type { Manifest } from '../build/manifest';
import { addon, cancelFlag, NativeDocuments, NativeIndex, NativeOccurrences, NativeWarmStats, nativeError } from '../native';
import { bytesTokenizer, Tokenizer } from '../tokenizers/tokenizer';
import { abortSignal, invalidArgument, nonNegativeInteger, plainObject, positiveInteger, timeoutMs as checkTimeout } from '../validate';
import type { InfinigramShardFiles } from './infinigram';
import { jsonArray } from './json-arrays';
import type { CallOptions, DocumentInfo, Occurrence, Query } from './types';

/** Queries longer than this (in tokens) are refused (ERR_INVALID_ARGUMENT). */
export const MAX_QUERY_TOKENS = 1 << 24;

/**
 * Key of an internal option of trace, locate and document: the most tokens the call's answer may hold, its snippets
 * and documents with OCCURRENCE_COST per occurrence and each record a token per 4 bytes (the server passes its
 * per-request budget; ERR_TOO_LARGE above it, before what is over it is copied). Not a public option.
 */
export const SNIPPET_BUDGET: unique symbol = Symbol('traceindex.snippetBudget');
/** Key of an internal field of a locate result or a document: what it cost in that budget, as the core counted it. */
const PAGE_COST: unique symbol = Symbol('traceindex.pageCost');
/** `answer` with its cost attached under PAGE_COST (not enumerable: not in JSON, not in a spread). */
export function withCost<T extends object>(answer: T, cost: number): T {
  return Object.defineProperty(answer, PAGE_COST, { value: cost });
}
/** What a locate page or document from withCost cost in its call's budget. */
export function costOf(answer: object): number {
  return (answer as { [PAGE_COST]: number })[PAGE_COST];
}
/** What an occurrence costs in that budget besides its snippet tokens (native/binding/occurrences.hpp kOccurrenceCost). */
export const OCCURRENCE_COST = addon.snippetBudget.occurrenceCost;
/** The budget of a call when none is given, and the largest one can give (kMaxSnippetTokens). */
export const MAX_SNIPPET_BUDGET = addon.snippetBudget.maxTokens;
/** What a document call may read: its tokens, and its record too when countRecords (core/documents.hpp). */
export interface DocumentBound { maxTokens: number; countRecords: boolean }
/** The call's SNIPPET_BUDGET, if it has one. */
export function snippetBudget(options: object | undefined): number | undefined {
  return (options as { [SNIPPET_BUDGET]?: number } | undefined)?.[SNIPPET_BUDGET];
}

/**
 * A token id of a vocabulary of `vocab` ids: a number that is an integer in [0, vocab). `(v >>> 0) === v` holds
 * exactly for the numbers that are integers in [0, 2^32); the typeof test comes first, so a BigInt or an object
 * is refused without arithmetic on it (no TypeError, no valueOf call).
 */
function isTokenId(v: unknown, vocab: number): v is number {
  return typeof v === 'number' && (v >>> 0) === v && v < vocab;
}

const cores = new WeakMap<object, IndexCore>();

/** The core of an Index (`index` is `this` of an Index method: anything else is ERR_INVALID_ARGUMENT). */
export function coreOf(index: object): IndexCore {
  const core = cores.get(index);
  if (!core) throw invalidArgument('this', 'an Index from openIndex()', index);
  return core;
}

/** Makes `core` the core of `index` (the Index constructor). */
export function attachCore(index: object, core: IndexCore): void {
  cores.set(index, core);
}

/**
 * One call that passed its checks (IndexCore.begin): runs native work with the call's signal and time limit.
 * Native errors come out as TraceIndexErrors; a cancel flag set by the timer comes out as ERR_TIMEOUT.
 */
export class Call {
  constructor(private readonly core: IndexCore, private readonly native: NativeIndex, private readonly signal?: AbortSignal,
    private readonly timeoutMs?: number) {}

  /** Runs synchronous native work (Sync forms: the signal and time limit were checked by begin). */
  runSync<T>(fn: (n: NativeIndex) => T): T {
    try {
      return fn(this.native);
    } catch (err) {
      throw nativeError(err);
    }
  }

  /**
   * Runs async native work. With a signal or a time limit, `cancel` is a flag the native side polls, set when
   * the signal aborts or the time runs out; without either it is undefined (nothing to poll).
   */
  async run<T>(fn: (n: NativeIndex, cancel?: Uint8Array) => Promise<T> | T): Promise<T> {
    if (this.signal === undefined && this.timeoutMs === undefined) {
      let out: Promise<T> | T;
      try {
        out = fn(this.native);
      } catch (err) {
        throw nativeError(err);
      }
      if (typeof (out as { then?: unknown } | null)?.then !== 'function') return out as T;
      this.core.enter();
      try {
        return await out;
      } catch (err) {
        throw nativeError(err);
      } finally {
        this.core.leave();
      }
    }
    // The flag is armed after the call starts: work that ran inline (an answer, not a promise) has nothing left to
    // cancel, and pool work polls the flag, so a timer or an abort that sets it later still stops it.
    const flag = new Uint8Array(1);
    let pending: Promise<T>;
    try {
      const out = fn(this.native, flag);
      // Duck-typed: a promise made in another realm (the addon loaded outside a vm context) is still pending work.
      if (typeof (out as { then?: unknown } | null)?.then !== 'function') return out as T;
      pending = out as Promise<T>;
    } catch (err) {
      throw nativeError(err);
    }
    this.core.enter();
    const c = cancelFlag(this.signal, flag);
    let timedOut = false;
    const timer = this.timeoutMs === undefined ? undefined : setTimeout(() => { timedOut = true; flag[0] = 1; }, this.timeoutMs);
    try {
      return await pending;
    } catch (err) {
      if (timedOut && (err as { code?: string }).code === 'ERR_ABORTED') throw timeoutError(this.timeoutMs!);
      throw nativeError(err);
    } finally {
      clearTimeout(timer);
      c.dispose();
      this.core.leave();
    }
  }
}

function timeoutError(ms: number): TraceIndexError {
  return new TraceIndexError('ERR_TIMEOUT', `the call took longer than timeoutMs (${ms} ms)`);
}

export class IndexCore {
  private native: NativeIndex | null;
  private closing = false;
  private pending = 0;  // async native work under way (Call.run), see leave()
  private byteTablePending: boolean;

  /**
   * For an infini-gram index, `manifest` is synthesized from its files (formatVersion 0, no checksums) and
   * `infinigram` lists each shard's files.
   */
  constructor(readonly dir: string, readonly manifest: Manifest, native: NativeIndex, readonly tokenizer: Tokenizer,
    readonly infinigram?: InfinigramShardFiles[]) {
    this.native = native;
    this.byteTablePending = tokenizer !== bytesTokenizer && tokenizer.readsText && tokenizer.tokenByteTable !== undefined;
  }

  /**
   * Before a call whose occurrences carry byte offsets (locate, trace): gives the core the tokenizer's byte table
   * the first time, so it computes them off the JS thread. Not at open: building the table costs up to 0.25 s.
   * The table only moves work off the JS thread: one that cannot be had (tokenByteTable throws, or the core
   * refuses what it returns) leaves every call on the JS path, which gives the same offsets; a warning says so once.
   */
  prepareByteOffsets(): void {
    if (!this.byteTablePending || !this.native) return;
    this.byteTablePending = false;
    try {
      const table = this.tokenizer.tokenByteTable!();
      this.native.setTokenBytes(table.bytes, table.first);
    } catch (err) {
      process.emitWarning(`tokenizer ${this.tokenizer.name}: tokenByteTable() failed (${err instanceof Error ? err.message : String(err)}); byte offsets are computed on the JS thread`,
        { code: 'TRACEINDEX_BYTE_TABLE' });
    }
  }

  get closed(): boolean {
    return this.closing;
  }

  /** New calls fail with ERR_CLOSED from now on; the native index is released once no call is under way. */
  close(): void {
    this.closing = true;
    if (this.pending === 0) this.release();
  }

  private release(): void {
    this.native?.close();
    this.native = null;
  }

  /** Async native work of a call starts (Call.run). */
  enter(): void {
    this.pending++;
  }

  /**
   * Async native work of a call ended. Counted down a macrotask later: the next native step of a call made of
   * several (calibrate scores what it sampled, a trace reads its documents) starts in the microtasks that follow
   * this one's answer, and must find the index still open after a close() made while the first step ran.
   */
  leave(): void {
    setImmediate(() => {
      if (--this.pending === 0 && this.closing) this.release();
    });
  }

  /**
   * The checks every call makes before any work, in this order: its options (ERR_INVALID_ARGUMENT), the index
   * is open (ERR_CLOSED), the signal has not fired (ERR_ABORTED), timeoutMs is not 0 (ERR_TIMEOUT).
   */
  begin(options?: CallOptions): Call {
    const o = plainObject('options', options);
    const signal = abortSignal('signal', o.signal);
    const timeoutMs = checkTimeout('timeoutMs', o.timeoutMs);
    if (this.closing || !this.native) throw new TraceIndexError('ERR_CLOSED', 'the index is closed');
    if (signal?.aborted) throw abortError(signal);
    if (timeoutMs === 0) throw timeoutError(0);
    return new Call(this, this.native, signal, timeoutMs);
  }

  /** Token ids of a query, checked: integers in the vocabulary, not huge. */
  tokenize(query: Query): Uint32Array {
    let ids: Uint32Array;
    if (query && typeof query === 'object' && 'fingerprint' in query) {
      if (query.fingerprint !== this.manifest.tokenizer.fingerprint)
        throw new TraceIndexError('ERR_TOKENIZER_MISMATCH',
          `token ids made with tokenizer ${query.fingerprint}, the index uses ${this.manifest.tokenizer.name} (${this.manifest.tokenizer.fingerprint})`);
      return this.tokenize(query.tokens);
    }
    if (typeof query === 'string') {
      if (!this.tokenizer.readsText)
        throw new TraceIndexError('ERR_INVALID_ARGUMENT', `the index's tokenizer (${this.tokenizer.name}) has no text form: query with token ids`);
      ids = Uint32Array.from(this.tokenizer.encode(query));
    } else if (query instanceof Uint32Array) {
      ids = query;
    } else if (query && typeof query.length === 'number') {
      // Each element is read once, checked and copied together: a getter cannot change it between the two.
      const n = query.length;
      if (n > MAX_QUERY_TOKENS) {
        this.checkIds(query);
        throw new TraceIndexError('ERR_INVALID_ARGUMENT', `query of ${n} tokens is longer than the limit (${MAX_QUERY_TOKENS})`);
      }
      if (!Number.isInteger(n) || n < 0) throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'a query is a string or an array of token ids');
      ids = new Uint32Array(n);
      this.copyIds(query, ids, 0, n);
    } else {
      throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'a query is a string or an array of token ids');
    }
    if (ids.length > MAX_QUERY_TOKENS)
      throw new TraceIndexError('ERR_INVALID_ARGUMENT', `query of ${ids.length} tokens is longer than the limit (${MAX_QUERY_TOKENS})`);
    return ids;
  }

  /** Every element of `ids` is a token id of this index's vocabulary (ERR_TOKEN_RANGE naming the first that is not). */
  private checkIds(ids: ArrayLike<unknown>): void {
    this.copyIds(ids, undefined, 0);
  }

  /**
   * Checks ids as checkIds does and, given `to`, copies them there from `at` (one loop: TypedArray#set from a
   * plain array cost twice as much for a batch's short queries). The message is built only on failure.
   */
  private copyIds(ids: ArrayLike<unknown>, to: Uint32Array | undefined, at: number, n = ids.length): void {
    const vocab = this.manifest.vocabSize;
    for (let i = 0; i < n; i++) {
      const v = ids[i];
      if (!isTokenId(v, vocab)) this.tokenId(v, `query token ${String(v)} at position ${i}`);
      if (to) to[at + i] = v as number;
    }
  }

  /** A token id of this index's vocabulary (ERR_TOKEN_RANGE otherwise); `what` names it in the message. */
  tokenId(v: unknown, what: string): number {
    if (!isTokenId(v, this.manifest.vocabSize))
      throw new TraceIndexError('ERR_TOKEN_RANGE', `${what} is not a token id of this index (vocabulary size ${this.manifest.vocabSize})`);
    return v;
  }

  /**
   * Queries as one token array plus offsets; the same checks, in the same order, as tokenize() of each query
   * and then the lengths. Token id arrays (plain arrays and Uint32Arrays, the forms batches come in) are
   * checked as they are copied, once, straight into the batch: no array per query.
   */
  batch(queries: Query[], allowEmpty: boolean): [Uint32Array, Uint32Array] {
    if (!Array.isArray(queries)) throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'a batch is an array of queries');
    const n = queries.length;
    const offsets = new Uint32Array(n + 1);
    let tokens = new Uint32Array(n + 64);  // grown by doubling (at most twice the tokens); the call gets the filled part
    let total = 0;
    for (let i = 0; i < n; i++) {
      let q = queries[i];
      let len: number;
      if ((Array.isArray(q) || q instanceof Uint32Array) && !('fingerprint' in q)) {
        len = q.length;
        if (len > MAX_QUERY_TOKENS) {
          if (!(q instanceof Uint32Array)) this.checkIds(q);
          throw new TraceIndexError('ERR_INVALID_ARGUMENT', `query of ${len} tokens is longer than the limit (${MAX_QUERY_TOKENS})`);
        }
      } else {
        q = this.tokenize(q);
        len = q.length;
      }
      if (total + len > 2 ** 32 - 1) throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'batch too large: split it');
      if (total + len > tokens.length) {
        const grown = new Uint32Array(Math.min(2 ** 32 - 1, Math.max(total + len, 2 * tokens.length)));
        grown.set(tokens.subarray(0, total));
        tokens = grown;
      }
      if (q instanceof Uint32Array) tokens.set(q, total);
      else this.copyIds(q as ArrayLike<unknown>, tokens, total);
      total += len;
      offsets[i + 1] = total;
    }
    if (!allowEmpty)
      for (let i = 0; i < n; i++)
        if (offsets[i + 1] === offsets[i]) throw new TraceIndexError('ERR_INVALID_ARGUMENT', `query ${i} is empty`);
    return [tokens.subarray(0, total), offsets];
  }

  /** Entries of each shard's suffix array: the ranks documentsByRank accepts, [0, ranks[s]). */
  shardRanks(): number[] {
    return this.begin().runSync((n) => n.shape().shards.map((s) => s.ranks));
  }

  /**
   * Each query's suffix-array range [lo, hi) in each shard, as ranges[query][shard] (infini-gram's find; an
   * absent query's range is empty where it would sort, the empty query's is the whole array).
   */
  async suffixRanges(queries: Query[], options?: CallOptions): Promise<Array<Array<[number, number]>>> {
    const call = this.begin(options);
    const [tokens, offsets] = this.batch(queries, true);
    const flat = await call.run((n, c) => n.suffixRanges(tokens, offsets, c));
    const shards = queries.length ? flat.length / 2 / queries.length : 0;
    return queries.map((_, q) => Array.from({ length: shards }, (_2, s): [number, number] => [flat[2 * (q * shards + s)], flat[2 * (q * shards + s) + 1]]));
  }

  /**
   * The suffixes of the given ranks, each in its document: up to maxDispLen tokens around it, the suffix at
   * needleOffset within them (-1 at an infini-gram separator: the document it precedes is shown), as
   * infini-gram's get_doc_by_rank cuts them. A shard or rank outside the index is ERR_INVALID_ARGUMENT.
   */
  async documentsByRank(items: Array<{ shard: number; rank: number }>, maxDispLen: number, options?: CallOptions):
    Promise<Array<{ document: number; id: string; metadata: Record<string, unknown> | undefined; length: number; needleOffset: number; tokens: number[] }>> {
    const call = this.begin(options);
    const shards = Uint32Array.from(items, (x) => nonNegativeInteger('shard', x.shard, { max: 0xffffffff }));
    const ranks = Float64Array.from(items, (x) => nonNegativeInteger('rank', x.rank));
    const budget = snippetBudget(options) ?? Number.MAX_SAFE_INTEGER;
    const r = await call.run((n, c) => n.documentsByRank(shards, ranks, positiveInteger('maxDispLen', maxDispLen), budget, c));
    return items.map((_, i) => {
      const rec = this.record(r.records[i], items[i].shard);
      return {
        document: r.documents[i], id: rec.id, metadata: rec.meta, length: r.lengths[i], needleOffset: r.needleOffsets[i],
        tokens: Array.from(r.tokens.subarray(r.tokenOffsets[i], r.tokenOffsets[i + 1])),
      };
    });
  }

  /** madvise(WILLNEED) over every mapping of the index, then every page faulted in (the server's preload). */
  async advise(advice: 'willneed', options?: CallOptions): Promise<NativeWarmStats> {
    const call = this.begin(options);
    return call.run((n, c) => n.advise(advice, c));
  }

  /** Occurrences [from, to) of a native block as objects. */
  occurrenceList(native: NativeIndex, r: NativeOccurrences, from: number, to: number): Occurrence[] {
    const out: Occurrence[] = [];
    const bytes = this.tokenizer.readsText ? this.byteOffsets(native, r, from, to) : undefined;
    const records = new Map<number, ReturnType<IndexCore['record']>>();  // a document's record parsed once per list
    for (let i = from; i < to; i++) {
      let rec = records.get(r.documents[i]);
      if (!rec) records.set(r.documents[i], (rec = this.record(r.records[i], r.shards[i])));
      const snippetTokens = jsonArray(r.snippetTokens.subarray(r.snippetOffsets[i], r.snippetOffsets[i + 1]));
      const token = r.offsets[i];
      const occ: Occurrence = {
        document: r.documents[i], id: rec.id, metadata: rec.meta, position: { token }, shard: r.shards[i],
        snippet: { tokens: snippetTokens, start: r.snippetStarts[i] },
      };
      if (bytes) {
        occ.position.byte = bytes[i - from];
        occ.snippet.text = trimBrokenEdges(this.tokenizer.decode(snippetTokens));
      }
      out.push(occ);
    }
    return out;
  }

  /**
   * UTF-8 byte offsets of occurrences [from, to) in their documents: each document read once, its occurrences
   * taken in position order so each offset adds to the one before (byteLengthBetween), not a prefix per
   * occurrence (a page of 10 000 in a 10 M-token document took hours on the JS thread).
   */
  private byteOffsets(native: NativeIndex, r: NativeOccurrences, from: number, to: number): Float64Array {
    if (r.byteOffsets) return r.byteOffsets.subarray(from, to);  // the core's (tokenByteTable)
    const out = new Float64Array(to - from);
    if (this.tokenizer === bytesTokenizer) {
      for (let i = from; i < to; i++) out[i - from] = r.offsets[i];
      return out;
    }
    const order = Array.from({ length: to - from }, (_, k) => from + k)
      .sort((a, b) => r.documents[a] - r.documents[b] || r.offsets[a] - r.offsets[b]);
    const t = this.tokenizer;
    const between = (tokens: Uint32Array, a: number, b: number) =>
      t.byteLengthBetween ? t.byteLengthBetween(tokens, a, b) : t.byteLength(tokens.subarray(0, b)) - t.byteLength(tokens.subarray(0, a));
    let doc = -1, at = 0, byte = 0;
    let tokens: Uint32Array = new Uint32Array(0);
    for (const i of order) {
      if (r.documents[i] !== doc) {
        doc = r.documents[i];
        tokens = this.documentTokensSync(native, doc);
        at = 0;
        byte = 0;
      }
      byte += between(tokens, at, r.offsets[i]);
      at = r.offsets[i];
      out[i - from] = byte;
    }
    return out;
  }

  /** A document reference checked: a non-negative integer (range-checked by the core) or an id string. */
  documentRef(ref: unknown): number | string {
    if (typeof ref === 'string') return ref;
    return nonNegativeInteger('document', ref);
  }

  /** The record prefix that findDocument looks for: the start of `{"id":<id>,...}` in meta.bin. */
  idPrefix(id: string): string {
    return JSON.stringify({ id }).slice(0, -1);
  }

  /** The document number of an id found by findDocument (negative: not found, ERR_INVALID_ARGUMENT). */
  foundDocument(id: string, n: number): number {
    if (n < 0) throw new TraceIndexError('ERR_INVALID_ARGUMENT', `no document with id ${JSON.stringify(id)}`);
    return n;
  }

  /** Document `n`, the first of a native documents answer. */
  documentInfo(n: number, d: NativeDocuments): DocumentInfo {
    const rec = this.record(d.records[0], d.shards[0]);
    const tokens = jsonArray(d.tokens.subarray(d.tokenOffsets[0], d.tokenOffsets[1]));
    // A document longer than the tokenizer decodes at once has no text here (docs/api.md, document).
    const decodable = this.tokenizer.readsText && tokens.length <= (this.tokenizer.decodeLimit ?? Infinity);
    return withCost<DocumentInfo>({ document: n, id: rec.id, metadata: rec.meta, tokens, text: decodable ? this.tokenizer.decode(tokens) : undefined }, d.costs[0]);
  }

  /**
   * Document `ref` of at most `bound.maxTokens` tokens, its record counted when `bound.countRecords` (ERR_TOO_LARGE
   * before reading a longer one), off the JS thread.
   */
  async document(native: NativeIndex, ref: number | string, bound: DocumentBound, cancel?: Uint8Array): Promise<DocumentInfo> {
    const n = typeof ref === 'string' ? this.foundDocument(ref, await native.findDocument(this.idPrefix(ref), cancel)) : ref;
    return this.documentInfo(n, await native.documents(Float64Array.of(n), bound.maxTokens, bound.countRecords, cancel));
  }

  /** document, on this thread. */
  documentSync(native: NativeIndex, ref: number | string, bound: DocumentBound): DocumentInfo {
    const n = typeof ref === 'string' ? this.foundDocument(ref, native.findDocumentSync(this.idPrefix(ref))) : ref;
    return this.documentInfo(n, native.documentsSync(Float64Array.of(n), bound.maxTokens, bound.countRecords));
  }

  private documentTokensSync(native: NativeIndex, n: number): Uint32Array {
    const d = native.documentsSync(Float64Array.of(n), Number.MAX_SAFE_INTEGER, false);
    return d.tokens.subarray(d.tokenOffsets[0], d.tokenOffsets[1]);
  }

  /** A document's record from shard `shard` (docs/FORMAT.md): ERR_INDEX_CORRUPT naming the file when it is no JSON. */
  private record(json: string, shard: number): { id: string; meta: Record<string, unknown> | undefined } {
    try {
      const r = JSON.parse(json);
      return { id: r.id, meta: r.meta };
    } catch {
      const file = this.infinigram ? `metadata${this.infinigram[shard]?.suffix ?? ''}` : path.join(this.manifest.shards[shard]?.dir ?? '', 'meta.bin');
      throw new TraceIndexError('ERR_INDEX_CORRUPT', `${path.join(this.dir, file)}: a document record is not valid JSON`);
    }
  }
}

/** Snippets cut through multi-byte characters at their edges; drop the replacement characters that leaves. */
function trimBrokenEdges(text: string): string {
  return text.replace(/^\uFFFD+/, '').replace(/\uFFFD+$/, '');
}
