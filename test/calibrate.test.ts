/**
 * calibrate against an oracle that draws the same spans with the documented PRNG from the documents alone
 * (test/helpers/calibrate-oracle.ts), scores them by the BCI definitions and takes the documented quantiles;
 * plus its argument bounds.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildIndex, Index, MAX_CALIBRATION_SAMPLES, openIndex } from '../lib/index';
import { quantiles } from '../lib/provenance/scores';
import { calibrateOracle, calibrationPrng } from './helpers/calibrate-oracle';
import * as O from './helpers/oracle';
import { close, Corpus } from './helpers/trace-oracle';

const scratch = O.tmpDir('calibrate');
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));

interface Built { corpus: Corpus; single: Index; multi: Index }

const cases = new Map<string, Promise<Built>>();
/** Random documents (some shorter than the sampled lengths), as one shard and as several. */
function built(kind: 'bytes' | 'u16'): Promise<Built> {
  if (!cases.has(kind)) {
    cases.set(kind, (async () => {
      const r = O.rng(kind === 'bytes' ? 11 : 12);
      const docs = kind === 'bytes' ? O.randomDocs(r, 60, 80, 6, 97) : O.randomDocs(r, 60, 80, 900, 3);
      const nonEmpty = docs.filter((d) => d.length > 0);
      const inputs = nonEmpty.map((d, i) => (kind === 'bytes' ? { text: Buffer.from(d).toString('latin1'), id: `d${i}` } : { tokens: d, id: `d${i}` }));
      const tokenizer = kind === 'bytes' ? undefined : { name: 'ids', vocabSize: 1000 };
      const one = path.join(scratch, `${kind}-single`);
      const many = path.join(scratch, `${kind}-multi`);
      await buildIndex({ inputs, out: one, tokenizer });
      await buildIndex({ inputs, out: many, tokenizer, shardTokens: O.shardTokensFor(nonEmpty, 4) });
      return { corpus: new Corpus(nonEmpty), single: await openIndex(one), multi: await openIndex(many) };
    })());
  }
  return cases.get(kind)!;
}
test.after.always(async () => {
  for (const b of cases.values()) {
    const x = await b;
    x.single.close();
    x.multi.close();
  }
});

type Quantiles = { p50: number; p90: number; p95: number; p99: number; max: number };
function sameQuantiles(a: Quantiles, b: Quantiles): boolean {
  return (Object.keys(b) as Array<keyof Quantiles>).every((k) => (Number.isNaN(b[k]) ? Number.isNaN(a[k]) : close(a[k], b[k], 1e-9)));
}

test('the oracle PRNG is the documented LCG (first draws by hand from the definition)', (t) => {
  // seed 0: state = 0x9e3779b97f4a7c15; state' = state × 6364136223846793005 + 1442695040888963407 mod 2^64.
  const s1 = (0x9e3779b97f4a7c15n * 6364136223846793005n + 1442695040888963407n) % (1n << 64n);
  const next = calibrationPrng(0);
  t.is(next(1000), Number((s1 >> 33n) % 1000n));
  const s2 = (s1 * 6364136223846793005n + 1442695040888963407n) % (1n << 64n);
  t.is(next(7), Number((s2 >> 33n) % 7n));
});

test('quantiles: the value at rank min(n − 1, ⌊p·n⌋) of the sorted values; NaN for none', (t) => {
  const ten = Array.from({ length: 10 }, (_, i) => i + 1);
  t.deepEqual(quantiles(ten), { p50: 6, p90: 10, p95: 10, p99: 10, max: 10 });
  const hundred = Array.from({ length: 100 }, (_, i) => i);
  t.deepEqual(quantiles(hundred), { p50: 50, p90: 90, p95: 95, p99: 99, max: 99 });
  t.deepEqual(quantiles([4]), { p50: 4, p90: 4, p95: 4, p99: 4, max: 4 });
  const none = quantiles([]);
  t.true(Object.values(none).every(Number.isNaN));
});

