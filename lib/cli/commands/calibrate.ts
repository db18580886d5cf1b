/** traceindex calibrate: BCI quantiles of corpus spans per length, the scale on which to pick --tau. */
import { MAX_CALIBRATION_SAMPLES } from '../../index';
import { MAX_UINT32 } from '../../validate';
import { Command, INDEX_FLAGS, intFlag, intListFlag, print, withIndex } from '../command';

export const calibrate: Command = {
  name: 'calibrate',
  summary: 'BCI quantiles of spans sampled from the corpus, per length: the scale on which to pick --tau',
  usage: 'DIR [--lengths 8,16,32] [--samples 1000] [--seed N] [--json]',
  options: ['lengths', 'samples', 'seed', 'json', ...INDEX_FLAGS],
  interruptible: true,
  async run(args, flags, signal) {
    const options = {
      lengths: intListFlag(flags, 'lengths', { positive: true, max: MAX_UINT32 }),
      samples: intFlag(flags, 'samples', { positive: true, max: MAX_CALIBRATION_SAMPLES }),
      seed: intFlag(flags, 'seed', { default: 0, max: MAX_UINT32 }),
      signal,
    };
    await withIndex(args[0], flags, async (idx) => {
      const r = await idx.calibrate(options);
      print(flags, r, r.map((c) => `length ${c.length}: ${c.samples} spans, BCI p50 ${c.quantiles.p50.toFixed(2)} p90 ${c.quantiles.p90.toFixed(2)} p95 ${c.quantiles.p95.toFixed(2)} p99 ${c.quantiles.p99.toFixed(2)} max ${c.quantiles.max.toFixed(2)}`).join('\n'));
    });
  },
};
