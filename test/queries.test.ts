/**
 * Oracle tests: every query answer equals a brute-force answer computed from the documents, for 1-, 2- and
 * 4-byte tokens, single- and multi-shard builds of the same documents.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildIndex, Index, openIndex } from '../lib/index';
import type { DocumentRecord } from '../lib/index';
import * as O from './helpers/oracle';

const scratch = O.tmpDir('queries');
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));
let dirs = 0;

interface Case {
  name: string;
  docs: number[][];
  texts?: string[]; // bytes tokenizer: the documents' text (docs are its UTF-8 bytes)
  vocab: number;
  alphabet: number;
  base: number;
  tokenizer: 'bytes' | { name: string; vocabSize: number };
  npatterns: number;
}

function records(c: Case): DocumentRecord[] {
  return c.docs.map((d, i) => {
    const rec: DocumentRecord = c.texts ? { text: c.texts[i] } : { tokens: d };
    rec.id = `${c.name}-doc-${i}`;
    if (i % 3 !== 0) rec.meta = { n: i, tag: `t${i % 5}`, nested: { even: i % 2 === 0 } };
    return rec;
  });
}

async function build(c: Case, shardTokens?: number): Promise<Index> {
  const out = path.join(scratch, `${c.name}-${dirs++}`);
  await buildIndex({ inputs: records(c), out, tokenizer: c.tokenizer, shardTokens });
  return openIndex(out);
}

const smallShards = (docs: number[][]) => O.shardTokensFor(docs, 5);

const decodes = (bytes: number[]): string | undefined => {
  const s = Buffer.from(bytes).toString('utf8');
  return Buffer.from(s, 'utf8').equals(Buffer.from(bytes)) ? s : undefined;
};
const trim = (s: string) => s.replace(/^\uFFFD+/, '').replace(/\uFFFD+$/, '');

/** Document number → shard ordinal, from the manifest's per-shard document counts. */
function shardOf(idx: Index): (doc: number) => number {
  const firsts: number[] = [];
  let acc = 0;
  for (const s of idx.info.shards) { firsts.push(acc); acc += s.documents; }
  return (doc) => {
    let s = 0;
    while (s + 1 < firsts.length && firsts[s + 1] <= doc) s++;
    return s;
  };
}

