/**
 * openIndex / Index: an index directory opened read-only, queried exactly. Queries are text (tokenized with
 * the index's tokenizer) or token ids.
 *
 * One rule for every query: `x` runs off the JS thread and returns a Promise, `xSync` runs on it (for tight
 * loops), `xBatch` / `xBatchSync` answer many queries in one native round trip (about 20 µs each), which is
 * how to go fast. Every method but `close` takes CallOptions (signal, timeoutMs) last. Closing while queries
 * run is safe: they finish on the mappings they hold.
 *
 * The provenance methods (trace, shield, scores, ...) are added by lib/provenance/index-methods.ts; the
 * machinery (native handle, batching, cancellation) lives in ./core.ts, off this type.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TraceIndexError } from '../errors';
import { checkShardFiles, looksLikeInfinigram, Manifest, readManifest, SAMPLES_FILE, shardFiles } from '../build/manifest';
import { addon, NativeIndex, NativeNext, nativeError } from '../native';
import { bytesTokenizer, pretokenized, Tokenizer } from '../tokenizers/tokenizer';
import { isTokenizerJsonPath, loadTokenizer, tokenizerNames } from '../tokenizers/named';
import { nonNegativeInteger, oneOf, plainObject } from '../validate';
import { attachCore, coreOf, type DocumentBound, IndexCore, MAX_SNIPPET_BUDGET, snippetBudget, withCost } from './core';
import { INFINIGRAM_FORMAT, openInfinigram } from './infinigram';
import { JsonFloat64Array, jsonArray, JsonUint32Array } from './json-arrays';
import { countForms, FormsPage, LocateFetch, locateSteps, queryForms } from './word-start';
import type {
  CallOptions, CountOptions, DocumentInfo, DocumentOptions, IndexInfo, LocateOptions, LocateResult, LongestMatch, NextTokens, Occurrence,
  OpenOptions, Query, VerifyOptions, VerifyResult,
} from './types';

export { MAX_QUERY_TOKENS } from './core';
export type {
  CallOptions, CountOptions, DocumentInfo, DocumentOptions, IndexInfo, LocateOptions, LocateResult, LongestMatch, NextTokens, Occurrence,
  OpenOptions, Query, VerifyOptions, VerifyResult,
} from './types';

/** The largest `limit` of a locate page (ERR_INVALID_ARGUMENT above): page through more with `offset`. */
export const MAX_LOCATE_LIMIT = 10_000;

/** Tokens of snippet context on each side of an occurrence: at most 2^32 − 1. */
const MAX_CONTEXT = 2 ** 32 - 1;

/**
 * Opens an index directory read-only: checks the manifest, file sizes and every file header (not the
 * checksums: `verify` does that), maps the files, and loads the tokenizer text queries use.
 *
 * Errors: ERR_INDEX_NOT_FOUND (no index in `dir`), ERR_INDEX_VERSION, ERR_INDEX_CORRUPT, ERR_IO,
 * ERR_TOKENIZER_MISMATCH (`options.tokenizer` is not the index's), ERR_INVALID_ARGUMENT (a malformed option).
 */
export async function openIndex(dir: string, options: OpenOptions = {}): Promise<Index> {
  const o = plainObject('options', options);
  const check = oneOf('verify', o.verify, ['none', 'quick', 'full'] as const, 'none');
  const index = await openUnchecked(dir, o);
  if (check === 'none') return index;
  try {
    await index.verify({ quick: check === 'quick' });
  } catch (err) {
    index.close();
    throw err;
  }
  return index;
}

