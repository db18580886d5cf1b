/**
 * Real tokenizers, loaded on demand from npm packages that ship their vocabularies (nothing is downloaded):
 *
 * | spec            | package                    | vocabSize | width |
 * |-----------------|----------------------------|-----------|-------|
 * | `bytes`         | (built in, lib/tokenizer)  | 255       | u8    |
 * | `cl100k_base`   | js-tiktoken (ranks)        | 100 277   | u32   |
 * | `o200k_base`    | js-tiktoken (ranks)        | 200 019   | u32   |
 * | `llama-2`       | llama-tokenizer-js         | 32 000    | u16   |
 * | `llama-3`       | llama3-tokenizer-js        | 128 256   | u32   |
 * | `…tokenizer.json` | @huggingface/tokenizers  | from file | from vocabSize |
 *
 * Documents are plain text: `encode` never adds BOS/EOS (the index puts a separator after every document)
 * and, for tiktoken and Llama-3, text that looks like a special token (`<|endoftext|>`) is encoded as ordinary
 * text, as tiktoken's `encode_ordinary` and Meta's reference Llama-3 tokenizer (disallowed_special=()) do.
 * For a tokenizer.json, added tokens are matched in the text as Hugging Face `tokenizers` does by default.
 *
 * `byteLength(tokens)` is the UTF-8 length that `tokens` contribute to the decoded text, summed token by
 * token from the vocabulary (exact even when a prefix ends inside a multi-byte character), except for a
 * tokenizer.json whose decoder is not ByteLevel, where it is the byte length of the decoded prefix (byte-fallback
 * tokens of a character the prefix does not finish counted as their bytes, not as the U+FFFD they decode to).
 *
 * The built-in tokenizers other than `bytes`, and byte-level BPE tokenizer.json files (nativeByteLevelBpe
 * below says which), encode natively (lib/tokenizers/native.ts, native/core/tokenizer): the same ids as the JS
 * tokenizers, which decode and remain the encoders when `TRACEINDEX_JS_TOKENIZERS=1` or
 * `{ implementation: 'js' }` asks for them (the exactness tests use them as the oracle). A tokenizer.json the
 * native encoder does not support encodes in JS and says why (`jsReason`).
 *
 * The fingerprint is a SHA-256 (first 16 hex digits, like `bytes`) of the vocabulary content: the ranks,
 * pattern and special tokens for tiktoken; the token strings and merges for Llama; the whole tokenizer.json
 * in canonical form (keys sorted, whitespace dropped) for a file, so two different files never share one.
 */
import { createHash, Hash } from 'node:crypto';
import * as path from 'node:path';
import { TraceIndexError } from '../errors';
import { readRegularFileAsync } from '../inputs/files';
import type { NativeByteLevelBpe } from '../native';
import { jsTokenizersRequested, loadNativeByteLevelBpe, loadNativeEncoder, NativeEncoder, NativeTokenizerName } from './native';
import { importPackage, requirePackage } from './packages';
import { bytesTokenizer, TokenArray, Tokenizer, widthForVocab } from './tokenizer';

const BUILTIN_NAMES = ['bytes', 'cl100k_base', 'o200k_base', 'llama-2', 'llama-3'] as const;
export type BuiltinTokenizerName = (typeof BUILTIN_NAMES)[number];

/** The built-in tokenizer names (any path ending in `tokenizer.json` is accepted too). */
export function tokenizerNames(): string[] {
  return [...BUILTIN_NAMES];
}

/** Whether `spec` names a Hugging Face tokenizer.json file rather than a built-in tokenizer. */
export function isTokenizerJsonPath(spec: string): boolean {
  return spec.endsWith('tokenizer.json');
}

const invalid = (message: string, cause?: unknown) =>
  new TraceIndexError('ERR_INVALID_ARGUMENT', message, cause === undefined ? undefined : { cause });

const builtinCache = new Map<string, Promise<Tokenizer>>();

export interface LoadTokenizerOptions {
  /**
   * Encoder of the built-in tokenizers and of tokenizer.json files the native encoder supports: 'native'
   * (default) or 'js' (default when TRACEINDEX_JS_TOKENIZERS=1).
   */
  implementation?: 'native' | 'js';
}

/**
 * Loads a tokenizer: 'bytes', 'cl100k_base', 'o200k_base', 'llama-2', 'llama-3', or a path ending in
 * `tokenizer.json` (a Hugging Face tokenizer file). Built-in tokenizers are loaded once and shared; a file is
 * read again on every call. Unknown names and missing or invalid files throw ERR_INVALID_ARGUMENT.
 */
export function loadTokenizer(spec: string, options: LoadTokenizerOptions = {}): Promise<Tokenizer> {
  if (typeof spec !== 'string' || spec === '')
    return Promise.reject(invalid(`tokenizer must be one of ${BUILTIN_NAMES.join(', ')} or a path to a tokenizer.json file`));
  const implementation = options.implementation ?? (jsTokenizersRequested() ? 'js' : 'native');
  if (implementation !== 'native' && implementation !== 'js')
    return Promise.reject(invalid(`implementation must be 'native' or 'js'`));
  if (isTokenizerJsonPath(spec)) return loadTokenizerJson(spec, implementation === 'native');
  if (!(BUILTIN_NAMES as readonly string[]).includes(spec))
    return Promise.reject(invalid(`unknown tokenizer "${spec}" (known: ${BUILTIN_NAMES.join(', ')}, or a path to a tokenizer.json file)`));
  const key = `${implementation}:${spec}`;
  let loading = builtinCache.get(key);
  if (!loading) {
    loading = loadBuiltin(spec as BuiltinTokenizerName, implementation === 'native');
    builtinCache.set(key, loading);
    loading.catch(() => builtinCache.delete(key));
  }
  return loading;
}

