/**
 * Tokenizers turn text into token ids and back. An index records its tokenizer's name and a fingerprint of
 * its vocabulary; text queries are tokenized with it, and token-id queries made for another one are refused.
 *
 * `bytes` (the default): the UTF-8 bytes of the text, ids 0..254, token width 1. 0xFF never occurs in UTF-8,
 * so it is free to be the separator.
 * `pretokenized`: ids made elsewhere, with a declared vocabulary size (the width follows from it).
 */
import { createHash } from 'node:crypto';
import { TraceIndexError } from '../errors';
import { positiveInteger } from '../validate';

export type TokenWidth = 1 | 2 | 4;
export type TokenArray = Uint8Array | Uint16Array | Uint32Array;

export interface Tokenizer {
  readonly name: string;
  /** Hex digest identifying the vocabulary: equal fingerprints mean equal ids for equal text. */
  readonly fingerprint: string;
  /** Token ids are < vocabSize; vocabSize is below the separator of the width. */
  readonly vocabSize: number;
  readonly tokenWidth: TokenWidth;
  /** Whether the tokenizer reads text (false for pretokenized). */
  readonly readsText: boolean;
  /** Named tokenizers and tokenizer.json files: whether text is encoded natively (else by the JS tokenizer). */
  readonly native?: boolean;
  /** A tokenizer.json the native encoder does not support (see docs/api.md, Tokenizers): why it encodes in JS. */
  readonly jsReason?: string;
  encode(text: string): TokenArray;
  /** Encodes many texts off the JS thread (native tokenizers only); `threads` > 1 splits them between threads. */
  encodeBatch?(texts: string[], threads?: number): Promise<TokenArray[]>;
  decode(tokens: ArrayLike<number>): string;
  /** The most tokens decode takes at once (more: ERR_INVALID_ARGUMENT); absent: no limit but a string's length. */
  readonly decodeLimit?: number;
  /** UTF-8 bytes that tokens[0, n) decode to (for byte positions). */
  byteLength(tokens: ArrayLike<number>): number;
  /**
   * The bytes tokens[from, to) add after tokens[0, from): byteLength(tokens[0, to)) − byteLength(tokens[0, from)),
   * in O(to − from) when the tokenizer's bytes add up token by token (the built-in ones, byte-level
   * tokenizer.json files). Absent: computed from byteLength.
   */
  byteLengthBetween?(tokens: ArrayLike<number>, from: number, to: number): number;
  /**
   * What each id adds to the decoded UTF-8 text when bytes add up token by token: `bytes[id]` anywhere but at the
   * start, `first[id]` at the start (byteLength([id])). Given, an index computes the byte offsets of occurrences in
   * its native core, off the JS thread; absent, with byteLengthBetween on it.
   */
  tokenByteTable?(): { bytes: Uint32Array; first: Uint32Array };
}

export interface TokenizerSpec {
  name: string;
  vocabSize?: number;
  fingerprint?: string;
}

/** The largest token id a width can hold is its separator. */
export function separatorOf(width: TokenWidth): number {
  return width === 4 ? 0xffffffff : (1 << (8 * width)) - 1;
}

export function widthForVocab(vocabSize: number): TokenWidth {
  if (vocabSize <= 0xff) return 1;
  if (vocabSize <= 0xffff) return 2;
  return 4;
}

const utf8 = new TextDecoder('utf-8');

export const bytesTokenizer: Tokenizer = {
  name: 'bytes',
  fingerprint: createHash('sha256').update('traceindex:bytes:utf-8').digest('hex').slice(0, 16),
  vocabSize: 255,
  tokenWidth: 1,
  readsText: true,
  encode: (text) => Buffer.from(text, 'utf8'),
  decode: (tokens) => utf8.decode(tokens instanceof Uint8Array ? tokens : Uint8Array.from(tokens)),
  byteLength: (tokens) => tokens.length,
  byteLengthBetween: (_tokens, from, to) => to - from,
};

export function pretokenized(vocabSize: number, name = 'pretokenized'): Tokenizer {
  positiveInteger('vocabSize', vocabSize, { max: 2 ** 28 });
  const tokenWidth = widthForVocab(vocabSize);
  const fail = (): never => {
    throw new TraceIndexError('ERR_INVALID_ARGUMENT', `the ${name} tokenizer has no text form: pass token ids`);
  };
  return {
    name,
    fingerprint: createHash('sha256').update(`traceindex:pretokenized:${name}:${vocabSize}`).digest('hex').slice(0, 16),
    vocabSize,
    tokenWidth,
    readsText: false,
    encode: fail,
    decode: fail,
    byteLength: fail,
  };
}

/** Resolves a tokenizer option: 'bytes', a Tokenizer, or {name, vocabSize} for pre-tokenized ids. */
export function resolveTokenizer(spec: string | TokenizerSpec | Tokenizer | undefined): Tokenizer {
  if (spec === undefined || spec === 'bytes') return bytesTokenizer;
  if (typeof spec === 'string')
    throw new TraceIndexError('ERR_INVALID_ARGUMENT', `unknown tokenizer "${spec}" (this version knows "bytes" and pre-tokenized ids)`);
  if ('encode' in spec) return spec;
  if (spec.name === 'bytes') return bytesTokenizer;
  if (spec.vocabSize === undefined)
    throw new TraceIndexError('ERR_INVALID_ARGUMENT', `tokenizer "${spec.name}" needs a vocabSize for pre-tokenized ids`);
  return pretokenized(spec.vocabSize, spec.name);
}
