/** traceindex shield: TraceShield's decision on a text. */
import { MAX_UINT32 } from '../../validate';
import { Command, EXIT_REFUSED, INDEX_FLAGS, intFlag, numberFlag, print, textArg, UsageError, withIndex } from '../command';
import { describeTraceOptions, TRACE_FLAGS, traceFlags } from '../trace-options';

export const shield: Command = {
  name: 'shield',
  summary: 'refuse the text if a matched span (or window) scores above --tau (see calibrate); exit 3 when it refuses',
  usage: 'DIR <text|-> --tau T [--window W] [--max-count N] [trace options] [--json]',
  options: ['tau', 'window', ...TRACE_FLAGS, 'json', ...INDEX_FLAGS],
  async run(args, flags) {
    if (flags.tau === undefined) throw new UsageError('shield needs --tau: there is no default (traceindex calibrate DIR gives the scale: docs/provenance.md, "Choosing τ")');
    const tau = numberFlag(flags, 'tau')!;
    const window = intFlag(flags, 'window', { positive: true, max: MAX_UINT32 });
    const optionsFor = traceFlags(flags);
    return withIndex(args[0], flags, async (idx) => {
      const options = { ...optionsFor(idx), tau, mode: window !== undefined ? { window } : ('maximal' as const) };
      const r = await idx.shield(await textArg(args.slice(1)), options);
      print(flags, r, `${describeTraceOptions(idx, options, window)}\n${r.refuse ? 'REFUSE' : 'allow'}: max BCI ${r.maxBci.toFixed(3)} (tau ${tau})${r.worst ? ` from ${JSON.stringify(r.worst.text ?? '')} (${r.worst.count} occurrence(s))` : ''}`);
      return r.refuse ? EXIT_REFUSED : 0;
    });
  },
};