async function loadBuiltin(name: BuiltinTokenizerName, native: boolean): Promise<Tokenizer> {
  if (name === 'bytes') return bytesTokenizer;
  // The native encoder loads off the JS thread while the JS tokenizer (decode, byteLength, fingerprint) loads.
  const encoder = native ? loadNativeEncoder(name, widthForVocab(BUILTIN_VOCAB[name])) : undefined;
  encoder?.catch(() => {});
  const parts = await (name === 'llama-2' ? loadLlama2() : name === 'llama-3' ? loadLlama3() : loadTiktoken(name));
  if (parts.vocabSize !== BUILTIN_VOCAB[name]) throw invalid(`tokenizer ${name}: the package's vocabulary has ${parts.vocabSize} tokens, not ${BUILTIN_VOCAB[name]}`);
  return makeTokenizer({ ...parts, native: await encoder });
}

/** Vocabulary sizes of the built-in tokenizers' packages (the native encoders' token widths follow). */
const BUILTIN_VOCAB: Record<NativeTokenizerName, number> = { cl100k_base: 100_277, o200k_base: 200_019, 'llama-2': 32_000, 'llama-3': 128_256 };

// ---------------------------------------------------------------------------
// Common wrapper

interface TokenizerParts {
  name: string;
  fingerprint: string;
  vocabSize: number;
  encodeIds(text: string): ArrayLike<number>;
  /**
   * Called with a non-empty array of ids < vocabSize: a number[] of at most MAX_JS_DECODE ids, or, when
   * `anyLength`, the caller's array as it is.
   */
  decodeIds(ids: ArrayLike<number>): string;
  /**
   * decodeIds builds no JS array per token or per byte, so it takes any number of ids (the packages' decoders
   * do build one, and past V8's array limit, about 2^27 elements, that kills the process instead of throwing).
   */
  anyLength?: boolean;
  /** Called with ids < vocabSize. */
  byteLength(ids: ArrayLike<number>): number;
  /** What each id adds to the decoded bytes anywhere but at the start (absent: bytes do not add up by token). */
  tokenBytes?(id: number): number;
  /** Encodes instead of encodeIds: ids of the vocabulary in arrays of its width. */
  native?: NativeEncoder;
  /** Why a tokenizer.json encodes in JS although the native encoder was asked for. */
  jsReason?: string;
}

/**
 * The most ids a package's JS decoder is given at once: they build arrays of a token's or a byte's length, and
 * an array past V8's limit (about 2^27 elements) kills the process instead of throwing.
 */
export const MAX_JS_DECODE = 2 ** 25;

function checkIds(name: string, vocabSize: number, tokens: ArrayLike<number>): void {
  if (tokens === null || typeof tokens !== 'object' || typeof tokens.length !== 'number')
    throw invalid(`tokens must be an array of token ids`);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (!(Number.isInteger(t) && t >= 0 && t < vocabSize))
      throw new TraceIndexError('ERR_TOKEN_RANGE', `token ${t} at ${i} is not an id of the ${name} vocabulary (0..${vocabSize - 1})`);
  }
}

/** Sums a per-id byte-length table over tokens. */
function sumLengths(table: ArrayLike<number>, tokens: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < tokens.length; i++) n += table[tokens[i]];
  return n;
}

/** A vocabulary's bytes: id's are bytes[offsets[id], offsets[id + 1]) (empty for ids the vocabulary lacks). */
interface ByteTable { bytes: Uint8Array; offsets: Uint32Array }

function byteTable(pieces: ArrayLike<Uint8Array | undefined>): ByteTable {
  const offsets = new Uint32Array(pieces.length + 1);
  for (let id = 0; id < pieces.length; id++) offsets[id + 1] = offsets[id] + (pieces[id]?.length ?? 0);
  const bytes = new Uint8Array(offsets[pieces.length]);
  for (let id = 0; id < pieces.length; id++) if (pieces[id]) bytes.set(pieces[id]!, offsets[id]);
  return { bytes, offsets };
}

/** Bytes the ids decode to, by the table (before UTF-8 decoding). */
function tableLength({ offsets }: ByteTable, ids: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < ids.length; i++) n += offsets[ids[i] + 1] - offsets[ids[i]];
  return n;
}

/**
 * The packages' byte-level decoders (js-tiktoken, llama3-tokenizer-js, llama-tokenizer-js before its spaces):
 * every id's bytes end to end, through TextDecoder('utf-8') (invalid UTF-8 replaced, a leading BOM dropped). Not
 * theirs, which build a JS array of one entry per token or per byte: this takes any number of ids, up to the
 * longest string V8 holds (past it, ERR_INVALID_ARGUMENT). Tested equal to the packages (test/tokenizers.test.ts).
 */
function byteTableDecoder(table: () => ByteTable): (ids: ArrayLike<number>) => string {
  const utf8 = new TextDecoder('utf-8');
  return (ids) => {
    const t = table(), { bytes, offsets } = t;
    try {
      const out = new Uint8Array(tableLength(t, ids));
      for (let i = 0, at = 0; i < ids.length; i++)  // pieces are short: a loop, not a subarray object per id
        for (let k = offsets[ids[i]], end = offsets[ids[i] + 1]; k < end; k++) out[at++] = bytes[k];
      return utf8.decode(out);
    } catch (e) {
      if (e instanceof RangeError) throw invalid(`${ids.length} tokens decode to more text than a JavaScript string holds: decode them in parts`);
      throw e;
    }
  };
}

/** Builds once, on first call (a vocabulary's table takes tens of milliseconds; loading a tokenizer should not). */
function lazily<T>(make: () => T): () => T {
  let made: T | undefined;
  return () => (made ??= make());
}

