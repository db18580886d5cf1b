/**
 * openIndex / Index: an index directory opened read-only, queried exactly. Queries are text (tokenized with
 * the index's tokenizer) or token ids. Async methods run off the JS thread; *Sync variants run on it for
 * tight loops; *Batch variants answer many queries in one native round trip (about 20 µs each), which is
 * how to go fast. Closing while queries run is safe: they finish on the mappings they hold.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { abortError, TraceIndexError } from '../errors';
import { checkShardFiles, Manifest, readManifest, SHARD_FILES } from '../build/manifest';
import { addon, cancelFlag, NativeIndex, NativeLocate, NativeNext, NativeOccurrences, nativeError } from '../native';
import { bytesTokenizer, pretokenized, Tokenizer } from '../tokenizers/tokenizer';
import { isTokenizerJsonPath, loadTokenizer, tokenizerNames } from '../tokenizers/named';
import { INFINIGRAM_FORMAT, InfinigramShardFiles, looksLikeInfinigram, openInfinigram } from './infinigram';

/**
 * Text, or token ids of the index's vocabulary, optionally stamped with the fingerprint of the tokenizer
 * that made them (refused with ERR_TOKENIZER_MISMATCH if it is not the index's).
 */
export type Query = string | ArrayLike<number> | { tokens: ArrayLike<number>; fingerprint: string };

/** Queries longer than this are refused (ERR_INVALID_ARGUMENT). */
export const MAX_QUERY_TOKENS = 1 << 24;

export interface IndexInfo {
  dir: string;
  /** 'traceindex', or 'infini-gram' for an infini-gram index read in place (formatVersion 0). */
  format: 'traceindex' | 'infini-gram';
  formatVersion: number;
  tokenizer: { name: string; fingerprint: string };
  tokenWidth: number;
  vocabSize: number;
  documents: number;
  /** Document tokens (separators excluded). */
  tokens: number;
  shards: Array<{ dir: string; documents: number; tokens: number; pointerWidth: number; bytes: number }>;
  bytesOnDisk: number;
  /** Bytes of token and suffix-array files per document token. */
  bytesPerToken: number;
  simd: string;
}

export interface Occurrence {
  /** Global document number (0-based, in build order). */
  document: number;
  id: string;
  metadata: Record<string, unknown> | undefined;
  /** Where the match starts in the document: token offset, and UTF-8 byte offset for text tokenizers. */
  position: { token: number; byte?: number };
  shard: number;
  snippet: { tokens: Uint32Array; text?: string; /** token offset of the snippet in the document */ start: number };
}

/** Options of every async query: an AbortSignal, and a time limit after which the query stops (ERR_TIMEOUT). */
export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface LocateOptions extends CallOptions {
  limit?: number;
  offset?: number;
  /** Tokens of context on each side of a match in the snippet; default 16. */
  context?: number;
}

export interface LocateResult {
  /** All occurrences of the query (the page holds [offset, offset + limit) of them). */
  total: number;
  occurrences: Occurrence[];
}

export interface LongestMatch {
  /** Tokens of the query's longest occurring prefix. */
  length: number;
  /** Occurrences of that prefix (all document tokens when length is 0). */
  count: number;
  text?: string;
}

export interface NextTokens {
  /** Tokens of the longest suffix of the context that occurs followed by a token (the ∞-gram context). */
  suffixLength: number;
  /** Occurrences of that suffix followed by a token: the sum of `counts`. */
  total: number;
  /** Always false: distributions are exact at any support (see README). */
  approximate: false;
  /** Next-token ids, by count descending then id. */
  tokens: Uint32Array;
  counts: Float64Array;
}

export interface DocumentInfo {
  document: number;
  id: string;
  metadata: Record<string, unknown> | undefined;
  tokens: Uint32Array;
  text?: string;
}

