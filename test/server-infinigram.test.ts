/**
 * The infini-gram compatible endpoint (POST /) against infini-gram's own engine on the same index: an index
 * written by infini-gram's indexer (bench/python/ig_index.py), served by traceindex in place, and queried through
 * infini_gram.engine.InfiniGramEngine in a child Python (test/helpers/infinigram_engine.py). Every field the
 * engine returns must be equal (unigram_logprob_sum to 1e-9 relative). Reported as skipped, with the reason, when
 * Python or the infini_gram package is missing (pip install -r bench/python/requirements.txt; TRACEINDEX_PYTHON).
 * find and get_doc_by_rank on an index built by traceindex (its own suffix arrays) are checked against a naive
 * suffix sort of each shard, with no Python.
 */
import test, { ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildIndex, openIndex } from '../lib/index';
import { createServer } from '../lib/server';
import * as O from './helpers/oracle';

type Json = Record<string, unknown>;

/** -1, 0 or 1: the suffix at p of text against q (q a prefix of it: 0; the suffix ending first: -1). */
function compareSuffix(text: number[], p: number, q: number[]): number {
  for (let k = 0; k < q.length; k++) {
    if (p + k >= text.length) return -1;
    if (text[p + k] !== q[k]) return text[p + k] < q[k] ? -1 : 1;
  }
  return 0;
}

