/**
 * The addon's own surface (lib/native.ts), called directly: the batch entry points (documents, findDocument,
 * sampleSpans, async scoreSpans) against oracles computed from the documents, and every argument read
 * defensively: a wrong type, a missing argument or a number out of range is an error with a code, never a
 * crash and never a silent wrap.
 */
import test, { ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildIndex } from '../lib/index';
import { addon, NativeIndex } from '../lib/native';
import * as O from './helpers/oracle';

const scratch = O.tmpDir('binding');
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));

const r = O.rng(9090);
const DOCS = O.randomDocs(r, 150, 300, 5, 97);
const IDS = DOCS.map((_, i) => `c${i}`);
let opened: Promise<{ n: NativeIndex; vocab: number; shardDocs: number[]; dir: string }> | undefined;
function index() {
  opened ??= (async () => {
    const dir = path.join(scratch, 'idx');
    await buildIndex({ inputs: DOCS.map((d, i) => ({ text: Buffer.from(d).toString('latin1'), id: IDS[i] })), out: dir, shardTokens: O.shardTokensFor(DOCS, 4) });
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    const n = await addon.NativeIndex.open(m.shards.map((s: { dir: string; tokens: number; documents: number }) => ({
      dir: path.join(dir, s.dir), tokenWidth: m.tokenWidth, tokens: s.tokens, documents: s.documents, vocabSize: m.vocabSize,
    })));
    return { n, vocab: m.vocabSize as number, shardDocs: m.shards.map((s: { documents: number }) => s.documents), dir };
  })();
  return opened;
}

/** The code of what `fn` throws or its promise rejects with; undefined if it succeeds. */
async function codeOf(fn: () => unknown): Promise<string | undefined> {
  try {
    await fn();
  } catch (err) {
    return (err as { code?: string }).code ?? `no code: ${(err as Error).message}`;
  }
  return undefined;
}

async function expectCode(t: ExecutionContext, fn: () => unknown, code: string, what: string) {
  t.is(await codeOf(fn), code, what);
}

// ---- the batch entry points against oracles ----

test('documents/documentsSync return each document\'s tokens, record and shard', async (t) => {
  const { n, shardDocs } = await index();
  t.true(shardDocs.length >= 3);
  const numbers = Float64Array.from({ length: 40 }, () => O.randInt(r, 0, DOCS.length));
  const ALL = Number.MAX_SAFE_INTEGER;
  for (const got of [n.documentsSync(numbers, ALL, false), await n.documents(numbers, ALL, false)]) {
    t.is(got.tokenOffsets.length, numbers.length + 1);
    numbers.forEach((d, i) => {
      t.deepEqual(Array.from(got.tokens.subarray(got.tokenOffsets[i], got.tokenOffsets[i + 1])), DOCS[d]);
      t.is(JSON.parse(got.records[i]).id, IDS[d]);
      let shard = 0;
      for (let first = shardDocs[0]; d >= first; first += shardDocs[++shard]);
      t.is(got.shards[i], shard);
    });
  }
  const none = n.documentsSync(new Float64Array(0), 0, true);
  t.deepEqual([none.tokens.length, Array.from(none.tokenOffsets), none.records], [0, [0], []]);
  // maxTokens: the documents' exact total passes; one less is ERR_TOO_LARGE, named before anything is read.
  const total = Array.from(numbers).reduce((s, d) => s + DOCS[d].length, 0);
  t.is(n.documentsSync(numbers, total, false).tokens.length, total);
  const over = t.throws(() => n.documentsSync(numbers, total - 1, false)) as { code?: string; message: string };
  t.is(over.code, 'ERR_TOO_LARGE');
  t.is(over.message, `the documents hold ${total} tokens, more than the ${total - 1} asked for at most`);
  await t.throwsAsync(n.documents(numbers, total - 1, false), { code: 'ERR_TOO_LARGE' });
  // countRecords: each record also counts a token per 4 bytes of its JSON (the server's budget).
  const records = Array.from(numbers).reduce((s, d) => s + Math.floor(Buffer.byteLength(JSON.stringify({ id: IDS[d] })) / 4), 0);
  t.true(records > 0);
  t.is(n.documentsSync(numbers, total + records, true).tokens.length, total);
  const overRecords = t.throws(() => n.documentsSync(numbers, total + records - 1, true)) as { code?: string; message: string };
  t.is(overRecords.message, `the documents hold ${total + records} tokens (a record counts a token per 4 bytes), more than the ${total + records - 1} asked for at most`);
  await t.throwsAsync(n.documents(numbers, total + records - 1, true), { code: 'ERR_TOO_LARGE' });
});

