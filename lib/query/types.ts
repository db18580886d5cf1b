/** The public types of the query surface: what Index's query methods take and return. */

/**
 * A query: text (tokenized with the index's tokenizer), or token ids of the index's vocabulary, optionally
 * stamped with the fingerprint of the tokenizer that made them (refused with ERR_TOKENIZER_MISMATCH if it is
 * not the index's). Ids outside the vocabulary are ERR_TOKEN_RANGE; text on an index without a text
 * tokenizer, or more than MAX_QUERY_TOKENS tokens, is ERR_INVALID_ARGUMENT.
 *
 * Text is tokenized exactly as given. BPE tokenizers (cl100k_base, o200k_base, llama-3) merge the space
 * before a word into the word's token, so `'the quick brown fox'` matches only where the phrase starts a
 * text (or follows a newline), and `' the quick brown fox'` only where a space precedes it: see `wordStart`.
 */
export type Query = string | ArrayLike<number> | { tokens: ArrayLike<number>; fingerprint: string };

/**
 * Options every Index method but `close` takes, checked before any work starts.
 *
 * Errors: ERR_INVALID_ARGUMENT for a malformed option; ERR_CLOSED after `close()`; ERR_ABORTED if `signal`
 * has fired; ERR_TIMEOUT if `timeoutMs` is 0.
 */
export interface CallOptions {
  /**
   * Aborts the call: ERR_ABORTED. Async calls stop within about a millisecond of the abort (the core polls
   * it); Sync calls check it once, before they start. Default: none.
   */
  signal?: AbortSignal;
  /**
   * Time limit in milliseconds, in [0, 2^31 − 1]: an async call still running after it stops with
   * ERR_TIMEOUT; 0 times out at once, deterministically. Sync calls cannot be interrupted: they only refuse
   * to start when it is 0. Default: no limit.
   */
  timeoutMs?: number;
}

/** Options of `document`. */
export interface DocumentOptions extends CallOptions {
  /**
   * The most tokens the document may hold: a longer one is refused with ERR_TOO_LARGE before any of it is read
   * (a service's bound on what one request makes the process hold). Default: no limit.
   */
  maxTokens?: number;
}

/** Options of `verify`. */
export interface VerifyOptions extends CallOptions {
  /**
   * true: a check cheap enough for every open — the structure, every document and record offset, the unigram
   * sums and the suffix order at 4096 sampled places per shard — without the checksums (which read every
   * byte). Default false: every file's checksum, then every token and every suffix.
   */
  quick?: boolean;
}

/** What `verify` checked. */
export interface VerifyResult {
  /** Files whose checksum was checked (0 with `quick`). */
  files: number;
  bytes: number;
  shards: number;
  quick: boolean;
}

/** Options of `count` and `countBatch`. */
export interface CountOptions extends CallOptions {
  /**
   * Count a text query as a word inside running text: the occurrences of its tokens plus those of the
   * tokens of `' ' + query`, unless these end with the query's own tokens (then the space is a token of its
   * own, and every such occurrence is already one of the query's: counting it again would count the same
   * text twice). The two sets never share a position, so the sum counts each place once. Default false.
   *
   * What it means per tokenizer: with BPE tokenizers that merge a leading space into the word (cl100k_base,
   * o200k_base, llama-3) it adds the occurrences after a space to those at a text start or after a newline;
   * with `bytes` the spaced form ends with the query's bytes, so it is the plain count (every occurrence
   * already counts, wherever it is); with llama-2, whose SentencePiece encoding marks every query as a word
   * start (`▁`), the spaced form ends with the query's tokens too: the plain count; with a tokenizer.json,
   * the same rule, as its pre-tokenizer decides. A word glued to punctuation the tokenizer merges with it
   * (cl100k_base: `(the`) is counted by neither form.
   *
   * A boolean named for what is counted (the query starting a word) rather than a `leadingSpace` mode:
   * the caller asks a question about text, and which token forms answer it is the tokenizer's business.
   * Text queries only: token ids with wordStart are ERR_INVALID_ARGUMENT.
   */
  wordStart?: boolean;
}

