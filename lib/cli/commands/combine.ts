/** traceindex combine: tie the parts of a partitioned build (build --shard i/N) into one index. */
import { combineIndexes } from '../../index';
import { Command, print, UsageError } from '../command';
import { formatCount } from '../format';

export const combine: Command = {
  name: 'combine',
  summary: 'tie the parts of a --shard i/N build into one index',
  usage: 'OUT PART_DIRS... [--verify] [--json]',
  options: ['verify', 'json'],
  // Not interruptible yet: combineIndexes takes no AbortSignal, so SIGINT keeps its default (exit).
  async run(args, flags) {
    const [out, ...parts] = args;
    if (!out || parts.length === 0) throw new UsageError('combine needs OUT and at least one part directory');
    const r = await combineIndexes(out, parts, { verify: Boolean(flags.verify) });
    print(flags, r, `combined ${r.parts} part(s), ${r.shards} shard(s), ${formatCount(r.documents)} docs, ${formatCount(r.tokens)} tokens into ${r.out}`);
  },
};
