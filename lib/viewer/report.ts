/**
 * The trace viewer as one self-contained HTML file (styles, script and data inline; nothing fetched): the view
 * of `traceindex trace --html`, and of `scan --html` for the riskiest outputs of a scan. The page's own script
 * renders the embedded spans and filters them with the same controls (min length, max count, τ).
 */
import type { Index } from '../query/open-index';
import type { ScanResult } from '../provenance/scan';
import type { TraceOptions, TraceResult } from '../provenance/trace';
import { addTextOffsets, spanJson } from './results';
import { viewerAsset } from './assets';
import { coreOf } from '../query/core';

export interface TraceReportItem {
  /** The output as it was traced (text, or token ids). */
  output: string | ArrayLike<number>;
  result: TraceResult;
  id?: string;
}

export interface ReportOptions {
  title?: string;
  /** The options the spans were traced with (shown, and the starting values of the filters). */
  traceOptions?: TraceOptions;
  /** Marks spans above τ as TraceShield would refuse them. */
  tau?: number;
  /** Index name shown in the header; default the index directory's base name. */
  indexName?: string;
}

interface ReportData {
  title: string;
  note?: string;
  tau?: number;
  options: Record<string, unknown>;
  index: { name: string; info: unknown };
  items: Array<{ id?: string; text?: string; maxBci: number; result: { tokens: number; spans: Array<Record<string, unknown>> } }>;
}

/** One output (or several) traced with index.trace, as a self-contained HTML page. */
export function renderTraceReport(index: Index, traceResults: TraceReportItem | TraceReportItem[], options: ReportOptions = {}): string {
  const items = (Array.isArray(traceResults) ? traceResults : [traceResults]).map((it) => {
    const spans = it.result.spans.map((s, i) => ({ ...spanJson(s), i }));
    let text: string | undefined;
    if (typeof it.output === 'string') {
      text = it.output;
      addTextOffsets(index, text, coreOf(index).tokenize(text), spans);
    } else if (index.tokenizer.readsText) {
      text = index.tokenizer.decode(it.output);
      addTextOffsets(index, text, coreOf(index).tokenize(it.output), spans);
    }
    return { id: it.id, text, maxBci: maxBci(it.result.spans), result: { tokens: it.result.tokens, spans } };
  });
  return page(index, items, options, options.title ?? 'Trace report');
}

export interface ScanReportOptions extends ReportOptions {
  /** Outputs kept in the report, by largest BCI; default 25. */
  top?: number;
  /** The text of an output by id, when the caller has it (scan results carry spans, not the output). */
  textOf?: (id: string) => string | undefined;
}

/**
 * The riskiest outputs of a scan (largest maxBci first) as a self-contained HTML page. Reads the results once,
 * keeping only the top ones, so a scan of any size renders in bounded memory.
 */
export async function renderScanReport(index: Index, results: Iterable<ScanResult> | AsyncIterable<ScanResult>, options: ScanReportOptions = {}): Promise<string> {
  const top = options.top ?? 25;
  const kept: ScanResult[] = [];
  let records = 0;
  let errors = 0;
  let withSpans = 0;
  for await (const r of results as AsyncIterable<ScanResult>) {
    records++;
    if (r.error) { errors++; continue; }
    if (r.spans.length) withSpans++;
    if (kept.length < top || r.maxBci > kept[kept.length - 1].maxBci) {
      kept.push(r);
      kept.sort((a, b) => b.maxBci - a.maxBci);
      if (kept.length > top) kept.pop();
    }
  }
  const items = kept.map((r) => {
    const spans = r.spans.map((s, i) => ({ ...spanJson(s), i }));
    const text = options.textOf?.(r.id);
    if (text !== undefined) addTextOffsets(index, text, coreOf(index).tokenize(text), spans);
    return { id: r.id, text, maxBci: r.maxBci, result: { tokens: r.tokens, spans } };
  });
  const note = `${records} scanned, ${withSpans} with spans, ${errors} error(s)`;
  return page(index, items, options, options.title ?? 'Scan report', note);
}

function maxBci(spans: Array<{ bci: number }>): number {
  return spans.reduce((m, s) => Math.max(m, s.bci), 0);
}

/** JSON safe inside a <script> element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function page(index: Index, items: ReportData['items'], options: ReportOptions, title: string, note?: string): string {
  const info = index.info;
  const data: ReportData = {
    title, note, tau: options.tau, options: { ...(options.traceOptions ?? {}), signal: undefined },
    index: { name: options.indexName ?? info.dir.split(/[\\/]/).pop() ?? 'index', info: { documents: info.documents, tokens: info.tokens, tokenizer: info.tokenizer } },
    items,
  };
  const css = viewerAsset('viewer.css').toString('utf8');
  const js = viewerAsset('viewer.js').toString('utf8').replace(/<\/script/gi, '<\\/script');
  return viewerAsset('index.html').toString('utf8')
    .replace('<title>traceindex · trace viewer</title>', () => `<title>${escapeHtml(title)} · traceindex</title>`)
    .replace('<link rel="stylesheet" href="assets/viewer.css">', () => `<style>\n${css}</style>`)
    .replace('<!--TRACEINDEX_DATA-->', () => `<script type="application/json" id="traceindex-data">${scriptJson(data)}</script>`)
    .replace('<script src="assets/viewer.js"></script>', () => `<script>\n${js}</script>`);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
}
