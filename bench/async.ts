/**
 * One `count` through each form of the API on one index, rounds alternating the forms (docs/benchmarks.md,
 * "Search core"):
 *   node dist/bench/async.js --index DIR [--queries 2000] [--rounds 5] [--warm] [--lengths 1,2,3,5,8,10,20]
 *                            [--batch-repeat 10] [--quick]
 * Queries: windows of the index's own documents (present), their lengths taken in turn from --lengths, and the
 * same with the last token changed (mostly absent). Per call, p50 / p99 µs of
 *   countSync(q)                          the work on the calling thread
 *   await count(q)                        one async count as the policy runs it (inline when tiny: docs/api.md,
 *                                         Threads)
 * and, in a second process started with TRACEINDEX_ASYNC_INLINE=0 (every async call on libuv's pool; the policy
 * is read once per process), its rounds interleaved with this one's:
 *   await countBatch([]) on the pool      a bare pool round trip (a task with no query)
 *   await count(q) on the pool            the round trip plus the work
 *   countSync(q) in that process          for the ratio within one process
 * and per query, of 2000 queries in one call: countBatchSync, await countBatch (wall, and the process's CPU time:
 * a large batch runs as one slice per core), each form called --batch-repeat times a round; and per group of 64
 * calls in flight at once, Promise.all of count(q), inline (this process) and on the pool (both cores). --warm:
 * warm the index first as `serve --preload` does (huge pages where the page cache can hold them). --quick:
 * countSync and the batch forms only (no second process).
 */
import { spawn } from 'child_process';
import { createInterface } from 'readline';
import { performance } from 'perf_hooks';
import { openIndex } from '../lib';
import { coreOf } from '../lib/query/core';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

function pct(v: number[], q: number): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