function makeTokenizer(parts: TokenizerParts): Tokenizer {
  const { name, vocabSize } = parts;
  if (!Number.isInteger(vocabSize) || vocabSize < 1 || vocabSize > 2 ** 28)
    throw invalid(`tokenizer ${name}: vocabulary size ${vocabSize} is outside [1, 2^28]`);
  const tokenWidth = widthForVocab(vocabSize);
  const Out = tokenWidth === 1 ? Uint8Array : tokenWidth === 2 ? Uint16Array : Uint32Array;
  const native = parts.native;
  const byteLength = (tokens: ArrayLike<number>): number => {
    checkIds(name, vocabSize, tokens);
    return tokens.length === 0 ? 0 : parts.byteLength(tokens);
  };
  let table: { bytes: Uint32Array; first: Uint32Array } | undefined;
  const { tokenBytes } = parts;
  return Object.freeze({
    name,
    fingerprint: parts.fingerprint,
    vocabSize,
    tokenWidth,
    readsText: true,
    native: native !== undefined,
    ...(parts.jsReason !== undefined && { jsReason: parts.jsReason }),
    ...(!parts.anyLength && { decodeLimit: MAX_JS_DECODE }),
    ...(native && {
      async encodeBatch(texts: string[], threads?: number): Promise<TokenArray[]> {
        if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) throw invalid(`the ${name} tokenizer encodes strings`);
        const { tokens, offsets } = await native.encodeBatch(texts, threads);
        return texts.map((_, i) => tokens.subarray(offsets[i], offsets[i + 1]));
      },
    }),
    encode(text: string): TokenArray {
      if (typeof text !== 'string') throw invalid(`the ${name} tokenizer encodes strings (got ${typeof text})`);
      if (text === '') return new Out(0);
      if (native) return native.encode(text);
      const ids = parts.encodeIds(text);
      const out = new Out(ids.length);
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i];
        if (!(Number.isInteger(id) && id >= 0 && id < vocabSize))
          throw invalid(`the ${name} tokenizer cannot encode this text (piece ${i} has no token id: the vocabulary has no unknown token)`);
        out[i] = id;
      }
      return out;
    },
    decode(tokens: ArrayLike<number>): string {
      checkIds(name, vocabSize, tokens);
      if (tokens.length === 0) return '';
      if (parts.anyLength) return parts.decodeIds(tokens);
      if (tokens.length > MAX_JS_DECODE)
        throw invalid(`${tokens.length} tokens are more than the ${name} tokenizer's decoder takes at once (${MAX_JS_DECODE}): decode them in parts`);
      return parts.decodeIds(Array.from(tokens));
    },
    byteLength,
    ...(tokenBytes && {
      tokenByteTable(): { bytes: Uint32Array; first: Uint32Array } {
        if (!table) {
          const bytes = new Uint32Array(vocabSize), first = new Uint32Array(vocabSize), one = new Uint32Array(1);
          for (let id = 0; id < vocabSize; id++) {
            bytes[id] = tokenBytes(id);
            one[0] = id;
            first[id] = parts.byteLength(one);
          }
          table = { bytes, first };
        }
        return table;
      },
    }),
    byteLengthBetween(tokens: ArrayLike<number>, from: number, to: number): number {
      const prefix = (n: number) => byteLength(ArrayBuffer.isView(tokens) ? (tokens as Uint32Array).subarray(0, n) : Array.prototype.slice.call(tokens, 0, n));
      if (from === 0 || !tokenBytes) return prefix(to) - prefix(from);
      const range = ArrayBuffer.isView(tokens) ? (tokens as Uint32Array).subarray(from, to) : Array.prototype.slice.call(tokens, from, to);
      checkIds(name, vocabSize, range);
      let n = 0;
      for (let i = 0; i < range.length; i++) n += tokenBytes(range[i]);
      return n;
    },
  });
}

function fingerprintOf(feed: (hash: Hash) => void): string {
  const hash = createHash('sha256');
  feed(hash);
  return hash.digest('hex').slice(0, 16);
}

// ---------------------------------------------------------------------------
// tiktoken (js-tiktoken)

interface TiktokenRanks { pat_str: string; special_tokens: Record<string, number>; bpe_ranks: string }
interface TiktokenModule { Tiktoken: new (ranks: TiktokenRanks) => { encode(text: string, allowed?: string[] | 'all', disallowed?: string[] | 'all'): number[]; decode(tokens: number[]): string } }

function loadTiktoken(name: 'cl100k_base' | 'o200k_base'): TokenizerParts {
  const { Tiktoken } = requirePackage<TiktokenModule>('js-tiktoken/lite');
  const ranks = requirePackage<TiktokenRanks>(`js-tiktoken/ranks/${name}`);
  let built: InstanceType<TiktokenModule['Tiktoken']> | undefined; // its rank maps take most of a second: built on first use
  const encoding = () => (built ??= new Tiktoken(ranks));
  // The bytes of every rank, from their base64: lines are "<prefix> <first rank> <b64> <b64> ...".
  let vocabSize = 0;
  const table = lazily(() => {
    const pieces: Uint8Array[] = [];  // ids the encoding lacks (cl100k_base has gaps) decode to nothing
    for (const line of ranks.bpe_ranks.split('\n')) {
      if (line === '') continue;
      const fields = line.split(' ');
      const first = Number.parseInt(fields[1], 10);
      for (let i = 2; i < fields.length; i++) pieces[first + i - 2] = Buffer.from(fields[i], 'base64');
    }
    for (const [text, id] of Object.entries(ranks.special_tokens)) pieces[id] = Buffer.from(text, 'utf8');
    pieces.length = vocabSize;
    return byteTable(pieces);
  });
  for (const line of ranks.bpe_ranks.split('\n')) {
    if (line === '') continue;
    const fields = line.split(' ');
    vocabSize = Math.max(vocabSize, Number.parseInt(fields[1], 10) + fields.length - 2);
  }
  for (const id of Object.values(ranks.special_tokens)) vocabSize = Math.max(vocabSize, id + 1);
  return {
    name,
    fingerprint: fingerprintOf((h) => h
      .update(`traceindex:tiktoken:${name}\0`)
      .update(ranks.pat_str).update('\0')
      .update(JSON.stringify(Object.entries(ranks.special_tokens).sort((a, b) => a[1] - b[1]))).update('\0')
      .update(ranks.bpe_ranks)),
    vocabSize,
    encodeIds: (text) => encoding().encode(text, [], []), // encode_ordinary: special-token text is text
    decodeIds: byteTableDecoder(table),
    anyLength: true,
    byteLength: (ids) => tableLength(table(), ids),
    tokenBytes: (id) => table().offsets[id + 1] - table().offsets[id],
  };
}

