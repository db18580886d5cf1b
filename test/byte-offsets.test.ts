/**
 * Occurrences' `position.byte` computed on the JS thread (lib/query/core.ts byteOffsets: tokenizers without a
 * tokenByteTable, such as tokenizer.json files whose decoder is not ByteLevel) checked against oracles written here
 * from the files' vocabularies: the UTF-8 bytes each token adds to the decoded text, summed by token (a byte-fallback
 * token adds its one byte, also inside a multi-byte character). And, for byte-level tokenizers, the native-table
 * path and the JS path give the same offsets.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildIndex, Index, openIndex } from '../lib/index';
import { coreOf } from '../lib/query/core';
import { loadTokenizer } from '../lib/tokenizers/named';
import type { Tokenizer } from '../lib/tokenizers/tokenizer';
import { multilingualDocument, rng } from './helpers/multilingual';
import * as O from './helpers/oracle';
import { writeTokenizerJson } from './helpers/tokenizer-json';

const scratch = O.tmpDir('byte-offsets');
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));

// Well-formed text (lone surrogates would decode to U+FFFD), no '▁' (SentencePiece files decode it to a space), no
// added tokens' text (the Llama-2 file prepends a space to the text after one).
const clean = (s: string) => Buffer.from(s, 'utf8').toString('utf8').replaceAll('\u2581', '_').replace(/<unk>|<\/?s>/g, '<x>');
const r = rng(5);
const TEXTS = [
  ...Array.from({ length: 40 }, () => clean(multilingualDocument(r, 80))),
  ...O.realTexts(30_000, 4).map((x) => x.text),
  // Long documents: many occurrences each, offsets accumulated over thousands of tokens.
  clean(Array.from({ length: 150 }, () => multilingualDocument(r, 60)).join('\n')),
  clean(Array.from({ length: 60 }, () => multilingualDocument(r, 60)).join(' ')),
].filter((t) => t.length > 0);

const UTF8 = (s: string) => Buffer.byteLength(s, 'utf8');
const BYTE_PIECE = /^<0x[0-9A-Fa-f]{2}>$/;
/** clean_up_tokenization of Hugging Face's WordPiece decoder (cleanup: true), applied to each token. */
const cleanup = (s: string) => s.replace(/ \./g, '.').replace(/ \?/g, '?').replace(/ !/g, '!').replace(/ ,/g, ',').replace(/ ' /g, "'")
  .replace(/ n't/g, "n't").replace(/ 'm/g, "'m").replace(/ 's/g, "'s").replace(/ 've/g, "'ve").replace(/ 're/g, "'re");

/** The byte offset of every token of `ids` (and of its end), from what each token adds. */
function prefixSums(ids: ArrayLike<number>, adds: (id: number, i: number) => number): number[] {
  const out = [0];
  for (let i = 0; i < ids.length; i++) out.push(out[i] + adds(ids[i], i));
  return out;
}

interface Case {
  name: string;
  /** The tokenizer.json path. */
  file: () => Promise<string>;
  /** Byte offsets of each token of a document (and its end), from the file's pieces. */
  oracle: (pieces: string[]) => (ids: ArrayLike<number>) => number[];
  /** Whether the decoded document is the original text (else its oracle total is checked against decode). */
  roundTrips: boolean;
}

/** Pieces by id of a tokenizer.json's model (BPE/WordPiece: { piece: id }; Unigram: [[piece, score]]) and added tokens. */
function piecesOf(file: string): string[] {
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  const pieces: string[] = [];
  if (Array.isArray(json.model.vocab)) json.model.vocab.forEach(([p]: [string], id: number) => (pieces[id] = p));
  else for (const [p, id] of Object.entries(json.model.vocab as Record<string, number>)) pieces[id] = p;
  for (const t of json.added_tokens ?? []) pieces[t.id] = t.content;
  return pieces;
}

/**
 * SentencePiece-style: '▁' is a space, <0xNN> one byte when the decoder has ByteFallback, the decoded text's first
 * space dropped (Strip / Metaspace).
 */
const sentencePiece = (byteFallback: boolean) => (pieces: string[]) => (ids: ArrayLike<number>) => {
  const adds = (id: number) => (byteFallback && BYTE_PIECE.test(pieces[id]) ? 1 : UTF8(pieces[id].replaceAll('\u2581', ' ')));
  const sums = prefixSums(ids, adds);
  const first = ids.length ? pieces[ids[0]] : '';
  const dropped = first.startsWith('\u2581') || (byteFallback && first.toUpperCase() === '<0X20>') ? 1 : 0;
  return sums.map((s, i) => (i === 0 ? 0 : s - dropped));
};

/** Words, character pieces and '##' continuations of every character of the corpus (no [UNK] but for long words). */
function wordPieceFile(): object {
  const vocab: Record<string, number> = { '[UNK]': 0 };
  const add = (p: string) => { if (!(p in vocab)) vocab[p] = Object.keys(vocab).length; };
  for (const t of TEXTS) for (const c of t) if (!/\s/u.test(c)) { add(c); add(`##${c}`); }
  const words = new Map<string, number>();
  for (const t of TEXTS) for (const w of t.match(/\w+/g) ?? []) words.set(w, (words.get(w) ?? 0) + 1);
  [...words].sort((a, b) => b[1] - a[1]).slice(0, 400).forEach(([w]) => { add(w); add(`##${w.slice(1)}`); });
  add("n't"); add("'s");
  return {
    model: { type: 'WordPiece', vocab, unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100 },
    normalizer: null, pre_tokenizer: { type: 'Whitespace' }, decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
  };
}

/** Unigram over the corpus's characters and frequent words, Metaspace pre-tokenizer and decoder (T5/ALBERT-style). */
function unigramFile(): object {
  const vocab: Array<[string, number]> = [['<unk>', 0], ['\u2581', -3]];
  const seen = new Set(['<unk>', '\u2581']);
  const add = (p: string, score: number) => { if (!seen.has(p)) { seen.add(p); vocab.push([p, score]); } };
  for (const t of TEXTS) for (const c of t) if (c !== ' ') add(c, -8);
  const words = new Map<string, number>();
  for (const t of TEXTS) for (const w of t.split(' ')) if (w && w.length < 12) words.set(w, (words.get(w) ?? 0) + 1);
  [...words].sort((a, b) => b[1] - a[1]).slice(0, 600).forEach(([w], i) => { add(`\u2581${w}`, -2 - i / 1000); add(w, -4 - i / 1000); });
  const meta = { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true };
  return { model: { type: 'Unigram', unk_id: 0, vocab }, normalizer: null, pre_tokenizer: meta, decoder: meta };
}

const written = (name: string, make: () => object) => async () => {
  const file = path.join(scratch, `${name}.tokenizer.json`);
  if (!fs.existsSync(file)) fs.writeFileSync(file, JSON.stringify(make()));
  return file;
};

const CASES: Case[] = [
  // BPE with byte fallback, decoder Replace/ByteFallback/Fuse/Strip: rare characters are byte tokens.
  { name: 'llama-2 (SentencePiece BPE, byte fallback)', file: () => writeTokenizerJson(scratch, 'llama-2'), oracle: sentencePiece(true), roundTrips: true },
  {
    name: 'WordPiece', file: written('wordpiece', wordPieceFile), roundTrips: false,
    oracle: (pieces) => (ids) => prefixSums(ids, (id, i) => UTF8(cleanup(i === 0 ? pieces[id] : pieces[id].startsWith('##') ? pieces[id].slice(2) : ` ${pieces[id]}`))),
  },
  // Metaspace drops the first token's leading space, as Strip does above.
  { name: 'Unigram (Metaspace)', file: written('unigram', unigramFile), oracle: sentencePiece(false), roundTrips: false },
];

/** Random token-id queries cut from the documents anywhere (inside multi-byte characters too). */
function queries(docs: Uint32Array[], n: number, seed: number): number[][] {
  const q = rng(seed), out: number[][] = [];
  while (out.length < n) {
    const d = docs[Math.floor(q() * docs.length)];
    if (d.length === 0) continue;
    const a = Math.floor(q() * d.length);
    out.push(Array.from(d.subarray(a, Math.min(d.length, a + 1 + Math.floor(q() * 3)))));
  }
  return out;
}

for (const c of CASES) {
  test(`JS byte offsets, ${c.name}: every located and traced occurrence at the oracle's byte`, async (t) => {
    const file = await c.file();
    const tok = await loadTokenizer(file);
    t.is(tok.tokenByteTable, undefined, 'offsets come from the JS path');
    const docs = TEXTS.map((x) => Uint32Array.from(tok.encode(x)));
    const oracle = c.oracle(piecesOf(file));
    const offsets = docs.map((d) => oracle(d));
    t.true(docs.some((d) => d.length > 3000), 'a long document');
    docs.forEach((d, i) => {
      // The oracle describes the decoder: its total is the decoded document's length (and the text's, when it round-trips).
      t.is(offsets[i][d.length], UTF8(d.length ? tok.decode(d) : ''), `document ${i}`);
      if (c.roundTrips) t.is(offsets[i][d.length], UTF8(TEXTS[i]), `document ${i} round-trips`);
    });
    const out = path.join(scratch, `idx-${c.name.replace(/\W+/g, '-')}`);
    await buildIndex({ inputs: TEXTS.map((text, i) => ({ text, id: `d${i}` })), out, tokenizer: file, shardTokens: O.shardTokensFor(docs.map((d) => Array.from(d)), 3) });
    const idx = await openIndex(out, { trustManifestTokenizer: true });
    try {
      let checked = 0, insideCharacter = 0;
      const check = (o: { id: string; position: { token: number; byte?: number } }, what: string) => {
        const d = Number(o.id.slice(1));
        t.is(o.position.byte, offsets[d][o.position.token], `${what}: ${o.id} token ${o.position.token}`);
        const b = Buffer.from(TEXTS[d], 'utf8')[offsets[d][o.position.token]];
        if (c.roundTrips && b !== undefined && (b & 0xc0) === 0x80) insideCharacter++;
        checked++;
      };
      for (const [k, q] of queries(docs, 60, 17).entries()) {
        const page = k % 2 ? await idx.locate(q, { limit: 300 }) : idx.locateSync(q, { limit: 300 });
        t.is(page.total, O.count(docs, q));
        for (const o of page.occurrences) check(o, `locate ${JSON.stringify(q)}`);
      }
      for (let k = 0; k < 6; k++) {
        const d = TEXTS[(k * 7) % 40];
        const traced = await idx.trace(d.slice(0, 400), { maxDocuments: 30, minLength: 2 });
        for (const s of traced.spans) for (const o of s.documents) check(o, 'trace');
      }
      t.true(checked > 2000, `${checked} occurrences checked`);
      if (c.roundTrips) t.true(insideCharacter > 20, `${insideCharacter} occurrences start inside a character`);
    } finally {
      idx.close();
    }
  });
}

// A byte-level tokenizer's offsets computed by the core from its table and by the JS path (the same tokenizer without
// tokenByteTable; and without byteLengthBetween: prefixes' difference) agree on random documents.
for (const spec of ['cl100k_base', 'gpt2 tokenizer.json'] as const) {
  test(`byte-level ${spec}: native-table and JS byte offsets are identical`, async (t) => {
    const name = spec === 'cl100k_base' ? spec : await writeTokenizerJson(scratch, 'gpt2');
    const tok = await loadTokenizer(name);
    t.is(typeof tok.tokenByteTable, 'function');
    const out = path.join(scratch, `idx-bl-${spec.length}`);
    const docs = TEXTS.map((x) => Uint32Array.from(tok.encode(x)));
    await buildIndex({ inputs: TEXTS.map((text, i) => ({ text, id: `d${i}` })), out, tokenizer: name, shardTokens: O.shardTokensFor(docs.map((d) => Array.from(d)), 3) });
    const open = async (strip: Array<keyof Tokenizer>) => {
      const idx = await openIndex(out, { trustManifestTokenizer: true });
      if (strip.length) {
        const core = coreOf(idx) as unknown as { tokenizer: Tokenizer; byteTablePending: boolean };
        const wrapped: Record<string, unknown> = { ...core.tokenizer };
        for (const k of strip) delete wrapped[k];
        core.tokenizer = wrapped as unknown as Tokenizer;
        core.byteTablePending = false;
      }
      return idx;
    };
    const table = await open([]), js = await open(['tokenByteTable']), prefixes = await open(['tokenByteTable', 'byteLengthBetween']);
    try {
      const positions = async (idx: Index, q: number[]) => (await idx.locate(q, { limit: 400 })).occurrences.map((o) => [o.document, o.position.token, o.position.byte!]);
      let n = 0;
      for (const q of queries(docs, 50, 23)) {
        const want = await positions(table, q);
        // Independent of both paths: the bytes of the token prefix from the vocabulary's byte table.
        for (const [d, k, b] of want) t.is(b, tok.byteLength(docs[d].subarray(0, k)));
        t.deepEqual(await positions(js, q), want, JSON.stringify(q));
        t.deepEqual(await positions(prefixes, q), want, JSON.stringify(q));
        n += want.length;
      }
      const output = TEXTS.slice(0, 6).map((x) => x.slice(0, 120)).join(' ');
      const traced = async (idx: Index) => (await idx.trace(output, { maxDocuments: 30 })).spans.flatMap((s) => s.documents.map((o) => [s.start, o.document, o.position.token, o.position.byte]));
      const want = await traced(table);
      t.true(want.length > 10);
      t.deepEqual(await traced(js), want);
      t.deepEqual(await traced(prefixes), want);
      t.true(n > 2000, `${n} occurrences compared`);
    } finally {
      table.close(); js.close(); prefixes.close();
    }
  });
}