test('findDocument/findDocumentSync: the first document whose record starts with a prefix, else -1', async (t) => {
  const { n } = await index();
  for (const prefix of ['c1', 'c7', 'c42', 'c149', 'c150', 'x', '']) {
    const p = JSON.stringify({ id: prefix }).slice(0, -2); // {"id":"c1
    const want = IDS.findIndex((id) => id.startsWith(prefix));
    t.is(n.findDocumentSync(p), want, prefix);
    t.is(await n.findDocument(p), want, prefix);
  }
  t.is(n.findDocumentSync('{"id":"c14"'), 14);
});

// calibrate's sampling as lib/trace.ts wrote it (BigInt LCG), over the documents themselves.
function sampleOracle(lengths: number[], samples: number, seed: number) {
  let state = BigInt(seed) ^ 0x9e3779b97f4a7c15n;
  const next = (k: number) => {
    state = (state * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    return Number((state >> 33n) % BigInt(k));
  };
  const tokens: number[] = [];
  const offsets = [0];
  const lengthIndex: number[] = [];
  lengths.forEach((len, li) => {
    let found = 0;
    for (let tries = 0; found < samples && tries < samples * 20; tries++) {
      const d = DOCS[next(DOCS.length)];
      if (d.length < len) continue;
      const at = next(d.length - len + 1);
      tokens.push(...d.slice(at, at + len));
      offsets.push(tokens.length);
      lengthIndex.push(li);
      found++;
    }
  });
  return { tokens, offsets, lengthIndex };
}

test('sampleSpans/sampleSpansSync draw exactly the spans of calibrate\'s documented generator', async (t) => {
  const { n } = await index();
  const cases: Array<[number[], number, number]> = [[[8, 16, 32], 200, 0], [[4, 12], 150, 9], [[1, 0, 400], 60, -7], [[3], 0, 5], [[], 10, 1],
    [[5, 250], 300, 2 ** 53 - 1]];
  for (const [lengths, samples, seed] of cases) {
    const want = sampleOracle(lengths, samples, seed);
    for (const got of [n.sampleSpansSync(Uint32Array.from(lengths), samples, seed), await n.sampleSpans(Uint32Array.from(lengths), samples, seed)]) {
      t.deepEqual(Array.from(got.tokens), want.tokens, `${lengths} ${samples} ${seed}`);
      t.deepEqual(Array.from(got.offsets), want.offsets);
      t.deepEqual(Array.from(got.lengthIndex), want.lengthIndex);
    }
  }
  t.true(sampleOracle([8], 200, 0).lengthIndex.length === 200);
});

test('scoreSpans (async) equals scoreSpansSync, with exact and given counts', async (t) => {
  const { n } = await index();
  const pats = O.patterns(r, DOCS, 30, 5, 97);
  const tokens = Uint32Array.from(pats.flat());
  const offsets = Uint32Array.from([0, ...pats.map((_, i) => pats.slice(0, i + 1).reduce((a, p) => a + p.length, 0))]);
  for (const counts of [undefined, Float64Array.from(pats, (_, i) => i + 1)]) {
    const sync = n.scoreSpansSync(tokens, offsets, counts, { logBase: 2 });
    const async = await n.scoreSpans(tokens, offsets, counts, { logBase: 2 });
    t.deepEqual(async, sync);
    t.deepEqual(Array.from(sync.count), counts ? Array.from(counts) : pats.map((p) => O.count(DOCS, p)));
  }
});

// ---- arguments read defensively ----

test('query methods: wrong types, missing arguments and bad cancel flags are ERR_INVALID_ARGUMENT', async (t) => {
  const { n } = await index();
  const q = Uint32Array.of(97, 98), o = Uint32Array.of(0, 2);
  const any = n as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const m of ['count', 'countSync', 'longestMatch', 'longestMatchSync', 'nextTokens', 'nextTokensSync', 'trace', 'traceSync',
    'scoreSpans', 'scoreSpansSync', 'locate', 'locateSync']) {
    await expectCode(t, () => any[m](), 'ERR_INVALID_ARGUMENT', `${m}()`);
    await expectCode(t, () => any[m]('ab', 2), 'ERR_INVALID_ARGUMENT', `${m}('ab', 2)`);
    await expectCode(t, () => any[m](q, Float64Array.of(0, 2)), 'ERR_INVALID_ARGUMENT', `${m}(q, Float64Array)`);
    await expectCode(t, () => any[m](q, Uint32Array.of(0, 3)), 'ERR_INVALID_ARGUMENT', `${m} offsets past the tokens`);
    await expectCode(t, () => any[m](q, Uint32Array.of(0, 2, 1, 2)), 'ERR_INVALID_ARGUMENT', `${m} offsets out of order`);
  }
  for (const flag of [new Uint8Array(0), 'abort', Float64Array.of(1), {}]) {
    await expectCode(t, () => n.count(q, o, flag as never), 'ERR_INVALID_ARGUMENT', `cancel ${String(flag)}`);
    await expectCode(t, () => n.verify(flag as never), 'ERR_INVALID_ARGUMENT', `verify cancel ${String(flag)}`);
  }
  t.deepEqual(Array.from(await n.count(q, o, undefined)), [O.count(DOCS, [97, 98])]);
  const ALL = Number.MAX_SAFE_INTEGER;
  for (const args of [[5, ALL, false], [Float64Array.of(-1), ALL, false], [Float64Array.of(1.5), ALL, false], [Float64Array.of(NaN), ALL, false],
    [Float64Array.of(DOCS.length), ALL, false], [[0], ALL, false], [new Float64Array(1)], [new Float64Array(1), -1, false],
    [new Float64Array(1), 2 ** 53, false], [new Float64Array(1), '5', false], [new Float64Array(1), ALL], [new Float64Array(1), ALL, 1]]) {
    await expectCode(t, () => n.documents(...(args as [Float64Array, number, boolean])), 'ERR_INVALID_ARGUMENT', `documents(${args.map(String).join(', ')})`);
  }
  await expectCode(t, () => n.documentsSync(new Float64Array(1), ALL, false), undefined as never, 'documentsSync(0) works');
  await expectCode(t, () => n.findDocument(5 as never), 'ERR_INVALID_ARGUMENT', 'findDocument(5)');
  await expectCode(t, () => n.findDocumentSync(undefined as never), 'ERR_INVALID_ARGUMENT', 'findDocumentSync()');
  await expectCode(t, () => n.matchState('x' as never), 'ERR_INVALID_ARGUMENT', "matchState('x')");
  const ms = n.matchState(0);
  await expectCode(t, () => ms.push('a' as never), 'ERR_INVALID_ARGUMENT', "push('a')");
  await expectCode(t, () => ms.push(Float64Array.of(97) as never), 'ERR_INVALID_ARGUMENT', 'push(Float64Array)');
  await expectCode(t, () => ms.peek(-1), 'ERR_TOKEN_RANGE', 'peek(-1)');
  await expectCode(t, () => ms.peek(2 ** 32), 'ERR_TOKEN_RANGE', 'peek(2^32)');
  // JS cannot construct the classes itself.
  await expectCode(t, () => new (addon.NativeIndex as unknown as new (...a: unknown[]) => unknown)({}), 'ERR_INVALID_ARGUMENT', 'new NativeIndex');
  const MatchStateCtor = Object.getPrototypeOf(ms).constructor as new (...a: unknown[]) => unknown;
  await expectCode(t, () => new MatchStateCtor(), 'ERR_INVALID_ARGUMENT', 'new NativeMatchState');
});

