/** traceindex locate: a page of occurrences with snippets. */
import { MAX_LOCATE_LIMIT } from '../../index';
import { MAX_UINT32 } from '../../validate';
import { Command, INDEX_FLAGS, intFlag, print, queryOf, withIndex } from '../command';

export const locate: Command = {
  name: 'locate',
  summary: `where the text occurs: a page of at most ${MAX_LOCATE_LIMIT} occurrences, with snippets`,
  usage: 'DIR <text> [--tokens 1,2,3] [--word-start] [--limit 10] [--offset 0] [--context 16] [--json]',
  options: ['tokens', 'word-start', 'limit', 'offset', 'context', 'json', ...INDEX_FLAGS],
  async run(args, flags) {
    const page = {
      limit: intFlag(flags, 'limit', { default: 10, max: MAX_LOCATE_LIMIT }),
      offset: intFlag(flags, 'offset', { default: 0 }),
      context: intFlag(flags, 'context', { default: 16, max: MAX_UINT32 }),
      wordStart: Boolean(flags['word-start']),
    };
    const query = queryOf(flags, args.slice(1));
    await withIndex(args[0], flags, async (idx) => {
      const r = await idx.locate(query, page);
      const human = [`${r.total} occurrence(s)`, ...r.occurrences.map((o) =>
        `  doc ${o.document} ${JSON.stringify(o.id)} token ${o.position.token}${o.position.byte !== undefined ? ` byte ${o.position.byte}` : ''}: ${o.snippet.text !== undefined ? JSON.stringify(o.snippet.text) : Array.from(o.snippet.tokens).join(' ')}`)].join('\n');
      print(flags, r, human);
    });
  },
};
