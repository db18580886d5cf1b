import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TraceIndexError } from '../lib/errors';
import { bytesTokenizer, Tokenizer } from '../lib/tokenizers/tokenizer';
import { loadTokenizer, tokenizerNames } from '../lib/tokenizers/named';

const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures');
/**
 * A tiny byte-level BPE tokenizer.json: the 256 GPT-2 byte characters (id = byte value), 11 merges
 * (ids 256..266: he, ll, hell, hello, Ġt, Ġthe, Ġw, or, Ġwor, ld, Ġworld) and the added token
 * <|endoftext|> = 267.
 */
const TINY = path.join(FIXTURES, 'tiny-bpe.tokenizer.json');

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'traceindex-tokenizers-'));
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));

interface Case {
  spec: string;
  vocabSize: number;
  width: 1 | 2 | 4;
  /** Token ids established outside this code (see each source). */
  known: Array<[string, number[]]>;
}

const cases: Case[] = [
  {
    spec: 'cl100k_base',
    vocabSize: 100_277, // ranks 0..100255 and special tokens up to <|endofprompt|> = 100276
    width: 4,
    known: [
      // openai/tiktoken tests/test_encoding.py
      ['hello world', [15339, 1917]],
      ['rer', [38149]],
      ["'rer", [2351, 81]],
      ['today\n ', [31213, 198, 220]],
      ['today\n \n', [31213, 27907]],
      ['👍', [9468, 239, 235]],
      // OpenAI cookbook, "How to count tokens with tiktoken"
      ['tiktoken is great!', [83, 1609, 5963, 374, 2294, 0]],
    ],
  },
  {
    spec: 'o200k_base',
    vocabSize: 200_019, // 199 998 ranks, <|endoftext|> = 199999, <|endofprompt|> = 200018
    width: 4,
    known: [['hello world', [24912, 2375]]], // openai/harmony tests (o200k-based encoding)
  },
  {
    spec: 'llama-2',
    vocabSize: 32_000,
    width: 2,
    known: [
      // llama-tokenizer-js README and its test cases (without the BOS id 1 they add)
      ['Hello world!', [15043, 3186, 29991]],
      ['grabbed', [2646, 1327, 287]],
      [' grabbed', [29871, 2646, 1327, 287]],
      ['\n', [29871, 13]],
      ['🦙', [29871, 243, 162, 169, 156]],
    ],
  },
  {
    spec: 'llama-3',
    vocabSize: 128_256, // 128 000 BPE tokens + 256 special tokens
    width: 4,
    known: [
      ['Hello world!', [9906, 1917, 0]], // llama3-tokenizer-js README (bos/eos off)
      ['This is a test sentence.', [2028, 374, 264, 1296, 11914, 13]], // Meta's llama3 tokenizer test
    ],
  },
  {
    spec: TINY,
    vocabSize: 268,
    width: 2,
    known: [
      // by hand from the fixture's merges
      ['hello world', [259, 266]],
      ['held', [256, 265]],
      [' the hello', [261, 32, 259]], // 'Ġthe', then no 'Ġh' merge: 'Ġ' + 'hello'
      ['hello<|endoftext|>', [259, 267]],
      ['é', [195, 169]],
      ['wor', [119, 263]],
    ],
  },
];

const texts: Record<string, string> = {
  ascii: 'The quick brown fox jumps over the lazy dog. 12345 + 67890 = 80235!',
  spaces: '  leading, double  spaces,\ttabs\t\tand trailing   ',
  lines: 'line one\nline two\r\n\n\nlast line without newline',
  unicode: 'Ünïcödé: 日本語のテキスト, русский текст, عربى, emoji 🙂🦙👩‍👩‍👧, combining e\u0301, ß ﬁ',
  code: 'function add(a: number, b: number): number {\n  // sum <|endoftext|> <s>\n  return a + b;\n}\n\nconst x = [1, 2, 3].map((v) => v ** 2);\n',
  empty: '',
};

const loaded = new Map<string, Promise<Tokenizer>>();
const load = (spec: string): Promise<Tokenizer> => {
  if (!loaded.has(spec)) loaded.set(spec, loadTokenizer(spec));
  return loaded.get(spec)!;
};
const utf8 = new TextDecoder('utf-8');
const label = (spec: string) => (spec === TINY ? 'tokenizer.json fixture' : spec);