async function openUnchecked(dir: string, o: OpenOptions): Promise<Index> {
  const abs = path.resolve(dir);
  const format = oneOf('format', o.format, ['traceindex', INFINIGRAM_FORMAT] as const, looksLikeInfinigram(abs) ? INFINIGRAM_FORMAT : 'traceindex');
  if (format === INFINIGRAM_FORMAT) {
    const ig = await openInfinigram(abs, {
      tokenWidth: o.tokenWidth, vocabSize: o.vocabSize,
      tokenizer: typeof o.tokenizer === 'string' ? o.tokenizer : undefined,
    });
    try {
      if (o.tokenizer && typeof o.tokenizer === 'object') checkTokenizer(ig.manifest, o.tokenizer);
    } catch (err) {
      ig.native.close();
      throw err;
    }
    return newIndex(new IndexCore(abs, ig.manifest, ig.native, ig.tokenizer, ig.shards));
  }
  const manifest = readManifest(abs);
  if (o.tokenizer && typeof o.tokenizer === 'object') checkTokenizer(manifest, o.tokenizer);
  const trust = o.trustManifestTokenizer === undefined ? false : oneOf('trustManifestTokenizer', o.trustManifestTokenizer, [true, false] as const);
  const tokenizer = await indexTokenizer(manifest, typeof o.tokenizer === 'string' ? o.tokenizer : undefined, trust);
  checkShardFiles(abs, manifest);
  let native: NativeIndex;
  try {
    native = await addon.NativeIndex.open(manifest.shards.map((s) => ({
      dir: path.join(abs, s.dir),
      tokenWidth: manifest.tokenWidth,
      tokens: s.tokens,
      documents: s.documents,
      vocabSize: manifest.vocabSize,
      samples: s.files[SAMPLES_FILE] !== undefined,
    })));
  } catch (err) {
    throw nativeError(err);
  }
  return newIndex(new IndexCore(abs, manifest, native, tokenizer));
}

/**
 * The tokenizer text queries use: the one named in the manifest (built in, or, with `trustManifest`, a
 * tokenizer.json still at its recorded path), or `override`; its fingerprint must match the manifest's. An
 * index whose tokenizer cannot be loaded here still opens for token-id queries.
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

let newIndex: (core: IndexCore) => Index;

/**
 * Symbol.dispose and Symbol.asyncDispose, looked up as Node does where the engine lacks them (Node 18.18+
 * and 20 define them as these registered symbols), so `using` works on every supported Node.
 */
const DISPOSE: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('nodejs.dispose');
const ASYNC_DISPOSE: symbol = (Symbol as { asyncDispose?: symbol }).asyncDispose ?? Symbol.for('nodejs.asyncDispose');

/** `using index = await openIndex(dir)` closes the index at the end of the scope (`await using` too). */
export interface Index {
  /** close(). */
  [Symbol.dispose](): void;
  /** close(), as a promise. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * An opened index (from openIndex). Every method but `close` takes CallOptions last and, before any work,
 * refuses with ERR_CLOSED after close(), ERR_ABORTED if the signal has fired, ERR_TIMEOUT if timeoutMs is 0.
 * Async methods reject (they never throw synchronously); Sync methods throw.
 */
export class Index {
  /** Absolute path of the index directory. */
  readonly dir: string;
  /** The manifest (docs/FORMAT.md); for an infini-gram index, one synthesized from its files (formatVersion 0). */
  readonly manifest: Manifest;
  /** The tokenizer text queries use. */
  readonly tokenizer: Tokenizer;
  /** 'traceindex', or 'infini-gram' for an infini-gram index read in place. */
  readonly format: 'traceindex' | 'infini-gram';

  /** Use openIndex(). */
  private constructor(core: IndexCore) {
    attachCore(this, core);
    this.dir = core.dir;
    this.manifest = core.manifest;
    this.tokenizer = core.tokenizer;
    this.format = core.infinigram ? INFINIGRAM_FORMAT : 'traceindex';
  }

  static {
    newIndex = (core) => new Index(core);
    // Installed like class methods (non-enumerable), under the symbols this Node has.
    Object.defineProperty(Index.prototype, DISPOSE, { value: function dispose(this: Index) { this.close(); }, writable: true, configurable: true });
    Object.defineProperty(Index.prototype, ASYNC_DISPOSE, { value: async function asyncDispose(this: Index) { this.close(); }, writable: true, configurable: true });
  }

