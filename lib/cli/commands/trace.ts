/** traceindex trace: the corpus spans of a text, with counts, BCI and sources (--html: the viewer as one file). */
import * as path from 'node:path';
import type { Index, TraceOptions, TraceResult } from '../../index';
import { renderTraceReport } from '../../viewer/report';
import { Command, INDEX_FLAGS, print, textArg, withIndex, writeOutput } from '../command';
import { describeTraceOptions, TRACE_FLAGS, traceFlags } from '../trace-options';

function traceLines(index: Index, r: TraceResult, options: TraceOptions): string {
  return [describeTraceOptions(index, options), `${r.spans.length} span(s) in ${r.tokens} token(s)`, ...r.spans.map((s) => [
    `  [${s.start}, ${s.end}) BCI ${s.bci.toFixed(2)} count ${s.count}: ${s.text !== undefined ? JSON.stringify(s.text) : ''}`,
    ...s.documents.map((d) => `      ${d.id} at token ${d.position.token}`),
  ].join('\n'))].join('\n');
}

export const trace: Command = {
  name: 'trace',
  summary: 'the spans of the text (or of stdin, with -) found verbatim in the corpus, with counts, BCI and sources',
  usage: `DIR <text|-> [--min-length N] [--max-count N] [--delimiters ".,\\n"] [--no-word-boundaries]
        [--max-documents N] [--seed N] [--log-base B] [--html report.html] [--json]`,
  options: [...TRACE_FLAGS, 'html', 'json', ...INDEX_FLAGS],
  async run(args, flags) {
    const optionsFor = traceFlags(flags);
    await withIndex(args[0], flags, async (idx) => {
      const options = optionsFor(idx);
      const text = await textArg(args.slice(1));
      const r = await idx.trace(text, options);
      if (typeof flags.html === 'string')
        writeOutput(flags.html, renderTraceReport(idx, { output: text, result: r }, { traceOptions: options, indexName: path.basename(idx.info.dir) }));
      print(flags, { options, ...r }, traceLines(idx, r, options));
    });
  },
};
