#!/usr/bin/env node
/**
 * traceindex side of bench/python/compare.py: opens an index through the package's own JS binding and times
 * the queries of a job file, printing one JSON object on stdout.
 *
 *   node bench/python/ti_bench.js JOB.json
 *   node bench/python/ti_bench.js --count-rounds JOB.json   # count forms, one round per stdin line (see below)
 *
 * JOB = { index, rounds, count: [[ids]...], next: [[ids]...], trace: [[ids]...],
 *         traceOptions: {...}, shield: { outputs: [[ids]...], tau, window } }
 * Every timed call is preceded by one untimed warm-up pass over the same queries (as on the infini-gram side).
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { openIndex } = require(path.join(__dirname, '..', '..', 'dist', 'lib', 'index.js'));

const ns = () => process.hrtime.bigint();
const toU32 = (qs) => qs.map((q) => Uint32Array.from(q));

/** One warm-up pass, then `rounds` timed passes of fn over qs: every call's latency and the last pass's results. */
function timed(qs, rounds, fn) {
  for (const q of qs) fn(q);
  const latencyNs = [];
  let results;
  for (let r = 0; r < rounds; r++) {
    results = qs.map((q) => {
      const a = ns();
      const res = fn(q);
      latencyNs.push(Number(ns() - a));
      return res;
    });
  }
  return { latencyNs, results };
}

/**
 * compare.py's interleaved count rounds: opens the index, checks and warms every form once, prints
 * `{"ready":true,"counts":[...]}`, then for every stdin line `round` runs one pass of each form over the
 * queries and prints one JSON line of its timings; `end` (or EOF) closes. So Python can alternate the tools
 * round by round while each keeps its warm state. Forms (job.forms, default all): countSync, awaitCount
 * (`await count`: inline for tiny work unless the process started with TRACEINDEX_ASYNC_INLINE=0, which
 * compare.py uses for the pool's figure), batchSync (one countBatchSync of all queries), batchAwait.
 */
async function countRounds(jobFile) {
  const job = JSON.parse(fs.readFileSync(jobFile, 'utf8'));
  const qs = toU32(job.count);
  const forms = job.forms ?? ['countSync', 'awaitCount', 'batchSync', 'batchAwait'];
  const index = await openIndex(job.index);
  const counts = Array.from(index.countBatchSync(qs));
  const check = (name, got) => {
    if (got.some((c, i) => c !== counts[i])) throw new Error(`${name} disagrees with countBatchSync`);
  };
  const round = async () => {
    const out = {};
    for (const f of forms) {
      if (f === 'countSync' || f === 'awaitCount') {
        const lat = new Array(qs.length), got = new Array(qs.length);
        for (let i = 0; i < qs.length; i++) {
          const a = ns();
          got[i] = f === 'countSync' ? index.countSync(qs[i]) : await index.count(qs[i]);
          lat[i] = Number(ns() - a);
        }
        check(f, got);
        out[f] = lat;
      } else if (f === 'batchSync' || f === 'batchAwait') {
        const a = ns();
        const got = f === 'batchSync' ? index.countBatchSync(qs) : await index.countBatch(qs);
        out[f] = Number(ns() - a);
        check(f, Array.from(got));
      } else throw new Error(`unknown form ${f}`);
    }
    return out;
  };
  await round(); // warm-up, untimed (as the Python side's)
  process.stdout.write(JSON.stringify({ ready: true, counts }) + '\n');
  const rl = require('node:readline').createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (line.trim() === 'end') break;
    process.stdout.write(JSON.stringify(await round()) + '\n');
  }
  rl.close();
  index.close();
}

async function main() {
  if (process.argv[2] === '--count-rounds') return countRounds(process.argv[3]);
  const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const rounds = job.rounds ?? 3;
  const t0 = ns();
  const index = await openIndex(job.index);
  const out = { openMs: Number(ns() - t0) / 1e6, info: index.info, node: process.version };

  if (job.count?.length) {
    const qs = toU32(job.count);
    const counts = Array.from(index.countBatchSync(qs));
    for (const q of qs) index.countSync(q); // warm-up
    const lat = new Array(qs.length * rounds);
    for (let r = 0; r < rounds; r++)
      for (let i = 0; i < qs.length; i++) {
        const a = ns();
        index.countSync(qs[i]);
        lat[r * qs.length + i] = Number(ns() - a);
      }
    let best = Infinity;
    for (let r = 0; r < rounds; r++) {
      const a = ns();
      index.countBatchSync(qs);
      best = Math.min(best, Number(ns() - a));
    }
    out.count = { counts, latencyNs: lat, rounds, batchNsPerQuery: best / qs.length };
  }

  if (job.next?.length) {
    const { latencyNs, results } = timed(toU32(job.next), rounds, (q) => index.nextTokensSync(q));
    out.next = {
      latencyNs,
      results: results.map((n) => ({ suffixLength: n.suffixLength, total: n.total, tokens: Array.from(n.tokens), counts: Array.from(n.counts) })),
    };
  }

  if (job.trace?.length) {
    const o = job.traceOptions ?? {};
    const { latencyNs, results } = timed(toU32(job.trace), rounds, (q) => index.traceSync(q, o));
    out.trace = { latencyNs, options: o, results: results.map((t) => t.spans.map((s) => [s.start, s.end, s.count, s.bci])) };
  }

  if (job.shield) {
    const { outputs, tau, window } = job.shield;
    const qs = toU32(outputs);
    const options = { tau, mode: { window }, maxDocuments: 0 };
    await index.shieldBatch(qs, options); // warm-up
    let best = Infinity;
    let res;
    for (let r = 0; r < rounds; r++) {
      const a = ns();
      res = await index.shieldBatch(qs, options);
      best = Math.min(best, Number(ns() - a));
    }
    out.shield = { batchNs: best, options, results: res.map((s) => ({ refuse: s.refuse, maxBci: s.maxBci, windows: s.spans.length })) };
  }

  index.close();
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((err) => {
  process.stderr.write(`ti_bench: ${err.code ? err.code + ': ' : ''}${err.stack || err.message}\n`);
  process.exit(1);
});