  /** What the index is: format, tokenizer, sizes, shards, bytes on disk. Readable after close(). */
  get info(): IndexInfo {
    const core = coreOf(this);
    const m = core.manifest;
    const ig = core.infinigram;
    if (ig) {
      const shards = m.shards.map((s, i) => ({
        dir: s.dir, documents: s.documents, tokens: s.tokens, pointerWidth: s.pointerWidth,
        bytes: Object.values(ig[i].files).reduce((t, b) => t + b, 0),
      }));
      const tokenAndSa = ig.reduce((t, s) => t + (s.files['tokenized' + s.suffix] ?? 0) + (s.files['table' + s.suffix] ?? 0), 0);
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
      bytes: shardFiles(s).reduce((t, f) => t + s.files[f]!.bytes, 0),
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

  /** Whether close() was called. */
  get closed(): boolean {
    return coreOf(this).closed;
  }

  /** Releases the mappings once running queries finish. Later calls throw ERR_CLOSED. Idempotent. */
  close(): void {
    coreOf(this).close();
  }

  // ---- count ----

  /**
   * Occurrences of the query in the corpus (exact). With `wordStart`, a text query counted as a word inside
   * running text (see CountOptions: BPE tokenizers merge the space before a word into its token). Errors:
   * see Query and CallOptions; an empty query is ERR_INVALID_ARGUMENT.
   */
  async count(query: Query, options?: CountOptions): Promise<number> {
    return (await this.countBatch([query], options))[0];
  }
  /** count, on the calling thread. */
  countSync(query: Query, options?: CountOptions): number {
    return this.countBatchSync([query], options)[0];
  }
  /** count of each query, in one native call. */
  async countBatch(queries: Query[], options?: CountOptions): Promise<Float64Array> {
    const core = coreOf(this);
    const call = core.begin(options);
    const { forms, sum } = countForms(core, queries, wordStartOf(options));
    const [t, o] = core.batch(forms, false);
    return jsonArray(sum(await call.run((n, cancel) => n.count(t, o, cancel))));
  }
  /** countBatch, on the calling thread. */
  countBatchSync(queries: Query[], options?: CountOptions): Float64Array {
    const core = coreOf(this);
    const call = core.begin(options);
    const { forms, sum } = countForms(core, queries, wordStartOf(options));
    const [t, o] = core.batch(forms, false);
    return jsonArray(sum(call.runSync((n) => n.countSync(t, o))));
  }

  // ---- locate ----

  /**
   * A page of the query's occurrences, in (document, position) order, with snippets, and the total count.
   * With `wordStart`, the occurrences of both forms of the text (see CountOptions), merged in that order.
   * Errors: ERR_INVALID_ARGUMENT for a limit above MAX_LOCATE_LIMIT or a negative/non-integer page option.
   */
  async locate(query: Query, options: LocateOptions = {}): Promise<LocateResult> {
    const core = coreOf(this);
    const call = core.begin(options);
    const forms = queryForms(core, query, wordStartOf(options)).map((f) => core.batch([f], false));
    const steps = locateSteps(forms.length, pageOptions(options), snippetBudget(options) ?? MAX_SNIPPET_BUDGET);
    core.prepareByteOffsets();
    return call.run(async (n, cancel) => {
      const fetch = (f: LocateFetch) => n.locate(forms[f.form][0], forms[f.form][1], f.offset, f.limit, f.context, f.maxTokens, f.page, cancel);
      for (let s = steps.next(); ;) {
        if (s.done) return occurrences(core, n, s.value);
        s = steps.next(await fetch(s.value));
      }
    });
  }
  /** locate, on the calling thread. */
  locateSync(query: Query, options: LocateOptions = {}): LocateResult {
    const core = coreOf(this);
    const call = core.begin(options);
    const forms = queryForms(core, query, wordStartOf(options)).map((f) => core.batch([f], false));
    const steps = locateSteps(forms.length, pageOptions(options), snippetBudget(options) ?? MAX_SNIPPET_BUDGET);
    core.prepareByteOffsets();
    return call.runSync((n) => {
      const fetch = (f: LocateFetch) => n.locateSync(forms[f.form][0], forms[f.form][1], f.offset, f.limit, f.context, f.maxTokens, f.page);
      for (let s = steps.next(); ;) {
        if (s.done) return occurrences(core, n, s.value);
        s = steps.next(fetch(s.value));
      }
    });
  }

  // ---- longest match ----

  /** The query's longest prefix that occurs in the corpus, and its count. An empty query matches 0 tokens. */
  async longestMatch(query: Query, options?: CallOptions): Promise<LongestMatch> {
    return (await this.longestMatchBatch([query], options))[0];
  }
  /** longestMatch, on the calling thread. */
  longestMatchSync(query: Query, options?: CallOptions): LongestMatch {
    return this.longestMatchBatchSync([query], options)[0];
  }
  /** longestMatch of each query, in one native call. */
  async longestMatchBatch(queries: Query[], options?: CallOptions): Promise<LongestMatch[]> {
    const core = coreOf(this);
    const call = core.begin(options);
    const [t, o] = core.batch(queries, true);
    return longest(core, t, o, await call.run((n, cancel) => n.longestMatch(t, o, cancel)));
  }
  /** longestMatchBatch, on the calling thread. */
  longestMatchBatchSync(queries: Query[], options?: CallOptions): LongestMatch[] {
    const core = coreOf(this);
    const call = core.begin(options);
    const [t, o] = core.batch(queries, true);
    return longest(core, t, o, call.runSync((n) => n.longestMatchSync(t, o)));
  }

  // ---- next tokens (∞-gram) ----

  /**
   * The ∞-gram next-token distribution after `context`: the counts of every token that follows the longest
   * suffix of the context occurring followed by a token. Exact.
   */
  async nextTokens(context: Query, options?: CallOptions): Promise<NextTokens> {
    return (await this.nextTokensBatch([context], options))[0];
  }
  /** nextTokens, on the calling thread. */
  nextTokensSync(context: Query, options?: CallOptions): NextTokens {
    return this.nextTokensBatchSync([context], options)[0];
  }
  /** nextTokens of each context, in one native call. */
  async nextTokensBatch(contexts: Query[], options?: CallOptions): Promise<NextTokens[]> {
    const core = coreOf(this);
    const call = core.begin(options);
    const [t, o] = core.batch(contexts, true);
    return (await call.run((n, cancel) => n.nextTokens(t, o, cancel))).map(distribution);
  }
  /** nextTokensBatch, on the calling thread. */
  nextTokensBatchSync(contexts: Query[], options?: CallOptions): NextTokens[] {
    const core = coreOf(this);
    const call = core.begin(options);
    const [t, o] = core.batch(contexts, true);
    return call.runSync((n) => n.nextTokensSync(t, o)).map(distribution);
  }

  // ---- documents and statistics ----

  /**
   * A document by global number (0-based, in build order), or by id (a linear scan of the records).
   * Errors: ERR_INVALID_ARGUMENT for a number out of range or an id no document has; ERR_TOO_LARGE for a document
   * longer than `options.maxTokens`.
   */
  async document(ref: number | string, options?: DocumentOptions): Promise<DocumentInfo> {
    const core = coreOf(this);
    const call = core.begin(options);
    const r = core.documentRef(ref);
    const bound = documentBound(options);
    return call.run((n, cancel) => core.document(n, r, bound, cancel));
  }
  /** document, on the calling thread. */
  documentSync(ref: number | string, options?: DocumentOptions): DocumentInfo {
    const core = coreOf(this);
    const call = core.begin(options);
    const r = core.documentRef(ref);
    const bound = documentBound(options);
    return call.runSync((n) => core.documentSync(n, r, bound));
  }

  /** Exact count of every token id over all documents (a Float64Array of length vocabSize). */
  unigramCounts(options?: CallOptions): Float64Array {
    return jsonArray(coreOf(this).begin(options).runSync((n) => n.unigram()));
  }

  /**
   * Re-checks every file's checksum, then content and suffix order of every shard; with `quick`, only the
   * structure, offsets, unigram sums and sampled suffix order (no checksums). Resolves with what was checked.
   * An infini-gram index has no checksums: its content and suffix order (in its byte order) are checked.
   * Errors: ERR_INDEX_CORRUPT naming the file; ERR_ABORTED / ERR_TIMEOUT (a full verify takes a while).
   */
  async verify(options?: VerifyOptions): Promise<VerifyResult> {
    const core = coreOf(this);
    const call = core.begin(options);
    const quick = options?.quick === undefined ? false : oneOf('quick', options.quick, [true, false] as const);
    return call.run(async (native, cancel = new Uint8Array(1)) => {
      let files = 0;
      let bytes = 0;
      if (core.infinigram) {
        // No checksums in infini-gram's format: the content and byte-order suffix checks are the whole check.
        await native.verify(cancel, quick);
        for (const s of core.infinigram) for (const b of Object.values(s.files)) { bytes += b; if (!quick) files++; }
        return { files, bytes, shards: core.infinigram.length, quick };
      }
      for (const s of core.manifest.shards) {
        for (const f of shardFiles(s)) {
          const entry = s.files[f]!;
          bytes += entry.bytes;
          if (quick) continue;
          const file = path.join(core.dir, s.dir, f);
          const sum = await addon.checksumFile(file, cancel);
          if (sum !== entry.xxh64)
            throw new TraceIndexError('ERR_INDEX_CORRUPT', `${file}: checksum ${sum} differs from the manifest's ${entry.xxh64}`);
          files++;
        }
      }
      await native.verify(cancel, quick);
      return { files, bytes, shards: core.manifest.shards.length, quick };
    });
  }
}

function pageOptions(o: LocateOptions): { offset: number; limit: number; context: number } {
  return {
    offset: nonNegativeInteger('offset', o.offset, { default: 0 }),
    limit: nonNegativeInteger('limit', o.limit, { default: 10, max: MAX_LOCATE_LIMIT }),
    context: nonNegativeInteger('context', o.context, { default: 16, max: MAX_CONTEXT }),
  };
}

/** maxTokens; under a SNIPPET_BUDGET (the server's) also that budget, with the record counted in it. */
function documentBound(o: DocumentOptions | undefined): DocumentBound {
  const maxTokens = nonNegativeInteger('maxTokens', o?.maxTokens, { default: Number.MAX_SAFE_INTEGER });
  const budget = snippetBudget(o);
  return budget === undefined ? { maxTokens, countRecords: false } : { maxTokens: Math.min(maxTokens, budget), countRecords: true };
}

function wordStartOf(options: CountOptions | undefined): boolean {
  return oneOf('wordStart', options?.wordStart, [true, false], false);
}

/** The page as objects: each form's part, merged in (document, position) order. */
function occurrences(core: IndexCore, native: NativeIndex, r: FormsPage): LocateResult {
  const [a, b = []] = r.pages.map((p, f) => core.occurrenceList(native, p, 0, r.take[f]));
  const merged: Occurrence[] = [];
  let j = 0;
  for (const x of a) {
    while (j < b.length && (b[j].document < x.document || (b[j].document === x.document && b[j].position.token < x.position.token))) merged.push(b[j++]);
    merged.push(x);
  }
  while (j < b.length) merged.push(b[j++]);
  return withCost<LocateResult>({ total: r.total, occurrences: merged }, r.pages.reduce((n, p) => n + p.cost, 0));
}

function longest(core: IndexCore, t: Uint32Array, o: Uint32Array, r: { lengths: Uint32Array; counts: Float64Array }): LongestMatch[] {
  const out: LongestMatch[] = [];
  for (let i = 0; i < r.lengths.length; i++) {
    const m: LongestMatch = { length: r.lengths[i], count: r.counts[i] };
    if (core.tokenizer.readsText) m.text = core.tokenizer.decode(t.subarray(o[i], o[i] + r.lengths[i]));
    out.push(m);
  }
  return out;
}

function distribution(n: NativeNext): NextTokens {
  const order = Array.from(n.tokens.keys()).sort((a, b) => n.counts[b] - n.counts[a] || n.tokens[a] - n.tokens[b]);
  return {
    suffixLength: n.suffixLength,
    total: n.total,
    approximate: false,
    tokens: JsonUint32Array.from(order, (i) => n.tokens[i]),
    counts: JsonFloat64Array.from(order, (i) => n.counts[i]),
  };
}