for (const c of cases) {
  test(`${label(c.spec)}: vocabulary size, width, typed ids`, async (t) => {
    const tok = await load(c.spec);
    t.is(tok.vocabSize, c.vocabSize);
    t.is(tok.tokenWidth, c.width);
    t.true(tok.readsText);
    t.regex(tok.fingerprint, /^[0-9a-f]{16}$/);
    t.is(tok.name, c.spec === TINY ? path.resolve(TINY) : c.spec);
    const ids = tok.encode(texts.ascii);
    t.true(ids instanceof (c.width === 2 ? Uint16Array : Uint32Array));
    t.true(ids.length > 0);
    t.is(tok.encode('').length, 0);
    t.is(tok.decode([]), '');
    t.is(tok.byteLength([]), 0);
  });

  test(`${label(c.spec)}: known token ids`, async (t) => {
    const tok = await load(c.spec);
    for (const [text, ids] of c.known) {
      t.deepEqual(Array.from(tok.encode(text)), ids, JSON.stringify(text));
      t.is(tok.decode(ids), text, JSON.stringify(text));
    }
  });

  test(`${label(c.spec)}: decode(encode(x)) === x on ASCII, whitespace, unicode and code`, async (t) => {
    const tok = await load(c.spec);
    for (const [kind, text] of Object.entries(texts)) {
      const ids = tok.encode(text);
      t.is(tok.decode(ids), text, kind);
      t.deepEqual(Array.from(tok.encode(tok.decode(ids))), Array.from(ids), kind);
      for (const id of ids) t.true(id < tok.vocabSize);
    }
  });

  test(`${label(c.spec)}: byteLength of every prefix is the byte offset it decodes to`, async (t) => {
    const tok = await load(c.spec);
    for (const [kind, text] of Object.entries(texts)) {
      const bytes = Buffer.from(text, 'utf8');
      const ids = tok.encode(text);
      t.is(tok.byteLength(ids), bytes.length, kind);
      let previous = 0;
      for (let n = 0; n <= ids.length; n++) {
        const prefix = ids.subarray(0, n);
        const length = tok.byteLength(prefix);
        const decoded = tok.decode(prefix);
        t.true(length >= previous, `${kind} ${n}`);
        previous = length;
        // Exact even when the prefix ends inside a character (byte-fallback or byte-level tokens).
        t.is(decoded, utf8.decode(bytes.subarray(0, length)), `${kind} prefix ${n}`);
        if (!decoded.includes('\uFFFD')) t.is(length, Buffer.byteLength(decoded), `${kind} prefix ${n}`);
      }
      // byteLengthBetween (locate's byte offsets, summed over a document's occurrences) is the prefixes' difference.
      t.truthy(tok.byteLengthBetween, 'built-in tokenizers add up token by token');
      for (let from = 0; from <= ids.length; from += 1 + (from % 7)) {
        for (const to of [from, Math.min(ids.length, from + 1), Math.min(ids.length, from + 13), ids.length])
          t.is(tok.byteLengthBetween!(ids, from, to), tok.byteLength(ids.subarray(0, to)) - tok.byteLength(ids.subarray(0, from)), `${kind} [${from}, ${to})`);
      }
    }
  });

  test(`${label(c.spec)}: ids outside the vocabulary and non-strings are refused`, async (t) => {
    const tok = await load(c.spec);
    for (const bad of [[c.vocabSize], [1, -1], [0.5], [Number.NaN]]) {
      t.is(t.throws(() => tok.decode(bad), { instanceOf: TraceIndexError })?.code, 'ERR_TOKEN_RANGE', String(bad));
      t.is(t.throws(() => tok.byteLength(bad), { instanceOf: TraceIndexError })?.code, 'ERR_TOKEN_RANGE', String(bad));
    }
    t.is(t.throws(() => tok.encode(42 as unknown as string), { instanceOf: TraceIndexError })?.code, 'ERR_INVALID_ARGUMENT');
  });
}

