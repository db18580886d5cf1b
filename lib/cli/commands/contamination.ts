/** traceindex contamination: the share of evaluation items found verbatim (a span of >= --min-length tokens). */
import type { Index, TraceOptions } from '../../index';
import { Command, Flags, INDEX_FLAGS, print, UsageError, withIndex } from '../command';
import { TRACE_FLAGS, traceFlags } from '../trace-options';

interface ContaminationReport {
  items: number;
  /** Records that could not be read or tokenized (not counted in items). */
  errors: Array<{ id: string; code: string; message: string }>;
  contaminated: number;
  share: number;
  minLength: number;
  flagged: Array<{ id: string; spans: Array<{ start: number; end: number; text?: string; count: number }> }>;
}

/** Share of evaluation items with a span of at least --min-length tokens found verbatim in the corpus. */
async function contaminationOf(index: Index, inputs: string[], flags: Flags, options: TraceOptions, signal?: AbortSignal): Promise<ContaminationReport> {
  let items = 0;
  const flagged: ContaminationReport['flagged'] = [];
  const errors: ContaminationReport['errors'] = [];
  for await (const r of index.scan(inputs, { ...options, maxDocuments: 0, field: flags.field as string | undefined, idField: flags['id-field'] as string | undefined, signal })) {
    if (r.error) {
      errors.push({ id: r.id, ...r.error });
      continue;
    }
    items++;
    if (r.spans.length > 0) flagged.push({ id: r.id, spans: r.spans.map((s) => ({ start: s.start, end: s.end, text: s.text, count: s.count })) });
  }
  return { items, errors, contaminated: flagged.length, share: items ? flagged.length / items : 0, minLength: options.minLength ?? 1, flagged };
}

export const contamination: Command = {
  name: 'contamination',
  summary: 'the share of evaluation items that share a span of >= --min-length tokens with the corpus',
  usage: 'DIR <eval.jsonl...> --min-length N [--field text] [--id-field id] [trace options] [--json]',
  options: ['field', 'id-field', ...TRACE_FLAGS, 'json', ...INDEX_FLAGS],
  interruptible: true,
  async run(args, flags, signal) {
    if (flags['min-length'] === undefined) throw new UsageError('contamination needs --min-length N');
    const optionsFor = traceFlags(flags);
    await withIndex(args[0], flags, async (idx) => {
      const r = await contaminationOf(idx, args.slice(1), flags, optionsFor(idx), signal);
      print(flags, r, `${r.contaminated} of ${r.items} item(s) (${(r.share * 100).toFixed(2)}%) share a span of >= ${r.minLength} tokens with the corpus${r.errors.length ? `; ${r.errors.length} unreadable record(s), first: ${r.errors[0].message}` : ''}`);
    });
  },
};
