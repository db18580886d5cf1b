/** traceindex verify: checksums, content and suffix order of every file (--quick: the cheap check). */
import { Command, INDEX_FLAGS, print, withIndex } from '../command';
import { formatBytes } from '../format';

export const verify: Command = {
  name: 'verify',
  summary: 'check every checksum, then content and suffix order of every shard (--quick: structure, offsets, sums, sampled order)',
  usage: 'DIR [--quick] [--json]',
  options: ['quick', 'json', ...INDEX_FLAGS],
  interruptible: true,
  async run(args, flags, signal) {
    await withIndex(args[0], flags, async (idx) => {
      const r = await idx.verify({ signal, quick: Boolean(flags.quick) });
      print(flags, { ok: true, ...r }, r.quick
        ? `ok (quick): ${r.shards} shard(s) (${formatBytes(r.bytes)}) pass the structure, offset and unigram-sum checks and the sampled suffix order`
        : idx.format === 'infini-gram'
        ? `ok: ${r.files} infini-gram files (${formatBytes(r.bytes)}, no checksums in that format); ${r.shards} shard(s) pass content and byte-order suffix checks`
        : `ok: ${r.files} files (${formatBytes(r.bytes)}) match their checksums; ${r.shards} shard(s) pass content and suffix-order checks`);
    });
  },
};