test('special-token text in a document is ordinary text (tiktoken, Llama-3); tokenizer.json matches added tokens', async (t) => {
  const cl = await load('cl100k_base');
  t.false(Array.from(cl.encode('a <|endoftext|> b')).includes(100257));
  t.is(cl.decode([100257]), '<|endoftext|>');
  const o200 = await load('o200k_base');
  t.false(Array.from(o200.encode('<|endoftext|>')).includes(199999));
  t.is(o200.decode([199999]), '<|endoftext|>');
  const l3 = await load('llama-3');
  t.false(Array.from(l3.encode('x<|eot_id|>y<|begin_of_text|>')).some((id) => id >= 128000));
  t.is(l3.decode([128009]), '<|eot_id|>');
  t.is(l3.byteLength([128009]), '<|eot_id|>'.length);
  const l2 = await load('llama-2');
  t.false(Array.from(l2.encode('<s>hi</s>')).some((id) => id < 3)); // no BOS/EOS
  const tiny = await load(TINY);
  t.deepEqual(Array.from(tiny.encode('<|endoftext|>')), [267]); // Hugging Face's default: added tokens are split out
});

test('fingerprints: distinct per vocabulary, stable across loads, canonical for tokenizer.json', async (t) => {
  const all = await Promise.all(cases.map((c) => load(c.spec)));
  const fingerprints = [bytesTokenizer, ...all].map((tok) => tok.fingerprint);
  t.is(new Set(fingerprints).size, fingerprints.length, fingerprints.join(' '));

  t.is(await loadTokenizer('cl100k_base'), await load('cl100k_base')); // built-ins are loaded once
  const again = await loadTokenizer(TINY); // a file is read again
  t.not(again, await load(TINY));
  t.is(again.fingerprint, (await load(TINY)).fingerprint);

  const json = JSON.parse(fs.readFileSync(TINY, 'utf8'));
  const write = (name: string, value: unknown, space?: number) => {
    const file = path.join(scratch, name);
    fs.writeFileSync(file, JSON.stringify(value, null, space));
    return file;
  };
  // Same content, other spacing and key order: same fingerprint.
  const reordered = Object.fromEntries(Object.entries(json).reverse());
  t.is((await loadTokenizer(write('compact.tokenizer.json', reordered))).fingerprint, again.fingerprint);
  // One merge swapped for another of the same tokens' order: other ids for some text, other fingerprint.
  const swapped = structuredClone(json);
  [swapped.model.merges[0], swapped.model.merges[1]] = [swapped.model.merges[1], swapped.model.merges[0]];
  const swappedTok = await loadTokenizer(write('swapped-merges.tokenizer.json', swapped, 2));
  t.not(swappedTok.fingerprint, again.fingerprint);
  // One vocabulary id changed.
  const renumbered = structuredClone(json);
  renumbered.added_tokens[0].id = 300;
  const renumberedTok = await loadTokenizer(write('renumbered.tokenizer.json', renumbered));
  t.not(renumberedTok.fingerprint, again.fingerprint);
  t.is(renumberedTok.vocabSize, 301);
  t.deepEqual(Array.from(renumberedTok.encode('<|endoftext|>')), [300]);
});

test('tokenizerNames lists the built-ins; bytes is the built-in bytes tokenizer', async (t) => {
  t.deepEqual(tokenizerNames(), ['bytes', 'cl100k_base', 'o200k_base', 'llama-2', 'llama-3']);
  t.is(await loadTokenizer('bytes'), bytesTokenizer);
});