test('numeric options: finite integers in range, no wrap above 2^32 - 1; delimiters within the vocabulary', async (t) => {
  const { n, vocab } = await index();
  const q = Uint32Array.of(97, 98, 99), o = Uint32Array.of(0, 3);
  const bad: Array<[string, unknown]> = [
    ['minLength', 2 ** 32], ['minLength', -1], ['minLength', 1.5], ['minLength', '2'],
    ['maxDocuments', 2 ** 32], ['maxDocuments', NaN], ['window', 2 ** 32], ['window', Infinity],
    ['seed', -1], ['seed', 2 ** 53], ['context', 2 ** 53], ['maxCount', -1], ['maxCount', 0.5],
    ['logBase', 1], ['logBase', NaN], ['unseenFloor', 0], ['unseenFloor', Infinity],
    ['delimiters', [46]], ['delimiters', Float64Array.of(46)], ['wordTokens', Uint32Array.of(1)],
  ];
  for (const [k, v] of bad) {
    await expectCode(t, () => n.trace(q, o, { [k]: v } as never), 'ERR_INVALID_ARGUMENT', `trace ${k}: ${String(v)}`);
    await expectCode(t, () => n.traceSync(q, o, { [k]: v } as never), 'ERR_INVALID_ARGUMENT', `traceSync ${k}: ${String(v)}`);
  }
  await expectCode(t, () => n.trace(q, o, 'fast' as never), 'ERR_INVALID_ARGUMENT', 'trace options not an object');
  for (const d of [vocab, 2 ** 32 - 1]) {
    await expectCode(t, () => n.trace(q, o, { delimiters: Uint32Array.of(d) }), 'ERR_TOKEN_RANGE', `delimiter ${d}`);
    await expectCode(t, () => n.traceSync(q, o, { delimiters: Uint32Array.of(d) }), 'ERR_TOKEN_RANGE', `delimiter ${d} (sync)`);
  }
  t.is((await n.trace(q, o, { minLength: 2 ** 32 - 1, maxDocuments: 2 ** 32 - 1, window: 0 })).start.length, 0);
  const CAP = 2 ** 26;  // the most a call may hold (kMaxSnippetTokens)
  for (const [offset, limit, context, cap] of [[-1, 1, 0, CAP], [1.5, 1, 0, CAP], [0, 10_001, 0, CAP], [0, 2 ** 32 + 1, 0, CAP], [0, NaN, 0, CAP], [0, 1, 2 ** 53, CAP],
    ['0', 1, 0, CAP], [0, 1, 0, CAP + 1], [0, 1, 0, -1], [0, 1, 0, undefined]]) {
    await expectCode(t, () => n.locate(q, o, offset as number, limit as number, context as number, cap as number, true), 'ERR_INVALID_ARGUMENT', `locate ${offset} ${limit} ${context} ${cap}`);
    await expectCode(t, () => n.locateSync(q, o, offset as number, limit as number, context as number, cap as number, true), 'ERR_INVALID_ARGUMENT', `locateSync ${offset} ${limit} ${context} ${cap}`);
  }
  for (const bytes of [undefined, 1, 'yes'])
    await expectCode(t, () => n.locate(q, o, 0, 1, 0, CAP, bytes as never), 'ERR_INVALID_ARGUMENT', `locate withBytes ${String(bytes)}`);
  t.is(n.locateSync(Uint32Array.of(97), Uint32Array.of(0, 1), 0, 10_000, 0, CAP, true).documents.length, Math.min(10_000, O.count(DOCS, [97])));
  await expectCode(t, () => n.locate(new Uint32Array(0), Uint32Array.of(0), 0, 1, 0, CAP, true), 'ERR_INVALID_ARGUMENT', 'locate of no query');
  await expectCode(t, () => n.locate(q, Uint32Array.of(0, 1, 3), 0, 1, 0, CAP, true), 'ERR_INVALID_ARGUMENT', 'locate of two queries');
  await expectCode(t, () => n.matchState(2 ** 32), 'ERR_INVALID_ARGUMENT', 'matchState window 2^32');
  await expectCode(t, () => n.matchState(-1), 'ERR_INVALID_ARGUMENT', 'matchState window -1');
  t.is(n.matchState(2 ** 32 - 1).pushed, 0);
  for (const [lengths, samples, seed] of [[Uint32Array.of(4), 1e6 + 1, 0], [Uint32Array.of(4), -1, 0], [Uint32Array.of(4), 1.5, 0],
    [Uint32Array.of(4), 10, 0.5], [Uint32Array.of(4), 10, 2 ** 53], [[4], 10, 0], [Uint32Array.of(4), 10, '1']]) {
    await expectCode(t, () => n.sampleSpans(lengths as never, samples as number, seed as number), 'ERR_INVALID_ARGUMENT', `sampleSpans ${samples} ${seed}`);
    await expectCode(t, () => n.sampleSpansSync(lengths as never, samples as number, seed as number), 'ERR_INVALID_ARGUMENT', `sampleSpansSync ${samples} ${seed}`);
  }
  for (const counts of [Float64Array.of(1, 2), Float64Array.of(-1), Float64Array.of(NaN), Float64Array.of(0.5), [1]]) {
    await expectCode(t, () => n.scoreSpans(q, o, counts as never, {}), 'ERR_INVALID_ARGUMENT', `scoreSpans counts ${String(counts)}`);
    await expectCode(t, () => n.scoreSpansSync(q, o, counts as never, {}), 'ERR_INVALID_ARGUMENT', `scoreSpansSync counts ${String(counts)}`);
  }
});

