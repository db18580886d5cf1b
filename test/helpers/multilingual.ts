/**
 * A randomized multilingual corpus for tokenizer exactness tests: words of many scripts and cases,
 * contractions, numbers of every length, emoji and ZWJ sequences, combining marks, whitespace runs (\r\n, tabs,
 * NBSP, ideographic space, trailing spaces), lone surrogates, special-token-looking text and long runs.
 * Deterministic for a seed.
 */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const range = (r: () => number, lo: number, hi: number) => String.fromCodePoint(lo + Math.floor(r() * (hi - lo + 1)));
const repeat = (r: () => number, n: number, f: () => string) => Array.from({ length: n }, f).join('');

const WORDS = ['the', 'The', 'THE', 'hello', 'World', 'tokenizer', 'JSONParser', 'iPhone', 'naïve', 'café', 'Straße', 'ǅungla',
  'don', 'I', 'you', 'they', 'it', 'We', 'ʰello', 'ﬁne', 'Ωmega', 'Привет', 'мир', 'ΑΒΓ', 'αβγ', '日本語', '中文字符', 'テキスト',
  'カタカナ', '한국어', 'مرحبا', 'العربية', 'שלום', 'हिन्दी', 'देवनागरी', 'ภาษาไทย', 'ქართული', 'Ελληνικά', 'x', 'a', 'Z'];
const CONTRACTIONS = ["'s", "'S", "'t", "'T", "'re", "'RE", "'Re", "'rE", "'ve", "'VE", "'m", "'M", "'ll", "'LL", "'Ll", "'d", "'D", "'", "'x", "''"];
const EMOJI = ['🙂', '🦙', '👍', '👍🏽', '👩‍👩‍👧', '🧑‍💻', '🏳️‍🌈', '🇫🇷', '❤️', '©', '™', '∑', '≠', '½', 'Ⅻ', '①', '٣', '𝔘𝔫𝔦'];
const SPACES = [' ', '  ', '   ', '\t', '\t\t', '\n', '\n\n', '\r\n', '\r\n\r\n', ' \n ', '\u00a0', '\u3000', '\u2028', '\ufeff', '\u0085', '\u200b', '\u2581', ' \t \n'];
const PUNCT = ['.', ',', '!', '?', '...', '--', '(', ')', '[', ']', '{', '}', '"', '«', '»', '/', '//', '\\', '#', '@', '$', '%', '&', '*', '+', '=', '<', '>', '|', '_', '~', '`', '^', ';', ':', '。', '、', '؟'];
const SPECIAL = ['<|endoftext|>', '<|eot_id|>', '<|begin_of_text|>', '<|reserved_special_token_7|>', '<|fim_prefix|>', '<s>', '</s>', '<unk>', '<0x41>', '<0x0A>', '\ufffd', '▁', '▁▁the'];
const LONE = ['\ud800', '\udfff', '\udc00\ud800', 'a\ud83dz', '\ud83d'];

function fragment(r: () => number): string {
  const x = r();
  if (x < 0.30) return pick(r, WORDS);
  if (x < 0.36) return pick(r, WORDS) + pick(r, CONTRACTIONS);
  if (x < 0.42) return repeat(r, 1 + Math.floor(r() * 22), () => String(Math.floor(r() * 10))); // numbers 1..22 digits
  if (x < 0.48) return pick(r, EMOJI);
  if (x < 0.58) return pick(r, PUNCT);
  if (x < 0.62) return pick(r, SPECIAL);
  if (x < 0.635) return pick(r, LONE);
  if (x < 0.67) return 'e\u0301' + (r() < 0.5 ? '\u0308' : '') + range(r, 0x300, 0x36f); // combining marks
  if (x < 0.70) return repeat(r, 1 + Math.floor(r() * 6), () => range(r, 0x4e00, 0x9fff)); // CJK, mostly rare
  if (x < 0.72) return repeat(r, 1 + Math.floor(r() * 6), () => range(r, 0xac00, 0xd7a3)); // Hangul syllables
  if (x < 0.74) return repeat(r, 1 + Math.floor(r() * 8), () => range(r, 0x900, 0x97f)); // Devanagari incl. marks
  if (x < 0.76) return repeat(r, 1 + Math.floor(r() * 8), () => range(r, 0x600, 0x6ff)); // Arabic incl. marks, digits
  if (x < 0.78) return repeat(r, 1 + Math.floor(r() * 4), () => range(r, 0x10000, 0x10ffff)); // any astral code point
  if (x < 0.80) return repeat(r, 1 + Math.floor(r() * 4), () => range(r, 0x80, 0x2fff)); // any BMP code point below CJK
  if (x < 0.82) return repeat(r, 2 + Math.floor(r() * 30), () => range(r, 0x61, 0x7a)); // a random lowercase word
  return pick(r, SPACES);
}

/** One document: up to `max` fragments, separated mostly by spaces. */
export function multilingualDocument(r: () => number, max = 60): string {
  const n = Math.floor(r() * max);
  let s = '';
  for (let i = 0; i < n; i++) s += fragment(r) + (r() < 0.6 ? ' ' : r() < 0.5 ? '' : pick(r, SPACES));
  if (r() < 0.15) s += pick(r, SPACES); // trailing whitespace
  return s;
}

/** Documents made of one long run: the long-piece merge paths (and the JS Llama tokenizers' float priority). */
export function longRunDocuments(r: () => number, length: number): string[] {
  return [
    repeat(r, length, () => range(r, 0x61, 0x7a)),
    repeat(r, length, () => range(r, 0x4e00, 0x9fff)),
    repeat(r, Math.ceil(length / 3), () => pick(r, ['ab', 'ba', 'aa', 'abc'])),
    repeat(r, length, () => String(Math.floor(r() * 10))),
    ' '.repeat(length),
    'x' + ' '.repeat(length) + 'y',
    '\n'.repeat(length),
    repeat(r, length / 4, () => pick(r, ['🙂', '👩‍👩‍👧', 'é'])),
    repeat(r, length, () => range(r, 0xac00, 0xd7a3)),
  ];
}