async function main(): Promise<void> {
  const dir = arg('--index', '');
  if (!dir) throw new Error('usage: node dist/bench/async.js --index DIR [--queries 2000] [--rounds 5]');
  const n = Number(arg('--queries', '2000'));
  const rounds = Number(arg('--rounds', '5'));
  const repeat = Number(arg('--batch-repeat', '10'));  // batch calls per round, timed together
  const quick = process.argv.includes('--quick');  // countSync and the batch forms only
  const poolChild = process.argv.includes('--pool-child');  // the pool process (below)
  const index = await openIndex(dir);
  if (process.argv.includes('--warm') && !poolChild) {  // one process warms the shared page cache
    const t = performance.now();
    const w = await coreOf(index).advise('willneed');
    console.log(`warmed ${w.files} files, ${(w.bytes / 2 ** 30).toFixed(2)} GiB, in ${(performance.now() - t).toFixed(0)} ms`);
  }
  // Windows of the index's documents: take document 0..k prefixes' tokens through documents().
  let seed = 12345;
  const rand = (m: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % m; };
  const docs = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].slice(0, index.info.documents).map((i) => index.document(i)));
  const queries: number[][] = [];
  const lens = arg('--lengths', '1,2,3,5,8,10,20').split(',').map(Number);
  if (lens.some((l) => !Number.isInteger(l) || l < 1)) throw new Error('--lengths: positive integers, comma-separated');
  while (queries.length < n) {
    const d = docs[rand(docs.length)];
    const toks = d.tokens as ArrayLike<number>;  // only the window is copied (a document may be 10^8 tokens)
    const len = lens[queries.length % lens.length];
    if (toks.length <= len) continue;
    const at = rand(toks.length - len);
    const q = Array.prototype.slice.call(toks, at, at + len) as number[];
    if (queries.length % 2) q[len - 1] = rand(Math.min(255, index.info.vocabSize));
    queries.push(q);
  }
  const forms: Record<string, number[]> = { countSync: [], 'await count': [] };
  const batch: Record<string, number[]> = { countBatchSync: [], 'await countBatch': [], 'await countBatch, CPU': [] };
  const groups: Record<string, number[]> = { 'Promise.all of 64 count(q)': [] };
  const pool: Record<string, number[]> = { 'await countBatch([]) on the pool (bare round trip)': [], 'await count on the pool': [],
    'countSync in the pool process': [], 'Promise.all of 64 count(q) on the pool, per group': [] };
  // One round of the pool process's forms (its own rounds alternate them too).
  const poolRound = async (r: number): Promise<void> => {
    const keys = Object.keys(pool);
    for (const k of [0, 1, 2, 3].map((j) => keys[(j + r) % 4])) {
      if (k.startsWith('await countBatch')) for (let i = 0; i < queries.length; ++i) { const t = performance.now(); await index.countBatch([]); pool[k].push((performance.now() - t) * 1e3); }
      else if (k.startsWith('await count')) for (const q of queries) { const t = performance.now(); await index.count(q); pool[k].push((performance.now() - t) * 1e3); }
      else if (k.startsWith('countSync')) for (const q of queries) { const t = performance.now(); index.countSync(q); pool[k].push((performance.now() - t) * 1e3); }
      else for (let i = 0; i + 64 <= queries.length; i += 64) { const t = performance.now(); await Promise.all(queries.slice(i, i + 64).map((q) => index.count(q))); pool[k].push((performance.now() - t) * 1e3); }
    }
  };
  if (poolChild) {  // rounds on request, each answered with its figures
    if (process.env.TRACEINDEX_ASYNC_INLINE !== '0') throw new Error('--pool-child needs TRACEINDEX_ASYNC_INLINE=0');
    for (const q of queries) index.countSync(q);  // warm
    process.stdout.write('ready\n');
    let r = 0;
    for await (const line of createInterface({ input: process.stdin })) {
      if (line.trim() !== 'round') break;
      for (const k of Object.keys(pool)) pool[k] = [];
      await poolRound(r++);
      process.stdout.write(JSON.stringify(pool) + '\n');
    }
    index.close();
    return;
  }
  // The pool process: this script again, same arguments (so the same queries), every async call on the pool.
  const child = quick ? null : spawn(process.execPath, [process.argv[1], ...process.argv.slice(2), '--pool-child'],
    { env: { ...process.env, TRACEINDEX_ASYNC_INLINE: '0' }, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = child ? createInterface({ input: child.stdout! })[Symbol.asyncIterator]() : null;
  const childLine = async (): Promise<string> => {
    const n = await lines!.next();
    if (n.done) throw new Error('the pool process ended early');
    return n.value as string;
  };
  if (child && (await childLine()) !== 'ready') throw new Error('the pool process did not start');
  for (const q of queries) index.countSync(q);  // warm
  for (let r = 0; r < rounds; ++r) {
    const order = [0, 1, 2, 3].map((k) => (k + r) % 4);
    for (const which of order) {
      if (quick && which !== 0 && which !== 3) continue;
      if (which === 0) for (const q of queries) { const t = performance.now(); index.countSync(q); forms.countSync.push((performance.now() - t) * 1e3); }
      if (which === 1) for (const q of queries) { const t = performance.now(); await index.count(q); forms['await count'].push((performance.now() - t) * 1e3); }
      if (which === 2) {
        for (let i = 0; i + 64 <= queries.length; i += 64) {
          const t = performance.now();
          await Promise.all(queries.slice(i, i + 64).map((q) => index.count(q)));
          groups['Promise.all of 64 count(q)'].push((performance.now() - t) * 1e3);
        }
        // The pool process's round runs here, while this one waits: the two never time at once.
        child!.stdin!.write('round\n');
        const got = JSON.parse(await childLine()) as Record<string, number[]>;
        for (const [k, v] of Object.entries(got)) pool[k].push(...v);
      }
      if (which === 3) {
        let t = performance.now();
        for (let k = 0; k < repeat; ++k) index.countBatchSync(queries);
        batch.countBatchSync.push(((performance.now() - t) * 1e3) / queries.length / repeat);
        t = performance.now();
        const cpu = process.cpuUsage();
        for (let k = 0; k < repeat; ++k) await index.countBatch(queries);
        batch['await countBatch'].push(((performance.now() - t) * 1e3) / queries.length / repeat);
        const used = process.cpuUsage(cpu);
        batch['await countBatch, CPU'].push((used.user + used.system) / queries.length / repeat);
      }
    }
  }
  console.log(`index ${dir}, ${queries.length} queries of ${lens.join(',')} tokens (half changed), ${rounds} rounds, ` +
    `TRACEINDEX_ASYNC_INLINE=${process.env.TRACEINDEX_ASYNC_INLINE ?? '(unset)'}\n`);
  console.log('| form | p50 µs | p99 µs |\n|---|---:|---:|');
  for (const [k, v] of Object.entries(forms)) if (v.length) console.log(`| ${k} | ${pct(v, 0.5).toFixed(2)} | ${pct(v, 0.99).toFixed(2)} |`);
  for (const [k, v] of Object.entries(groups)) if (v.length) console.log(`| ${k}, per group | ${pct(v, 0.5).toFixed(2)} | ${pct(v, 0.99).toFixed(2)} |`);
  for (const [k, v] of Object.entries(pool)) if (v.length) console.log(`| ${k} (TRACEINDEX_ASYNC_INLINE=0 process) | ${pct(v, 0.5).toFixed(2)} | ${pct(v, 0.99).toFixed(2)} |`);
  for (const [k, v] of Object.entries(batch)) console.log(`| ${k} of ${queries.length}, per query (best round of ${repeat} calls) | ${Math.min(...v).toFixed(3)} | |`);
  const sync = pct(forms.countSync, 0.5);
  if (child) {
    child.stdin!.end();
    await new Promise((resolve) => child.on('close', resolve));
    const p50 = (k: string): number => pct(pool[k], 0.5);
    const bare = p50('await countBatch([]) on the pool (bare round trip)');
    console.log(`\nawait count on the pool / (bare pool round trip + countSync), p50, in the pool process: ` +
      `${(p50('await count on the pool') / (bare + p50('countSync in the pool process'))).toFixed(2)}`);
    console.log(`await count (inline when tiny) / countSync, p50, this process: ${(pct(forms['await count'], 0.5) / sync).toFixed(2)}`);
    console.log(`Promise.all of 64: inline / pool, p50 per group: ${(pct(groups['Promise.all of 64 count(q)'], 0.5) / p50('Promise.all of 64 count(q) on the pool, per group')).toFixed(2)}`);
  }
  console.log(`countSync p50 / countBatchSync per query: ${(sync / Math.min(...batch.countBatchSync)).toFixed(2)}x`);
  console.log(`countSync p50 / await countBatch per query: ${(sync / Math.min(...batch['await countBatch'])).toFixed(2)}x (wall), ` +
    `${(sync / Math.min(...batch['await countBatch, CPU'])).toFixed(2)}x (CPU)`);
  index.close();
}

main().catch((e) => { console.error(e); process.exit(1); });
