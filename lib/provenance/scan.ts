/**
 * index.scan(source): traces a stream of outputs (an iterable, an async iterable or JSONL files) and yields one
 * result per record, in input order. Records are traced in batches (one native round trip each) with at most
 * `concurrency` batches in flight; nothing more is read until the consumer asks for more, so a slow consumer
 * keeps memory bounded. A record that cannot be traced (a malformed line, an out-of-range token) yields a
 * result with `error` and the scan goes on.
 */
import { abortError, TraceIndexError } from '../errors';
import { DocumentRecord } from '../inputs/records';
import { readDocuments } from '../inputs/streams';
import type { Index } from '../query/open-index';
import { Span, traceBatch, TraceOptions, TraceResult } from './trace';

export type ScanSource = string | string[] | Iterable<DocumentRecord> | AsyncIterable<DocumentRecord>;

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
  signal?: AbortSignal;
}

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

export async function* scan(index: Index, source: ScanSource, options: ScanOptions = {}): AsyncGenerator<ScanResult> {
  const concurrency = positive(options.concurrency, 'concurrency', 2);
  const batchSize = positive(options.batchSize, 'batchSize', 32);
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
      if (batch.length > 0) inflight.push(traceRecords(index, batch, options));
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

async function traceRecords(index: Index, batch: Pending[], options: TraceOptions): Promise<ScanResult[]> {
  const ok = batch.filter((p) => !p.error);
  let traced: Array<TraceResult | { error: { code: string; message: string } }>;
  try {
    traced = await traceBatch(index, ok.map((p) => p.query!), options);
  } catch {
    // One bad record fails the whole call: trace the batch one by one to isolate it.
    traced = await Promise.all(ok.map((p) => traceBatch(index, [p.query!], options).then((r) => r[0], (err) => ({ error: describe(err) }))));
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

function positive(v: number | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < 1) throw new TraceIndexError('ERR_INVALID_ARGUMENT', `${name} must be a positive integer`);
  return v;
}