// ---------------------------------------------------------------------------
// Llama 2 (llama-tokenizer-js, SentencePiece BPE with byte fallback, an ES module)

interface Llama2Module {
  default: {
    vocabById: string[];
    merges: Map<string, number>;
    encode(text: string, addBos?: boolean, addPrecedingSpace?: boolean): number[];
  };
}

const SPIECE_SPACE = '\u2581';

/**
 * llama-tokenizer-js's decode(ids, false, true): each piece's bytes (a <0xNN> piece is that byte, any other its
 * UTF-8) decoded as UTF-8, every '▁' made a space and the first space dropped.
 */
function llama2Decoder(vocab: string[]): (ids: ArrayLike<number>) => string {
  const utf8 = byteTableDecoder(lazily(() => byteTable(vocab.map((piece) =>
    /^<0x[0-9A-Fa-f]{2}>$/.test(piece) ? Uint8Array.of(parseInt(piece.slice(3, 5), 16)) : Buffer.from(piece, 'utf8')))));
  return (ids) => {
    const text = utf8(ids).replaceAll(SPIECE_SPACE, ' ');
    return text.startsWith(' ') ? text.slice(1) : text;
  };
}

async function loadLlama2(): Promise<TokenizerParts> {
  const llama = (await importPackage<Llama2Module>('llama-tokenizer-js')).default;
  const vocab = llama.vocabById;
  const lengths = new Uint32Array(vocab.length);
  const startsWithSpace = new Uint8Array(vocab.length);
  vocab.forEach((piece, id) => {
    if (/^<0x[0-9A-Fa-f]{2}>$/.test(piece)) {
      lengths[id] = 1;
      startsWithSpace[id] = piece.toUpperCase() === '<0X20>' ? 1 : 0;
    } else {
      const spaces = piece.split(SPIECE_SPACE).length - 1;
      lengths[id] = Buffer.byteLength(piece, 'utf8') - 2 * spaces; // '▁' (3 bytes) decodes to ' ' (1 byte)
      startsWithSpace[id] = piece.startsWith(SPIECE_SPACE) ? 1 : 0;
    }
  });
  return {
    name: 'llama-2',
    fingerprint: fingerprintOf((h) => {
      h.update('traceindex:llama-2:sentencepiece\0').update(vocab.join('\n')).update('\0');
      for (const [pair, rank] of llama.merges) h.update(`${pair}\t${rank}\n`);
    }),
    vocabSize: vocab.length,
    // SentencePiece's dummy prefix: a space is prepended on encoding and the first one dropped on decoding.
    encodeIds: (text) => llama.encode(text, false, true),
    decodeIds: llama2Decoder(vocab),
    anyLength: true,
    byteLength: (ids) => sumLengths(lengths, ids) - startsWithSpace[ids[0]],
    tokenBytes: (id) => lengths[id],  // the dummy prefix's space is dropped at the start only
  };
}

// ---------------------------------------------------------------------------
// Llama 3 (llama3-tokenizer-js, byte-level BPE; the package's CommonJS bundle)

interface Llama3Module {
  llama3Tokenizer: {
    vocabById: string[];
    merges: Map<string, number>;
    encode(text: string, options?: { bos?: boolean; eos?: boolean; specialTokenRegex?: RegExp }): number[];
  };
}

const NEVER = /(?!)/g; // special-token regex that never matches: special-token text stays text

function loadLlama3(): TokenizerParts {
  const { llama3Tokenizer: llama } = requirePackage<Llama3Module>('llama3-tokenizer-js/bundle/commonjs-llama3-tokenizer-with-baked-data.cjs');
  const vocab = llama.vocabById;
  // Byte-level: every character of a token string stands for one byte (special tokens are printable ASCII, which
  // stand for themselves); a character outside the alphabet is byte 0, as in the package's decode.
  const table = lazily(() => {
    const byteOf = new Map(BYTE_CHARS.map((c, b) => [c, b]));
    return byteTable(vocab.map((piece) => Uint8Array.from(piece, (c) => byteOf.get(c) ?? 0)));
  });
  return {
    name: 'llama-3',
    fingerprint: fingerprintOf((h) => {
      h.update('traceindex:llama-3:byte-level-bpe\0').update(vocab.join('\n')).update('\0');
      for (const [pair, rank] of llama.merges) h.update(`${pair}\t${rank}\n`);
    }),
    vocabSize: vocab.length,
    encodeIds: (text) => llama.encode(text, { bos: false, eos: false, specialTokenRegex: NEVER }),
    decodeIds: byteTableDecoder(table),
    anyLength: true,
    byteLength: (ids) => tableLength(table(), ids),
    tokenBytes: (id) => table().offsets[id + 1] - table().offsets[id],
  };
}

// ---------------------------------------------------------------------------
// Hugging Face tokenizer.json (@huggingface/tokenizers)

