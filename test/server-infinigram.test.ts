/**
 * The infini-gram compatible endpoint (POST /) against infini-gram's own engine on the same index: an index
 * written by infini-gram's indexer (bench/python/ig_index.py), served by traceindex in place, and queried through
 * infini_gram.engine.InfiniGramEngine in a child Python (test/helpers/infinigram_engine.py). Every field the
 * engine returns must be equal (unigram_logprob_sum to 1e-9 relative). Reported as skipped, with the reason, when
 * Python or the infini_gram package is missing (pip install -r bench/python/requirements.txt; TRACEINDEX_PYTHON).
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openIndex } from '../lib/index';
import { createServer } from '../lib/server';
import * as O from './helpers/oracle';

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
  test('POST / answers count, prob, ntd, infgram_prob, infgram_ntd, search_docs and attribute like infini-gram\'s engine', async (t) => {
    const scratch = O.tmpDir('server-ig');
    t.teardown(() => fs.rmSync(scratch, { recursive: true, force: true }));
    const r = O.rng(77);
    const words = Array.from({ length: 80 }, () => Array.from({ length: O.randInt(r, 1, 5) }, () => 'abcdefgh'[O.randInt(r, 0, 8)]).join(''));
    const docs = Array.from({ length: 90 }, (_, d) => ({ id: `doc-${d}`, text: Array.from({ length: O.randInt(r, 1, 60) }, () => O.pick(r, words)).join(O.randInt(r, 0, 3) ? ' ' : '. ') + (d % 7 === 0 ? ' é' : '') }));
    const data = path.join(scratch, 'data');
    fs.mkdirSync(data);
    fs.writeFileSync(path.join(data, 'docs.jsonl'), docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
    const indexer = (save: string, shards: number) => {
      const ix = spawnSync('sh', ['-c', `exec "$0" "$@" --temp_dir "${save}.tmp" --cpus 1 --mem 1 --ulimit "$(ulimit -Hn)"`, python, IG_INDEX,
        '--data_dir', data, '--save_dir', save, '--token_dtype', 'u8', '--add_metadata', '--shards', String(shards)], { encoding: 'utf8' });
      t.is(ix.status, 0, ix.stderr.slice(-2000));
    };
    const igDir = path.join(scratch, 'ig');
    indexer(igDir, 2);
    // infini-gram 2.6.0's ntd miscounts on a multi-shard u8 index (a large share of each shard's continuations
    // come out as eos): its ntd answers are taken from a one-shard index of the same documents instead.
    const igOne = path.join(scratch, 'ig-one');
    indexer(igOne, 1);

    const index = await openIndex(igDir, { tokenizer: 'bytes' });
    t.teardown(() => index.close());
    // infini-gram's u8 engine takes ids below 255 only, so its eos is a byte that no UTF-8 text holds (0xFE).
    const EOS = 254;
    const server = await createServer({ indexes: { ig: index }, eosTokenId: EOS });
    t.teardown(() => server.shutdown());

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
    const ask = async (body: Record<string, unknown>) => {
      const res = await server.app.inject({ method: 'POST', url: '/', payload: { index: 'ig', ...body } });
      t.is(res.statusCode, 200, res.body.slice(0, 300));
      return res.json() as Record<string, unknown>;
    };
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
    const job = path.join(scratch, 'job.json');
    const searched: Array<{ q: number[]; res: Record<string, unknown> }> = [];
    for (const q of queries.filter((x) => x.length > 0).slice(0, 15)) searched.push({ q, res: await ask({ query_type: 'search_docs', query_ids: q, maxnum: 3, max_disp_len: 40 }) });
    const docIxs = Array.from(new Set(searched.flatMap(({ res }) => (res.documents as Array<{ doc_ix: number }>).map((d) => d.doc_ix))));
    const engine = (dir: string, jobCalls: unknown[]) => {
      fs.writeFileSync(job, JSON.stringify({ index_dir: dir, token_dtype: 'u8', eos_token_id: EOS, vocab_size: 255, calls: jobCalls }));
      const run = spawnSync(python, [ENGINE, job], { encoding: 'utf8', maxBuffer: 1 << 28 });
      t.is(run.status, 0, run.stderr.slice(-2000));
      return JSON.parse(run.stdout) as Array<Record<string, unknown>>;
    };
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
    const find = await server.app.inject({ method: 'POST', url: '/', payload: { index: 'ig', query_type: 'find', query_ids: [97] } });
    t.is(find.statusCode, 400);
    t.like(find.json(), { code: 'ERR_UNSUPPORTED' });
    t.regex(find.json().error, /not supported/);
  });
}
