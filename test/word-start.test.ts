/**
 * Text queries on BPE indexes: cl100k_base merges the space before a word into its token, so a plain text
 * query matches only at a text start or after a newline. `wordStart` counts the query as a word inside
 * running text. Checked on a sharded cl100k_base index against (1) a brute-force count over the texts
 * themselves (running text of whole words: the query at a word start, ending at a word end), (2) a
 * brute-force count over the documents tokenized independently, by the documented definition, and (3)
 * locate pages of the merged occurrence list against the brute-force list; and on a bytes index, where
 * wordStart is the plain query.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildIndex, Index, LocateOptions, LocateResult, openIndex } from '../lib/index';
import { coreOf, OCCURRENCE_COST, SNIPPET_BUDGET } from '../lib/query/core';
import { loadTokenizer } from '../lib/tokenizers/named';
import * as O from './helpers/oracle';

const scratch = O.tmpDir('word-start');
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));

// Running text of whole words (no word is a prefix of another, so a token run cannot end inside a word).
const WORDS = ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'cat', 'runs'];
const GAPS = [' ', ' ', ' ', ' ', ' ', ' ', '  ', '\n', '\n '];
const r = O.rng(2024);
const texts = Array.from({ length: 60 }, (_, d) => {
  const parts: string[] = d % 7 === 0 ? ['the', ' ', 'quick', ' ', 'brown', ' ', 'fox'] : [];
  for (let k = O.randInt(r, 5, 60); k > 0; k--) {
    if (parts.length) parts.push(O.pick(r, GAPS));
    // The phrase often, so it occurs both at line starts and after spaces.
    parts.push(O.randInt(r, 0, 6) === 0 ? 'the quick brown fox' : O.pick(r, WORDS));
  }
  return parts.join('');
});

/** Text positions where q starts a word (text start or after whitespace) and ends one (text end or whitespace). */
function wordOccurrences(text: string, q: string, atLineStartOnly: boolean): number {
  let n = 0;
  for (let i = text.indexOf(q); i >= 0; i = text.indexOf(q, i + 1)) {
    const startOk = i === 0 || (atLineStartOnly ? text[i - 1] === '\n' : /\s/.test(text[i - 1]));
    const end = i + q.length;
    if (startOk && (end === text.length || /\s/.test(text[end]))) n++;
  }
  return n;
}

function endsWith(b: number[], a: number[]): boolean {
  return b.length >= a.length && a.every((x, k) => b[b.length - a.length + k] === x);
}

let opened: Promise<{ idx: Index; docs: number[][]; encode: (s: string) => number[] }> | undefined;
function bpe() {
  opened ??= (async () => {
    const tok = await loadTokenizer('cl100k_base');
    const encode = (s: string) => Array.from(tok.encode(s));
    const docs = texts.map(encode);
    const out = path.join(scratch, 'cl100k');
    const built = await buildIndex({ inputs: texts.map((text, i) => ({ text, id: `t${i}` })), out, tokenizer: 'cl100k_base', shardTokens: O.shardTokensFor(docs, 3) });
    if (built.shards < 2) throw new Error('expected several shards');
    return { idx: await openIndex(out), docs, encode };
  })();
  return opened;
}

test('cl100k_base: a plain text query counts the words at a text start or after a newline; wordStart counts every word start', async (t) => {
  const { idx } = await bpe();
  const queries = ['the quick brown fox', 'fox', 'lazy dog', 'the', 'brown fox jumps', 'cat runs over the lazy dog', 'dog'];
  const plain = await idx.countBatch(queries);
  const words = await idx.countBatch(queries, { wordStart: true });
  queries.forEach((q, i) => {
    const atStart = texts.reduce((s, x) => s + wordOccurrences(x, q, true), 0);
    const anywhere = texts.reduce((s, x) => s + wordOccurrences(x, q, false), 0);
    t.is(plain[i], atStart, `plain ${JSON.stringify(q)}`);
    t.is(words[i], anywhere, `wordStart ${JSON.stringify(q)}`);
  });
  // The example: the phrase inside running text is found only with wordStart (or a leading space).
  const phrase = 'the quick brown fox';
  t.true(words[0] > plain[0] && plain[0] > 0);
  t.is(await idx.count(phrase, { wordStart: true }), plain[0] + (await idx.count(' ' + phrase)));
  t.is(idx.countSync(phrase, { wordStart: true }), words[0]);
  t.deepEqual(Array.from(idx.countBatchSync(queries, { wordStart: true })), Array.from(words));
});

