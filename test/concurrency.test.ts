/**
 * Concurrency: closing under load, worker threads sharing an index, and no leaks over many open/close cycles.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { buildIndex, openIndex, TraceIndexError } from '../lib/index';
import * as O from './helpers/oracle';

const scratch = O.tmpDir('concurrency');
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));

const r = O.rng(5150);
const DOCS = O.randomDocs(r, 200, 600, 4, 97);
const TEXTS = DOCS.map((d) => Buffer.from(d).toString('latin1'));
const PATS = O.patterns(r, DOCS, 200, 4, 97);
const WANT = PATS.map((p) => O.count(DOCS, p));
let built: Promise<string> | undefined;
function index(): Promise<string> {
  built ??= (async () => {
    const out = path.join(scratch, 'idx');
    await buildIndex({ inputs: TEXTS.map((text, i) => ({ text, id: `c${i}` })), out, shardTokens: 20000 });
    return out;
  })();
  return built;
}

test('close while queries are pending: those started before it answer right, those after are ERR_CLOSED, no crash', async (t) => {
  const dir = await index();
  for (let round = 0; round < 20; round++) {
    const idx = await openIndex(dir);
    const pending: Array<Promise<unknown>> = [];
    const checks: Array<(v: unknown) => void> = [];
    for (let i = 0; i < PATS.length; i++) {
      const p = PATS[i];
      switch (i % 4) {
        case 0: pending.push(idx.count(p)); checks.push((v) => t.is(v, WANT[i])); break;
        case 1: pending.push(idx.locate(p, { limit: 3 })); checks.push((v) => t.is((v as { total: number }).total, WANT[i])); break;
        case 2: pending.push(idx.countBatch([p, p])); checks.push((v) => t.deepEqual(Array.from(v as Float64Array), [WANT[i], WANT[i]])); break;
        default: pending.push(idx.longestMatch(p)); checks.push((v) => t.deepEqual(
          { length: (v as { length: number }).length, count: (v as { count: number }).count }, O.longestPrefix(DOCS, p)));
      }
      if (i === round * 9) idx.close(); // close at a different point each round
    }
    if (!idx.closed) idx.close();
    const settled = await Promise.allSettled(pending);
    settled.forEach((s, i) => {
      if (i <= round * 9) {
        t.is(s.status, 'fulfilled', `call ${i}, started before close(): ${s.status === 'rejected' ? String(s.reason) : ''}`);
        if (s.status === 'fulfilled') checks[i](s.value);
      } else {
        t.is(s.status, 'rejected');
        if (s.status === 'rejected') t.is((s.reason as TraceIndexError).code, 'ERR_CLOSED', String(s.reason));
      }
    });
  }
});

test('close while calls of several native steps are pending (trace, document by id, verify, calibrate): they finish', async (t) => {
  const dir = await index();
  for (let round = 0; round < 3; round++) {
    const idx = await openIndex(dir);
    const want = { trace: await idx.trace(TEXTS[3].slice(10, 60), { maxDocuments: 2 }), doc: idx.documentSync('c5'), cal: await idx.calibrate({ samples: 40, seed: 7 }) };
    const calls = [
      idx.trace(TEXTS[3].slice(10, 60), { maxDocuments: 2 }).then((v) => t.deepEqual(v, want.trace)),
      idx.document('c5').then((v) => t.deepEqual(v, want.doc)),
      idx.verify({ quick: round === 1 }).then((v) => t.is(v.shards, idx.info.shards.length)),
      idx.calibrate({ samples: 40, seed: 7 }).then((v) => t.deepEqual(v, want.cal)),
    ];
    idx.close();
    await t.throwsAsync(idx.count('a'), { code: 'ERR_CLOSED' });
    await Promise.all(calls);
    t.true(idx.closed);
  }
});

test('worker threads each open the same index and get the main thread answers', async (t) => {
  const dir = await index();
  const script = path.join(scratch, 'worker.js');
  fs.writeFileSync(script, `
const { parentPort, workerData } = require('node:worker_threads');
const ti = require(${JSON.stringify(O.LIB)});
(async () => {
  const idx = await ti.openIndex(workerData.dir);
  const counts = [];
  for (let k = 0; k < 5; k++) counts.push(Array.from(await idx.countBatch(workerData.pats)));
  const sync = Array.from(idx.countBatchSync(workerData.pats));
  const loc = (await idx.locate(workerData.pats[0], { limit: 50 })).occurrences.map((o) => [o.document, o.position.token]);
  const next = idx.nextTokensSync(workerData.pats[1]);
  idx.close();
  parentPort.postMessage({ counts, sync, loc, next: { suffixLength: next.suffixLength, total: next.total, tokens: Array.from(next.tokens), counts: Array.from(next.counts) } });
})().catch((e) => parentPort.postMessage({ error: e.code + ' ' + e.message }));
`);
  const main = await openIndex(dir);
  const mainLoc = (await main.locate(PATS[0], { limit: 50 })).occurrences.map((o) => [o.document, o.position.token]);
  const n = main.nextTokensSync(PATS[1]);
  const mainNext = { suffixLength: n.suffixLength, total: n.total, tokens: Array.from(n.tokens), counts: Array.from(n.counts) };
  const results = await Promise.all(Array.from({ length: 4 }, () => new Promise<any>((resolve, reject) => {
    const w = new Worker(script, { workerData: { dir, pats: PATS } });
    w.once('message', resolve);
    w.once('error', reject);
  })));
  // The main thread keeps querying while the workers run and after they exit.
  t.deepEqual(Array.from(await main.countBatch(PATS)), WANT);
  for (const res of results) {
    t.is(res.error, undefined);
    for (const c of res.counts) t.deepEqual(c, WANT);
    t.deepEqual(res.sync, WANT);
    t.deepEqual(res.loc, mainLoc);
    t.deepEqual(res.next, mainNext);
  }
  t.deepEqual(mainNext, O.nextTokens(DOCS, PATS[1]));
  main.close();
});

test('no leak: thousands of open/query/close cycles and millions of batched queries keep RSS bounded', async (t) => {
  const dir = await index();
  const script = path.join(scratch, 'leak.js');
  fs.writeFileSync(script, `
const ti = require(${JSON.stringify(O.LIB)});
const pats = ${JSON.stringify(PATS.slice(0, 100))};
const want = ${JSON.stringify(WANT.slice(0, 100))};
const rss = () => { global.gc(); global.gc(); return process.memoryUsage().rss; };
(async () => {
  const cycle = async (n) => {
    for (let i = 0; i < n; i++) {
      const idx = await ti.openIndex(${JSON.stringify(dir)});
      const c = await idx.count(pats[i % pats.length]);
      if (c !== want[i % pats.length]) throw new Error('wrong count ' + c);
      idx.locateSync(pats[i % pats.length], { limit: 2 });
      idx.close();
    }
  };
  const batches = async (idx, n) => {
    for (let i = 0; i < n; i++) {
      const out = i % 2 ? idx.countBatchSync(pats) : await idx.countBatch(pats);
      if (out[7] !== want[7]) throw new Error('wrong batch');
      if (i % 50 === 0) idx.nextTokensBatchSync(pats.slice(0, 10));
    }
  };
  await cycle(300);
  const idx = await ti.openIndex(${JSON.stringify(dir)});
  await batches(idx, 500);
  const base = rss();
  await cycle(2500);
  const afterCycles = rss();
  await batches(idx, 10000); // 10000 x 100 = 1M queries
  idx.close();
  const after = rss();
  console.log(JSON.stringify({ base, afterCycles, after }));
})().catch((e) => { console.error(e); process.exit(1); });
`);
  const res = spawnSync(process.execPath, ['--expose-gc', script], { encoding: 'utf8', timeout: 120_000 });
  t.is(res.status, 0, res.stderr);
  const { base, afterCycles, after } = JSON.parse(res.stdout.trim().split('\n').pop()!);
  t.log(`RSS base ${(base / 2 ** 20).toFixed(1)} MiB, after 2500 cycles ${(afterCycles / 2 ** 20).toFixed(1)} MiB, after 1M queries ${(after / 2 ** 20).toFixed(1)} MiB`);
  t.true(afterCycles - base < 40 * 2 ** 20, `open/close grew RSS by ${afterCycles - base} bytes`);
  t.true(after - base < 60 * 2 ** 20, `batched queries grew RSS by ${after - base} bytes`);
});
