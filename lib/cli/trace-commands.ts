/**
 * The CLI's provenance commands (trace, shield, scan, contamination, export-surprisal): option parsing with
 * friendlier defaults than the API's (printed with every result), output formatting, resumable scans.
 */
import * as fs from 'node:fs';
import { Index, TraceIndexError, TraceOptions, TraceResult } from '../index';
import { formatCount, ProgressReporter } from './format';

type Flags = Record<string, string | boolean | undefined>;

/**
 * CLI defaults: spans of at least 12 tokens (with byte tokens, shorter ones are mostly common words), whole
 * words for text tokenizers, 3 attributions per span. The API's defaults are the bare definition instead.
 */
export const TRACE_DEFAULTS = { minLength: 12, wordBoundaries: true, maxDocuments: 3 };

function count(flags: Flags, name: string): number | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new TraceIndexError('ERR_INVALID_ARGUMENT', `--${name} takes a non-negative integer, got ${v}`);
  return n;
}

export function traceCommandOptions(flags: Flags, index: Index): TraceOptions {
  const o: TraceOptions = {
    minLength: count(flags, 'min-length') ?? TRACE_DEFAULTS.minLength,
    wordBoundaries: index.tokenizer.name === 'bytes' && !flags['no-word-boundaries'] && TRACE_DEFAULTS.wordBoundaries,
    maxDocuments: count(flags, 'max-documents') ?? TRACE_DEFAULTS.maxDocuments,
    seed: count(flags, 'seed') ?? 0,
  };
  const maxCount = count(flags, 'max-count');
  if (maxCount !== undefined) o.maxCount = maxCount;
  if (typeof flags.delimiters === 'string')
    o.delimiters = Array.from(flags.delimiters.replace(/\\n/g, '\n').replace(/\\t/g, '\t'));
  if (flags['log-base'] !== undefined) o.logBase = Number(flags['log-base']);
  return o;
}

export function traceLines(index: Index, r: TraceResult, options: TraceOptions): string {
  const head = `${r.spans.length} span(s) in ${r.tokens} token(s) [min-length ${options.minLength}, word boundaries ${options.wordBoundaries ? 'on' : 'off'}` +
    `${options.maxCount !== undefined ? `, max-count ${options.maxCount}` : ''}${options.delimiters ? `, delimiters ${JSON.stringify(options.delimiters.join(''))}` : ''}]`;
  return [head, ...r.spans.map((s) => [
    `  [${s.start}, ${s.end}) BCI ${s.bci.toFixed(2)} count ${s.count}: ${s.text !== undefined ? JSON.stringify(s.text) : ''}`,
    ...s.documents.map((d) => `      ${d.id} at token ${d.position.token}`),
  ].join('\n'))].join('\n');
}

/** traceindex scan: results as JSONL on stdout or --out (appending; ids already there are skipped). */
export async function runScan(index: Index, inputs: string[], flags: Flags, options: TraceOptions): Promise<void> {
  if (inputs.length === 0) throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'scan needs at least one JSONL file of outputs');
  const out = typeof flags.out === 'string' ? flags.out : undefined;
  const skipIds = new Set<string>();
  if (out && fs.existsSync(out)) {
    // A killed scan may have left a torn last line: cut it off (its record is traced again).
    const existing = fs.readFileSync(out, 'utf8');
    const whole = existing.lastIndexOf('\n') + 1;
    if (whole < existing.length) fs.truncateSync(out, Buffer.byteLength(existing.slice(0, whole)));
    for (const line of existing.slice(0, whole).split('\n')) {
      if (!line.trim()) continue;
      try {
        skipIds.add(JSON.parse(line).id);
      } catch {
        // A torn last line from a killed scan: that record is traced again.
      }
    }
  }
  const sink = out ? fs.createWriteStream(out, { flags: 'a' }) : process.stdout;
  const progress = new ProgressReporter({ unit: 'records', quiet: Boolean(flags.quiet) || !out });
  progress.start('scan');
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  let n = 0;
  let tokens = 0;
  let errors = 0;
  try {
    for await (const r of index.scan(inputs, { ...options, field: flags.field as string | undefined, idField: flags['id-field'] as string | undefined, skipIds, signal: controller.signal })) {
      const line = JSON.stringify({ id: r.id, tokens: r.tokens, maxBci: r.maxBci, spans: r.spans.map((s) => ({ start: s.start, end: s.end, text: s.text, count: s.count, bci: s.bci, scores: s.scores, documents: s.documents.map((d) => ({ id: d.id, document: d.document, position: d.position })) })), ...(r.error ? { error: r.error } : {}) }) + '\n';
      if (!sink.write(line)) await new Promise<void>((resolve) => sink.once('drain', () => resolve()));
      n++;
      tokens += r.tokens;
      if (r.error) errors++;
      progress.update({ done: n, note: `${formatCount(tokens)} tokens, ${errors} error(s)` });
    }
  } finally {
    process.off('SIGINT', onSignal);
    if (out) await new Promise((resolve) => (sink as fs.WriteStream).end(resolve));
  }
  progress.done(`${n} record(s), ${formatCount(tokens)} tokens, ${errors} error(s)${skipIds.size ? `, ${skipIds.size} already in ${out}` : ''}`);
}

export interface ContaminationReport {
  items: number;
  /** Records that could not be read or tokenized (not counted in items). */
  errors: Array<{ id: string; code: string; message: string }>;
  contaminated: number;
  share: number;
  minLength: number;
  flagged: Array<{ id: string; spans: Array<{ start: number; end: number; text?: string; count: number }> }>;
}

/** Share of evaluation items with a span of at least --min-length tokens found verbatim in the corpus. */
export async function contamination(index: Index, inputs: string[], flags: Flags, options: TraceOptions): Promise<ContaminationReport> {
  let items = 0;
  const flagged: ContaminationReport['flagged'] = [];
  const errors: ContaminationReport['errors'] = [];
  for await (const r of index.scan(inputs, { ...options, maxDocuments: 0, field: flags.field as string | undefined, idField: flags['id-field'] as string | undefined })) {
    if (r.error) {
      errors.push({ id: r.id, ...r.error });
      continue;
    }
    items++;
    if (r.spans.length > 0) flagged.push({ id: r.id, spans: r.spans.map((s) => ({ start: s.start, end: s.end, text: s.text, count: s.count })) });
  }
  return { items, errors, contaminated: flagged.length, share: items ? flagged.length / items : 0, minLength: options.minLength ?? 1, flagged };
}

/** Writes the surprisal table as a NumPy .npy file (float32, shape (vocabSize,)). */
export function exportSurprisal(index: Index, file: string, logBase?: number): number {
  const table = index.surprisalTable({ logBase });
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${table.length},), }`;
  // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, ending in \n.
  const pad = 64 - ((10 + header.length + 1) % 64);
  header = header + ' '.repeat(pad % 64) + '\n';
  const preamble = Buffer.alloc(10);
  preamble.write('\x93NUMPY', 0, 'latin1');
  preamble[6] = 1;
  preamble[7] = 0;
  preamble.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([preamble, Buffer.from(header, 'latin1'), Buffer.from(table.buffer, table.byteOffset, table.byteLength)]));
  return table.length;
}
