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
 * tokenizer.json whose decoder is not ByteLevel, where it is the byte length of the decoded prefix.
 *
 * The built-in tokenizers other than `bytes` encode natively (lib/tokenizers/native.ts, native/core/tokenizer):
 * the same ids as the JS tokenizers, which decode and remain the encoders when `TRACEINDEX_JS_TOKENIZERS=1`
 * or `{ implementation: 'js' }` asks for them (the exactness tests use them as the oracle).
 *
 * The fingerprint is a SHA-256 (first 16 hex digits, like `bytes`) of the vocabulary content: the ranks,
 * pattern and special tokens for tiktoken; the token strings and merges for Llama; the whole tokenizer.json
 * in canonical form (keys sorted, whitespace dropped) for a file, so two different files never share one.
 */
import { createHash, Hash } from 'node:crypto';
import * as path from 'node:path';
import { TraceIndexError } from '../errors';
import { readRegularFileAsync } from '../inputs/files';
import { jsTokenizersRequested, loadNativeEncoder, NativeEncoder, NativeTokenizerName } from './native';
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
  /** Encoder of the built-in tokenizers: 'native' (default) or 'js' (default when TRACEINDEX_JS_TOKENIZERS=1). */
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
  if (isTokenizerJsonPath(spec)) return loadTokenizerJson(spec);
  if (!(BUILTIN_NAMES as readonly string[]).includes(spec))
    return Promise.reject(invalid(`unknown tokenizer "${spec}" (known: ${BUILTIN_NAMES.join(', ')}, or a path to a tokenizer.json file)`));
  const implementation = options.implementation ?? (jsTokenizersRequested() ? 'js' : 'native');
  if (implementation !== 'native' && implementation !== 'js')
    return Promise.reject(invalid(`implementation must be 'native' or 'js'`));
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
  /** Called with a non-empty array of ids < vocabSize. */
  decodeIds(ids: number[]): string;
  /** Called with ids < vocabSize. */
  byteLength(ids: ArrayLike<number>): number;
  /** Encodes instead of encodeIds: ids of the vocabulary in arrays of its width. */
  native?: NativeEncoder;
}

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

function makeTokenizer(parts: TokenizerParts): Tokenizer {
  const { name, vocabSize } = parts;
  if (!Number.isInteger(vocabSize) || vocabSize < 1 || vocabSize > 2 ** 28)
    throw invalid(`tokenizer ${name}: vocabulary size ${vocabSize} is outside [1, 2^28]`);
  const tokenWidth = widthForVocab(vocabSize);
  const Out = tokenWidth === 1 ? Uint8Array : tokenWidth === 2 ? Uint16Array : Uint32Array;
  const native = parts.native;
  return Object.freeze({
    name,
    fingerprint: parts.fingerprint,
    vocabSize,
    tokenWidth,
    readsText: true,
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
      return tokens.length === 0 ? '' : parts.decodeIds(Array.from(tokens));
    },
    byteLength(tokens: ArrayLike<number>): number {
      checkIds(name, vocabSize, tokens);
      return tokens.length === 0 ? 0 : parts.byteLength(tokens);
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
  // Byte length of every rank, from the base64 of its bytes: lines are "<prefix> <first rank> <b64> <b64> ...".
  const entries: Array<[number, number]> = [];
  let vocabSize = 0;
  for (const line of ranks.bpe_ranks.split('\n')) {
    if (line === '') continue;
    const fields = line.split(' ');
    const first = Number.parseInt(fields[1], 10);
    for (let i = 2; i < fields.length; i++) {
      const b64 = fields[i];
      const padding = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
      entries.push([first + i - 2, (b64.length / 4) * 3 - padding]);
      vocabSize = Math.max(vocabSize, first + i - 1);
    }
  }
  for (const [text, id] of Object.entries(ranks.special_tokens)) {
    entries.push([id, Buffer.byteLength(text, 'utf8')]);
    vocabSize = Math.max(vocabSize, id + 1);
  }
  const lengths = new Uint16Array(vocabSize); // ids the encoding lacks (cl100k_base has gaps) decode to nothing
  for (const [id, n] of entries) lengths[id] = n;
  return {
    name,
    fingerprint: fingerprintOf((h) => h
      .update(`traceindex:tiktoken:${name}\0`)
      .update(ranks.pat_str).update('\0')
      .update(JSON.stringify(Object.entries(ranks.special_tokens).sort((a, b) => a[1] - b[1]))).update('\0')
      .update(ranks.bpe_ranks)),
    vocabSize,
    encodeIds: (text) => encoding().encode(text, [], []), // encode_ordinary: special-token text is text
    decodeIds: (ids) => encoding().decode(ids),
    byteLength: (ids) => sumLengths(lengths, ids),
  };
}

// ---------------------------------------------------------------------------
// Llama 2 (llama-tokenizer-js, SentencePiece BPE with byte fallback, an ES module)

interface Llama2Module {
  default: {
    vocabById: string[];
    merges: Map<string, number>;
    encode(text: string, addBos?: boolean, addPrecedingSpace?: boolean): number[];
    decode(ids: number[], addBos?: boolean, addPrecedingSpace?: boolean): string;
  };
}

const SPIECE_SPACE = '\u2581';

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
    decodeIds: (ids) => llama.decode(ids, false, true),
    byteLength: (ids) => sumLengths(lengths, ids) - startsWithSpace[ids[0]],
  };
}

// ---------------------------------------------------------------------------
// Llama 3 (llama3-tokenizer-js, byte-level BPE; the package's CommonJS bundle)

interface Llama3Module {
  llama3Tokenizer: {
    vocabById: string[];
    merges: Map<string, number>;
    encode(text: string, options?: { bos?: boolean; eos?: boolean; specialTokenRegex?: RegExp }): number[];
    decode(ids: number[]): string;
  };
}

const NEVER = /(?!)/g; // special-token regex that never matches: special-token text stays text

function loadLlama3(): TokenizerParts {
  const { llama3Tokenizer: llama } = requirePackage<Llama3Module>('llama3-tokenizer-js/bundle/commonjs-llama3-tokenizer-with-baked-data.cjs');
  const vocab = llama.vocabById;
  // Byte-level: every character of a token string stands for one byte (special tokens are printable ASCII).
  const lengths = Uint32Array.from(vocab, (piece) => [...piece].length);
  return {
    name: 'llama-3',
    fingerprint: fingerprintOf((h) => {
      h.update('traceindex:llama-3:byte-level-bpe\0').update(vocab.join('\n')).update('\0');
      for (const [pair, rank] of llama.merges) h.update(`${pair}\t${rank}\n`);
    }),
    vocabSize: vocab.length,
    encodeIds: (text) => llama.encode(text, { bos: false, eos: false, specialTokenRegex: NEVER }),
    decodeIds: (ids) => llama.decode(ids),
    byteLength: (ids) => sumLengths(lengths, ids),
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

async function loadTokenizerJson(spec: string): Promise<Tokenizer> {
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
  } else {
    byteLength = (ids) => Buffer.byteLength(decodeIds(Array.from(ids)), 'utf8');
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
  });
}