export interface OpenOptions {
  /**
   * Refuse to open unless the index was built with this tokenizer (ERR_TOKENIZER_MISMATCH). A string loads
   * that tokenizer (a name, or a tokenizer.json path when the one recorded at build time lives elsewhere
   * here) and requires its fingerprint to match.
   */
  tokenizer?: string | { name?: string; fingerprint?: string };
  /**
   * Load the tokenizer.json file whose path the manifest records (default false: an index directory is not
   * trusted to name files to read; without this or a `tokenizer` path, such an index answers token-id
   * queries only).
   */
  trustManifestTokenizer?: boolean;
  /**
   * 'traceindex' (a directory with manifest.json) or 'infini-gram' (an index written by infini-gram's indexer,
   * read in place). Default: infini-gram when the directory has tokenized* files and no manifest.json.
   * For infini-gram, a string `tokenizer` names the tokenizer of its ids for text queries ('bytes' for u8
   * indexes built without --tokenizer); without one, queries are token ids.
   */
  format?: 'traceindex' | 'infini-gram';
  /** infini-gram: 1 (u8), 2 (u16) or 4 (u32). Inferred from the files when omitted. */
  tokenWidth?: number;
  /** infini-gram: token ids are < vocabSize (default: the separator for u8/u16, the largest id + 1 for u32). */
  vocabSize?: number;
}

export async function openIndex(dir: string, options: OpenOptions = {}): Promise<Index> {
  const abs = path.resolve(dir);
  const format = options.format ?? (looksLikeInfinigram(abs) ? INFINIGRAM_FORMAT : 'traceindex');
  if (format === INFINIGRAM_FORMAT) {
    const ig = await openInfinigram(abs, {
      tokenWidth: options.tokenWidth, vocabSize: options.vocabSize,
      tokenizer: typeof options.tokenizer === 'string' ? options.tokenizer : undefined,
    });
    try {
      if (options.tokenizer && typeof options.tokenizer === 'object') checkTokenizer(ig.manifest, options.tokenizer);
    } catch (err) {
      ig.native.close();
      throw err;
    }
    return new Index(abs, ig.manifest, ig.native, ig.tokenizer, ig.shards);
  }
  if (format !== 'traceindex')
    throw new TraceIndexError('ERR_INVALID_ARGUMENT', `format must be 'traceindex' or 'infini-gram', got ${JSON.stringify(format)}`);
  const manifest = readManifest(abs);
  if (options.tokenizer && typeof options.tokenizer === 'object') checkTokenizer(manifest, options.tokenizer);
  const tokenizer = await indexTokenizer(manifest, typeof options.tokenizer === 'string' ? options.tokenizer : undefined, options.trustManifestTokenizer === true);
  checkShardFiles(abs, manifest);
  let native: NativeIndex;
  try {
    native = await addon.NativeIndex.open(manifest.shards.map((s) => ({
      dir: path.join(abs, s.dir),
      tokenWidth: manifest.tokenWidth,
      tokens: s.tokens,
      documents: s.documents,
      vocabSize: manifest.vocabSize,
    })));
  } catch (err) {
    throw nativeError(err);
  }
  return new Index(abs, manifest, native, tokenizer);
}

/**
 * The tokenizer text queries use: the one named in the manifest (built in, or, with `trustManifest`, a
 * tokenizer.json still at its recorded path), or `override`; its fingerprint must match the manifest's. An index whose tokenizer cannot
 * be loaded here still opens for token-id queries.
 */
async function indexTokenizer(m: Manifest, override: string | undefined, trustManifest: boolean): Promise<Tokenizer> {
  const name = override ?? m.tokenizer.name;
  let t: Tokenizer | null = null;
  if (name === 'bytes') t = bytesTokenizer;
  else if (tokenizerNames().includes(name) || (isTokenizerJsonPath(name) && (override !== undefined || trustManifest))) {
    try {
      t = await loadTokenizer(name);
    } catch (err) {
      if (override) throw err;
    }
  } else if (override) {
    throw new TraceIndexError('ERR_INVALID_ARGUMENT', `unknown tokenizer ${override}`);
  }
  if (t && t.fingerprint !== m.tokenizer.fingerprint)
    throw new TraceIndexError('ERR_TOKENIZER_MISMATCH',
      `the index was built with tokenizer ${m.tokenizer.name} (${m.tokenizer.fingerprint}); ${t.name} has fingerprint ${t.fingerprint}`);
  return t ?? pretokenized(m.vocabSize, m.tokenizer.name);
}

