/** traceindex info: what an index is. */
import type { Index } from '../../index';
import { Command, INDEX_FLAGS, print, withIndex } from '../command';
import { formatBytes, formatCount } from '../format';

/** How text becomes tokens for this index here: the native encoder, the JS one (and why), or none. */
function encoderOf(idx: Index): string {
  const t = idx.tokenizer;
  if (!t.readsText) return 'none (token ids only)';
  if (t.native === undefined) return 'built in';
  return t.native ? 'native' : `JavaScript${t.jsReason ? ` (not native: ${t.jsReason})` : ''}`;
}

function infoLines(idx: Index): string {
  const i = idx.info;
  return [
    `index        ${i.dir}`,
    `format       ${i.format === 'infini-gram' ? 'infini-gram (read in place)' : `v${i.formatVersion}`}`,
    `tokenizer    ${i.tokenizer.name} (${i.tokenizer.fingerprint}), vocabulary ${i.vocabSize}, ${i.tokenWidth}-byte tokens`,
    `encoder      ${encoderOf(idx)}`,
    `documents    ${formatCount(i.documents)}`,
    `tokens       ${formatCount(i.tokens)}`,
    `shards       ${i.shards.length} (${i.shards.map((s) => `${s.dir}: ${formatCount(s.tokens)} tokens, ${s.pointerWidth}-byte pointers`).join('; ')})`,
    `on disk      ${formatBytes(i.bytesOnDisk)}, ${i.bytesPerToken.toFixed(3)} bytes/token (tokens + suffix array)`,
    `search SIMD  ${i.simd}`,
  ].join('\n');
}

export const info: Command = {
  name: 'info',
  summary: 'format, tokenizer, sizes and shards of an index',
  usage: 'DIR [--json]',
  options: ['json', ...INDEX_FLAGS],
  async run(args, flags) {
    await withIndex(args[0], flags, async (idx) => print(flags, idx.info, infoLines(idx)));
  },
};