test('POST / find and get_doc_by_rank on a traceindex index equal each shard\'s naive suffix array', async (t) => {
  const scratch = O.tmpDir('server-ig-ranks');
  t.teardown(() => fs.rmSync(scratch, { recursive: true, force: true }));
  const r = O.rng(31);
  const texts = Array.from({ length: 40 }, () => Array.from({ length: O.randInt(r, 0, 40) }, () => 'abcab '[O.randInt(r, 0, 6)]).join(''));
  const docs = texts.map(O.utf8);
  const out = path.join(scratch, 'idx');
  await buildIndex({ inputs: texts.map((text, i) => ({ text, id: `d${i}` })), out, shardTokens: O.shardTokensFor(docs, 3) });
  const index = await openIndex(out);
  t.teardown(() => index.close());
  const server = await createServer({ indexes: { ti: index } });
  t.teardown(() => server.shutdown());
  const ask = async (body: Json, status = 200) => {
    const res = await server.app.inject({ method: 'POST', url: '/', payload: { index: 'ti', ...body } });
    t.is(res.statusCode, status, res.body.slice(0, 300));
    return res.json() as Json;
  };
  // Each shard's documents, stream and suffix array (document-token suffixes, by token value, 255 the separator).
  const shards: Array<{ first: number; text: number[]; sa: number[]; docOf: number[]; offsetOf: number[] }> = [];
  let first = 0;
  for (const sh of index.info.shards) {
    const mine = docs.slice(first, first + sh.documents);
    const text = O.shardText(mine, 255);
    const docOf: number[] = [];
    const offsetOf: number[] = [];
    mine.forEach((d, k) => { for (let i = 0; i <= d.length; i++) { docOf.push(first + k); offsetOf.push(i); } });
    shards.push({ first, text, sa: O.naiveSuffixSort(text, 255), docOf, offsetOf });
    first += sh.documents;
  }
  t.true(shards.length >= 2);
  const queries: number[][] = [[], [97], [98, 97], [32, 97, 98], [122], [99, 99, 99, 99, 99, 99], [97, 98, 99, 97, 98]];
  for (let i = 0; i < 30; i++) {
    const d = O.pick(r, docs.filter((x) => x.length > 0));
    const at = O.randInt(r, 0, d.length);
    queries.push(d.slice(at, at + O.randInt(r, 1, 6)));
  }
  for (const q of queries) {
    const got = await ask({ query_type: 'find', query_ids: q });
    const want = shards.map(({ text, sa }): [number, number] => {
      if (q.length === 0) return [0, sa.length];
      const lo = sa.filter((p) => compareSuffix(text, p, q) < 0).length;
      return [lo, lo + sa.filter((p) => compareSuffix(text, p, q) === 0).length];
    });
    t.deepEqual(got.segment_by_shard, want, JSON.stringify(q));
    t.is(got.cnt, q.length === 0 ? O.totalTokens(docs) : O.count(docs, q));
    t.deepEqual(got.token_ids, q);
  }
  // Every rank of every shard, with display lengths that cut the documents and one that does not.
  const query = [97, 98];
  for (const [s, sh] of shards.entries()) {
    for (let rank = 0; rank < sh.sa.length; rank++) {
      const maxDisp = [1, 2, 5, 1000][rank % 4];
      const got = await ask({ query_type: 'get_doc_by_rank', query_ids: query, s, rank, max_disp_len: maxDisp });
      const p = sh.sa[rank];
      const doc = sh.docOf[p];
      const off = sh.offsetOf[p];
      const lo = Math.max(0, off - Math.floor(maxDisp / 2));
      const hi = Math.min(docs[doc].length, off + maxDisp - Math.floor(maxDisp / 2));
      t.like(got, { doc_ix: doc, doc_len: docs[doc].length, disp_len: hi - lo, needle_offset: off - lo, blocked: false, tokens: ['a', 'b'] });
      t.deepEqual(got.token_ids, docs[doc].slice(lo, hi));
      t.is(got.metadata, `{"id": "d${doc}", "metadata": {}}\n`);
      const spans = got.spans as Array<[string, string | null]>;
      t.is(spans.map(([x]) => x).join(''), texts[doc].slice(lo, hi));
      t.true(spans.every(([x, label]) => (label === '0') === (x === 'ab')));
    }
  }
  // Without a query the display is one unlabelled piece; ranks and shards outside the index are 404.
  const whole = await ask({ query_type: 'get_doc_by_rank', s: 0, rank: 0 });
  t.deepEqual(whole.spans, [[Buffer.from(whole.token_ids as number[]).toString(), null]]);
  t.like(await ask({ query_type: 'get_doc_by_rank', s: 0, rank: shards[0].sa.length }, 404), { code: 'ERR_NOT_FOUND' });
  t.like(await ask({ query_type: 'get_doc_by_rank', s: shards.length, rank: 0 }, 404), { code: 'ERR_NOT_FOUND' });
  t.like(await ask({ query_type: 'get_doc_by_rank', rank: 0 }, 400), { code: 'ERR_INVALID_ARGUMENT' });
  t.like(await ask({ query_type: 'get_doc_by_rank', s: 0, rank: 0, max_disp_len: 0 }, 400), { code: 'ERR_INVALID_ARGUMENT' });
  t.like(await ask({ query_type: 'find', query: 'ab AND ba' }, 400), { code: 'ERR_UNSUPPORTED' });
  t.deepEqual(await ask({ query_type: 'count', query_ids: [[[97]], [[98]]] }, 400), { error: 'CNF (AND / OR) queries are not supported', code: 'ERR_UNSUPPORTED' });
  t.like(await ask({ query_type: 'count', query_ids: [97, [98]] }, 400), { code: 'ERR_INVALID_ARGUMENT' });
  // search_docs: each idx is a position in the shards' ranges laid end to end, shown as get_doc_by_rank shows that
  // rank (a window of max_disp_len tokens, not the whole document read first).
  for (const [q, maxDisp] of [[[97, 98], 3], [[98], 1000], [[32, 97], 1]] as Array<[number[], number]>) {
    const got = await ask({ query_type: 'search_docs', query_ids: q, maxnum: 100, max_disp_len: maxDisp });
    t.is(got.cnt, O.count(docs, q));
    const ranges = ((await ask({ query_type: 'find', query_ids: q })).segment_by_shard as Array<[number, number]>);
    const idxs = got.idxs as number[];
    t.is(idxs.length, 100);
    (got.documents as Json[]).forEach((d, k) => {
      let idx = idxs[k];
      let s = 0;
      for (; idx >= ranges[s][1] - ranges[s][0]; s++) idx -= ranges[s][1] - ranges[s][0];
      const p = shards[s].sa[ranges[s][0] + idx];
      const doc = shards[s].docOf[p];
      const off = shards[s].offsetOf[p];
      const lo = Math.max(0, off - Math.floor(maxDisp / 2));
      const hi = Math.min(docs[doc].length, off + maxDisp - Math.floor(maxDisp / 2));
      t.like(d, { doc_ix: doc, doc_len: docs[doc].length, disp_len: hi - lo, needle_offset: off - lo, blocked: false });
      t.deepEqual(d.token_ids, docs[doc].slice(lo, hi));
    });
  }
  t.like(await ask({ query_type: 'search_docs', query_ids: [97], maxnum: 100, max_disp_len: 1_000_000 }, 413), { code: 'ERR_TOO_LARGE' });
  // attribute: min(max_cnt, 10 000) attributions per output token at most, within maxResultTokens.
  const long = new Array(1000).fill(97);
  t.deepEqual(await ask({ query_type: 'attribute', query_ids: long, max_cnt: 1_000_000 }, 413),
    { error: 'the answer may hold 10000000 tokens, more than the limit of 8388608 per request: ask for a smaller max_cnt', code: 'ERR_TOO_LARGE' });
  const attributed = await ask({ query_type: 'attribute', query_ids: long, max_cnt: 8388 });
  t.deepEqual((attributed.spans as Array<{ l: number; r: number; count: number }>).map((x) => [x.l, x.r, x.count]),
    (await index.trace(long, { maxCount: 8388, maxDocuments: 8388, context: 0 })).spans.map((x) => [x.start, x.end, x.count]));
  // Names of Object.prototype are unknown query types, not "unsupported" ones found on the prototype.
  for (const type of ['constructor', '__proto__', 'toString', 'hasOwnProperty'])
    t.like(await ask({ query_type: type, query: 'ab' }, 400), { code: 'ERR_INVALID_ARGUMENT', error: `Invalid query_type: ${type} (supported: count, prob, ntd, infgram_prob, infgram_ntd, search_docs, attribute, find, get_doc_by_rank)` });
});