/** What an index is: `index.info`. */
export interface IndexInfo {
  /** Absolute path of the index directory. */
  dir: string;
  /** 'traceindex', or 'infini-gram' for an infini-gram index read in place (formatVersion 0). */
  format: 'traceindex' | 'infini-gram';
  formatVersion: number;
  /** The tokenizer the index was built with, and the fingerprint of its vocabulary. */
  tokenizer: { name: string; fingerprint: string };
  /** Bytes per token id on disk: 1, 2 or 4. */
  tokenWidth: number;
  /** Token ids are < vocabSize. */
  vocabSize: number;
  documents: number;
  /** Document tokens (separators excluded). */
  tokens: number;
  /** Per shard: its directory, documents, tokens, suffix-array pointer width (bytes) and bytes on disk. */
  shards: Array<{ dir: string; documents: number; tokens: number; pointerWidth: number; bytes: number }>;
  /** Bytes of every index file (and the manifest). */
  bytesOnDisk: number;
  /** Bytes of token and suffix-array files per document token. */
  bytesPerToken: number;
  /** The token-matching kernel searches use: 'avx2', 'sse4.2' or 'scalar'. */
  simd: string;
}

/** One occurrence of a query (or span) in the corpus. */
export interface Occurrence {
  /** Global document number (0-based, in build order). */
  document: number;
  /** The document's id (its input's id field, file:line, or path). */
  id: string;
  /** The document's other input fields, if any were kept. */
  metadata: Record<string, unknown> | undefined;
  /** Where the match starts in the document: token offset, and UTF-8 byte offset for text tokenizers. */
  position: { token: number; byte?: number };
  /** The shard holding the document. */
  shard: number;
  /** The match with `context` tokens on each side (`text` for text tokenizers, edges trimmed to whole characters). */
  snippet: { tokens: Uint32Array; text?: string; /** token offset of the snippet in the document */ start: number };
}

/** Options of `locate`: a page of occurrences. */
export interface LocateOptions extends CountOptions {
  /** Occurrences in the page, at most MAX_LOCATE_LIMIT (10 000); default 10. */
  limit?: number;
  /**
   * Occurrences to skip; occurrences come in (document, position) order. With `wordStart`, the two forms'
   * occurrences are merged in that order and the page is taken from the merged list. Default 0.
   */
  offset?: number;
  /** Tokens of context on each side of a match in the snippet, at most 2^32 − 1; default 16. */
  context?: number;
}

/** A page of occurrences. */
export interface LocateResult {
  /** All occurrences of the query (the page holds [offset, offset + limit) of them). */
  total: number;
  /** The page, in (document, position) order. */
  occurrences: Occurrence[];
}

/** The longest prefix of a query that occurs in the corpus. */
export interface LongestMatch {
  /** Tokens of the query's longest occurring prefix. */
  length: number;
  /** Occurrences of that prefix (all document tokens when length is 0). */
  count: number;
  /** The prefix as text (text tokenizers). */
  text?: string;
}

/** The ∞-gram next-token distribution after a context. */
export interface NextTokens {
  /** Tokens of the longest suffix of the context that occurs followed by a token (the ∞-gram context). */
  suffixLength: number;
  /** Occurrences of that suffix followed by a token: the sum of `counts`. */
  total: number;
  /** Always false: distributions are exact at any support (see README). */
  approximate: false;
  /** Next-token ids, by count descending then id. */
  tokens: Uint32Array;
  /** counts[i]: occurrences of the suffix followed by tokens[i]. */
  counts: Float64Array;
}

/** One document of the corpus. */
export interface DocumentInfo {
  /** Global document number (0-based, in build order). */
  document: number;
  id: string;
  metadata: Record<string, unknown> | undefined;
  tokens: Uint32Array;
  /** The document's text (text tokenizers). */
  text?: string;
}

/** Options of `openIndex`. */
export interface OpenOptions {
  /**
   * Refuse to open unless the index was built with this tokenizer (ERR_TOKENIZER_MISMATCH). A string loads
   * that tokenizer (a name, or a tokenizer.json path when the one recorded at build time lives elsewhere
   * here) and requires its fingerprint to match. Default: the tokenizer recorded in the index.
   */
  tokenizer?: string | { name?: string; fingerprint?: string };
  /**
   * Load the tokenizer.json file whose path the manifest records (default false: an index directory is not
   * trusted to name files to read; without this or a `tokenizer` path, such an index answers token-id
   * queries only).
   */
  trustManifestTokenizer?: boolean;
  /**
   * Verify before returning: 'quick' (cheap, see VerifyOptions.quick) or 'full' (`verify()`); a damaged index
   * is then refused with ERR_INDEX_CORRUPT instead of answering. Default 'none': open checks the manifest, the
   * sizes and every header only.
   */
  verify?: 'none' | 'quick' | 'full';
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
