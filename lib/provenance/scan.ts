/**
 * index.scan(source): traces a stream of outputs (an iterable, an async iterable or JSONL files) and yields one
 * result per record, in input order. Records are traced in batches (one native round trip each) with at most
 * `concurrency` batches in flight; nothing more is read until the consumer asks for more, so a slow consumer
 * keeps memory bounded. A record that cannot be traced (a malformed line, an out-of-range token) yields a
 * result with `error` and the scan goes on.
 */
import { abortError } from '../errors';
import { DocumentRecord } from '../inputs/records';
import { readDocuments } from '../inputs/streams';
import type { IndexCore } from '../query/core';
import { plainObject, positiveInteger } from '../validate';
import { nativeTraceOptions, Span, traceBatch, TraceOptions, TraceResult } from './trace';

/** What scan reads: a JSONL path or paths, or an (async) iterable of records ({id, text | tokens}). */
export type ScanSource = string | string[] | Iterable<DocumentRecord> | AsyncIterable<DocumentRecord>;

/**
 * Options of scan. `signal` stops the scan (the next read rejects with ERR_ABORTED); `timeoutMs` bounds each
 * batch's trace call (a batch that times out yields its records with an ERR_TIMEOUT error).
 */
export interface ScanOptions extends TraceOptions {
  /** Batches traced at once; default 2 (the thread pool runs them in parallel). */
  concurrency?: number;
  /** Records per native call; default 32. */
  batchSize?: number;
  /** JSONL field holding the output text (dotted path); default 'text'. */
  field?: string;
  /** JSONL field holding the record id; default 'id' (else file:line). */
  idField?: string;
  /** Ids to skip (a resumed scan). */
  skipIds?: Set<string>;
  /** Called with the bytes read from input files as reading proceeds (compressed bytes for .gz/.zst; not stdin). */
  onBytes?: (bytes: number) => void;
}

/** The trace of one record of a scan. */
export interface ScanResult {
  id: string;
  /** 0-based position of the record in the source. */
  index: number;
  /** Tokens of the output. */
  tokens: number;
  spans: Span[];
  /** Largest BCI among the spans (0 if none). */
  maxBci: number;
  error?: { code: string; message: string };
}

interface Pending {
  index: number;
  id: string;
  query?: string | ArrayLike<number>;
  error?: { code: string; message: string };
}

export async function* scan(core: IndexCore, source: ScanSource, scanOptions: ScanOptions = {}): AsyncGenerator<ScanResult> {
  const options = plainObject('options', scanOptions);
  const concurrency = positiveInteger('concurrency', options.concurrency, { default: 2 });
  const batchSize = positiveInteger('batchSize', options.batchSize, { default: 32 });
  // Refuse at once what every batch would refuse: bad trace options, a closed index, a fired signal, timeoutMs 0.
  nativeTraceOptions(core, options);
  core.begin(options);
  const skipped: Pending[] = [];
  let position = 0;
  const inputs = typeof source === 'string' ? [source] : source;
  const records = readDocuments(inputs as string[] | Iterable<DocumentRecord> | AsyncIterable<DocumentRecord>, {
    textField: options.field,
    idField: options.idField,
    metaFields: 'none',
    skipBadLines: true,
    onSkip: (bad) => skipped.push({ index: -1, id: `${bad.file}:${bad.line}`, error: { code: 'ERR_BAD_INPUT', message: `${bad.file}:${bad.line}: ${bad.reason}` } }),
    signal: options.signal,
    onBytes: options.onBytes,
  })[Symbol.asyncIterator]();

  let done = false;
  const readBatch = async (): Promise<Pending[]> => {
    const batch: Pending[] = [];
    while (batch.length < batchSize && !done) {
      const next = await records.next();
      // Lines skipped while reading come first: they preceded this record.
      for (const s of skipped.splice(0)) batch.push({ ...s, index: position++ });
      if (next.done) {
        done = true;
        break;
      }
      const r = next.value;
      const id = r.id ?? String(position);
      const at = position++;
      if (options.skipIds?.has(id)) continue;
      batch.push({ index: at, id, query: r.tokens ?? r.text ?? '' });
    }
    return batch;
  };

  const inflight: Array<Promise<ScanResult[]>> = [];
  const fill = async () => {
    while (inflight.length < concurrency && !done) {
      if (options.signal?.aborted) throw abortError(options.signal);
      const batch = await readBatch();
      if (batch.length > 0) {
        const traced = traceRecords(core, batch, options);
        traced.catch(() => {}); // awaited in order below; a fatal error must not be an unhandled rejection meanwhile
        inflight.push(traced);
      }
    }
  };
  try {
    await fill();
    while (inflight.length > 0) {
      const results = await inflight.shift()!;
      if (options.signal?.aborted) throw abortError(options.signal);
      for (const r of results) yield r;
      await fill();
    }
  } finally {
    await records.return?.(undefined);
    await Promise.allSettled(inflight);
  }
}

/** Errors that are not a record's fault: they end the scan. */
const FATAL = new Set(['ERR_ABORTED', 'ERR_CLOSED']);

async function traceRecords(core: IndexCore, batch: Pending[], options: TraceOptions): Promise<ScanResult[]> {
  const ok = batch.filter((p) => !p.error);
  let traced: Array<TraceResult | { error: { code: string; message: string } }>;
  try {
    traced = await traceBatch(core, ok.map((p) => p.query!), options);
  } catch (err) {
    if (FATAL.has((err as { code?: string })?.code ?? '')) throw err;
    // One bad record fails the whole call: trace the batch one by one to isolate it.
    traced = await Promise.all(ok.map((p) => traceBatch(core, [p.query!], options).then((r) => r[0], (e) => {
      if (FATAL.has((e as { code?: string })?.code ?? '')) throw e;
      return { error: describe(e) };
    })));
  }
  const byIndex = new Map(ok.map((p, i) => [p.index, traced[i]]));
  return batch.map((p) => {
    const t = byIndex.get(p.index);
    if (p.error || !t || 'error' in t) return { id: p.id, index: p.index, tokens: 0, spans: [], maxBci: 0, error: p.error ?? (t as { error: { code: string; message: string } }).error };
    return { id: p.id, index: p.index, tokens: t.tokens, spans: t.spans, maxBci: t.spans.reduce((m, s) => Math.max(m, s.bci), 0) };
  });
}

function describe(err: unknown): { code: string; message: string } {
  const e = err as Error & { code?: string };
  return { code: e?.code ?? 'ERR_INTERNAL', message: e?.message ?? String(err) };
}
