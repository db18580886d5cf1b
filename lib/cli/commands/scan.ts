/** traceindex scan: trace JSONL files of outputs; results as JSONL, resumable with --out; --html: the riskiest. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TraceIndexError, type Index, type ScanResult, type TraceOptions } from '../../index';
import { renderScanReport } from '../../viewer/report';
import { Command, Flags, INDEX_FLAGS, numberFlag, UsageError, withIndex, writeOutput } from '../command';
import { resolveInputs, STDIN_PATH } from '../../inputs/paths';
import { formatBytes, formatCount, MovingRate, ProgressOptions, ProgressReporter } from '../format';
import { describeTraceOptions, TRACE_FLAGS, traceFlags } from '../trace-options';

/** How every result line starts (`written` below puts the id first). */
const RESULT_START = '{"id":';

/**
 * The ids already in `out`, after cutting off a torn last line (a killed scan's; its record is traced again). A
 * file that is not a scan's output (a line that is not a result, a last line that cannot be the start of one) or
 * that is one of the inputs is refused, never cut or appended to.
 */
function doneIds(out: string, files: string[]): Set<string> {
  const refuse = (why: string) => new TraceIndexError('ERR_INVALID_ARGUMENT', `--out ${out}: ${why}: scan appends only to its own results`);
  let st: fs.Stats;
  try {
    st = fs.statSync(out);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
    throw err;
  }
  if (!st.isFile()) throw refuse('not a regular file');
  for (const f of files)
    if (f !== STDIN_PATH) {
      const s = fs.statSync(f);
      if (s.dev === st.dev && s.ino === st.ino) throw refuse(`the same file as the input ${f}`);
    }
  const bytes = fs.readFileSync(out);
  const whole = bytes.lastIndexOf(0x0a) + 1;  // in bytes: a cut through the decoded text would land elsewhere
  const skipIds = new Set<string>();
  bytes.subarray(0, whole).toString('utf8').split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let r: { id?: unknown; tokens?: unknown; spans?: unknown } | undefined;
    try {
      r = JSON.parse(line);
    } catch {
      // refused below
    }
    if (!line.startsWith(RESULT_START) || typeof r?.id !== 'string' || typeof r.tokens !== 'number' || !Array.isArray(r.spans))
      throw refuse(`line ${i + 1} is not a scan result`);
    skipIds.add(r.id);
  });
  if (whole < bytes.length) {
    const torn = bytes.subarray(whole, whole + RESULT_START.length).toString('latin1');  // at most its length
    if (!RESULT_START.startsWith(torn)) throw refuse('its last line is not the start of a scan result');
    fs.truncateSync(out, whole);
  }
  return skipIds;
}

/** What a scan did, as its summary line says (and --json prints on stderr). */
export interface ScanSummary {
  records: number;
  /** Records with a span above --tau, or with any span when no --tau is given. */
  flagged: number;
  errors: number;
  tokens: number;
  /** Records skipped as already in --out. */
  skipped: number;
  seconds: number;
  recordsPerSecond: number;
  /** --out, or "-" for stdout. */
  output: string;
}

/**
 * Results as JSONL on stdout or --out (appending; ids already there are skipped). Progress on stderr: a bar
 * over the input files' bytes (a spinner line with counts when stdin is read), with a rate over the last
 * seconds, then a summary (one JSON object with --json). `progressOptions`: tests' stream and clock.
 */
