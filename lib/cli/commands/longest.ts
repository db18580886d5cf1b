/** traceindex longest: the longest prefix of a text that occurs. */
import { Command, INDEX_FLAGS, print, queryOf, withIndex } from '../command';

export const longest: Command = {
  name: 'longest',
  summary: 'the longest prefix of the text that occurs, and its count',
  usage: 'DIR <text> [--tokens 1,2,3] [--json]',
  options: ['tokens', 'json', ...INDEX_FLAGS],
  async run(args, flags) {
    const query = queryOf(flags, args.slice(1));
    await withIndex(args[0], flags, async (idx) => {
      const m = await idx.longestMatch(query);
      print(flags, m, `${m.length} token(s) match, ${m.count} occurrence(s)${m.text !== undefined ? `: ${JSON.stringify(m.text)}` : ''}`);
    });
  },
};