async function checkAll(t: import('ava').ExecutionContext, c: Case, idx: Index, seed: number): Promise<void> {
  const r = O.rng(seed);
  const docs = c.docs;
  const pats = O.patterns(r, docs, c.npatterns, c.alphabet, c.base);
  // Long queries: whole long documents, and a long document with one token appended (absent).
  const longest = docs.reduce((a, d) => (d.length > a.length ? d : a), [] as number[]);
  pats.push(longest.slice(), longest.concat([c.base]), longest.slice(1, 200));
  const text = c.tokenizer === 'bytes';
  const shard = shardOf(idx);
  t.is(idx.info.documents, docs.length);
  t.is(idx.info.tokens, O.totalTokens(docs));

  // count: batch (async and sync), single async and sync forms, token ids and text.
  const expected = pats.map((p) => O.count(docs, p));
  t.deepEqual(Array.from(await idx.countBatch(pats)), expected, 'countBatch');
  t.deepEqual(Array.from(idx.countBatchSync(pats)), expected, 'countBatchSync');
  // Every form a batch may hold, mixed in one batch, packs to the same queries.
  const forms = (p: number[], i: number) => [p, Uint32Array.from(p), { tokens: p, fingerprint: idx.tokenizer.fingerprint }, { ...p, length: p.length }][i % 4];
  t.deepEqual(Array.from(idx.countBatchSync(pats.map(forms))), expected, 'countBatchSync, mixed forms');
  for (let i = 0; i < pats.length; i++) {
    t.is(idx.countSync(pats[i]), expected[i], `countSync ${pats[i].slice(0, 20)}`);
    if (text) {
      const s = decodes(pats[i]);
      if (s !== undefined) t.is(idx.countSync(s), expected[i], `countSync text ${JSON.stringify(s.slice(0, 20))}`);
    }
  }
  const asyncCounts = await Promise.all(pats.slice(0, 60).map((p) => idx.count(Uint32Array.from(p))));
  t.deepEqual(asyncCounts, expected.slice(0, 60), 'count async');

  // locate: exact documents, ids, metadata, positions, snippets; paging across shards.
  const recs = records(c);
  for (let i = 0; i < Math.min(pats.length, 80); i++) {
    const p = pats[i];
    const occ = O.occurrences(docs, p);
    const offset = i % 4 === 0 ? 0 : O.randInt(r, 0, occ.length + 2);
    const limit = O.randInt(r, 0, 12);
    const context = O.randInt(r, 0, 8);
    const got = i % 2 ? await idx.locate(p, { offset, limit, context }) : idx.locateSync(p, { offset, limit, context });
    t.is(got.total, occ.length, `locate total ${p.slice(0, 20)}`);
    const want = occ.slice(offset, offset + limit);
    t.deepEqual(got.occurrences.map((o) => [o.document, o.position.token]), want.map((o) => [o.doc, o.offset]), `locate page ${offset}+${limit}`);
    got.occurrences.forEach((o, k) => {
      const w = want[k];
      if (!w) return;
      t.is(o.id, recs[w.doc].id!);
      t.deepEqual(o.metadata, recs[w.doc].meta);
      t.is(o.shard, shard(w.doc));
      const begin = Math.max(0, w.offset - context);
      const snippet = docs[w.doc].slice(begin, Math.min(docs[w.doc].length, w.offset + p.length + context));
      t.is(o.snippet.start, begin);
      t.deepEqual(Array.from(o.snippet.tokens), snippet);
      if (text) {
        t.is(o.position.byte, Buffer.from(c.texts![w.doc], 'utf8').subarray(0, w.offset).length);
        t.is(o.snippet.text as string, trim(Buffer.from(snippet).toString('utf8')));
      } else {
        t.is(o.position.byte, undefined);
        t.is(o.snippet.text, undefined);
      }
    });
  }
  // Paging through every occurrence of frequent patterns, 7 at a time, gives the oracle's full list.
  const frequent = pats.filter((_, i) => expected[i] > 20).slice(0, 5);
  for (const p of frequent) {
    const all: Array<[number, number]> = [];
    for (let off = 0; ; off += 7) {
      const page = idx.locateSync(p, { offset: off, limit: 7, context: 0 });
      if (page.occurrences.length === 0) break;
      all.push(...page.occurrences.map((o): [number, number] => [o.document, o.position.token]));
    }
    t.deepEqual(all, O.occurrences(docs, p).map((o): [number, number] => [o.doc, o.offset]), 'paged locate');
  }

  // longestMatch: present prefixes with random tails, and everything above.
  const lq = pats.concat(pats.slice(0, 50).map((p) => p.concat(O.randomTokens(r, 5, c.alphabet, c.base))), [[]]);
  const wantLongest = lq.map((q) => O.longestPrefix(docs, q));
  const gotLongest = await idx.longestMatchBatch(lq);
  t.deepEqual(gotLongest.map((m) => ({ length: m.length, count: m.count })), wantLongest, 'longestMatchBatch');
  t.deepEqual(idx.longestMatchBatchSync(lq).map((m) => ({ length: m.length, count: m.count })), wantLongest, 'longestMatchBatchSync');
  for (let i = 0; i < 20; i++) {
    const m = await idx.longestMatch(lq[i]);
    t.deepEqual({ length: m.length, count: m.count }, wantLongest[i]);
    if (text) t.is(m.text, Buffer.from(lq[i].slice(0, m.length)).toString('utf8'));
  }

  // nextTokens: exact distributions.
  const ctxs = lq.slice(0, 150);
  const wantNext = ctxs.map((q) => O.nextTokens(docs, q));
  const norm = (n: { suffixLength: number; total: number; tokens: ArrayLike<number>; counts: ArrayLike<number> }) =>
    ({ suffixLength: n.suffixLength, total: n.total, tokens: Array.from(n.tokens), counts: Array.from(n.counts) });
  t.deepEqual((await idx.nextTokensBatch(ctxs)).map(norm), wantNext, 'nextTokensBatch');
  t.deepEqual(idx.nextTokensBatchSync(ctxs).map(norm), wantNext, 'nextTokensBatchSync');
  t.deepEqual(norm(await idx.nextTokens(ctxs[3])), wantNext[3]);
  t.deepEqual(norm(idx.nextTokensSync(ctxs[4])), wantNext[4]);

  // documents, by number and by id.
  for (let d = 0; d < docs.length; d++) {
    const doc = d % 2 ? await idx.document(d) : idx.documentSync(d);
    t.deepEqual(Array.from(doc.tokens), docs[d], `document ${d}`);
    t.is(doc.id, recs[d].id!);
    t.deepEqual(doc.metadata, recs[d].meta);
    t.is(doc.text as string, text ? c.texts![d] : (undefined as unknown as string));
    if (d % 7 === 0) t.is((await idx.document(recs[d].id!)).document, d, `document by id ${recs[d].id}`);
  }

  // unigram counts.
  t.deepEqual(Array.from(idx.unigramCounts()), O.unigram(docs, c.vocab), 'unigramCounts');
}