function checkTokenizer(m: Manifest, want: { name?: string; fingerprint?: string }): void {
  if ((want.name !== undefined && want.name !== m.tokenizer.name) || (want.fingerprint !== undefined && want.fingerprint !== m.tokenizer.fingerprint))
    throw new TraceIndexError('ERR_TOKENIZER_MISMATCH',
      `the index was built with tokenizer ${m.tokenizer.name} (${m.tokenizer.fingerprint}), not ${want.name ?? '?'} (${want.fingerprint ?? '?'})`);
}

export class Index {
  readonly tokenizer: Tokenizer;
  private native: NativeIndex | null;

  /** @internal use openIndex() */
  /** 'traceindex', or 'infini-gram' for an infini-gram index read in place. */
  readonly format: 'traceindex' | 'infini-gram';

  /**
   * @internal use openIndex(). For an infini-gram index, `manifest` is synthesized from its files (formatVersion
   * 0, no checksums) and `infinigram` lists each shard's files.
   */
  constructor(readonly dir: string, readonly manifest: Manifest, native: NativeIndex, tokenizer: Tokenizer,
    private readonly infinigram?: InfinigramShardFiles[]) {
    this.native = native;
    this.tokenizer = tokenizer;
    this.format = infinigram ? INFINIGRAM_FORMAT : 'traceindex';
  }

  get info(): IndexInfo {
    const m = this.manifest;
    if (this.infinigram) {
      const shards = m.shards.map((s, i) => ({
        dir: s.dir, documents: s.documents, tokens: s.tokens, pointerWidth: s.pointerWidth,
        bytes: Object.values(this.infinigram![i].files).reduce((t, b) => t + b, 0),
      }));
      const tokenAndSa = this.infinigram.reduce((t, s) => t + (s.files['tokenized' + s.suffix] ?? 0) + (s.files['table' + s.suffix] ?? 0), 0);
      return {
        dir: this.dir, format: INFINIGRAM_FORMAT, formatVersion: 0, tokenizer: m.tokenizer, tokenWidth: m.tokenWidth,
        vocabSize: m.vocabSize, documents: m.documents, tokens: m.tokens, shards,
        bytesOnDisk: shards.reduce((t, s) => t + s.bytes, 0),
        bytesPerToken: m.tokens > 0 ? tokenAndSa / m.tokens : 0,
        simd: addon.selectSimd() as string,
      };
    }
    const shards = m.shards.map((s) => ({
      dir: s.dir, documents: s.documents, tokens: s.tokens, pointerWidth: s.pointerWidth,
      bytes: SHARD_FILES.reduce((t, f) => t + s.files[f].bytes, 0),
    }));
    const tokenAndSa = m.shards.reduce((t, s) => t + s.files['tokens.bin'].bytes + s.files['sa.bin'].bytes, 0);
    return {
      dir: this.dir,
      format: 'traceindex',
      formatVersion: m.formatVersion,
      tokenizer: m.tokenizer,
      tokenWidth: m.tokenWidth,
      vocabSize: m.vocabSize,
      documents: m.documents,
      tokens: m.tokens,
      shards,
      bytesOnDisk: shards.reduce((t, s) => t + s.bytes, 0) + fs.statSync(path.join(this.dir, 'manifest.json')).size,
      bytesPerToken: m.tokens > 0 ? tokenAndSa / m.tokens : 0,
      simd: addon.selectSimd() as string,
    };
  }

  get closed(): boolean {
    return this.native === null;
  }

  /** Releases the mappings once running queries finish. Later calls throw ERR_CLOSED. Idempotent. */
  close(): void {
    this.native?.close();
    this.native = null;
  }

