/**
 * Native encoding of tokenizer.json files against @huggingface/tokenizers (the oracle, loaded with
 * { implementation: 'js' }): identical ids on a randomized multilingual corpus for the byte-level BPE fixture
 * and for realistic files written from package data (test/helpers/tokenizer-json.ts); the same index files
 * built either way; files the native encoder does not reproduce exactly encode in JS and say why.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { buildIndex } from '../lib/index';
import { loadTokenizer } from '../lib/tokenizers/named';
import type { Tokenizer } from '../lib/tokenizers/tokenizer';
import { longRunDocuments, multilingualDocument, rng } from './helpers/multilingual';
import { bothImplementations, mismatches } from './helpers/token-compare';
import { writeTokenizerJson } from './helpers/tokenizer-json';

const TINY = path.join(__dirname, '..', '..', 'test', 'fixtures', 'tiny-bpe.tokenizer.json');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'traceindex-tokenizer-json-'));
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));

const EDGE_CASES = [
  '', ' ', '  ', '   ', '\n', '\r\n', '\t', ' \n', 'a ', 'a  ', "'", "'s", "'S", "''s", "x'll", "X'LL've", "it's", '\ud800', '\udfff',
  'a\ud800b', '\ud83d', '\ufffd', 'x\ufffd\ud800\ufffd', '\ufeff', '\ufeffx', ' \ufeff', '\u0085', 'x\u0085 y', 'x \u0085y', '\u00a0x', '<|endoftext|>',
  '<|end', 'end|>', '<|endoftext|>|>', '<|<|endoftext|>', 'a<|endoftext|>b', ' <|endoftext|> ', '<|begin_of_text|>', '<|eot_id|>',
  '<|reserved_special_token_7|>x', '中文', '中文字', 'the quick brown', ' the quick', 'hello world', ' hello', 'hello', ' world',
  '\u0301', 'e\u0301\u0301', '0', '1234567', ' 12', '٣٤٥', '½⅓', '👩‍👩‍👧', '🏳️‍🌈', 'ǅ', 'ʰʰ', 'JSONParser', "HTTPServer's",
  'x'.repeat(5000), ' ' + 'ab'.repeat(40_000), 'é'.repeat(3000),
  ' <mask> x', 'a \u3000\t<mask>', '<mask>', '  <mask>  ', '<sep>  b', '<sep>\n', ' \u3000<both>\t\n x', '<mask><sep> <both>',
  '<sep> <mask>', 'x<sep>\ufeff\u0085y', ' \ud800<mask>',
];
const ADDED = ['<|endoftext|>', '<mask>', ' <mask> ', '<sep>', '\t<both>\n', '<|end', '中文', '<|eot_id|>'];

function corpus(seed: number, count: number): string[] {
  const r = rng(seed);
  const docs = [...EDGE_CASES];
  for (let i = 0; i < count; i++) docs.push(multilingualDocument(r, 80));
  for (let i = 0; i < 200; i++) docs.push(multilingualDocument(r, 10) + ADDED[Math.floor(r() * ADDED.length)] + multilingualDocument(r, 10));
  docs.push(...longRunDocuments(r, 200), ...longRunDocuments(r, 1500));
  return docs;
}

const load = bothImplementations;

const FILES: Array<[string, () => string | Promise<string>, number]> = [
  ['fixture tiny-bpe (ByteLevel, GPT-2 pattern)', () => TINY, 2500],
  ['llama-3 (Split cl100k pattern, ignore_merges, added tokens)', () => writeTokenizerJson(scratch, 'llama-3'), 1500],
  ['gpt2-style cl100k ranks (ByteLevel, add_prefix_space, overlapping added tokens)', () => writeTokenizerJson(scratch, 'gpt2'), 1500],
  ['o200k ranks (Split o200k pattern, add_prefix_space per piece, lstrip/rstrip added tokens)', () => writeTokenizerJson(scratch, 'o200k'), 1000],
  ['llama-2 (SentencePiece BPE: Prepend/Replace normalizer, byte fallback)', () => writeTokenizerJson(scratch, 'llama-2'), 1500],
];

for (const [n, [label, file, count]] of FILES.entries()) {
  test(`tokenizer.json ${label}: native ids equal @huggingface/tokenizers' on a randomized corpus`, async (t) => {
    const [js, native] = await load(await file());
    t.true(native.native);
    t.is(native.jsReason, undefined);
    t.false(js.native);
    t.is(js.encodeBatch, undefined); // really two encoders
    t.not(native.encodeBatch, undefined);
    t.is(native.fingerprint, js.fingerprint);
    t.is(native.tokenWidth, js.tokenWidth);
    const docs = corpus(200 + n, count);
    const expected = docs.map((d) => js.encode(d));
    t.true(expected.reduce((s, a) => s + a.length, 0) > 100_000);
    t.deepEqual(mismatches(docs, expected, docs.map((d) => native.encode(d))).slice(0, 5), []);
    t.deepEqual(mismatches(docs, expected, await native.encodeBatch!(docs, 2)).slice(0, 5), []);
  });
}

// Words of hundreds of merge windows (bpe_merge.inl's merge_windowed: each cut proved or the word merged whole)
// against an independent BPE; the named tokenizers run the same kernel (test/native-tokenizers.test.ts checks
// them on shorter words, their JS encoders being quadratic).
test('tokenizer.json: long single words (0.2 MB) encode as @huggingface/tokenizers encodes them', async (t) => {
  const r = rng(41);
  const letters = Array.from({ length: 200_000 }, () => String.fromCharCode(97 + Math.floor(r() * 26))).join('');
  const mixed = Array.from({ length: 40_000 }, () => ['é', '中', 'ab', 'q', 'ß', 'ing'][Math.floor(r() * 6)]).join('');
  for (const name of ['gpt2', 'o200k', 'llama-3', 'llama-2'] as const) {
    const [js, native] = await load(await writeTokenizerJson(scratch, name));
    t.true(native.native);
    const docs = [letters, mixed];
    t.deepEqual(mismatches(docs, docs.map((d) => js.encode(d)), docs.map((d) => native.encode(d))), [], name);
  }
});

test('tokenizer.json: the fixture gives the ids its merges make (hello world, added token)', async (t) => {
  const [, native] = await load(TINY);
  // ids 256..266: he, ll, hell, hello, Ġt, Ġthe, Ġw, or, Ġwor, ld, Ġworld; <|endoftext|> = 267
  t.deepEqual(Array.from(native.encode('hello world<|endoftext|> the')), [259, 266, 267, 261]);
});

// Added tokens that are prefixes of each other (a, aa, ..., a^300 and b-variants), in a text that matches many of
// them at every position: the longest at each position, left to right, as @huggingface/tokenizers takes them.
test('tokenizer.json: many nested added tokens match leftmost-longest, as @huggingface/tokenizers matches them', async (t) => {
  const r = rng(77);
  const file = variant('nested-added', (j) => {
    let id = 268;
    for (let l = 1; l <= 300; l += 1 + Math.floor(r() * 3)) j.added_tokens.push({ ...j.added_tokens[0], id: id++, content: 'a'.repeat(l) });
    for (let l = 2; l <= 40; l += 3) j.added_tokens.push({ ...j.added_tokens[0], id: id++, content: 'a'.repeat(l - 1) + 'b' });
  });
  const [js, native] = await load(file);
  t.true(native.native, native.jsReason);
  const docs = [
    'a'.repeat(2000),
    Array.from({ length: 300 }, () => 'a'.repeat(Math.floor(r() * 60)) + ['b', ' hello', 'c', '<|endoftext|>'][Math.floor(r() * 4)]).join(''),
  ];
  t.deepEqual(mismatches(docs, docs.map((d) => js.encode(d)), docs.map((d) => native.encode(d))), []);
});

/** Writes a variant of the fixture. */
function variant(name: string, change: (json: Record<string, any>) => void, base = TINY): string { // eslint-disable-line @typescript-eslint/no-explicit-any
  const json = JSON.parse(fs.readFileSync(base, 'utf8'));
  change(json);
  const out = path.join(scratch, `${name}.tokenizer.json`);
  fs.writeFileSync(out, JSON.stringify(json));
  return out;
}