interface HfTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): { ids: number[] };
  decode(ids: number[], options?: { skip_special_tokens?: boolean; clean_up_tokenization_spaces?: boolean }): string;
  get_vocab(withAddedTokens?: boolean): Map<string, number>;
  id_to_token(id: number): string | undefined;
}
interface HfModule { Tokenizer: new (json: object, config: object) => HfTokenizer }

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON with object keys sorted, so equal content hashes equally whatever the file's key order or spacing. */
function canonicalJson(value: unknown, hash: Hash): void {
  if (Array.isArray(value)) {
    hash.update('[');
    value.forEach((v, i) => {
      if (i > 0) hash.update(',');
      canonicalJson(v, hash);
    });
    hash.update(']');
  } else if (isPlainObject(value)) {
    hash.update('{');
    Object.keys(value).sort().forEach((k, i) => {
      hash.update(`${i > 0 ? ',' : ''}${JSON.stringify(k)}:`);
      canonicalJson(value[k], hash);
    });
    hash.update('}');
  } else {
    hash.update(JSON.stringify(value) ?? 'null');
  }
}

/** The tokenizer.json models @huggingface/tokenizers implements (WordLevel is not among them). */
const SUPPORTED_MODELS = ['BPE', 'WordPiece', 'Unigram'];

/** A tokenizer.json is read only if it is a regular file of at most this size (the largest published are ~35 MB). */
const MAX_TOKENIZER_FILE_BYTES = 256 << 20;

/**
 * The most tokens (model.vocab and added_tokens) and merges a tokenizer.json may hold: 4 times the largest published
 * vocabularies (~262 000). Loading runs on the JS thread: 11 s for a million tokens, 148 s for 8 M, and a file of
 * 13.5 M tokens within MAX_TOKENIZER_FILE_BYTES held it for more than 7 minutes.
 */
const MAX_TOKENIZER_ENTRIES = 1 << 20;

/**
 * Why the ids of a tokenizer.json's model.vocab ({ token: id }; Unigram's is a list, its ids its positions) and
 * added_tokens[].id cannot be a vocabulary, or undefined. Checked before @huggingface/tokenizers sees the file:
 * its constructor and get_vocab walk every id up to the largest, so one id near 2^32 held the JS thread for
 * minutes. Ids are integers in [0, 2^28), and at most 65 536 more than twice the number of ids given (a
 * vocabulary is dense: a gap of millions is a hostile file, not a tokenizer).
 */
function tokenIdProblem(vocab: unknown, added: unknown[] | undefined, merges: unknown): string | undefined {
  const ids: unknown[] = [];
  if (isPlainObject(vocab)) for (const k in vocab) if (Object.hasOwn(vocab, k)) ids.push(vocab[k]);
  for (const t of added ?? []) if (isPlainObject(t) && t.id !== undefined) ids.push(t.id);
  const entries = Array.isArray(vocab) ? vocab.length : 0;
  if (ids.length + entries > MAX_TOKENIZER_ENTRIES) return `${ids.length + entries} tokens are more than ${MAX_TOKENIZER_ENTRIES}`;
  if (Array.isArray(merges) && merges.length > MAX_TOKENIZER_ENTRIES) return `${merges.length} merges are more than ${MAX_TOKENIZER_ENTRIES}`;
  let largest = -1;
  for (const id of ids) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= 2 ** 28) return `token id ${JSON.stringify(id)} is not an integer in [0, 2^28)`;
    if (id > largest) largest = id;
  }
  if (largest >= 2 * (ids.length + entries) + 65_536)
    return `token id ${largest} is far above the ${ids.length + entries} ids the file defines`;
  return undefined;
}