test('cl100k_base: wordStart equals the documented definition, by brute force over the documents tokenized independently', async (t) => {
  const { idx, docs, encode } = await bpe();
  const rr = O.rng(9);
  const queries: string[] = [' the', '  fox', '\nthe quick', 'ox jumps', 'e', ' ', 'n\nthe'];
  for (let k = 0; k < 80; k++) {
    const d = O.pick(rr, texts);
    const a = O.randInt(rr, 0, Math.max(1, d.length - 20));
    const q = d.slice(a, a + O.randInt(rr, 1, 20));
    if (q.length) queries.push(q);
  }
  const got = await idx.countBatch(queries, { wordStart: true });
  let spaced = 0;
  queries.forEach((q, i) => {
    const a = encode(q);
    const b = encode(' ' + q);
    // The query's tokens, plus the spaced form's unless it ends with them (then it adds no new text).
    const want = O.count(docs, a) + (endsWith(b, a) ? 0 : O.count(docs, b));
    if (!endsWith(b, a)) spaced++;
    t.is(got[i], want, JSON.stringify(q));
  });
  t.true(spaced > 20 && spaced < queries.length, `${spaced} of ${queries.length} queries have a spaced form of their own`);
});

test('cl100k_base: wordStart locate pages through both forms merged in (document, position) order', async (t) => {
  const { idx, docs, encode } = await bpe();
  for (const q of ['the quick brown fox', 'the', 'fox', 'dog']) {
    const a = O.occurrences(docs, encode(q));
    const b = endsWith(encode(' ' + q), encode(q)) ? [] : O.occurrences(docs, encode(' ' + q));
    const all = [...a, ...b].sort((x, y) => x.doc - y.doc || x.offset - y.offset).map((o) => [o.doc, o.offset]);
    t.true(a.length > 0 && b.length > 0, q);
    const pages = [[0, 10], [0, all.length], [1, 3], [a.length, 7], [Math.floor(all.length / 2), 25], [all.length - 2, 10], [all.length, 5], [all.length + 3, 5], [5, 0]];
    for (const [offset, limit] of pages) {
      const page = await idx.locate(q, { wordStart: true, offset, limit, context: 1 });
      t.is(page.total, all.length, `${q} total`);
      t.deepEqual(page.occurrences.map((o) => [o.document, o.position.token]), all.slice(offset, offset + limit), `${q} [${offset}, +${limit})`);
      for (const o of page.occurrences) t.is(o.id, `t${o.document}`);
    }
    const sync = idx.locateSync(q, { wordStart: true, offset: 2, limit: 9 });
    t.deepEqual(sync.occurrences.map((o) => [o.document, o.position.token]), all.slice(2, 11), `${q} Sync`);
    // Byte positions of both forms: where the token run starts (the space, for the spaced form).
    const some = await idx.locate(q, { wordStart: true, limit: 40 });
    for (const o of some.occurrences) {
      const bytes = Buffer.from(texts[o.document]).subarray(o.position.byte!).toString();
      t.true(bytes.startsWith(q) || bytes.startsWith(' ' + q), `${q} at byte ${o.position.byte}`);
    }
  }
});

