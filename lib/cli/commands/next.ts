/** traceindex next: the ∞-gram next-token distribution after a context. */
import { Command, INDEX_FLAGS, intFlag, print, queryOf, withIndex } from '../command';

export const next: Command = {
  name: 'next',
  summary: 'the ∞-gram next-token distribution after the text',
  usage: 'DIR <text> [--tokens 1,2,3] [--top 10] [--json]',
  options: ['tokens', 'top', 'json', ...INDEX_FLAGS],
  async run(args, flags) {
    const top = intFlag(flags, 'top', { default: 10 })!;
    const query = typeof flags.tokens === 'string' ? queryOf(flags, []) : args.slice(1).join(' ');
    await withIndex(args[0], flags, async (idx) => {
      const n = await idx.nextTokens(query);
      const shown = Math.min(n.tokens.length, top);
      const rows = Array.from({ length: shown }, (_, i) => ({ token: n.tokens[i], count: n.counts[i], probability: n.counts[i] / n.total }));
      const show = (t: number) => (idx.tokenizer.readsText ? JSON.stringify(idx.tokenizer.decode([t])) : String(t));
      print(flags, { suffixLength: n.suffixLength, total: n.total, approximate: n.approximate, distinct: n.tokens.length, top: rows },
        [`context suffix of ${n.suffixLength} token(s), ${n.total} continuation(s), ${n.tokens.length} distinct`,
          ...rows.map((r) => `  ${show(r.token)}  ${r.count}  ${(r.probability * 100).toFixed(2)}%`)].join('\n'));
    });
  },
};
