/** traceindex count: occurrences of a text (or token ids). */
import { Command, INDEX_FLAGS, print, queryOf, withIndex } from '../command';

export const count: Command = {
  name: 'count',
  summary: 'occurrences of the text (or of --tokens ids) in the corpus',
  usage: 'DIR <text> [--tokens 1,2,3] [--word-start] [--json]',
  options: ['tokens', 'word-start', 'json', ...INDEX_FLAGS],
  async run(args, flags) {
    const query = queryOf(flags, args.slice(1));
    await withIndex(args[0], flags, async (idx) => {
      const count = await idx.count(query, { wordStart: Boolean(flags['word-start']) });
      print(flags, { count }, String(count));
    });
  },
};