const IG_INDEX = path.join(O.REPO, 'bench', 'python', 'ig_index.py');
const ENGINE = path.join(O.REPO, 'test', 'helpers', 'infinigram_engine.py');

function findPython(): { python?: string; why: string } {
  const candidates = process.env.TRACEINDEX_PYTHON ? [process.env.TRACEINDEX_PYTHON] : [path.join(O.REPO, '.venv', 'bin', 'python'), 'python3'];
  const tried: string[] = [];
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import infini_gram.engine, numpy'], { encoding: 'utf8' });
    if (r.status === 0) return { python: py, why: '' };
    tried.push(`${py}: ${r.error ? r.error.message : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`)}`);
  }
  return { why: `no Python with infini_gram (pip install -r bench/python/requirements.txt, or set TRACEINDEX_PYTHON); tried ${tried.join('; ')}` };
}
const { python, why } = findPython();

if (!python) {
  test.skip(`infini-gram compatible endpoint against infini-gram's engine: skipped, ${why}`, () => {});
} else {
  // infini-gram's u8 engine takes ids below 255 only, so its eos is a byte that no UTF-8 text holds (0xFE).
  const EOS = 254;

  /** Random word documents as JSONL, indexed by infini-gram's own indexer (u8, metadata) once per entry of `shards`. */
  const igIndexes = (t: ExecutionContext, scratch: string, r: () => number, shards: number[]) => {
    const words = Array.from({ length: 80 }, () => Array.from({ length: O.randInt(r, 1, 5) }, () => 'abcdefgh'[O.randInt(r, 0, 8)]).join(''));
    const docs = Array.from({ length: 90 }, (_, d) => ({ id: `doc-${d}`, text: Array.from({ length: O.randInt(r, 1, 60) }, () => O.pick(r, words)).join(O.randInt(r, 0, 3) ? ' ' : '. ') + (d % 7 === 0 ? ' é' : '') }));
    const data = path.join(scratch, 'data');
    fs.mkdirSync(data);
    fs.writeFileSync(path.join(data, 'docs.jsonl'), docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
    const dirs = shards.map((n, i) => {
      const save = path.join(scratch, `ig-${i}`);
      const ix = spawnSync('sh', ['-c', `exec "$0" "$@" --temp_dir "${save}.tmp" --cpus 1 --mem 1 --ulimit "$(ulimit -Hn)"`, python, IG_INDEX,
        '--data_dir', data, '--save_dir', save, '--token_dtype', 'u8', '--add_metadata', '--shards', String(n)], { encoding: 'utf8' });
      t.is(ix.status, 0, ix.stderr.slice(-2000));
      return save;
    });
    return { docs, dirs };
  };

  /** infini-gram's engine on `dir`: each [method, kwargs] of `calls` answered (test/helpers/infinigram_engine.py). */
  const engineAnswers = (t: ExecutionContext, scratch: string, dir: string, calls: unknown[]) => {
    const job = path.join(scratch, 'job.json');
    fs.writeFileSync(job, JSON.stringify({ index_dir: dir, token_dtype: 'u8', eos_token_id: EOS, vocab_size: 255, calls }));
    const run = spawnSync(python as string, [ENGINE, job], { encoding: 'utf8', maxBuffer: 1 << 28 });
    t.is(run.status, 0, run.stderr.slice(-2000));
    return JSON.parse(run.stdout) as Array<Record<string, unknown>>;
  };

  /** `dir` opened by traceindex's reader and served; ask(body, status) posts to POST / and checks the status. */
  const serveIg = async (t: ExecutionContext, dir: string) => {
    const index = await openIndex(dir, { tokenizer: 'bytes' });
    t.teardown(() => index.close());
    const server = await createServer({ indexes: { ig: index }, eosTokenId: EOS });
    t.teardown(() => server.shutdown());
    return async (body: Record<string, unknown>, status = 200) => {
      const res = await server.app.inject({ method: 'POST', url: '/', payload: { index: 'ig', ...body } });
      t.is(res.statusCode, status, res.body.slice(0, 300));
      return res.json() as Record<string, unknown>;
    };
  };

  test('POST / answers count, prob, ntd, infgram_prob, infgram_ntd, search_docs and attribute like infini-gram\'s engine', async (t) => {
    const scratch = O.tmpDir('server-ig');
    t.teardown(() => fs.rmSync(scratch, { recursive: true, force: true }));
    const r = O.rng(77);
    // infini-gram 2.6.0's ntd miscounts on a multi-shard u8 index (a large share of each shard's continuations
    // come out as eos): its ntd answers are taken from a one-shard index of the same documents instead.
    const { docs, dirs: [igDir, igOne] } = igIndexes(t, scratch, r, [2, 1]);
    const ask = await serveIg(t, igDir);

    // Queries: pieces of documents (some at a document's end, so ntd meets document ends), misses, and edge cases.
    const bytes = docs.map((d) => O.utf8(d.text));
    const queries: number[][] = [[], [97], [104, 104, 104, 104, 104, 104, 104, 104, 104]];
    for (let i = 0; i < 60; i++) {
      const b = O.pick(r, bytes);
      const len = O.randInt(r, 1, Math.min(b.length, 14) + 1);
      const at = i % 4 === 0 ? b.length - len : O.randInt(r, 0, b.length - len + 1);
      const q = b.slice(at, at + len);
      if (i % 9 === 5) q.push(122);
      queries.push(q);
    }
    const calls: Array<[string, Record<string, unknown>]> = [];
    const NTD = new Set(['ntd', 'infgram_ntd']);
    const ours: Array<Record<string, unknown>> = [];
    for (const q of queries) {
      calls.push(['count', { input_ids: q }]);
      ours.push(({ query_type: 'count', query_ids: q }));
      calls.push(['ntd', { prompt_ids: q, max_support: 10 ** 9 }]);
      ours.push(({ query_type: 'ntd', query_ids: q, max_support: 1000 }));
      calls.push(['infgram_ntd', { prompt_ids: q, max_support: 10 ** 9 }]);
      ours.push(({ query_type: 'infgram_ntd', query_ids: q }));
      if (q.length > 0) {
        calls.push(['prob', { prompt_ids: q.slice(0, -1), cont_id: q[q.length - 1] }]);
        ours.push(({ query_type: 'prob', query_ids: q }));
        calls.push(['infgram_prob', { prompt_ids: [122, 122, ...q.slice(0, -1)], cont_id: q[q.length - 1] }]);
        ours.push(({ query_type: 'infgram_prob', query_ids: [122, 122, ...q] }));
      }
    }
    const outputs = Array.from({ length: 12 }, () => Array.from({ length: 4 }, () => {
      const b = O.pick(r, bytes);
      const at = O.randInt(r, 0, b.length);
      return b.slice(at, at + O.randInt(r, 1, 30));
    }).flat());
    for (const [i, o] of outputs.entries()) {
      const opts = { delim_ids: i % 2 ? [46] : [], min_len: 1 + (i % 5), max_cnt: 3 + i };
      calls.push(['attribute', { input_ids: o, ...opts, enforce_bow: false }]);
      ours.push(({ query_type: 'attribute', query_ids: o, ...opts }));
    }
    const mine: Array<Record<string, unknown>> = [];
    for (const body of ours) mine.push(await ask(body));  // one at a time: the point is equality, not load
    const searched: Array<{ q: number[]; res: Record<string, unknown> }> = [];
    for (const q of queries.filter((x) => x.length > 0).slice(0, 15)) searched.push({ q, res: await ask({ query_type: 'search_docs', query_ids: q, maxnum: 3, max_disp_len: 40 }) });
    const docIxs = Array.from(new Set(searched.flatMap(({ res }) => (res.documents as Array<{ doc_ix: number }>).map((d) => d.doc_ix))));
    const engine = (dir: string, jobCalls: unknown[]) => engineAnswers(t, scratch, dir, jobCalls);
    const extra = [...searched.map(({ q }) => ['count', { input_ids: q }]), ...docIxs.flatMap((d) => [['doc_len', { doc_ix: d }], ['metadata', { doc_ix: d }]])];
    const main = engine(igDir, [...calls.filter(([m]) => !NTD.has(m)), ...extra]);
    const one = engine(igOne, calls.filter(([m]) => NTD.has(m)));
    let mi = 0;
    let oi = 0;
    const theirs = calls.map(([m]) => (NTD.has(m) ? one[oi++] : main[mi++]));
    const more = main.slice(mi);
    let compared = 0;
    calls.forEach(([method], i) => {
      const a = mine[i];
      const b = theirs[i];
      // The engine's fields; `token` in ntd entries is what infini-gram's API server adds on top of the engine.
      const shared = Object.fromEntries(Object.keys(b).map((k) => [k, a[k]]));
      if (shared.result_by_token_id) {
        const entries = shared.result_by_token_id as Record<string, Record<string, unknown>>;
        for (const e of Object.values(entries)) {
          t.is(typeof e.token, 'string');
          delete e.token;
        }
      }
      if (method === 'attribute') {
        const spans = (a.spans as Array<{ l: number; r: number; length: number; count: number; unigram_logprob_sum: number; docs: Array<{ doc_ix: number; offset: number }> }>);
        const want = b.spans as Array<{ l: number; r: number; length: number; count: number; unigram_logprob_sum: number; docs: number[][] }>;
        t.deepEqual(spans.map((s) => [s.l, s.r, s.length, s.count]), want.map((s) => [s.l, s.r, s.length, s.count]), `attribute ${i}`);
        spans.forEach((s, k) => {
          t.true(Math.abs(s.unigram_logprob_sum - want[k].unigram_logprob_sum) <= 1e-9 * Math.abs(want[k].unigram_logprob_sum), `${s.unigram_logprob_sum} vs ${want[k].unigram_logprob_sum}`);
          t.deepEqual(s.docs.map((d) => [d.doc_ix, d.offset]).sort((x, y) => x[0] - y[0] || x[1] - y[1]), want[k].docs);
        });
      } else {
        t.deepEqual(shared, b, `${method} ${JSON.stringify(calls[i][1]).slice(0, 120)}`);
      }
      compared++;
    });
    t.true(mine.some((m) => m.result_by_token_id && (m.result_by_token_id as Record<string, unknown>)[String(EOS)] !== undefined), 'no ntd met a document end');
    t.true(mine.some((m) => Array.isArray(m.spans) && m.spans.length > 1));

    // search_docs: infini-gram draws occurrences at random, so check what is fixed: the count, and that each
    // document shown holds the query at needle_offset, with the engine's length and metadata for that document.
    const counts = more.slice(0, searched.length);
    const docInfo = new Map(docIxs.map((d, k) => [d, { len: more[searched.length + 2 * k] as unknown as number, meta: more[searched.length + 2 * k + 1] as unknown as string }]));
    searched.forEach(({ q, res }, i) => {
      t.is(res.cnt, (counts[i] as { count: number }).count);
      t.is(res.approx, false);
      for (const d of res.documents as Array<{ doc_ix: number; doc_len: number; disp_len: number; needle_offset: number; token_ids: number[]; metadata: string }>) {
        t.deepEqual(d.token_ids.slice(d.needle_offset, d.needle_offset + q.length), q);
        t.is(d.token_ids.length, d.disp_len);
        t.true(d.disp_len <= 40);
        t.is(d.doc_len, docInfo.get(d.doc_ix)!.len);
        t.is(d.metadata, docInfo.get(d.doc_ix)!.meta);
      }
    });
    t.log(`${compared} engine answers compared, ${searched.length} search_docs checked`);

    // Unsupported query types say so.
    const ptr = await ask({ query_type: 'get_doc_by_ptr', query_ids: [97], s: 0, ptr: 0 }, 400);
    t.like(ptr, { code: 'ERR_UNSUPPORTED' });
    t.regex(ptr.error as string, /not supported/);
  });

  test('POST / answers find and get_doc_by_rank like infini-gram\'s engine (ranks of its own tables)', async (t) => {
    const scratch = O.tmpDir('server-ig-ranks');
    t.teardown(() => fs.rmSync(scratch, { recursive: true, force: true }));
    const r = O.rng(78);
    const { docs, dirs: [igDir] } = igIndexes(t, scratch, r, [2]);
    const ask = await serveIg(t, igDir);
    const bytes = docs.map((d) => O.utf8(d.text));
    const queries: number[][] = [[], [97], [32], [46, 32], [195, 169], [104, 104, 104, 104, 104, 104, 104, 104], [122], [254]];
    for (let i = 0; i < 60; i++) {
      const b = O.pick(r, bytes);
      const at = O.randInt(r, 0, b.length);
      const q = b.slice(at, at + O.randInt(r, 1, 10));
      if (i % 7 === 3) q.push(O.randInt(r, 0, 255));
      queries.push(q);
    }
    const finds: Array<Record<string, unknown>> = [];
    for (const q of queries) finds.push(await ask({ query_type: 'find', query_ids: q }));
    const [counts0, counts1] = ['tokenized.0', 'tokenized.1'].map((f) => fs.statSync(path.join(igDir, f)).size);  // u8: one rank per byte
    // Every rank of both shards (separators' suffixes included), display lengths cycling; and one past each end.
    const ranked: Array<[number, number, number]> = [];
    for (const [s, n] of [counts0, counts1].entries())
      for (let rank = 0; rank < n; rank++) ranked.push([s, rank, [1, 2, 7, 40, 1000][rank % 5]]);
    const mine: Array<Record<string, unknown>> = [];
    for (const [s, rank, maxDisp] of ranked) mine.push(await ask({ query_type: 'get_doc_by_rank', query_ids: [97], s, rank, max_disp_len: maxDisp }));
    const theirs = engineAnswers(t, scratch, igDir, [
      ...queries.map((q) => ['find', { input_ids: q }]),
      ...ranked.map(([s, rank, maxDisp]) => ['get_doc_by_rank', { s, rank, max_disp_len: maxDisp }]),
      ['get_doc_by_rank', { s: 0, rank: counts0, max_disp_len: 10 }], ['get_doc_by_rank', { s: 2, rank: 0, max_disp_len: 10 }],
    ]);
    queries.forEach((q, i) => {
      const want = theirs[i];
      t.deepEqual(Object.keys(want).sort(), ['cnt', 'segment_by_shard']);
      t.deepEqual({ cnt: finds[i].cnt, segment_by_shard: finds[i].segment_by_shard }, want, JSON.stringify(q));
    });
    t.true(finds.some((f) => (f.cnt as number) > 1) && finds.some((f) => f.cnt === 0));
    let separators = 0;
    ranked.forEach(([s, rank], i) => {
      const a = mine[i];
      const b = theirs[queries.length + i];
      const shared = Object.fromEntries(Object.keys(b).map((k) => [k, a[k]]));
      // A suffix at a separator: the engine's needle_offset is -1 wrapped as an unsigned 64-bit number (2^64 in JSON).
      if (a.needle_offset === -1) {
        separators++;
        t.is(b.needle_offset, 2 ** 64);
        shared.needle_offset = b.needle_offset;
      }
      t.deepEqual(shared, b, `shard ${s} rank ${rank}`);
      t.deepEqual(Object.keys(b).sort(), ['blocked', 'disp_len', 'doc_ix', 'doc_len', 'metadata', 'needle_offset', 'token_ids']);
    });
    t.is(separators, docs.length);
    // Outside the tables: the engine answers an error, the endpoint 404.
    t.truthy(theirs[queries.length + ranked.length].error);
    t.truthy(theirs[queries.length + ranked.length + 1].error);
    t.like(await ask({ query_type: 'get_doc_by_rank', s: 0, rank: counts0, max_disp_len: 10 }, 404), { code: 'ERR_NOT_FOUND' });
    t.like(await ask({ query_type: 'get_doc_by_rank', s: 2, rank: 0, max_disp_len: 10 }, 404), { code: 'ERR_NOT_FOUND' });
    t.log(`${queries.length} finds and ${ranked.length} ranks compared (${separators} at separators)`);
  });
}