async function loadTokenizerJson(spec: string, native: boolean): Promise<Tokenizer> {
  const file = path.resolve(spec);
  let text: string;
  try {
    text = (await readRegularFileAsync(file, MAX_TOKENIZER_FILE_BYTES, (why) => invalid(`cannot read tokenizer file ${spec} (${why})`))).toString('utf8');
  } catch (err) {
    if (err instanceof TraceIndexError) throw err;
    const code = (err as NodeJS.ErrnoException)?.code;
    throw invalid(code === 'ENOENT' ? `tokenizer file not found: ${spec}` : `cannot read tokenizer file ${spec} (${(err as Error).message})`, err);
  }
  let json: unknown;
  try {
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    throw invalid(`${spec} is not valid JSON (${(err as Error).message})`, err);
  }
  if (!isPlainObject(json) || !isPlainObject(json.model))
    throw invalid(`${spec} is not a Hugging Face tokenizer.json (no "model" object)`);
  const modelType = json.model.type;
  if (!SUPPORTED_MODELS.includes(modelType as string))
    throw invalid(`${spec}: unsupported or invalid tokenizer.json (model type ${JSON.stringify(modelType)}; supported: ${SUPPORTED_MODELS.join(', ')})`);
  if (json.added_tokens !== undefined && !Array.isArray(json.added_tokens))
    throw invalid(`${spec} is not a Hugging Face tokenizer.json ("added_tokens" is not an array)`);
  const idProblem = tokenIdProblem(json.model.vocab, json.added_tokens, json.model.merges);
  if (idProblem) throw invalid(`${spec}: unsupported or invalid tokenizer.json (${idProblem})`);
  const { Tokenizer: HfTokenizerClass } = requirePackage<HfModule>('@huggingface/tokenizers');
  const complete = { normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [], ...json };
  let hf: HfTokenizer;
  let vocabSize = 0;
  try {
    hf = new HfTokenizerClass(complete, { clean_up_tokenization_spaces: false });
    for (const id of hf.get_vocab(true).values()) if (Number.isInteger(id) && id + 1 > vocabSize) vocabSize = id + 1;
  } catch (err) {
    throw invalid(`${spec}: unsupported or invalid tokenizer.json (${(err as Error).message})`, err);
  }
  if (vocabSize === 0) throw invalid(`${spec}: the tokenizer has an empty vocabulary`);
  if (vocabSize > 2 ** 28) throw invalid(`${spec}: vocabulary of ${vocabSize} tokens is larger than 2^28`);

  const decodeIds = (ids: number[]) => hf.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  let byteLength: (ids: ArrayLike<number>) => number;
  let tokenBytes: ((id: number) => number) | undefined;
  const decoder = complete.decoder as { type?: unknown } | null;
  if (isPlainObject(decoder) && decoder.type === 'ByteLevel') {
    // Byte-level: an added token decodes to its content, any other token to one byte per character.
    const added = new Map<number, string>();
    for (const t of complete.added_tokens as Array<{ id?: unknown; content?: unknown }>)
      if (isPlainObject(t) && typeof t.id === 'number' && typeof t.content === 'string') added.set(t.id, t.content);
    const lengths = new Uint32Array(vocabSize);
    for (let id = 0; id < vocabSize; id++) {
      const content = added.get(id);
      const piece = hf.id_to_token(id);
      lengths[id] = content !== undefined ? Buffer.byteLength(content, 'utf8') : piece === undefined ? 0 : [...piece].length;
    }
    byteLength = (ids) => sumLengths(lengths, ids);
    tokenBytes = (id) => lengths[id];
  } else {
    // A prefix that ends inside a character spelt by byte-fallback tokens decodes its bytes to U+FFFD: they count as
    // the bytes they are instead, as for every other tokenizer (the token's position.byte inside the character).
    const byteOf = byteFallbackBytes(decoder, hf, vocabSize);
    byteLength = (ids) => {
      const tail = byteOf ? incompleteTail(byteOf, ids) : 0, whole = ids.length - tail;
      const complete = ArrayBuffer.isView(ids) ? (ids as Uint32Array).subarray(0, whole) : Array.prototype.slice.call(ids, 0, whole);
      return (whole > 0 ? Buffer.byteLength(decodeIds(Array.from(complete)), 'utf8') : 0) + tail;
    };
  }
  let encoder: NativeEncoder | undefined;
  let jsReason: string | undefined;
  if (native) {
    const plan = nativeByteLevelBpe(complete);
    if (typeof plan === 'string') jsReason = plan;
    else encoder = await loadNativeByteLevelBpe(plan, widthForVocab(vocabSize));
  }
  return makeTokenizer({
    name: file,
    fingerprint: fingerprintOf((h) => {
      h.update('traceindex:tokenizer.json\0');
      canonicalJson(json, h);
    }),
    vocabSize,
    encodeIds: (t) => hf.encode(t, { add_special_tokens: false }).ids,
    decodeIds,
    byteLength,
    tokenBytes,
    native: encoder,
    jsReason,
  });
}

/**
 * The byte of each byte-fallback token (`<0xNN>`) when the decoder has a ByteFallback step, else -1; undefined when
 * it has none.
 */
function byteFallbackBytes(decoder: unknown, hf: HfTokenizer, vocabSize: number): Int16Array | undefined {
  const steps = (d: unknown): unknown[] => (isPlainObject(d) && d.type === 'Sequence' && Array.isArray(d.decoders) ? d.decoders.flatMap(steps) : [d]);
  if (!steps(decoder).some((d) => isPlainObject(d) && d.type === 'ByteFallback')) return undefined;
  const out = new Int16Array(vocabSize).fill(-1);
  for (let id = 0; id < vocabSize; id++) {
    const piece = hf.id_to_token(id);
    if (piece !== undefined && /^<0x[0-9A-Fa-f]{2}>$/.test(piece)) out[id] = parseInt(piece.slice(3, 5), 16);
  }
  return out;
}

/** How many of the last ids are byte tokens that start a UTF-8 character they do not finish (0 to 3). */
function incompleteTail(byteOf: Int16Array, ids: ArrayLike<number>): number {
  for (let k = 1; k <= 3 && k <= ids.length; k++) {
    const b = byteOf[ids[ids.length - k]];
    if (b < 0) return 0;
    if ((b & 0xc0) === 0x80) continue;  // a continuation byte: the lead is further back
    const length = b >= 0xf8 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return length > k ? k : 0;
  }
  return 0;
}

// ---------------------------------------------------------------------------
// tokenizer.json files the native encoder reproduces exactly (native/core/tokenizer, Tokenizer::ByteLevelBpe)

/** GPT-2's byte-level alphabet: byte b stands for the character BYTE_CHARS[b] (bytes_to_unicode). */
export const BYTE_CHARS: string[] = (() => {
  const chars: string[] = [];
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    chars.push(String.fromCharCode(printable ? b : next++));
  }
  return chars;
})();

/**
 * The split patterns the native pre-tokenizer implements, as tokenizer.json files write them (contractions as
 * `(?i:'s|...)`, or spelled out in every letter case as js-tiktoken's ranks write them).
 */
const NATIVE_PATTERNS: Record<string, NativeByteLevelBpe['pattern']> = (() => {
  const contractions = "(?i:'s|'t|'re|'ve|'m|'ll|'d)";
  const spelled = "('s|'S|'t|'T|'re|'rE|'Re|'RE|'ve|'vE|'Ve|'VE|'m|'M|'ll|'lL|'Ll|'LL|'d|'D)";
  const cl100k = "@|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  const o200k = "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+@?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*@?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  const patterns: Record<string, NativeByteLevelBpe['pattern']> = {
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+": 'gpt2',
  };
  for (const c of [contractions, spelled]) {
    patterns[cl100k.replaceAll('@', c)] = 'cl100k';
    patterns[o200k.replaceAll('@', c)] = 'o200k';
  }
  return patterns;
})();