function byteCase(name: string, seed: number): Case {
  const r = O.rng(seed);
  const docs = O.randomDocs(r, 80, 300, 4, 97).concat(O.adversarialDocs(r, 255).map((d) => d.map((x) => (x >= 128 ? 97 + (x % 4) : x))));
  // Keep every document valid UTF-8 (ASCII): map any byte >= 128 to a letter.
  const texts = docs.map((d) => Buffer.from(d).toString('latin1'));
  return { name, docs, texts, vocab: 255, alphabet: 4, base: 97, tokenizer: 'bytes', npatterns: 300 };
}

function realTextCase(): Case {
  const r = O.rng(7);
  const texts = O.realTexts(150_000, 30).map((x) => x.text).concat(O.unicodeTexts(r, 40));
  const docs = texts.map(O.utf8);
  return { name: 'real', docs, texts, vocab: 255, alphabet: 255, base: 0, tokenizer: 'bytes', npatterns: 200 };
}

function idCase(name: string, vocab: number, seed: number): Case {
  const r = O.rng(seed);
  const alphabet = 6;
  const base = vocab - 40; // ids near the top of the vocabulary, where width matters
  const docs = O.randomDocs(r, 70, 250, alphabet, base).concat(O.adversarialDocs(r, vocab), [O.randomTokens(r, 300, vocab)]);
  return { name, docs, vocab, alphabet, base, tokenizer: { name: `${name}-ids`, vocabSize: vocab }, npatterns: 300 };
}

const cases: Array<[string, () => Case]> = [
  ['u8 bytes tokenizer, random + adversarial ASCII', () => byteCase('u8', 1)],
  ['u8 bytes tokenizer, real and unicode text', realTextCase],
  ['u16 pretokenized (vocab 1000)', () => idCase('u16', 1000, 2)],
  ['u32 pretokenized (vocab 100000)', () => idCase('u32', 100000, 3)],
];

for (const [title, make] of cases) {
  test(`${title}: single shard equals the oracle`, async (t) => {
    const c = make();
    const idx = await build(c);
    t.is(idx.info.shards.length, 1);
    t.is(idx.info.tokenWidth, c.vocab <= 255 ? 1 : c.vocab <= 65535 ? 2 : 4);
    await checkAll(t, c, idx, 11);
    idx.close();
  });

  test(`${title}: 3+ shards equal the oracle and the single-shard answers`, async (t) => {
    const c = make();
    const multi = await build(c, smallShards(c.docs));
    t.true(multi.info.shards.length >= 3, `${multi.info.shards.length} shards`);
    await checkAll(t, c, multi, 12);
    const single = await build(c);
    const pats = O.patterns(O.rng(99), c.docs, 100, c.alphabet, c.base);
    t.deepEqual(Array.from(multi.countBatchSync(pats)), Array.from(single.countBatchSync(pats)));
    t.deepEqual(multi.longestMatchBatchSync(pats), single.longestMatchBatchSync(pats));
    const strip = (n: ReturnType<Index['nextTokensSync']>) => ({ ...n, tokens: Array.from(n.tokens), counts: Array.from(n.counts) });
    t.deepEqual(multi.nextTokensBatchSync(pats).map(strip), single.nextTokensBatchSync(pats).map(strip));
    for (const p of pats.slice(0, 30)) {
      const a = multi.locateSync(p, { limit: 1000 });
      const b = single.locateSync(p, { limit: 1000 });
      t.deepEqual(a.occurrences.map((o) => [o.document, o.id, o.position.token]), b.occurrences.map((o) => [o.document, o.id, o.position.token]));
    }
    t.deepEqual(Array.from(multi.unigramCounts()), Array.from(single.unigramCounts()));
    multi.close();
    single.close();
  });
}

