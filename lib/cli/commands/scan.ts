/** traceindex scan: trace JSONL files of outputs; results as JSONL, resumable with --out; --html: the riskiest. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Index, ScanResult, TraceOptions } from '../../index';
import { renderScanReport } from '../../viewer/report';
import { Command, Flags, INDEX_FLAGS, UsageError, withIndex } from '../command';
import { formatCount, ProgressReporter } from '../format';
import { describeTraceOptions, TRACE_FLAGS, traceFlags } from '../trace-options';

/** The ids already in `out`, after cutting off a torn last line (a killed scan's; its record is traced again). */
function doneIds(out: string): Set<string> {
  const skipIds = new Set<string>();
  if (!fs.existsSync(out)) return skipIds;
  const existing = fs.readFileSync(out, 'utf8');
  const whole = existing.lastIndexOf('\n') + 1;
  if (whole < existing.length) fs.truncateSync(out, Buffer.byteLength(existing.slice(0, whole)));
  for (const line of existing.slice(0, whole).split('\n')) {
    if (!line.trim()) continue;
    try {
      skipIds.add(JSON.parse(line).id);
    } catch {
      // Not a result line: its record is traced again.
    }
  }
  return skipIds;
}

/** Results as JSONL on stdout or --out (appending; ids already there are skipped). */
async function runScan(index: Index, inputs: string[], flags: Flags, options: TraceOptions, signal?: AbortSignal): Promise<void> {
  const out = typeof flags.out === 'string' ? flags.out : undefined;
  const skipIds = out ? doneIds(out) : new Set<string>();
  const sink = out ? fs.createWriteStream(out, { flags: 'a' }) : process.stdout;
  if (!flags.quiet) process.stderr.write(`${describeTraceOptions(index, options)}\n`);
  const progress = new ProgressReporter({ unit: 'records', quiet: Boolean(flags.quiet) || !out });
  progress.start('scan');
  let n = 0;
  let tokens = 0;
  let errors = 0;
  const stream = index.scan(inputs, { ...options, field: flags.field as string | undefined, idField: flags['id-field'] as string | undefined, skipIds, signal });
  // Every result is written as it comes; --html also keeps the riskiest ones (bounded) for the report.
  async function* written(): AsyncGenerator<ScanResult> {
    for await (const r of stream) {
      const line = JSON.stringify({ id: r.id, tokens: r.tokens, maxBci: r.maxBci, spans: r.spans.map((s) => ({ start: s.start, end: s.end, text: s.text, count: s.count, bci: s.bci, scores: s.scores, documents: s.documents.map((d) => ({ id: d.id, document: d.document, position: d.position })) })), ...(r.error ? { error: r.error } : {}) }) + '\n';
      if (!sink.write(line)) await new Promise<void>((resolve) => sink.once('drain', () => resolve()));
      n++;
      tokens += r.tokens;
      if (r.error) errors++;
      progress.update({ done: n, note: `${formatCount(tokens)} tokens, ${errors} error(s)` });
      yield r;
    }
  }
  try {
    if (typeof flags.html === 'string')
      fs.writeFileSync(flags.html, await renderScanReport(index, written(), { traceOptions: options, indexName: path.basename(index.info.dir) }));
    else for await (const _ of written());
  } finally {
    if (out) await new Promise((resolve) => (sink as fs.WriteStream).end(resolve));
  }
  progress.done(`${n} record(s), ${formatCount(tokens)} tokens, ${errors} error(s)${skipIds.size ? `, ${skipIds.size} already in ${out}` : ''}`);
}

export const scan: Command = {
  name: 'scan',
  summary: 'trace every record of JSONL files (- for stdin): one JSON line per record, resumable with --out',
  usage: 'DIR <outputs.jsonl...> [--field text] [--id-field id] [--out results.jsonl] [--html report.html] [--quiet] [trace options]',
  options: ['field', 'id-field', 'out', 'html', 'quiet', ...TRACE_FLAGS, ...INDEX_FLAGS],
  interruptible: true,
  async run(args, flags, signal) {
    const inputs = args.slice(1);
    if (args[0] !== undefined && inputs.length === 0) throw new UsageError('scan needs at least one JSONL file of outputs');
    const optionsFor = traceFlags(flags);
    await withIndex(args[0], flags, (idx) => runScan(idx, inputs, flags, optionsFor(idx), signal));
  },
};