  // ---- count ----

  async count(query: Query, options?: CallOptions): Promise<number> {
    return (await this.countBatch([query], options))[0];
  }
  countSync(query: Query): number {
    return this.countBatchSync([query])[0];
  }
  async countBatch(queries: Query[], options?: CallOptions): Promise<Float64Array> {
    const [t, o] = this.batch(queries, false);
    return this.call((n, cancel) => n.count(t, o, cancel), options);
  }
  countBatchSync(queries: Query[]): Float64Array {
    const [t, o] = this.batch(queries, false);
    return this.callSync((n) => n.countSync(t, o));
  }

  // ---- locate ----

  async locate(query: Query, options: LocateOptions = {}): Promise<LocateResult> {
    const [t, o] = this.batch([query], false);
    const { offset, limit, context } = pageOptions(options);
    return this.occurrences(await this.call((n, cancel) => n.locate(t, o, offset, limit, context, cancel), options));
  }
  locateSync(query: Query, options: LocateOptions = {}): LocateResult {
    const [t, o] = this.batch([query], false);
    const { offset, limit, context } = pageOptions(options);
    return this.occurrences(this.callSync((n) => n.locateSync(t, o, offset, limit, context)));
  }

  // ---- longest match ----

  async longestMatch(query: Query, options?: CallOptions): Promise<LongestMatch> {
    return (await this.longestMatchBatch([query], options))[0];
  }
  longestMatchSync(query: Query): LongestMatch {
    return this.longestMatchBatchSync([query])[0];
  }
  async longestMatchBatch(queries: Query[], options?: CallOptions): Promise<LongestMatch[]> {
    const [t, o] = this.batch(queries, true);
    return this.longest(t, o, await this.call((n, cancel) => n.longestMatch(t, o, cancel), options));
  }
  longestMatchBatchSync(queries: Query[]): LongestMatch[] {
    const [t, o] = this.batch(queries, true);
    return this.longest(t, o, this.callSync((n) => n.longestMatchSync(t, o)));
  }

  // ---- next tokens (∞-gram) ----

  async nextTokens(context: Query, options?: CallOptions): Promise<NextTokens> {
    return (await this.nextTokensBatch([context], options))[0];
  }
  nextTokensSync(context: Query): NextTokens {
    return this.nextTokensBatchSync([context])[0];
  }
  async nextTokensBatch(contexts: Query[], options?: CallOptions): Promise<NextTokens[]> {
    const [t, o] = this.batch(contexts, true);
    return (await this.call((n, cancel) => n.nextTokens(t, o, cancel), options)).map(distribution);
  }
  nextTokensBatchSync(contexts: Query[]): NextTokens[] {
    const [t, o] = this.batch(contexts, true);
    return this.callSync((n) => n.nextTokensSync(t, o)).map(distribution);
  }

  // ---- documents and statistics ----

  /** A document by global number, or by id (a linear scan of the records). */
  async document(ref: number | string): Promise<DocumentInfo> {
    return this.documentSync(ref);
  }
  documentSync(ref: number | string): DocumentInfo {
    const native = this.open();
    let n: number;
    if (typeof ref === 'string') {
      n = native.findDocument(JSON.stringify({ id: ref }).slice(0, -1));
      if (n < 0) throw new TraceIndexError('ERR_INVALID_ARGUMENT', `no document with id ${JSON.stringify(ref)}`);
    } else {
      n = ref;
    }
    const d = this.callSync((x) => x.document(n));
    const rec = parseRecord(d.record);
    return { document: n, id: rec.id, metadata: rec.meta, tokens: d.tokens, text: this.tokenizer.readsText ? this.tokenizer.decode(d.tokens) : undefined };
  }

  /** Exact count of every token id over all documents (length vocabSize). */
  unigramCounts(): Float64Array {
    return this.callSync((n) => n.unigram());
  }