export async function runScan(index: Index, inputs: string[], flags: Flags, options: TraceOptions, signal?: AbortSignal,
  progressOptions: ProgressOptions = {}): Promise<ScanSummary> {
  const out = typeof flags.out === 'string' ? flags.out : undefined;
  const tau = numberFlag(flags, 'tau');
  const files = await resolveInputs(inputs);
  const skipIds = out ? doneIds(out, files) : new Set<string>();
  const totalBytes = files.includes(STDIN_PATH) ? undefined : files.reduce((t, f) => t + fs.statSync(f).size, 0);
  const sink = out ? fs.createWriteStream(out, { flags: 'a' }) : process.stdout;
  const errStream = progressOptions.stream ?? process.stderr;
  if (!flags.quiet && !flags.json) errStream.write(`${describeTraceOptions(index, options)}\n`);
  // Without --out the results go to stdout: the bar only when they do not share the terminal with it.
  const bar = !flags.quiet && !flags.json && (out !== undefined || !process.stdout.isTTY);
  const progress = new ProgressReporter({
    unit: totalBytes === undefined ? 'records' : '', formatDone: totalBytes === undefined ? formatCount : formatBytes,
    live: true, spinner: true, ...progressOptions, quiet: !bar,
  });
  const now = progressOptions.now ?? (() => performance.now());
  const started = now();
  progress.start('scan', totalBytes);
  const moving = new MovingRate(5);
  let bytes = 0;
  let n = 0;
  let tokens = 0;
  let errors = 0;
  let flagged = 0;
  const show = (final = false) => {
    moving.add(now(), [n, bytes]);
    const [perSecond, bytesPerSecond] = moving.rates();
    const rate = perSecond === undefined ? '' : totalBytes === undefined ? `${formatCount(perSecond)} records/s` : `${formatCount(perSecond)} records/s, ${formatBytes(bytesPerSecond)}/s`;
    progress.update({
      done: totalBytes === undefined ? n : bytes, rate,
      note: `${totalBytes === undefined ? '' : `${formatCount(n)} records, `}${formatCount(flagged)} flagged, ${errors} error(s)`,
    }, final);
  };
  const stream = index.scan(inputs, {
    ...options, field: flags.field as string | undefined, idField: flags['id-field'] as string | undefined, skipIds, signal,
    onBytes: (b) => { bytes += b; },
  });
  // Every result is written as it comes; --html also keeps the riskiest ones (bounded) for the report.
  async function* written(): AsyncGenerator<ScanResult> {
    for await (const r of stream) {
      const line = JSON.stringify({ id: r.id, tokens: r.tokens, maxBci: r.maxBci, spans: r.spans.map((s) => ({ start: s.start, end: s.end, text: s.text, count: s.count, bci: s.bci, scores: s.scores, documents: s.documents.map((d) => ({ id: d.id, document: d.document, position: d.position })) })), ...(r.error ? { error: r.error } : {}) }) + '\n';
      if (!sink.write(line)) await new Promise<void>((resolve) => sink.once('drain', () => resolve()));
      n++;
      tokens += r.tokens;
      if (r.error) errors++;
      if (tau === undefined ? r.spans.length > 0 : r.spans.some((sp) => sp.bci > tau)) flagged++;
      show();
      yield r;
    }
  }
  try {
    if (typeof flags.html === 'string')
      writeOutput(flags.html, await renderScanReport(index, written(), { traceOptions: options, indexName: path.basename(index.info.dir) }));
    else for await (const _ of written());
  } finally {
    progress.stop();
    if (out) await new Promise((resolve) => (sink as fs.WriteStream).end(resolve));
  }
  show(true); // the bar at its end: every byte read
  const seconds = (now() - started) / 1000;
  const summary: ScanSummary = { records: n, flagged, errors, tokens, skipped: skipIds.size, seconds, recordsPerSecond: seconds > 0 ? n / seconds : 0, output: out ?? '-' };
  if (flags.json) errStream.write(`${JSON.stringify(summary)}\n`);
  else if (!flags.quiet)
    (bar ? progress : new ProgressReporter({ ...progressOptions, quiet: false })).done(
      `scanned ${n} record(s), ${formatCount(flagged)} flagged (${tau === undefined ? 'any span' : `a span above τ ${tau}`}), ${errors} error(s), ` +
      `${formatCount(tokens)} tokens in ${seconds.toFixed(2)} s (${formatCount(summary.recordsPerSecond)} records/s)` +
      `${skipIds.size ? `, ${skipIds.size} already in ${out}` : ''} → ${out ?? 'stdout'}`);
  return summary;
}

export const scan: Command = {
  name: 'scan',
  summary: 'trace every record of JSONL files (- for stdin): one JSON line per record, resumable with --out',
  usage: 'DIR <outputs.jsonl...> [--field text] [--id-field id] [--out results.jsonl] [--html report.html] [--tau T] [--quiet] [--json] [trace options]',
  options: ['field', 'id-field', 'out', 'html', 'tau', 'quiet', 'json', ...TRACE_FLAGS, ...INDEX_FLAGS],
  interruptible: true,
  async run(args, flags, signal) {
    const inputs = args.slice(1);
    if (args[0] !== undefined && inputs.length === 0) throw new UsageError('scan needs at least one JSONL file of outputs');
    const optionsFor = traceFlags(flags);
    await withIndex(args[0], flags, (idx) => runScan(idx, inputs, flags, optionsFor(idx), signal));
  },
};