test('the on-disk suffix arrays equal a naive suffix sort and mnemonist (DC3)', async (t) => {
  const c = byteCase('sa8', 5);
  const idx = await build(c);
  const dir = path.join(idx.dir, idx.info.shards[0].dir);
  const text = O.readPayload(path.join(dir, 'tokens.bin'), 1);
  t.deepEqual(text, O.shardText(c.docs, 255));
  const sa = O.readPayload(path.join(dir, 'sa.bin'), 4);
  t.deepEqual(sa, O.naiveSuffixSort(text, 255));
  idx.close();
  // mnemonist's DC3 is a second oracle for small one-document strings (it misorders some long real texts).
  const r = O.rng(21);
  for (let k = 0; k < 5; k++) {
    const doc = O.randomTokens(r, 200 + 37 * k, 2 + k, 97);
    const one: Case = { name: `sa1-${k}`, docs: [doc], texts: [Buffer.from(doc).toString('latin1')], vocab: 255, alphabet: 2, base: 97, tokenizer: 'bytes', npatterns: 0 };
    const ix = await build(one);
    const d = path.join(ix.dir, ix.info.shards[0].dir);
    const tx = O.readPayload(path.join(d, 'tokens.bin'), 1);
    const got = O.readPayload(path.join(d, 'sa.bin'), 4);
    t.deepEqual(got, O.mnemonistSuffixSort(tx, 255));
    t.deepEqual(got, O.naiveSuffixSort(tx, 255));
    ix.close();
  }
  for (const [name, vocab, width, sep] of [['sa16', 1000, 2, 0xffff], ['sa32', 100000, 4, 0xffffffff]] as const) {
    const ci = idCase(name, vocab, 6);
    ci.docs = ci.docs.slice(0, 40).concat(O.adversarialDocs(O.rng(8), vocab));
    const ix = await build(ci);
    const d = path.join(ix.dir, ix.info.shards[0].dir);
    const tx = O.readPayload(path.join(d, 'tokens.bin'), width);
    t.deepEqual(tx, O.shardText(ci.docs, sep));
    t.deepEqual(O.readPayload(path.join(d, 'sa.bin'), 4), O.naiveSuffixSort(tx, sep), name);
    ix.close();
  }
});

test('the oracles themselves: boundaries, empty documents and suffix sorts agree on a hand-checked corpus', (t) => {
  const docs = [[1, 2], [], [2, 1, 2], [1]];
  t.deepEqual(O.occurrences(docs, [2, 1]), [{ doc: 2, offset: 0 }]); // [1,2]|[2,...] would cross a boundary
  t.deepEqual(O.occurrences(docs, [1, 2]), [{ doc: 0, offset: 0 }, { doc: 2, offset: 1 }]);
  t.deepEqual(O.longestPrefix(docs, [2, 1, 2, 2]), { length: 3, count: 1 });
  t.deepEqual(O.longestPrefix(docs, [9]), { length: 0, count: 6 });
  t.deepEqual(O.nextTokens(docs, [5, 1]), { suffixLength: 1, total: 2, tokens: [2], counts: [2] });
  t.deepEqual(O.nextTokens(docs, [2]), { suffixLength: 1, total: 1, tokens: [1], counts: [1] });
  const r = O.rng(5);
  for (let k = 0; k < 50; k++) {
    const text = O.shardText([O.randomTokens(r, 1 + k * 7, 2 + (k % 4), 97)], 255);
    t.deepEqual(O.naiveSuffixSort(text, 255), O.mnemonistSuffixSort(text, 255));
  }
  // A shard text: suffixes are cut at separators only by order (the separator is the largest token).
  t.deepEqual(O.naiveSuffixSort(O.shardText(docs, 255), 255), [5, 0, 8, 4, 6, 1]);
});
