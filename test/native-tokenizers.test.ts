/**
 * The native encoders against the JS tokenizers they replace (the oracle: js-tiktoken, llama3-tokenizer-js,
 * llama-tokenizer-js, loaded with { implementation: 'js' }): identical ids on a randomized multilingual corpus
 * for every named tokenizer, in every calling form; and linear time on a 20 MB single word.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { loadNativeEncoder } from '../lib/tokenizers/native';
import type { TokenArray, Tokenizer } from '../lib/tokenizers/tokenizer';
import { longRunDocuments, multilingualDocument, rng } from './helpers/multilingual';
import { bothImplementations, mismatches } from './helpers/token-compare';

const NAMES = ['cl100k_base', 'o200k_base', 'llama-3', 'llama-2'] as const;
const WIDTH = { cl100k_base: 4, o200k_base: 4, 'llama-3': 4, 'llama-2': 2 } as const;

const EDGE_CASES = [
  '', ' ', '  ', '   ', '\n', '\r\n', '\t', ' \n', 'a ', 'a  ', "'", "'s", "'S", "''s", "x'll", "X'LL've", '\ud800', '\udfff',
  'a\ud800b', '\ud83d', '\ufffd', '\ufeff', '\ufeffx', '\u0085', 'x\u0085 y', '\u00a0x', '<|endoftext|>', '<|eot_id|>',
  '<s>', '</s>', '<unk>', '<0x41>', '▁', '▁▁', '▁a', ' ▁', '\u0301', 'e\u0301\u0301', '0', '1234567', '٣٤٥', '½⅓',
  '👩‍👩‍👧', '🏳️‍🌈', '中', '中文', '中文字', '龘龘龘龘龘龘', 'ǅ', 'ʰʰ', 'JSONParser', 'HTTPServer\'s',
];

function corpus(seed: number): string[] {
  const r = rng(seed);
  const docs = [...EDGE_CASES];
  for (let i = 0; i < 2500; i++) docs.push(multilingualDocument(r, 80));
  // 6000: pieces of 4096 symbols and more merge window by window (native/core/tokenizer/bpe_merge.inl)
  docs.push(...longRunDocuments(r, 200), ...longRunDocuments(r, 1500), ...longRunDocuments(r, 6000));
  return docs;
}

const load = bothImplementations;

for (const [n, name] of NAMES.entries()) {
  test(`${name}: native ids equal the JS tokenizer's on a randomized multilingual corpus`, async (t) => {
    const [js, native] = await load(name);
    t.not(js, native);
    t.is(native.encodeBatch === undefined, false);
    t.is(js.encodeBatch, undefined); // really two encoders
    t.is(native.fingerprint, js.fingerprint);
    t.is(native.tokenWidth, js.tokenWidth);
    const docs = corpus(100 + n);
    const expected = docs.map((d) => js.encode(d));
    t.true(expected.reduce((s, a) => s + a.length, 0) > 100_000);
    t.deepEqual(mismatches(docs, expected, docs.map((d) => native.encode(d))).slice(0, 5), []);
  });

  test(`${name}: batches (strings or UTF-8 bytes, sync or async, 1 or 2 threads) equal per-document encoding`, async (t) => {
    const [, native] = await load(name);
    const encoder = await loadNativeEncoder(name, WIDTH[name]);
    const r = rng(7 + n);
    const docs = ['', ...Array.from({ length: 300 }, () => multilingualDocument(r, 40)), ''];
    const expected = docs.map((d) => native.encode(d));
    const split = ({ tokens, offsets }: { tokens: TokenArray; offsets: Float64Array }) => docs.map((_, i) => tokens.subarray(offsets[i], offsets[i + 1]));
    t.deepEqual(mismatches(docs, expected, await native.encodeBatch!(docs)), []);
    t.deepEqual(mismatches(docs, expected, await native.encodeBatch!(docs, 2)), []);
    t.deepEqual(mismatches(docs, expected, split(encoder.encodeBatchSync(docs))), []);
    // As UTF-8 bytes, lone surrogates are U+FFFD (Buffer.from writes them so): compare with the strings so read.
    const readBack = docs.map((d) => Buffer.from(d, 'utf8').toString('utf8'));
    const bytes = Buffer.concat(readBack.map((d) => Buffer.from(d, 'utf8')));
    const offsets = new Float64Array(docs.length + 1);
    readBack.forEach((d, i) => (offsets[i + 1] = offsets[i] + Buffer.byteLength(d, 'utf8')));
    const fromBytes = readBack.map((d) => native.encode(d));
    t.deepEqual(mismatches(readBack, fromBytes, split(await encoder.encodeBatch({ bytes, offsets }, 2))), []);
    t.deepEqual(mismatches(readBack, fromBytes, split(encoder.encodeBatchSync({ bytes, offsets }))), []);
  });
}

test('UTF-8 bytes with ill-formed sequences encode as the JS tokenizers encode what TextDecoder reads from them', async (t) => {
  const pieces = [[0x61, 0xc3], [0x62, 0xed, 0xa0, 0x80, 0x63], [0xf0, 0x9f, 0x99], [0xff, 0x20, 0x64], [0xe2, 0x96, 0x81, 0x80], [0xc0, 0xaf]];
  const bytes = Uint8Array.from(pieces.flat());
  const offsets = new Float64Array(pieces.length + 1);
  pieces.forEach((p, i) => (offsets[i + 1] = offsets[i] + p.length));
  const decoder = new TextDecoder('utf-8');
  for (const name of NAMES) {
    const [js] = await load(name);
    const encoder = await loadNativeEncoder(name, WIDTH[name]);
    const { tokens, offsets: o } = encoder.encodeBatchSync({ bytes, offsets });
    pieces.forEach((p, i) => t.deepEqual(Array.from(tokens.subarray(o[i], o[i + 1])), Array.from(js.encode(decoder.decode(Uint8Array.from(p)))), `${name} ${p}`));
  }
});

test('bad calls are refused with a code', async (t) => {
  const encoder = await loadNativeEncoder('cl100k_base', 4);
  const bad = [
    () => encoder.encodeBatchSync([1 as unknown as string]),
    () => encoder.encodeBatchSync({ bytes: new Uint8Array(3), offsets: Float64Array.of(0, 2) }),
    () => encoder.encodeBatchSync({ bytes: new Uint8Array(3), offsets: Float64Array.of(0, 2, 1, 3) }),
    () => encoder.encodeBatchSync({ bytes: new Uint8Array(3), offsets: Float64Array.of(0, 1.5, 3) }),
  ];
  for (const f of bad) t.is((t.throws(f) as Error & { code?: string }).code, 'ERR_INVALID_ARGUMENT');
  await t.throwsAsync(encoder.encodeBatch(['a'], 0), { code: 'ERR_INVALID_ARGUMENT' });
});

test('TRACEINDEX_JS_TOKENIZERS=1 selects the JS encoders (same ids)', (t) => {
  const named = path.join(__dirname, '..', 'lib', 'tokenizers', 'named.js');
  const script = `require(${JSON.stringify(named)}).loadTokenizer('cl100k_base').then((tok) =>
    process.stdout.write(JSON.stringify({ native: tok.encodeBatch !== undefined, ids: Array.from(tok.encode('hello world')) })));`;
  for (const [env, native] of [['1', false], ['', true]] as const) {
    const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, TRACEINDEX_JS_TOKENIZERS: env } });
    t.is(result.status, 0, result.stderr);
    t.deepEqual(JSON.parse(result.stdout), { native, ids: [15339, 1917] });
  }
});

// Rates in MB per CPU-second of this process (robust to a busy machine). A quadratic merge would make the
// 20 MB word 10 times slower per byte than the 2 MB one, a merge over 20 M symbols out of cache about 2 times
// slower than the 2 KB documents (it was); long words merge window by window, in cache, measured at 0.9-1.0x
// (bench/tokenizers.ts --long-word). The bounds are generous so a loaded machine cannot fail them; the ids of
// long words are checked against @huggingface/tokenizers (native-tokenizer-json.test.ts) and the JS tokenizers
// (above, 6000-character runs).
for (const name of ['cl100k_base', 'llama-2']) {
  test.serial(`linear time: a 20 MB single word tokenizes at about the per-byte rate of a 2 MB word and of 2 KB documents (${name})`, async (t) => {
    const [, native] = await load(name);
    const r = rng(3);
    const letters = Buffer.alloc(20e6);
    for (let i = 0; i < letters.length; i++) letters[i] = 97 + Math.floor(r() * 26);
    const word = letters.toString('latin1');
    const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1e6; };
    const rate = (docs: string[]) => {
      const c0 = cpu();
      let tokens = 0;
      for (const d of docs) tokens += native.encode(d).length;
      t.true(tokens > 0);
      return docs.reduce((s, d) => s + d.length, 0) / 1e6 / (cpu() - c0);
    };
    const small = rate(Array.from({ length: 1000 }, (_, i) => word.slice(i * 2000, (i + 1) * 2000)));
    const medium = rate([word.slice(0, 2e6)]);
    const large = rate([word]);
    t.log(`${name}: ${small.toFixed(2)} MB/cpu-s in 2 KB documents, ${medium.toFixed(2)} for a 2 MB word, ${large.toFixed(2)} for a 20 MB word`);
    t.true(large >= 0.5 * medium, `${large} vs ${medium}`);
    t.true(large >= 0.5 * small, `${large} vs ${small}`);
  });
}

test('Tokenizer.encodeBatch splits a batch back into documents', async (t) => {
  const [, native] = (await load('llama-2')) as [Tokenizer, Tokenizer];
  const out = await native.encodeBatch!(['Hello world!', '', 'grabbed']);
  t.deepEqual(out.map((a) => Array.from(a)), [[15043, 3186, 29991], [], [2646, 1327, 287]]);
  t.true(out[0] instanceof Uint16Array);
});