  /**
   * Re-checks every file's checksum, then content and suffix order of every shard. Resolves with what was checked.
   * An infini-gram index has no checksums: its content and suffix order (in its byte order) are checked.
   */
  async verify(options: { signal?: AbortSignal } = {}): Promise<{ files: number; bytes: number; shards: number }> {
    const native = this.open();
    const cancel = cancelFlag(options.signal);
    try {
      let files = 0;
      let bytes = 0;
      if (this.infinigram) {
        // No checksums in infini-gram's format: the content and byte-order suffix checks are the whole check.
        await native.verify(cancel.flag);
        for (const s of this.infinigram) for (const b of Object.values(s.files)) { files++; bytes += b; }
        return { files, bytes, shards: this.infinigram.length };
      }
      for (const s of this.manifest.shards) {
        for (const f of SHARD_FILES) {
          const file = path.join(this.dir, s.dir, f);
          const sum = await addon.checksumFile(file, cancel.flag);
          if (sum !== s.files[f].xxh64)
            throw new TraceIndexError('ERR_INDEX_CORRUPT', `${file}: checksum ${sum} differs from the manifest's ${s.files[f].xxh64}`);
          files++;
          bytes += s.files[f].bytes;
        }
      }
      await native.verify(cancel.flag);
      return { files, bytes, shards: this.manifest.shards.length };
    } catch (err) {
      throw nativeError(err);
    } finally {
      cancel.dispose();
    }
  }

  // ---- internals ----

  private open(): NativeIndex {
    if (!this.native) throw new TraceIndexError('ERR_CLOSED', 'the index is closed');
    return this.native;
  }