test('unknown names and missing or invalid tokenizer.json files → ERR_INVALID_ARGUMENT', async (t) => {
  const write = (name: string, contents: string) => {
    const file = path.join(scratch, name);
    fs.writeFileSync(file, contents);
    return file;
  };
  const bad: Array<[string, RegExp]> = [
    ['gpt-5', /unknown tokenizer "gpt-5"/],
    ['', /tokenizer must be one of/],
    [path.join(scratch, 'missing', 'tokenizer.json'), /tokenizer file not found/],
    [scratch + '/dir.tokenizer.json', /cannot read tokenizer file .*EISDIR/],
    [write('bad-json.tokenizer.json', '{"model": '), /is not valid JSON/],
    [write('no-model.tokenizer.json', '{"version": "1.0"}'), /no "model" object/],
    [write('array.tokenizer.json', '[1, 2]'), /no "model" object/],
    [write('unknown-model.tokenizer.json', JSON.stringify({ model: { type: 'Mystery', vocab: { a: 0 } } })), /unsupported or invalid tokenizer\.json \(model type "Mystery"/],
    [write('word-level.tokenizer.json', JSON.stringify({ model: { type: 'WordLevel', vocab: { a: 0 }, unk_token: 'a' } })), /model type "WordLevel"/],
    [write('bad-merges.tokenizer.json', JSON.stringify({ model: { type: 'BPE', vocab: { a: 0 }, merges: 7 } })), /unsupported or invalid tokenizer\.json/],
    [write('added-not-array.tokenizer.json', JSON.stringify({ model: { type: 'BPE', vocab: { a: 0 }, merges: [] }, added_tokens: {} })), /"added_tokens" is not an array/],
    [write('empty-vocab.tokenizer.json', JSON.stringify({ model: { type: 'BPE', vocab: {}, merges: [] } })), /empty vocabulary/],
  ];
  fs.mkdirSync(path.join(scratch, 'dir.tokenizer.json'), { recursive: true });
  for (const [spec, message] of bad) {
    const error = await t.throwsAsync(loadTokenizer(spec), { instanceOf: TraceIndexError }, spec);
    t.is(error?.code, 'ERR_INVALID_ARGUMENT', spec);
    t.regex(error?.message ?? '', message, spec);
  }
  await t.throwsAsync(loadTokenizer(42 as unknown as string), { instanceOf: TraceIndexError });
});

test('tokenizer.json ids outside [0, 2^28) or far above the ids given are refused before the tokenizer is built', async (t) => {
  const json = JSON.parse(fs.readFileSync(TINY, 'utf8'));
  const variant = (name: string, edit: (j: typeof json) => void) => {
    const j = structuredClone(json);
    edit(j);
    const file = path.join(scratch, name);
    fs.writeFileSync(file, JSON.stringify(j));
    return file;
  };
  const firstToken = Object.keys(json.model.vocab)[0];
  const bad: Array<[string, RegExp]> = [
    // @huggingface/tokenizers walks every id up to the largest: this one held the JS thread for minutes.
    [variant('id-u32.tokenizer.json', (j) => { j.model.vocab[firstToken] = 4294967294; }), /token id 4294967294 is not an integer in \[0, 2\^28\)/],
    [variant('id-sparse.tokenizer.json', (j) => { j.model.vocab[firstToken] = 2 ** 24; }), /token id 16777216 is far above the 268 ids the file defines/],
    [variant('id-negative.tokenizer.json', (j) => { j.added_tokens[0].id = -1; }), /token id -1 is not an integer/],
    [variant('id-fraction.tokenizer.json', (j) => { j.model.vocab[firstToken] = 1.5; }), /token id 1\.5 is not an integer/],
    [variant('id-string.tokenizer.json', (j) => { j.added_tokens[0].id = '7'; }), /token id "7" is not an integer/],
    // Regression (fixed): a file of 13.5 M tokens (246 MB, within the size limit) held the JS thread for over 7 minutes.
    [variant('many-tokens.tokenizer.json', (j) => { for (let i = 0; i <= 2 ** 20; i++) j.model.vocab[`t${i}`] = 300 + i; }), /1048845 tokens are more than 1048576/],
    [variant('many-merges.tokenizer.json', (j) => { j.model.merges = Array.from({ length: 2 ** 20 + 1 }, () => 'a b'); }), /1048577 merges are more than 1048576/],
  ];
  for (const [spec, message] of bad) {
    // The messages are the check's own: the file never reached the package's constructor.
    const error = await t.throwsAsync(loadTokenizer(spec), { instanceOf: TraceIndexError }, spec);
    t.is(error?.code, 'ERR_INVALID_ARGUMENT', spec);
    t.regex(error?.message ?? '', message, spec);
  }
  // Within the gap allowance the tokenizer loads, its vocabulary up to the largest id.
  const gap = await loadTokenizer(variant('id-gap.tokenizer.json', (j) => { j.added_tokens[0].id = 60_000; }));
  t.is(gap.vocabSize, 60_001);
  t.deepEqual(Array.from(gap.encode('<|endoftext|>')), [60_000]);
});

test("a tokenizer.json's own rules apply: unknown characters are dropped without an unk_token (as in Hugging Face tokenizers)", async (t) => {
  const write = (name: string, vocab: Record<string, number>, unk: string | null) => {
    const file = path.join(scratch, name);
    fs.writeFileSync(file, JSON.stringify({ model: { type: 'BPE', vocab, merges: [], unk_token: unk } }));
    return file;
  };
  const tok = await loadTokenizer(write('abc.tokenizer.json', { a: 0, b: 1, c: 2 }, null));
  t.is(tok.vocabSize, 3);
  t.is(tok.tokenWidth, 1);
  t.true(tok.encode('abc') instanceof Uint8Array);
  t.deepEqual(Array.from(tok.encode('abc')), [0, 1, 2]);
  t.deepEqual(Array.from(tok.encode('abz')), [0, 1]);
  t.is(tok.decode([0, 1]), 'a b'); // no decoder: tokens joined by spaces
  t.is(tok.byteLength([0, 1]), 3); // not ByteLevel: bytes of the decoded prefix
  const withUnk = await loadTokenizer(write('abc-unk.tokenizer.json', { a: 0, b: 1, c: 2, '<unk>': 3 }, '<unk>'));
  t.deepEqual(Array.from(withUnk.encode('abz')), [0, 1, 3]);
});

test('packages are loaded lazily: requiring lib/tokenizers/named loads none of them', (t) => {
  const modulePath = path.join(__dirname, '..', 'lib', 'tokenizers', 'named.js');
  const script = `require(${JSON.stringify(modulePath)});
    const loaded = Object.keys(require.cache).filter((f) => /node_modules[\\\\/](js-tiktoken|llama-tokenizer-js|llama3-tokenizer-js|@huggingface|fzstd)/.test(f));
    process.stdout.write(JSON.stringify(loaded));`;
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  t.is(result.status, 0, result.stderr);
  t.deepEqual(JSON.parse(result.stdout), []);
});

// llama-2 decodes through its own byte table (lib/tokenizers/named.ts, llama2Decoder): the package's decode builds
// an array of one number per byte, and past V8's array limit that kills the process (a 100 MB document did).
test('llama-2: decode equals the package on random ids (byte pieces, invalid UTF-8, leading spaces) and takes 2^27+ bytes', async (t) => {
  const l2 = await load('llama-2');
  const pkg = (await import('llama-tokenizer-js')).default as unknown as { decode(ids: number[], bos: boolean, space: boolean): string; vocabById: string[] };
  let seed = 7;
  const rand = (m: number) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % m; };
  const byteIds = pkg.vocabById.flatMap((p, id) => (/^<0x[0-9A-Fa-f]{2}>$/.test(p) ? [id] : []));
  t.is(byteIds.length, 256);
  const bom = ['<0xEF>', '<0xBB>', '<0xBF>'].map((p) => pkg.vocabById.indexOf(p));
  for (let k = 0; k < 3000; k++) {
    const ids = Array.from({ length: 1 + rand(40) }, () => (rand(3) === 0 ? byteIds[rand(256)] : rand(32000)));
    if (k % 10 === 0) ids.unshift(...bom);  // a BOM at the start: TextDecoder drops it in both
    if (k % 7 === 0) ids.unshift(29871);    // '▁' first: the dropped dummy-prefix space
    t.is(l2.decode(ids), pkg.decode(ids, false, true), ids.join(','));
  }
  // 12 M copies of the longest piece: more bytes than a JS array holds, one string back.
  const longest = pkg.vocabById.reduce((best, p, id) => (Buffer.byteLength(p) > Buffer.byteLength(pkg.vocabById[best]) ? id : best), 0);
  const piece = pkg.decode([longest], false, false);
  const n = Math.ceil(2 ** 27 / Buffer.byteLength(pkg.vocabById[longest])) + 1;
  const text = l2.decode(new Uint32Array(n).fill(longest));
  const want = piece.repeat(n);
  t.is(text, want.startsWith(' ') ? want.slice(1) : want);
});