for (const kind of ['bytes', 'u16'] as const) {
  test(`${kind}: calibrate and calibrateSync equal the oracle's spans, counts and quantiles, on one shard and on several`, async (t) => {
    const b = await built(kind);
    // Only the longest document holds spans of its length (fewer spans than asked); none holds longer ones.
    const longest = Math.max(...b.corpus.docs.map((d) => d.length));
    const lengths = [3, 9, longest, longest + 1];
    for (const seed of [0, 7, 2 ** 32 - 1]) {
      for (const opts of [{}, { variant: 'density' as const }, { variant: 'kl' as const, logBase: 2 }, { variant: 'countSurprisal' as const }]) {
        const want = calibrateOracle(b.corpus, lengths, 120, seed, opts);
        t.true(want[2].samples > 0 && want[2].samples < 120, `length ${longest}: ${want[2].samples} spans`);
        t.is(want[3].samples, 0);
        for (const [name, got] of [
          ['calibrate, one shard', await b.single.calibrate({ lengths, samples: 120, seed, ...opts })],
          ['calibrateSync, several shards', b.multi.calibrateSync({ lengths, samples: 120, seed, ...opts })],
        ] as const) {
          t.deepEqual(got.map((c) => [c.length, c.samples]), want.map((c) => [c.length, c.samples]), `${name}, seed ${seed}`);
          got.forEach((c, i) => t.true(sameQuantiles(c.quantiles, want[i].quantiles), `${name}, seed ${seed}, ${JSON.stringify(opts)}, length ${c.length}: ${JSON.stringify(c.quantiles)} vs ${JSON.stringify(want[i].quantiles)}`));
        }
      }
    }
  });
}

test('defaults: lengths 8, 16, 32, 1000 samples, seed 0, variant bci', async (t) => {
  const b = await built('bytes');
  const want = calibrateOracle(b.corpus, [8, 16, 32], 1000, 0);
  const got = b.single.calibrateSync();
  t.deepEqual(got.map((c) => [c.length, c.samples]), want.map((c) => [c.length, c.samples]));
  got.forEach((c, i) => t.true(sameQuantiles(c.quantiles, want[i].quantiles)));
  t.deepEqual(await b.single.calibrate({ lengths: [] }), []);
});

test('calibrate arguments: samples a positive integer <= 10^6, at most 1024 lengths, positive integers, samples x their number <= 2^22 and x their sum <= 2^26, seed <= 2^32 - 1', async (t) => {
  const b = await built('bytes');
  t.is(MAX_CALIBRATION_SAMPLES, 1_000_000);
  const bad: object[] = [
    { samples: 0 }, { samples: -1 }, { samples: 1.5 }, { samples: MAX_CALIBRATION_SAMPLES + 1 }, { samples: 1e7 }, { samples: NaN },
    { lengths: [0] }, { lengths: [-3] }, { lengths: [2.5] }, { lengths: [2 ** 32] }, { lengths: 'abc' }, { lengths: [8, 'x'] },
    { seed: -1 }, { seed: 2 ** 32 }, { seed: 0.5 }, { variant: 'nope' }, { logBase: NaN },
    // At most 1024 lengths, samples x their number <= 2^22 spans and samples x their sum <= 2^26 tokens, checked
    // before any draw.
    { lengths: new Array(1025).fill(1), samples: 1 }, { samples: 1_000_000, lengths: [68] }, { samples: 1, lengths: [2 ** 26 + 1] },
    { samples: 2, lengths: [2 ** 25, 1] }, { samples: 1_000_000, lengths: [1, 1, 1, 1, 1] }, { samples: 4097, lengths: new Array(1024).fill(1) },
  ];
  for (const o of bad) {
    const e = t.throws(() => b.single.calibrateSync(o as never), undefined, JSON.stringify(o));
    t.is((e as { code?: string })?.code, 'ERR_INVALID_ARGUMENT', `${JSON.stringify(o)}: ${(e as Error)?.message}`);
    await t.throwsAsync(b.single.calibrate(o as never), { code: 'ERR_INVALID_ARGUMENT' } as never, JSON.stringify(o));
  }
  const many = await b.single.calibrate({ lengths: Array.from({ length: 1024 }, (_, i) => 1 + (i % 4)), samples: 3 });
  const want = calibrateOracle(b.corpus, Array.from({ length: 1024 }, (_, i) => 1 + (i % 4)), 3, 0);
  t.deepEqual(many.map((c) => [c.length, c.samples]), want.map((c) => [c.length, c.samples]));
  many.forEach((c, i) => t.true(sameQuantiles(c.quantiles, want[i].quantiles), `length ${i}`));
});
