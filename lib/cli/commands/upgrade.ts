/** traceindex upgrade: add format version 2's sampled keys to an index built before it, in place. */
import { upgradeIndex, UpgradeProgress } from '../../index';
import { Command, print, UsageError } from '../command';
import { formatBytes, ProgressReporter } from '../format';

export const upgrade: Command = {
  name: 'upgrade',
  summary: 'add the sampled keys of format version 2 (samples.bin) to an index built before it, in place',
  usage: 'DIR [--quiet] [--json]',
  options: ['quiet', 'json'],
  interruptible: true,
  async run(args, flags, signal) {
    const dir = args[0];
    if (!dir) throw new UsageError('missing index directory');
    if (args.length > 1) throw new UsageError(`upgrade takes one index directory, got ${args.length}`);
    const quiet = Boolean(flags.quiet || flags.json);
    // As a build: a progress line per stage (verify, write) and the summary on stderr, the result with --json on stdout.
    const progress = new ProgressReporter({ unit: 'shards', quiet, live: true });
    let stage = '';
    const onProgress = (p: UpgradeProgress) => {
      if (p.stage !== 'verify' && p.stage !== 'write') return;
      if (p.stage !== stage) progress.start((stage = p.stage), p.toUpgrade);
      progress.update({ done: p.stage === 'verify' ? p.verified : p.written, bytes: p.stage === 'write' ? p.bytesWritten : undefined });
    };
    let r;
    try {
      r = await upgradeIndex(dir, { signal, onProgress });
    } finally {
      progress.stop();
    }
    progress.done(r.upgraded === 0
      ? `${dir}: already format version 2 with samples.bin in all ${r.shards} shard(s); nothing to do`
      : `upgraded ${r.upgraded} of ${r.shards} shard(s) of ${dir} to format version 2 (${formatBytes(r.bytesWritten)} of samples.bin written)`);
    if (flags.json) print(flags, r, '');
  },
};