  /**
   * @internal Runs an async native call; with a signal or timeoutMs, passes a cancel flag the native side
   * polls, and rejects with ERR_ABORTED or ERR_TIMEOUT when it fires.
   */
  async call<T>(fn: (n: NativeIndex, cancel?: Uint8Array) => Promise<T>, options?: CallOptions): Promise<T> {
    const native = this.open();
    const { signal, timeoutMs } = options ?? {};
    if (signal === undefined && timeoutMs === undefined) {
      try {
        return await fn(native);
      } catch (err) {
        throw nativeError(err);
      }
    }
    if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs >= 0))
      throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'timeoutMs must be a non-negative number');
    if (signal?.aborted) throw abortError(signal);
    const c = cancelFlag(signal);
    let timedOut = false;
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => { timedOut = true; c.flag[0] = 1; }, timeoutMs);
    try {
      return await fn(native, c.flag);
    } catch (err) {
      if (timedOut && (err as { code?: string }).code === 'ERR_ABORTED')
        throw new TraceIndexError('ERR_TIMEOUT', `the query took longer than timeoutMs (${timeoutMs} ms)`);
      throw nativeError(err);
    } finally {
      clearTimeout(timer);
      c.dispose();
    }
  }

  /** @internal */
  callSync<T>(fn: (n: NativeIndex) => T): T {
    const native = this.open();
    try {
      return fn(native);
    } catch (err) {
      throw nativeError(err);
    }
  }

  /** Token ids of a query, checked: integers in the vocabulary, not empty unless allowed, not huge. */
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
      ids = new Uint32Array(query.length);
      for (let i = 0; i < query.length; i++) {
        const v = query[i];
        if (!Number.isInteger(v) || v < 0 || v >= this.manifest.vocabSize)
          throw new TraceIndexError('ERR_TOKEN_RANGE', `query token ${v} at position ${i} is not a token id of this index (vocabulary size ${this.manifest.vocabSize})`);
        ids[i] = v;
      }
    } else {
      throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'a query is a string or an array of token ids');
    }
    if (ids.length > MAX_QUERY_TOKENS)
      throw new TraceIndexError('ERR_INVALID_ARGUMENT', `query of ${ids.length} tokens is longer than the limit (${MAX_QUERY_TOKENS})`);
    return ids;
  }

  /** @internal Queries as one token array plus offsets. */
  batch(queries: Query[], allowEmpty: boolean): [Uint32Array, Uint32Array] {
    if (!Array.isArray(queries)) throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'a batch is an array of queries');
    const parts = queries.map((q) => this.tokenize(q));
    const offsets = new Uint32Array(parts.length + 1);
    let total = 0;
    parts.forEach((p, i) => {
      if (p.length === 0 && !allowEmpty) throw new TraceIndexError('ERR_INVALID_ARGUMENT', `query ${i} is empty`);
      total += p.length;
      if (total > 2 ** 32 - 1) throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'batch too large: split it');
      offsets[i + 1] = total;
    });
    const tokens = new Uint32Array(total);
    parts.forEach((p, i) => tokens.set(p, offsets[i]));
    return [tokens, offsets];
  }

  private occurrences(r: NativeLocate): LocateResult {
    return { total: r.total, occurrences: this.occurrenceList(r, 0, r.documents.length) };
  }

  /** @internal Occurrences [from, to) of a native block as objects. */
  occurrenceList(r: NativeOccurrences, from: number, to: number): Occurrence[] {
    const out: Occurrence[] = [];
    for (let i = from; i < to; i++) {
      const rec = parseRecord(r.records[i]);
      const snippetTokens = r.snippetTokens.slice(r.snippetOffsets[i], r.snippetOffsets[i + 1]);
      const token = r.offsets[i];
      const occ: Occurrence = {
        document: r.documents[i], id: rec.id, metadata: rec.meta, position: { token }, shard: r.shards[i],
        snippet: { tokens: snippetTokens, start: r.snippetStarts[i] },
      };
      if (this.tokenizer.readsText) {
        occ.position.byte = this.tokenizer === bytesTokenizer ? token : this.tokenizer.byteLength(this.documentSync(occ.document).tokens.subarray(0, token));
        occ.snippet.text = trimBrokenEdges(this.tokenizer.decode(snippetTokens));
      }
      out.push(occ);
    }
    return out;
  }

  private longest(t: Uint32Array, o: Uint32Array, r: { lengths: Uint32Array; counts: Float64Array }): LongestMatch[] {
    const out: LongestMatch[] = [];
    for (let i = 0; i < r.lengths.length; i++) {
      const m: LongestMatch = { length: r.lengths[i], count: r.counts[i] };
      if (this.tokenizer.readsText) m.text = this.tokenizer.decode(t.subarray(o[i], o[i] + r.lengths[i]));
      out.push(m);
    }
    return out;
  }
}

function pageOptions(o: LocateOptions): { offset: number; limit: number; context: number } {
  const offset = o.offset ?? 0;
  const limit = o.limit ?? 10;
  const context = o.context ?? 16;
  for (const [k, v] of Object.entries({ offset, limit, context }))
    if (!Number.isSafeInteger(v) || v < 0) throw new TraceIndexError('ERR_INVALID_ARGUMENT', `${k} must be a non-negative integer`);
  return { offset, limit, context };
}

function distribution(n: NativeNext): NextTokens {
  const order = Array.from(n.tokens.keys()).sort((a, b) => n.counts[b] - n.counts[a] || n.tokens[a] - n.tokens[b]);
  return {
    suffixLength: n.suffixLength,
    total: n.total,
    approximate: false,
    tokens: Uint32Array.from(order, (i) => n.tokens[i]),
    counts: Float64Array.from(order, (i) => n.counts[i]),
  };
}

function parseRecord(json: string): { id: string; meta: Record<string, unknown> | undefined } {
  try {
    const r = JSON.parse(json);
    return { id: r.id, meta: r.meta };
  } catch {
    throw new TraceIndexError('ERR_INDEX_CORRUPT', 'a document record in meta.bin is not valid JSON');
  }
}

/** Snippets cut through multi-byte characters at their edges; drop the replacement characters that leaves. */
function trimBrokenEdges(text: string): string {
  return text.replace(/^\uFFFD+/, '').replace(/\uFFFD+$/, '');
}
