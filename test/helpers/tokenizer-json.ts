/**
 * Realistic Hugging Face tokenizer.json files written from vocabulary data inside npm packages (nothing is
 * downloaded), for the native tokenizer.json tests and bench:
 *
 *   llama-3   llama3-tokenizer-js's byte-level vocabulary and merge list as Meta's tokenizer.json has them:
 *             Split by the cl100k pattern, ByteLevel(use_regex: false), ignore_merges, 256 added tokens.
 *   gpt2      js-tiktoken's cl100k_base ranks as a GPT-2-style file: ByteLevel(use_regex: true,
 *             add_prefix_space), merges derived from the ranks, added tokens (overlapping, non-ASCII, U+FFFD).
 *   llama-2   llama-tokenizer-js's pieces and merges as Hugging Face's Llama-2 file has them: SentencePiece BPE
 *             (Prepend/Replace "▁" normalizer, no pre-tokenizer, byte fallback).
 *   o200k     o200k_base ranks: Split by the o200k pattern, ByteLevel(use_regex: false, add_prefix_space), added
 *             tokens with lstrip and rstrip.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BYTE_CHARS } from '../../lib/tokenizers/named';

const byteLevel = (bytes: Uint8Array) => Array.from(bytes, (b) => BYTE_CHARS[b]).join('');

interface Added { id: number; content: string; special?: boolean; lstrip?: boolean; rstrip?: boolean }
const addedToken = ({ id, content, special = true, lstrip = false, rstrip = false }: Added) =>
  ({ id, content, single_word: false, lstrip, rstrip, normalized: !special, special });

function file(model: object, preTokenizer: object, added: Added[]) {
  return {
    version: '1.0', truncation: null, padding: null, added_tokens: added.map(addedToken), normalizer: null,
    pre_tokenizer: preTokenizer,
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ...model },
  };
}

const split = (regex: string) => ({ type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false });
const byteLevelPre = (use_regex: boolean, add_prefix_space: boolean) => ({ type: 'ByteLevel', add_prefix_space, trim_offsets: true, use_regex });

function llama3(): object {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const llama = require('llama3-tokenizer-js/bundle/commonjs-llama3-tokenizer-with-baked-data.cjs').llama3Tokenizer as { vocabById: string[]; merges: Map<string, number> };
  const special = 128_000;
  const vocab: Record<string, number> = {};
  llama.vocabById.slice(0, special).forEach((s, id) => (vocab[s] = id));
  const merges = [...llama.merges].sort((a, b) => a[1] - b[1]).map(([pair]) => pair);
  const added = llama.vocabById.slice(special).map((content, i) => ({ id: special + i, content }));
  // As Meta's tokenizer.json writes it (the o200k file below has js-tiktoken's spelling of the contractions).
  const pattern = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  return file({ vocab, merges, ignore_merges: true }, { type: 'Sequence', pretokenizers: [split(pattern), byteLevelPre(false, false)] }, added);
}

/** Ranks -> byte-level vocabulary and merges: each token of two bytes or more is made by its split whose larger part rank is lowest. */
function fromRanks(name: 'cl100k_base' | 'o200k_base') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ranks = require(`js-tiktoken/ranks/${name}`) as { bpe_ranks: string; pat_str: string };
  const tokens: Buffer[] = [];
  for (const line of ranks.bpe_ranks.split('\n')) {
    if (line === '') continue;
    const [, first, ...b64] = line.split(' ');
    b64.forEach((t, i) => (tokens[Number(first) + i] = Buffer.from(t, 'base64')));
  }
  const rankOf = new Map<string, number>();
  tokens.forEach((b, r) => b && rankOf.set(b.toString('latin1'), r));
  const vocab: Record<string, number> = {};
  const merges: Array<[number, string]> = [];
  tokens.forEach((b, r) => {
    if (!b) return;
    vocab[byteLevel(b)] = r;
    if (b.length < 2) return;
    let best: [number, number] | null = null;
    for (let k = 1; k < b.length; k++) {
      const a = rankOf.get(b.subarray(0, k).toString('latin1')), c = rankOf.get(b.subarray(k).toString('latin1'));
      if (a !== undefined && c !== undefined && (!best || Math.max(a, c) < best[1])) best = [k, Math.max(a, c)];
    }
    if (best) merges.push([r, `${byteLevel(b.subarray(0, best[0]))} ${byteLevel(b.subarray(best[0]))}`]);
  });
  return { vocab, merges: merges.sort((x, y) => x[0] - y[0]).map(([, m]) => m), size: tokens.length, pattern: ranks.pat_str };
}

function gpt2(): object {
  const { vocab, merges, size } = fromRanks('cl100k_base');
  const added = ['<|endoftext|>', '<|end', 'end|>', '中文', '\ufffd', ' the quick'].map((content, i) => ({ id: size + i, content, special: i < 3 }));
  return file({ vocab, merges, ignore_merges: false }, byteLevelPre(true, true), added);
}

function o200k(): object {
  const { vocab, merges, pattern, size } = fromRanks('o200k_base');
  // Added tokens that drop the whitespace next to them, as RoBERTa's <mask> does (lstrip).
  const added = [{ id: size, content: '<|endoftext|>' }, { id: size + 1, content: '<mask>', lstrip: true },
    { id: size + 2, content: '<sep>', rstrip: true }, { id: size + 3, content: '<both>', lstrip: true, rstrip: true }];
  return file({ vocab, merges }, { type: 'Sequence', pretokenizers: [split(pattern), byteLevelPre(false, true)] }, added);
}

// ES-module-only package: TypeScript's CommonJS output would turn import() into require().
const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

/** Llama-2's tokenizer.json as Hugging Face publishes it (SentencePiece BPE), from llama-tokenizer-js's data. */
async function llama2(): Promise<object> {
  const llama = ((await importModule('llama-tokenizer-js')) as { default: { vocabById: string[]; merges: Map<string, number> } }).default;
  const vocab: Record<string, number> = {};
  llama.vocabById.forEach((s, id) => (vocab[s] = id));
  const merges = [...llama.merges].sort((a, b) => a[1] - b[1]).map(([pair]) => pair);
  const json = file({ vocab, merges, byte_fallback: true, fuse_unk: true, unk_token: '<unk>', ignore_merges: false }, null as unknown as object,
    ['<unk>', '<s>', '</s>'].map((content, id) => ({ id, content })));
  return {
    ...json,
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    post_processor: { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [], special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } } },
    decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
  };
}

export const TOKENIZER_JSONS = { 'llama-3': llama3, gpt2, o200k, 'llama-2': llama2 } as const;

/** Writes `<dir>/<name>.tokenizer.json` (once per directory) and returns its path. */
export async function writeTokenizerJson(dir: string, name: keyof typeof TOKENIZER_JSONS): Promise<string> {
  const out = path.join(dir, `${name}.tokenizer.json`);
  if (!fs.existsSync(out)) fs.writeFileSync(out, JSON.stringify(await TOKENIZER_JSONS[name]()));
  return out;
}