test('tokenizer.json files the native encoder does not reproduce exactly encode in JS and say why', async (t) => {
  const cases: Array<[string, (json: Record<string, any>) => void, RegExp]> = [ // eslint-disable-line @typescript-eslint/no-explicit-any
    ['nfc', (j) => { j.normalizer = { type: 'NFC' }; }, /normalizer/],
    ['qwen-pattern', (j) => {
      j.pre_tokenizer = { type: 'Sequence', pretokenizers: [
        { type: 'Split', pattern: { Regex: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, use_regex: false }] };
    }, /Split pattern/],
    ['lstrip-space', (j) => { j.added_tokens[0].lstrip = true; j.added_tokens.push({ ...j.added_tokens[0], id: 268, content: ' x', lstrip: false }); }, /lstrip\/rstrip/],
    ['suffix', (j) => { j.model.end_of_word_suffix = '</w>'; }, /suffix/],
    ['whitespace', (j) => { j.pre_tokenizer = { type: 'Whitespace' }; }, /byte-level/],
    ['missing-byte', (j) => { delete j.model.vocab['Ā']; }, /byte without a token/],
  ];
  const llama2 = await writeTokenizerJson(scratch, 'llama-2');
  const spCases: typeof cases = [
    ['sp-normalized-added', (j) => { j.added_tokens[1].normalized = true; }, /normalized added token/],
    ['sp-byte-merge', (j) => { j.model.merges.unshift('<0x41> <0x42>'); j.model.vocab['<0x41><0x42>'] = 32000; }, /joins a byte token/],
    ['sp-no-fallback', (j) => { j.model.byte_fallback = false; }, /byte_fallback/],
    ['sp-nfkc', (j) => { j.normalizer.normalizers.push({ type: 'NFKC' }); }, /normalizer/],
  ];
  for (const [name, change, why, base] of [...cases.map(([n, c, w]) => [n, c, w, TINY] as const), ...spCases.map(([n, c, w]) => [n, c, w, llama2] as const)]) {
    const [js, tok] = await load(variant(name, change, base));
    t.false(tok.native, name);
    t.regex(tok.jsReason ?? '', why, name);
    t.is(tok.encodeBatch, undefined, name);
    const text = 'hello world<|endoftext|> the café 123';
    t.deepEqual(Array.from(tok.encode(text)), Array.from(js.encode(text)), name);
  }
});

test('tokenizer.json variants the native encoder does reproduce: pair merges, ignore_merges, a Split by GPT-2\'s pattern (White_Space \\s)', async (t) => {
  const variants = [
    variant('pairs', (j) => {
      j.model.merges = j.model.merges.map((m: string) => m.split(' '));
      j.model.ignore_merges = true;
      j.post_processor = null;
    }),
    variant('split-gpt2', (j) => {
      j.pre_tokenizer = { type: 'Sequence', pretokenizers: [
        { type: 'Split', pattern: { Regex: "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+" }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, use_regex: false }] };
    }, await writeTokenizerJson(scratch, 'gpt2')), // real merges: piece boundaries show in the ids
  ];
  const docs = [...corpus(9, 300), 'x \u0085y', 'x \ufeffy', '\u0085\u0085 a'];
  for (const file of variants) {
    const [js, tok] = await load(file);
    t.true(tok.native, file);
    t.deepEqual(mismatches(docs, docs.map((d) => js.encode(d)), docs.map((d) => tok.encode(d))), [], file);
  }
});

test('WordPiece and Unigram tokenizer.json files encode in JS (not native)', async (t) => {
  const wordPiece = path.join(scratch, 'wp.tokenizer.json');
  fs.writeFileSync(wordPiece, JSON.stringify({ model: { type: 'WordPiece', vocab: { '[UNK]': 0, a: 1, '##b': 2 }, unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100 }, pre_tokenizer: { type: 'Whitespace' } }));
  const tok = await loadTokenizer(wordPiece);
  t.false(tok.native);
  t.regex(tok.jsReason!, /WordPiece/);
  t.deepEqual(Array.from(tok.encode('ab a')), [1, 2, 1]);
});

// The build reads TRACEINDEX_JS_TOKENIZERS when it loads the tokenizer (and its worker threads inherit it).
async function buildWith(env: string, spec: string, out: string, inputs: Array<{ text: string; id: string }>) {
  const before = process.env.TRACEINDEX_JS_TOKENIZERS;
  process.env.TRACEINDEX_JS_TOKENIZERS = env;
  try {
    return await buildIndex({ inputs, out, tokenizer: spec, shardTokens: 60_000, tokenizerWorkers: 2 });
  } finally {
    if (before === undefined) delete process.env.TRACEINDEX_JS_TOKENIZERS;
    else process.env.TRACEINDEX_JS_TOKENIZERS = before;
  }
}

test.serial('an index built with the native encoder has the same files as one built with the JS encoder', async (t) => {
  const spec = await writeTokenizerJson(scratch, 'llama-3');
  const r = rng(77);
  const inputs = Array.from({ length: 600 }, (_, i) => ({ text: multilingualDocument(r, 60), id: `d${i}` }));
  const js = path.join(scratch, 'idx-js'), native = path.join(scratch, 'idx-native');
  const a = await buildWith('1', spec, js, inputs);
  const b = await buildWith('', spec, native, inputs);
  t.true(a.tokens > 20_000);
  t.is(a.tokens, b.tokens);
  const shards = fs.readdirSync(js).filter((x) => x.startsWith('shard-'));
  t.true(shards.length >= 2);
  t.deepEqual(fs.readdirSync(native).filter((x) => x.startsWith('shard-')), shards);
  for (const s of shards)
    for (const f of fs.readdirSync(path.join(js, s))) t.true(fs.readFileSync(path.join(js, s, f)).equals(fs.readFileSync(path.join(native, s, f))), `${s}/${f}`);
  t.true(fs.readFileSync(path.join(js, 'manifest.json')).equals(fs.readFileSync(path.join(native, 'manifest.json'))));
});

test('tokenizer objects report their encoder', async (t) => {
  const js = (await loadTokenizer(TINY, { implementation: 'js' })) as Tokenizer;
  t.false(js.native);
  t.is(js.jsReason, undefined); // asked for, not a fallback
});

test('traceindex info names the encoder text queries use: native, JavaScript and why, or none', async (t) => {
  const cli = path.join(__dirname, '..', 'lib', 'cli', 'main.js');
  const run = (args: string[], env: Record<string, string> = {}) => {
    const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, TRACEINDEX_JS_TOKENIZERS: '', ...env } });
    t.is(r.status, 0, r.stderr);
    return r.stdout;
  };
  const input = path.join(scratch, 'cli.jsonl');
  fs.writeFileSync(input, '{"text":"hello world"}\n{"text":"the world"}\n');
  const nfc = variant('cli-nfc', (j) => { j.normalizer = { type: 'NFC' }; });
  const encoder = (out: string) => /^encoder\s+(.*)$/m.exec(out)?.[1];
  for (const [spec, native] of [[TINY, 'native'], [nfc, 'JavaScript (not native: a normalizer)']]) {
    const out = path.join(scratch, `cli-${path.basename(spec)}`);
    run(['build', input, '--out', out, '--tokenizer', spec, '--quiet']);
    t.is(encoder(run(['info', out, '--tokenizer', spec])), native);
    t.is(encoder(run(['info', out, '--tokenizer', spec], { TRACEINDEX_JS_TOKENIZERS: '1' })), 'JavaScript');
    t.is(encoder(run(['info', out])), 'none (token ids only)'); // the manifest's tokenizer.json is not trusted
  }
});
