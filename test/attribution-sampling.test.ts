/**
 * The occurrences a span reports (`documents`, at most maxDocuments of them) are drawn uniformly without
 * replacement from all its occurrences: over many seeds every k-subset of the occurrences comes up equally
 * often (a chi-square test whose false-failure probability is below 1e-6), every sample holds k distinct
 * real occurrences in document order, and a span with at most k occurrences reports all of them.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildIndex, Index, openIndex } from '../lib/index';
import * as O from './helpers/oracle';

const scratch = O.tmpDir('sampling');
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));

// "QXZJ" occurs 6 times, twice in d2, each time in a different context, so that tracing "QXZJ" gives one
// maximal span [0, 4) with count 6. Small shards put the occurrences in several shards.
const PATTERN = 'QXZJ';
const DOCS = ['aaQXZJbb', 'ccQXZJdd', 'QXZJ ee QXZJ', 'ffQXZJ', 'QXZJgg', 'no match here', 'QXZ JQX ZJ'];
const OCCURRENCES = O.occurrences(DOCS.map(O.utf8), O.utf8(PATTERN)).map((o) => `${o.doc}:${o.offset}`);

// One build per target, shared by the tests that run concurrently (a second build of a target is refused).
const built = new Map<number, Promise<string>>();
async function index(shardTokens: number): Promise<Index> {
  if (!built.has(shardTokens)) {
    const out = path.join(scratch, `idx-${shardTokens}`);
    built.set(shardTokens, buildIndex({ inputs: DOCS.map((text, i) => ({ text, id: `d${i}` })), out, shardTokens }).then(() => out));
  }
  return openIndex(await built.get(shardTokens)!);
}

/** P(χ² with `df` degrees of freedom ≥ x), exact for even df: e^{−x/2} Σ_{i<df/2} (x/2)^i / i!. */
function chiSquareSurvival(x: number, df: number): number {
  if (df % 2 !== 0) throw new Error('even degrees of freedom only');
  let term = 1;
  let sum = 1;
  for (let i = 1; i < df / 2; i++) {
    term *= x / 2 / i;
    sum += term;
  }
  return Math.exp(-x / 2) * sum;
}

function binomial(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return c;
}

test('the chi-square tail used below is right (hand-checked values)', (t) => {
  // df 2: e^{-x/2}; df 4: e^{-x/2}(1 + x/2).
  t.true(Math.abs(chiSquareSurvival(3, 2) - Math.exp(-1.5)) < 1e-15);
  t.true(Math.abs(chiSquareSurvival(3, 4) - Math.exp(-1.5) * 2.5) < 1e-15);
  // Printed tables of χ²(14): upper 5 % point 23.685, 1 % point 29.141, 0.1 % point 36.123.
  for (const [x, p] of [[23.685, 0.05], [29.141, 0.01], [36.123, 0.001]]) t.true(Math.abs(chiSquareSurvival(x, 14) / p - 1) < 1e-3, `χ²(14) ≥ ${x}`);
});

for (const shardTokens of [1000, 14]) {
  for (const k of [2, 4]) {
    test(`k = ${k} of 6 occurrences (${shardTokens === 1000 ? 'one shard' : 'several shards'}): every ${k}-subset equally likely over 3000 seeds`, async (t) => {
      t.is(OCCURRENCES.length, 6);
      const idx = await index(shardTokens);
      t.true(shardTokens === 1000 ? idx.info.shards.length === 1 : idx.info.shards.length >= 3, `${idx.info.shards.length} shards`);
      const seeds = 3000;
      const tally = new Map<string, number>();
      try {
        for (let seed = 0; seed < seeds; seed++) {
          const r = idx.traceSync(PATTERN, { maxDocuments: k, seed });
          t.is(r.spans.length, 1);
          const span = r.spans[0];
          t.deepEqual([span.start, span.end, span.count], [0, 4, 6]);
          const got = span.documents.map((d) => `${d.document}:${d.position.token}`);
          if (got.length !== k || new Set(got).size !== k) {
            t.fail(`seed ${seed}: ${got.length} occurrences, ${new Set(got).size} distinct, not ${k}`);
            return;
          }
          for (const g of got) if (!OCCURRENCES.includes(g)) t.fail(`seed ${seed}: ${g} is no occurrence of ${PATTERN}`);
          const order = span.documents.map((d) => [d.document, d.position.token]);
          t.deepEqual(order, [...order].sort((a, b) => a[0] - b[0] || a[1] - b[1]), `seed ${seed}: document order`);
          const key = [...got].sort().join(' ');
          tally.set(key, (tally.get(key) ?? 0) + 1);
        }
      } finally {
        idx.close();
      }
      const cells = binomial(6, k);
      t.is(cells, 15);
      t.is(tally.size, cells, 'every subset comes up');
      const expected = seeds / cells;
      const chi2 = [...tally.values()].reduce((s, n) => s + ((n - expected) ** 2) / expected, 0);
      const p = chiSquareSurvival(chi2, cells - 1);
      t.log(`χ² = ${chi2.toFixed(2)} on ${cells - 1} df, p = ${p.toExponential(2)}`);
      t.true(p > 1e-6, `χ² = ${chi2} is too large for uniform sampling (p = ${p}): ${JSON.stringify([...tally])}`);
    });
  }
}

test('a span with at most maxDocuments occurrences reports all of them, whatever the seed', async (t) => {
  const idx = await index(14);
  try {
    for (const seed of [0, 1, 99, 2 ** 32 - 1]) {
      for (const k of [6, 7, 100]) {
        const [span] = idx.traceSync(PATTERN, { maxDocuments: k, seed }).spans;
        t.deepEqual(span.documents.map((d) => `${d.document}:${d.position.token}`), OCCURRENCES, `seed ${seed}, k ${k}`);
      }
      t.deepEqual(idx.traceSync(PATTERN, { maxDocuments: 0, seed }).spans[0].documents, []);
    }
  } finally {
    idx.close();
  }
});
