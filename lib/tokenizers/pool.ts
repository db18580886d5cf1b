/**
 * Parallel tokenization for builds: records are grouped into batches (about 1 MB of text), tokenized by a
 * fixed pool of worker threads that each load the tokenizer by its spec, or by a native tokenizer's
 * encodeBatch off the JS thread (no workers: no copy of texts and tokens between threads, one vocabulary), and
 * yielded in input order. At most two batches per worker are in flight, so memory stays bounded whatever the
 * input size. Token arrays come back as transferred buffers (no copy).
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { TraceIndexError } from '../errors';
import type { DocumentRecord } from '../inputs/records';
import type { TokenArray, Tokenizer } from './tokenizer';

export interface Tokenized {
  record: DocumentRecord;
  tokens: ArrayLike<number>;
}

const BATCH_CHARS = 1 << 20;
/** Text goes to the workers; records with tokens (or neither) are handled by `direct`, in order. */
const byWorker = (r: DocumentRecord) => r.tokens === undefined && typeof r.text === 'string';
const BATCH_RECORDS = 1024;

interface Job {
  texts: string[];
  records: DocumentRecord[];
  result: Promise<TokenArray[]>;
}

/**
 * Tokenizes `records` with `tokenizer.encodeBatch` (a native tokenizer), `parallel` batches at a time on libuv's
 * threads; records that carry tokens already pass through (`direct` validates them on this thread).
 * `stats.tokenizeSeconds` adds up the batches' time.
 */
export async function* tokenizeNatively(
  records: AsyncIterable<DocumentRecord>,
  tokenizer: Tokenizer,
  parallel: number,
  direct: (record: DocumentRecord) => ArrayLike<number>,
  stats: { tokenizeSeconds: number } = { tokenizeSeconds: 0 },
): AsyncGenerator<Tokenized> {
  const encodeBatch = tokenizer.encodeBatch;
  if (!encodeBatch) throw new TraceIndexError('ERR_INVALID_ARGUMENT', `tokenizer ${tokenizer.name} has no native batch encoder`);
  const submit = async (texts: string[]) => {
    const started = performance.now();
    const tokens = await encodeBatch(texts, 1);
    stats.tokenizeSeconds += (performance.now() - started) / 1000;
    return tokens;
  };
  yield* inBatches(records, submit, parallel, direct, async () => {});
}

/**
 * Tokenizes `records` with `workers` threads running `loadTokenizer(spec)`, each refusing (ERR_TOKENIZER_MISMATCH)
 * a tokenizer whose fingerprint is not `fingerprint` (the build's); records that carry tokens already pass through
 * (`direct` validates them on this thread). `stats.tokenizeSeconds` adds up the workers' time.
 */
export async function* tokenizeInWorkers(
  records: AsyncIterable<DocumentRecord>,
  spec: string,
  fingerprint: string,
  workers: number,
  direct: (record: DocumentRecord) => ArrayLike<number>,
  stats: { tokenizeSeconds: number } = { tokenizeSeconds: 0 },
): AsyncGenerator<Tokenized> {
  const pool = Array.from({ length: workers }, () => new Worker(path.join(__dirname, 'worker.js'), { workerData: { spec, fingerprint } }));
  const waiting = new Map<number, { resolve: (t: TokenArray[]) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let failure: Error | null = null;
  for (const w of pool) {
    w.on('message', (m: { id: number; tokens?: TokenArray[]; seconds?: number; error?: { code?: string; message: string } }) => {
      const p = waiting.get(m.id);
      stats.tokenizeSeconds += m.seconds ?? 0;
      waiting.delete(m.id);
      if (m.error) p?.reject(new TraceIndexError((m.error.code as never) ?? 'ERR_INVALID_ARGUMENT', m.error.message));
      else p?.resolve(m.tokens!);
    });
    w.on('error', (e) => {
      failure = e;
      for (const p of waiting.values()) p.reject(e);
      waiting.clear();
    });
  }
  let turn = 0;
  const submit = (texts: string[]): Promise<TokenArray[]> => {
    if (failure) return Promise.reject(failure);
    const id = nextId++;
    const worker = pool[turn++ % pool.length];
    const result = new Promise<TokenArray[]>((resolve, reject) => waiting.set(id, { resolve, reject }));
    worker.postMessage({ id, texts });
    return result;
  };
  yield* inBatches(records, submit, workers, direct, async () => { await Promise.all(pool.map((w) => w.terminate())); });
}

/** Batches the text records, keeps up to 2 × `parallel` batches in `submit`, yields in input order. */
async function* inBatches(
  records: AsyncIterable<DocumentRecord>,
  submit: (texts: string[]) => Promise<TokenArray[]>,
  parallel: number,
  direct: (record: DocumentRecord) => ArrayLike<number>,
  close: () => Promise<void>,
): AsyncGenerator<Tokenized> {
  const inflight: Job[] = [];
  let batch: DocumentRecord[] = [];
  let chars = 0;
  const flush = () => {
    const texts = batch.filter(byWorker).map((r) => r.text as string);
    const job: Job = { texts, records: batch, result: texts.length ? submit(texts) : Promise.resolve([]) };
    job.result.catch(() => {}); // awaited in order below
    inflight.push(job);
    batch = [];
    chars = 0;
  };
  async function* drain(): AsyncGenerator<Tokenized> {
    const job = inflight.shift()!;
    const tokens = await job.result;
    let k = 0;
    for (const record of job.records) yield { record, tokens: byWorker(record) ? tokens[k++] : direct(record) };
  }
  try {
    for await (const record of records) {
      batch.push(record);
      if (byWorker(record)) chars += (record.text as string).length;
      if (chars >= BATCH_CHARS || batch.length >= BATCH_RECORDS) {
        flush();
        if (inflight.length >= 2 * parallel) yield* drain();
      }
    }
    if (batch.length) flush();
    while (inflight.length) yield* drain();
  } finally {
    await close();
  }
}
