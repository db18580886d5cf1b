/** traceindex document: one document by number or id. */
import { Command, INDEX_FLAGS, print, UsageError, withIndex } from '../command';

export const document: Command = {
  name: 'document',
  summary: 'a document by global number (0-based) or by id',
  usage: 'DIR <number|id> [--json]',
  options: ['json', ...INDEX_FLAGS],
  async run(args, flags) {
    const ref = args[1];
    if (args[0] !== undefined && ref === undefined) throw new UsageError('document needs a number or an id');
    await withIndex(args[0], flags, async (idx) => {
      const d = await idx.document(/^\d+$/.test(ref) ? Number(ref) : ref);
      print(flags, d, d.text ?? Array.from(d.tokens).join(' '));
    });
  },
};
