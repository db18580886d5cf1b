#!/usr/bin/env node
/**
 * traceindex side of bench/python/compare.py: opens an index through the package's own JS binding and times
 * the queries of a job file, printing one JSON object on stdout.
 *
 *   node bench/python/ti_bench.js JOB.json
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

async function main() {
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