// Found by review: each binary-search probe of a two-form page (limit 1, compared and dropped) worked out byte
// offsets, a walk of its document from the start. Probes now ask the core for none; the page's fetches do.
// Serial (before the concurrent tests): the spy sees this test's calls only, and is gone after it.
test.serial('cl100k_base: a wordStart page\'s probes get no byte offsets from the core, its page fetches do', async (t) => {
  const { idx } = await bpe();
  const native = (coreOf(idx) as unknown as { native: Record<string, (...a: unknown[]) => unknown> }).native;
  const seen: Array<{ bytes: unknown; got: boolean }> = [];
  t.teardown(() => { delete native.locate; delete native.locateSync; });  // the own spies; the methods are the prototype's
  for (const name of ['locate', 'locateSync']) {
    const real = native[name].bind(native);
    Object.defineProperty(native, name, {
      configurable: true,
      value: (...a: unknown[]) => {
        const note = (r: { byteOffsets?: unknown }) => (seen.push({ bytes: a[6], got: r.byteOffsets !== undefined }), r);
        const r = real(...a) as { byteOffsets?: unknown } | Promise<{ byteOffsets?: unknown }>;
        return r instanceof Promise ? r.then(note) : note(r);
      },
    });
  }
  const page = await idx.locate('fox', { wordStart: true, offset: 3, limit: 5 });
  const sync = idx.locateSync('fox', { wordStart: true, offset: 3, limit: 5 });
  t.deepEqual(sync.occurrences.map((o) => o.position), page.occurrences.map((o) => o.position));
  t.true(page.occurrences.every((o) => typeof o.position.byte === 'number'));
  t.true(seen.filter((c) => c.bytes === false).length >= 4, JSON.stringify(seen));  // totals and probes
  t.deepEqual(seen.filter((c) => c.bytes === true).length, 4);  // each form's page, async and Sync
  for (const c of seen) t.is(c.got, c.bytes === true);
});

// What a page costs in the call's budget (docs/api.md, numeric arguments): its snippet tokens, OCCURRENCE_COST per
// occurrence and its record a token per 4 bytes (the records here are {"id":"tN"}).
const pageCost = (p: LocateResult) => p.occurrences.reduce((c, o) => c + o.snippet.tokens.length + OCCURRENCE_COST + Math.floor(Buffer.byteLength(JSON.stringify({ id: o.id })) / 4), 0);

test('cl100k_base: a wordStart locate page is held to the call\'s budget as a whole, not each form\'s fetch to all of it', async (t) => {
  const { idx } = await bpe();
  for (const q of ['the quick brown fox', 'fox']) {
    const total = (await idx.locate(q, { wordStart: true, limit: 0 })).total;
    for (const [offset, limit] of [[0, 10], [0, 200], [7, 31], [total - 5, 10]]) {
      const page = await idx.locate(q, { wordStart: true, offset, limit, context: 3 });
      t.is(page.occurrences.length, Math.min(limit, total - offset));
      const spaced = page.occurrences.filter((o) => texts[o.document][Buffer.from(texts[o.document]).subarray(0, o.position.byte!).toString().length] === ' ').length;
      if (limit === 200) t.true(spaced > 0 && spaced < page.occurrences.length, `${q}: both forms in the page (${spaced} spaced)`);
      const cost = pageCost(page);
      const at = (budget: number) => idx.locate(q, { wordStart: true, offset, limit, context: 3, [SNIPPET_BUDGET]: budget } as LocateOptions);
      // Exactly its cost: the same page (each form's fetch was given the whole budget: the two could hold twice it).
      t.deepEqual((await at(cost)).occurrences.map((o) => [o.document, o.position.token]), page.occurrences.map((o) => [o.document, o.position.token]), `${q} [${offset}, +${limit})`);
      t.deepEqual(idx.locateSync(q, { wordStart: true, offset, limit, context: 3, [SNIPPET_BUDGET]: cost } as LocateOptions).occurrences.length, page.occurrences.length);
      // One token less: refused.
      const err = await t.throwsAsync(at(cost - 1));
      t.is((err as { code?: string }).code, 'ERR_TOO_LARGE', `${q} [${offset}, +${limit}) at ${cost - 1}`);
      t.throws(() => idx.locateSync(q, { wordStart: true, offset, limit, context: 3, [SNIPPET_BUDGET]: cost - 1 } as LocateOptions), { code: 'ERR_TOO_LARGE' });
    }
  }
});