function packStrings(entries: Array<[Buffer, number]>): NativeByteLevelBpe['tokens'] {
  return {
    bytes: Buffer.concat(entries.map(([b]) => b)),
    lengths: Uint32Array.from(entries, ([b]) => b.length),
    ids: Uint32Array.from(entries, ([, id]) => id),
  };
}

/**
 * What the native encoder needs to encode as @huggingface/tokenizers encodes `json` (its ids are the oracle,
 * test/native-tokenizer-json.test.ts), or why it cannot: then the JS encoder runs. Native: a BPE model over the
 * byte-level alphabet without word suffixes, no normalizer, a pre-tokenizer that is ByteLevel (GPT-2's pattern
 * or none, add_prefix_space either way) or a Split by the cl100k, o200k or GPT-2 pattern followed by
 * ByteLevel(use_regex: false), added tokens (lstrip/rstrip too), and a post-processor that adds nothing
 * (documents are encoded without special tokens).
 */
export function nativeByteLevelBpe(json: Record<string, unknown>): NativeByteLevelBpe | string {
  const model = json.model as Record<string, unknown>;
  if (model.type !== 'BPE') return `model ${String(model.type)} (only BPE encodes natively)`;
  if (model.end_of_word_suffix || model.continuing_subword_suffix) return 'BPE with word suffixes';
  // Post-processors add nothing without special tokens, except a template whose single sequence is not just A.
  const post = json.post_processor as Record<string, unknown> | null;
  const template = (single: unknown) => Array.isArray(single) &&
    single.filter((x) => isPlainObject(x) && 'Sequence' in x).map((x) => JSON.stringify((x.Sequence as { id?: unknown })?.id)).join() === '"A"';
  if (post !== null && !(isPlainObject(post) && (['ByteLevel', 'BertProcessing', 'RobertaProcessing'].includes(post.type as string) ||
    (post.type === 'TemplateProcessing' && template(post.single))))) return 'this post-processor';
  if (json.pre_tokenizer === null && sentencePieceNormalizer(json.normalizer)) return nativeSentencePieceBpe(json, model);
  if (json.normalizer !== null) return 'a normalizer';
  // Pre-tokenizer: [Split?, ByteLevel]
  let steps = [json.pre_tokenizer] as unknown[];
  if (isPlainObject(json.pre_tokenizer) && json.pre_tokenizer.type === 'Sequence') steps = json.pre_tokenizer.pretokenizers as unknown[];
  if (!Array.isArray(steps) || steps.length < 1 || steps.length > 2 || !steps.every(isPlainObject)) return 'this pre-tokenizer';
  const [split, byteLevel] = (steps.length === 2 ? steps : [null, steps[0]]) as Array<Record<string, unknown> | null>;
  if (byteLevel!.type !== 'ByteLevel') return 'a pre-tokenizer that is not byte-level';
  const useRegex = byteLevel!.use_regex ?? true;
  const prefixSpace = Boolean(byteLevel!.add_prefix_space ?? false);
  let pattern: NativeByteLevelBpe['pattern'] = useRegex ? 'gpt2' : 'whole';
  let unicodeSpace = false;
  if (split) {
    if (split.type !== 'Split' || useRegex) return 'this pre-tokenizer sequence';
    const regex = isPlainObject(split.pattern) ? split.pattern.Regex : undefined;
    if (typeof regex !== 'string' || !Object.hasOwn(NATIVE_PATTERNS, regex)) return 'this Split pattern';
    // Pieces tile the text, so every behaviour but Removed (which drops them) keeps all of them.
    if (!split.invert && String(split.behavior).toLowerCase() === 'removed') return 'Split behaviour Removed';
    pattern = NATIVE_PATTERNS[regex];
    unicodeSpace = true; // @huggingface/tokenizers reads \s in a tokenizer.json pattern as White_Space
  }
  const vocabulary = tokenIds(json, model);
  if (typeof vocabulary === 'string') return vocabulary;
  const { ids, added, addedStrip } = vocabulary;
  const byteOf = new Map(BYTE_CHARS.map((c, b) => [c, b]));
  const toBytes = (s: string): Buffer | null => {
    const out = Buffer.alloc(s.length);
    for (let i = 0; i < s.length; i++) {
      const b = byteOf.get(s[i]);
      if (b === undefined) return null;
      out[i] = b;
    }
    return out;
  };
  // Symbols are byte-level strings of the vocabulary; ids stand for them if no two share an id.
  const tokens: Array<[Buffer, number]> = [];
  const seen = new Set<number>();
  for (const [s, id] of ids) {
    const bytes = s === '' ? null : toBytes(s);
    if (!bytes) continue; // no piece of byte-level text spells it
    if (seen.has(id)) return `two byte-level tokens share id ${id}`;
    seen.add(id);
    tokens.push([bytes, id]);
  }
  for (const c of BYTE_CHARS) if (!ids.has(c)) return 'a byte without a token';
  const list = model.merges as unknown[];
  if (!Array.isArray(list)) return 'merges that are not a list';
  const merges = new Uint32Array(3 * list.length).fill(0xffffffff);
  for (const [i, a, b] of mergePairs(list)) {
    const left = toBytes(a) && ids.get(a), right = toBytes(b) && ids.get(b);
    if (typeof left !== 'number' || typeof right !== 'number') continue; // a part no symbol spells
    const result = ids.get(a + b);
    if (result === undefined) return `merge ${i} makes a string outside the vocabulary`;
    merges.set([left, right, result], 3 * i);
  }
  return { pattern, unicodeSpace, prefix: !prefixSpace ? 'none' : split ? 'piece' : 'text', wholePieces: Boolean(model.ignore_merges), tokens: packStrings(tokens), merges, added: packStrings(added), addedStrip };
}