// cl100k_base, o200k_base and llama-3 decode through their byte tables too (byteTableDecoder): equal to the
// packages' decoders, which the tests load as oracles, on random ids with single-byte tokens (invalid UTF-8) and a
// BOM in front (TextDecoder drops it in both).
for (const [name, oracle] of [
  ['cl100k_base', async () => { const { getEncoding } = await import('js-tiktoken'); const e = getEncoding('cl100k_base'); return (ids: number[]) => e.decode(ids); }],
  ['o200k_base', async () => { const { getEncoding } = await import('js-tiktoken'); const e = getEncoding('o200k_base'); return (ids: number[]) => e.decode(ids); }],
  ['llama-3', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { llama3Tokenizer } = require('llama3-tokenizer-js/bundle/commonjs-llama3-tokenizer-with-baked-data.cjs') as { llama3Tokenizer: { decode(ids: number[]): string } };
    return (ids: number[]) => llama3Tokenizer.decode(ids);
  }],
] as const) {
  test(`${name}: decode equals the package on random ids (single bytes, invalid UTF-8, a BOM, special tokens)`, async (t) => {
    const tok = await load(name);
    const pkg = await oracle();
    let seed = 11;
    const rand = (m: number) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % m; };
    const single: number[] = [];
    for (let id = 0; id < tok.vocabSize && single.length < 256; id++) if (tok.byteLength([id]) === 1) single.push(id);
    t.is(single.length, 256);
    const bom = Array.from(tok.encode('\uFEFF'));
    for (let k = 0; k < 2000; k++) {
      const ids = Array.from({ length: 1 + rand(40) }, () => (rand(3) === 0 ? single[rand(256)] : rand(tok.vocabSize)));
      if (k % 10 === 0) ids.unshift(...bom);
      t.is(tok.decode(ids), pkg(ids), ids.join(','));
    }
    // Past the old limit of 2^25 ids at once: one string back.
    const a = tok.encode('a');
    t.is(a.length, 1);
    t.is(tok.decode(new Uint32Array(2 ** 25 + 1).fill(a[0])), 'a'.repeat(2 ** 25 + 1));
  });
}