test('module functions: buildShard, upgradeShard, checksumFile, fs helpers, simd and scoreContinuations read their arguments defensively', async (t) => {
  const { n, dir } = await index();
  const job = (over: Record<string, unknown>) => ({
    dir: path.join(scratch, `shard-${Math.random()}`), tokens: Uint8Array.of(97, 255), tokenWidth: 1, docStarts: Float64Array.of(0, 2),
    metaOffsets: Float64Array.of(0, 2), metaBlob: Buffer.from('{}'), vocabSize: 256 - 1, threads: 1, ...over,
  });
  for (const [over, code] of [
    [{ dir: 5 }, 'ERR_INVALID_ARGUMENT'], [{ tokens: [97, 255] }, 'ERR_INVALID_ARGUMENT'], [{ docStarts: Float64Array.of(0, NaN) }, 'ERR_INVALID_ARGUMENT'],
    [{ docStarts: Float64Array.of(-1, 2) }, 'ERR_INVALID_ARGUMENT'], [{ metaOffsets: [0, 2] }, 'ERR_INVALID_ARGUMENT'], [{ metaBlob: 'x' }, 'ERR_INVALID_ARGUMENT'],
    [{ vocabSize: 2 ** 53 }, 'ERR_INVALID_ARGUMENT'], [{ vocabSize: undefined }, 'ERR_INVALID_ARGUMENT'], [{ threads: 0 }, 'ERR_INVALID_ARGUMENT'],
    [{ threads: 2 ** 31 }, 'ERR_INVALID_ARGUMENT'], [{ tokenWidth: 3 }, 'ERR_TOKEN_WIDTH'], [{ tokenWidth: '1' }, 'ERR_TOKEN_WIDTH'],
    [{ cancel: new Uint8Array(0) }, 'ERR_INVALID_ARGUMENT'],
  ] as Array<[Record<string, unknown>, string]>) {
    await expectCode(t, () => addon.buildShard(job(over) as never), code, `buildShard ${JSON.stringify(over)}`);
  }
  await expectCode(t, () => addon.buildShard(undefined as never), 'ERR_INVALID_ARGUMENT', 'buildShard()');
  const shard = job({});
  const built = await addon.buildShard(shard as never);
  t.deepEqual(built.files.map((f) => f.name), ['tokens.bin', 'docs.bin', 'meta.bin', 'unigram.bin', 'sa.bin', 'samples.bin']);
  const upgrade = (over: Record<string, unknown>) => ({ dir: shard.dir, tokenWidth: 1, tokens: 2, documents: 1, vocabSize: 255, write: false, ...over });
  for (const [over, code] of [
    [{ dir: 5 }, 'ERR_INVALID_ARGUMENT'], [{ tokenWidth: 3 }, 'ERR_TOKEN_WIDTH'], [{ tokenWidth: '1' }, 'ERR_TOKEN_WIDTH'], [{ tokens: -1 }, 'ERR_INVALID_ARGUMENT'],
    [{ documents: undefined }, 'ERR_INVALID_ARGUMENT'], [{ vocabSize: 2 ** 53 }, 'ERR_INVALID_ARGUMENT'], [{ cancel: new Uint8Array(0) }, 'ERR_INVALID_ARGUMENT'],
    [{ tokens: 3 }, 'ERR_INDEX_CORRUPT'], // a shape the files disagree with
  ] as Array<[Record<string, unknown>, string]>) {
    await expectCode(t, () => addon.upgradeShard(upgrade(over) as never), code, `upgradeShard ${JSON.stringify(over)}`);
  }
  await expectCode(t, () => addon.upgradeShard(undefined as never), 'ERR_INVALID_ARGUMENT', 'upgradeShard()');
  t.is(await addon.upgradeShard(upgrade({}) as never), null); // verified, nothing written
  await expectCode(t, () => addon.checksumFile(5 as never), 'ERR_INVALID_ARGUMENT', 'checksumFile(5)');
  await expectCode(t, () => addon.checksumFile(path.join(dir, 'manifest.json'), 'x' as never), 'ERR_INVALID_ARGUMENT', 'checksumFile cancel');
  await expectCode(t, () => addon.exchangeOrRename(1 as never, 2 as never), 'ERR_INVALID_ARGUMENT', 'exchangeOrRename(1, 2)');
  await expectCode(t, () => addon.fsyncPath(null as never), 'ERR_INVALID_ARGUMENT', 'fsyncPath(null)');
  await expectCode(t, () => addon.fsyncPath(path.join(scratch, 'missing')), 'ERR_IO', 'fsyncPath(missing)');
  await expectCode(t, () => addon.selectSimd(5 as never), 'ERR_INVALID_ARGUMENT', 'selectSimd(5)');
  t.is(addon.selectSimd('no-such-kernel'), false);
  const s = n.matchState(0);
  for (const args of [[[s], Uint32Array.of(97), 'k', {}], [[s], Uint32Array.of(97), 2 ** 32, {}], [[s], [97], 1, {}], [[{}], Uint32Array.of(97), 1, {}],
    [[s], Uint32Array.of(97), 1, { tau: '1' }], [[s], Uint32Array.of(97), 1, 'opts'], ['s', Uint32Array.of(97), 1, {}]]) {
    await expectCode(t, () => addon.scoreContinuations(...(args as Parameters<typeof addon.scoreContinuations>)), 'ERR_INVALID_ARGUMENT', `scoreContinuations ${String(args[2])}`);
  }
  for (const specs of ['x', [5], [{ dir: 5 }], [{ dir, tokenWidth: NaN }], [{ dir, tokenWidth: 1, tokens: -1 }], [{ dir, format: 5 }], [{ dir, samples: 'yes' }]]) {
    await expectCode(t, () => addon.NativeIndex.open(specs as never), 'ERR_INVALID_ARGUMENT', `open(${JSON.stringify(specs)})`);
  }
});