/** The well-formed entries of a tokenizer.json merge list as [rank, left, right]: "a b" strings split as the package splits them, or [a, b] pairs; other entries never apply and are skipped. */
function* mergePairs(list: unknown[]): Generator<[number, string, string]> {
  for (let i = 0; i < list.length; i++) {
    const m = list[i];
    const pair = Array.isArray(m) ? m : typeof m === 'string' ? m.split(' ', 2) : null;
    if (pair && pair.length === 2 && typeof pair[0] === 'string' && typeof pair[1] === 'string' && pair[0] && pair[1]) yield [i, pair[0], pair[1]];
  }
}

/**
 * Token strings -> ids as @huggingface/tokenizers resolves them (the vocabulary, then added tokens over it),
 * and the added tokens the native encoder cuts out of the text, or why it cannot.
 */
function tokenIds(json: Record<string, unknown>, model: Record<string, unknown>):
  { ids: Map<string, number>; added: Array<[Buffer, number]>; addedStrip: Uint8Array } | string {
  const ids = new Map<string, number>(Object.entries(model.vocab as Record<string, unknown>) as Array<[string, number]>);
  const added: Array<[Buffer, number]> = [];
  const strip: number[] = [];
  for (const t of json.added_tokens as Array<Record<string, unknown>>) {
    if (!isPlainObject(t) || typeof t.content !== 'string' || !Number.isInteger(t.id)) return 'an added token without content or id';
    if (t.content !== Buffer.from(t.content, 'utf8').toString('utf8')) return 'an added token holding a lone surrogate';
    // With a normalizer, a normalized added token is matched in the normalized text (not modelled).
    if (json.normalizer !== null && (t.normalized ?? !t.special)) return 'a normalized added token';
    ids.set(t.content, t.id as number);
    added.push([Buffer.from(t.content, 'utf8'), t.id as number]);
    strip.push((t.lstrip ? 1 : 0) | (t.rstrip ? 2 : 0));
  }
  // lstrip/rstrip trim the text next to a token (JS trimEnd/trimStart: \s); trimming a token next to it would
  // make it text, which the native encoder does not model.
  if (strip.some((x) => x) && (json.added_tokens as Array<{ content: string }>).some((t) => /^\s|\s$/.test(t.content)))
    return 'lstrip/rstrip with an added token that starts or ends with whitespace';
  for (const id of ids.values()) if (!(Number.isInteger(id) && id >= 0 && id < 2 ** 28)) return `token id ${String(id)}`;
  return { ids, added, addedStrip: Uint8Array.from(strip) };
}

/** Llama-2's normalizer: "▁" prepended and every space replaced by "▁" (in either order). */
function sentencePieceNormalizer(normalizer: unknown): boolean {
  if (!isPlainObject(normalizer) || normalizer.type !== 'Sequence' || !Array.isArray(normalizer.normalizers)) return false;
  const steps = normalizer.normalizers.map((x: unknown) =>
    !isPlainObject(x) ? '?'
    : x.type === 'Prepend' && x.prepend === SPIECE_SPACE ? 'prepend'
    : x.type === 'Replace' && isPlainObject(x.pattern) && Object.keys(x.pattern).join() === 'String' && x.pattern.String === ' ' && x.content === SPIECE_SPACE ? 'replace'
    : '?');
  return steps.sort().join() === 'prepend,replace';
}

/**
 * A SentencePiece BPE (Llama-2's tokenizer.json: that normalizer, no pre-tokenizer, byte fallback): each text
 * between added tokens merged as one word over its characters; a character without a token falls back to its
 * UTF-8 bytes' <0xNN> tokens. Exact when merges only join tokens (never a character outside the vocabulary or
 * a byte token, which the JS tokenizer makes after merging).
 */
function nativeSentencePieceBpe(json: Record<string, unknown>, model: Record<string, unknown>): NativeByteLevelBpe | string {
  if (model.ignore_merges) return 'SentencePiece BPE with ignore_merges';
  if (!model.byte_fallback) return 'SentencePiece BPE without byte_fallback';
  const vocabulary = tokenIds(json, model);
  if (typeof vocabulary === 'string') return vocabulary;
  const { ids, added, addedStrip } = vocabulary;
  const byteNames = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
  const byteIds = new Uint32Array(256);
  for (let b = 0; b < 256; b++) {
    const id = ids.get(byteNames[b]);
    if (id === undefined) return 'a byte without a <0xNN> token';
    byteIds[b] = id;
  }
  const byteTokens = new Set(byteIds);
  const tokens: Array<[Buffer, number]> = [];
  const seen = new Set<number>();
  for (const [s, id] of ids) {
    if (s === '') continue;
    if (seen.has(id)) return `two tokens share id ${id}`;
    seen.add(id);
    tokens.push([Buffer.from(s, 'utf8'), id]);
  }
  const list = model.merges as unknown[];
  if (!Array.isArray(list)) return 'merges that are not a list';
  const merges = new Uint32Array(3 * list.length).fill(0xffffffff);
  for (const [i, a, b] of mergePairs(list)) {
    const [left, right] = [ids.get(a), ids.get(b)];
    if (left === undefined || right === undefined) {
      if ([a, b].some((p) => !ids.has(p) && [...p].length === 1)) return `merge ${i} joins a character outside the vocabulary`;
      continue; // a part no symbol spells
    }
    if (byteTokens.has(left) || byteTokens.has(right)) return `merge ${i} joins a byte token`;
    const result = ids.get(a + b);
    if (result === undefined) return `merge ${i} makes a string outside the vocabulary`;
    merges.set([left, right, result], 3 * i);
  }
  return { pattern: 'whole', unicodeSpace: false, prefix: 'none', wholePieces: false, tokens: packStrings(tokens), merges, added: packStrings(added), addedStrip, sentencepiece: true, byteIds };
}