test('decoders that build a JS array per token (tokenizer.json files) refuse more than MAX_JS_DECODE ids with an error, not a crash', async (t) => {
  const { MAX_JS_DECODE } = await import('../lib/tokenizers/named');
  const file = path.join(scratch, 'limit.tokenizer.json');
  fs.writeFileSync(file, JSON.stringify({ model: { type: 'BPE', vocab: { a: 0, b: 1 }, merges: [], unk_token: null } }));
  const tok = await loadTokenizer(file);
  t.is(tok.decodeLimit, MAX_JS_DECODE);
  const e = t.throws(() => tok.decode(new Uint32Array(MAX_JS_DECODE + 1)), { instanceOf: TraceIndexError });
  t.is((e as TraceIndexError).code, 'ERR_INVALID_ARGUMENT');
  t.regex(e!.message, /decode them in parts/);
  for (const name of ['bytes', 'cl100k_base', 'o200k_base', 'llama-2', 'llama-3']) t.is((await load(name)).decodeLimit, undefined, name);
});

test('document(): a document longer than the tokenizer decodes at once comes back with its tokens and no text', async (t) => {
  const { buildIndex, openIndex } = await import('../lib/index');
  const { coreOf } = await import('../lib/query/core');
  const out = path.join(scratch, 'decode-limit');
  await buildIndex({ inputs: [{ text: 'hello world' }, { text: 'ab' }], out, tokenizer: 'bytes' });
  const idx = await openIndex(out);
  const core = coreOf(idx) as unknown as { tokenizer: Tokenizer; native: { documentsSync(n: Float64Array, maxTokens: number, countRecords: boolean): never } };
  const limited = Object.create(core, { tokenizer: { value: { ...bytesTokenizer, decodeLimit: 5 } } }) as typeof core & {
    documentInfo(n: number, d: never): { tokens: Uint32Array; text?: string };
  };
  const long = limited.documentInfo(0, core.native.documentsSync(Float64Array.of(0), Number.MAX_SAFE_INTEGER, false));
  t.is(long.tokens.length, 11);
  t.is(long.text, undefined);
  t.is(limited.documentInfo(1, core.native.documentsSync(Float64Array.of(1), Number.MAX_SAFE_INTEGER, false)).text, 'ab');
  t.is((await idx.document(0)).text, 'hello world');  // the bytes tokenizer has no limit
  idx.close();
});