// Regression (found by review rev5): the single-occurrence probes of the binary searches were bound by the page's
// budget, so a probe landing on a document with a large record was refused although the page, of small ones, fit.
test('cl100k_base: a wordStart page of small records fits its cost though its probes land on documents with large records', async (t) => {
  const out = path.join(scratch, 'records');
  // "fox" at a text start (the query's own form) in small-record documents, " fox" (the spaced form) in large ones.
  const inputs = Array.from({ length: 12 }, (_, d) => (d % 2 === 0 ? { text: 'fox jumps', id: `s${d}` } : { text: 'the fox', id: `${'x'.repeat(400)}${d}` }));
  await buildIndex({ inputs, out, tokenizer: 'cl100k_base' });
  const idx = await openIndex(out);
  t.teardown(() => idx.close());
  const ids = inputs.map((d) => d.id);
  for (const limit of [1, 2, 5]) {
    for (let offset = 0; offset < inputs.length; offset++) {
      const o = { wordStart: true, offset, limit, context: 0 };
      const page = await idx.locate('fox', o);
      t.deepEqual(page.occurrences.map((x) => x.id), ids.slice(offset, offset + limit));
      const cost = pageCost(page);
      const at = (budget: number) => ({ ...o, [SNIPPET_BUDGET]: budget }) as LocateOptions;
      const where = `[${offset}, +${limit}) at ${cost}`;
      t.deepEqual((await idx.locate('fox', at(cost))).occurrences.map((x) => x.id), ids.slice(offset, offset + limit), where);
      t.is(idx.locateSync('fox', at(cost)).occurrences.length, page.occurrences.length, where);
      await t.throwsAsync(idx.locate('fox', at(cost - 1)), { code: 'ERR_TOO_LARGE' }, where);
      t.throws(() => idx.locateSync('fox', at(cost - 1)), { code: 'ERR_TOO_LARGE' }, where);
    }
  }
});

test('bytes tokenizer: the spaced form holds the query itself, so wordStart is the plain query', async (t) => {
  const out = path.join(scratch, 'bytes');
  await buildIndex({ inputs: texts.map((text) => ({ text })), out, shardTokens: 2000 });
  const idx = await openIndex(out);
  const queries = ['the quick brown fox', 'fox', 'e', ' the'];
  t.deepEqual(Array.from(await idx.countBatch(queries, { wordStart: true })), Array.from(await idx.countBatch(queries)));
  t.deepEqual(Array.from(await idx.countBatch(queries)), queries.map((q) => O.count(texts.map(O.utf8), O.utf8(q))));
  const plain = await idx.locate('fox', { offset: 3, limit: 20 });
  const words = await idx.locate('fox', { offset: 3, limit: 20, wordStart: true });
  t.deepEqual(words, plain);
  idx.close();
});

test('wordStart needs text queries and a boolean; an empty text query is refused', async (t) => {
  const { idx, encode } = await bpe();
  await t.throwsAsync(idx.count(encode('fox'), { wordStart: true }), { code: 'ERR_INVALID_ARGUMENT', message: /wordStart needs text queries/ });
  await t.throwsAsync(idx.locate(encode('fox'), { wordStart: true }), { code: 'ERR_INVALID_ARGUMENT' });
  await t.throwsAsync(idx.count('fox', { wordStart: 'yes' as unknown as boolean }), { code: 'ERR_INVALID_ARGUMENT', message: /wordStart/ });
  await t.throwsAsync(idx.countBatch(['fox', ''], { wordStart: true }), { code: 'ERR_INVALID_ARGUMENT', message: /query 1 is empty/ });
  t.is(await idx.count(encode('fox'), { wordStart: false }), await idx.count('fox'));
});

test('CLI count and locate --word-start answer as the API', async (t) => {
  const { idx } = await bpe();
  const cli = (...args: string[]) => spawnSync(process.execPath, [O.CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  const count = cli('count', idx.dir, 'the quick brown fox', '--word-start', '--json');
  t.is(count.status, 0, count.stderr);
  t.deepEqual(JSON.parse(count.stdout), { count: await idx.count('the quick brown fox', { wordStart: true }) });
  const located = cli('locate', idx.dir, 'fox', '--word-start', '--offset', '4', '--limit', '6', '--json');
  t.is(located.status, 0, located.stderr);
  const want = await idx.locate('fox', { wordStart: true, offset: 4, limit: 6 });
  t.deepEqual(JSON.parse(located.stdout), JSON.parse(JSON.stringify(want)));
  t.is(cli('count', idx.dir, '--tokens', '1,2', '--word-start').status, 1, 'token ids with --word-start: ERR_INVALID_ARGUMENT');
});