/** Whether an async native call ran inline: it returned its answer, not a promise (a pool call returns a promise). */
function answeredInline(out: unknown): boolean {
  return !(out instanceof Promise);
}

test('async count: tiny calls answer inline (the answer, not a promise) as the pool does; larger ones or TRACEINDEX_ASYNC_INLINE=0 take the pool; a cancel flag is read inline', async (t) => {
  const { dir, shardDocs } = await index();
  // The first two shards as an index: one query = 2 searches (inline, the limit is 4); three queries = 6 (pool).
  const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  const specs = m.shards.slice(0, 2).map((s: { dir: string; tokens: number; documents: number }) => ({
    dir: path.join(dir, s.dir), tokenWidth: m.tokenWidth, tokens: s.tokens, documents: s.documents, vocabSize: m.vocabSize,
  }));
  const docs = DOCS.slice(0, shardDocs[0] + shardDocs[1]);
  const n = await addon.NativeIndex.open(specs);
  t.teardown(() => n.close());
  const one = Uint32Array.of(97, 98), off1 = Uint32Array.of(0, 2);
  const three = Uint32Array.of(97, 98, 99, 97), off3 = Uint32Array.of(0, 2, 3, 4);
  const want1 = [O.count(docs, [97, 98])], want3 = [O.count(docs, [97, 98]), O.count(docs, [99]), O.count(docs, [97])];
  t.true(answeredInline(n.count(one, off1)));
  t.deepEqual(Array.from(await n.count(one, off1)), want1);
  t.deepEqual(Array.from(n.countSync(one, off1)), want1);
  t.false(answeredInline(n.count(three, off3)));
  t.deepEqual(Array.from(await n.count(three, off3)), want3);
  t.true(answeredInline(n.count(one, off1, new Uint8Array(1))));  // a flag not set: inline, the same answer
  t.deepEqual(Array.from(await n.count(one, off1, new Uint8Array(1))), want1);
  await expectCode(t, () => n.count(one, off1, Uint8Array.of(1)), 'ERR_ABORTED', 'inline call with its flag set');
  await expectCode(t, () => n.count(Uint32Array.of(100_000), Uint32Array.of(0, 1)), 'ERR_TOKEN_RANGE', 'inline-sized query out of range');

  // The environment switch, in a child process (read once when the addon loads).
  const child = `const { addon } = require(${JSON.stringify(path.join(__dirname, '../lib/native.js'))});
    (async () => {
      const n = await addon.NativeIndex.open(${JSON.stringify(specs)});
      const p = n.count(Uint32Array.of(97, 98), Uint32Array.of(0, 2));
      const at = !(p instanceof Promise);
      console.log(JSON.stringify({ at, count: Array.from(await p) }));
      n.close();
    })();`;
  for (const [value, inline] of [['0', false], ['1', true]] as const) {
    const out = spawnSync(process.execPath, ['-e', child], { encoding: 'utf8', env: { ...process.env, TRACEINDEX_ASYNC_INLINE: value } });
    t.is(out.status, 0, out.stderr);
    t.deepEqual(JSON.parse(out.stdout), { at: inline, count: want1 }, `TRACEINDEX_ASYNC_INLINE=${value}`);
  }
});
