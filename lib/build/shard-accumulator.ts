/**
 * Collecting documents into shards and writing them: a document's tokens (validated) and metadata record,
 * the accumulator that packs documents into a shard of at most `capacity` tokens, and the shard builds in
 * flight (off the JS thread, at most `parallel` at once).
 */
import * as path from 'node:path';
import { TraceIndexError } from '../errors';
import { DocumentRecord } from '../inputs/records';
import { addon } from '../native';
import { separatorOf, TokenArray, Tokenizer, TokenWidth } from '../tokenizers/tokenizer';
import { ShardEntry } from './manifest';
import { ShardRecord } from './workdir';

/** A document's token ids: its `tokens` (checked against the vocabulary) or its text encoded. */
export function documentTokens(record: DocumentRecord, tokenizer: Tokenizer, n: number): ArrayLike<number> {
  if (record.tokens !== undefined) {
    const t = record.tokens;
    const limit = tokenizer.vocabSize;
    for (let i = 0; i < t.length; i++) {
      const v = t[i];
      if (!(Number.isInteger(v) && v >= 0 && v < limit))
        throw new TraceIndexError('ERR_TOKEN_RANGE',
          `document ${JSON.stringify(record.id ?? String(n))}: token ${v} at ${i} is not an id of the ${tokenizer.name} vocabulary (0..${limit - 1})`);
    }
    return t;
  }
  if (typeof record.text !== 'string') throw new TraceIndexError('ERR_BAD_INPUT', `document ${JSON.stringify(record.id ?? String(n))} has neither text nor tokens`);
  return tokenizer.encode(record.text);
}

/** The document's meta.bin record: UTF-8 JSON {id, meta}. */
export function metaRecord(record: DocumentRecord): Buffer {
  let json: string;
  try {
    json = JSON.stringify(record.meta === undefined ? { id: record.id } : { id: record.id, meta: record.meta });
  } catch (err) {
    // A cycle, a BigInt, or a throwing toJSON in caller-supplied metadata.
    throw new TraceIndexError('ERR_BAD_INPUT', `document ${JSON.stringify(record.id)}: its metadata cannot be written as JSON (${(err as Error).message})`);
  }
  return Buffer.from(json, 'utf8');
}

/** One shard's documents, handed off from the accumulator to its build. */
export class PendingShard {
  constructor(
    private readonly width: TokenWidth,
    private readonly tokens: TokenArray,
    private readonly starts: number[],
    private readonly meta: Buffer[],
    private readonly metaOffsets: number[],
  ) {}

  /** Tokens of the shard, separators included. */
  get length(): number {
    return this.tokens.length;
  }

  async write(root: string, ordinal: number, vocabSize: number, threads: number, cancel: Uint8Array, progress?: BigUint64Array): Promise<{ entry: ShardEntry; seconds: Record<string, number> }> {
    const dir = `shard-${String(ordinal).padStart(5, '0')}`;
    const { files: written, seconds } = await addon.buildShard({
      dir: path.join(root, dir),
      tokens: this.tokens,
      tokenWidth: this.width,
      docStarts: Float64Array.from(this.starts),
      metaOffsets: Float64Array.from(this.metaOffsets),
      metaBlob: Buffer.concat(this.meta),
      vocabSize,
      threads,
      cancel,
      progress,
    });
    const entry: ShardEntry = {
      dir,
      tokens: this.tokens.length,
      documents: this.starts.length - 1,
      pointerWidth: this.tokens.length < 2 ** 32 ? 4 : 8,
      files: Object.fromEntries(written.map((f) => [f.name, { bytes: f.bytes, xxh64: f.xxh64 }])) as ShardEntry['files'],
    };
    return { entry, seconds };
  }
}

/** The documents of the shard being filled: tokens + separators, document starts and metadata records. */
export class ShardAccumulator {
  private tokens: TokenArray;
  private length = 0;
  private starts: number[] = [0];
  private meta: Buffer[] = [];
  private metaOffsets: number[] = [0];
  private readonly separator: number;

  constructor(private readonly width: TokenWidth, private readonly capacity: number) {
    this.tokens = allocTokens(width, Math.min(capacity, 1 << 16));
    this.separator = separatorOf(width);
  }

  get documents(): number {
    return this.starts.length - 1;
  }

  fits(docTokens: number): boolean {
    return this.documents === 0 || this.length + docTokens + 1 <= this.capacity;
  }

  add(doc: ArrayLike<number>, meta: Buffer): void {
    const need = this.length + doc.length + 1;
    if (need > this.tokens.length) {
      let size = this.tokens.length;
      while (size < need) size = Math.min(this.capacity, size * 2);
      const grown = allocTokens(this.width, size);
      grown.set(this.tokens.subarray(0, this.length));
      this.tokens = grown;
    }
    this.tokens.set(doc, this.length);
    this.length += doc.length;
    this.tokens[this.length++] = this.separator;
    this.starts.push(this.length);
    this.meta.push(meta);
    this.metaOffsets.push(this.metaOffsets[this.metaOffsets.length - 1] + meta.length);
  }

  /** Hands the filled shard over and starts an empty one (the buffers now belong to the shard's build). */
  take(): PendingShard {
    const shard = new PendingShard(this.width, this.tokens.subarray(0, this.length), this.starts, this.meta, this.metaOffsets);
    this.tokens = allocTokens(this.width, Math.min(this.capacity, 1 << 16));
    this.length = 0;
    this.starts = [0];
    this.meta = [];
    this.metaOffsets = [0];
    return shard;
  }
}

function allocTokens(width: TokenWidth, n: number): TokenArray {
  return width === 1 ? new Uint8Array(n) : width === 2 ? new Uint16Array(n) : new Uint32Array(n);
}

/** Seconds the shard builds spent, summed over shards. */
export interface ShardSeconds {
  validate: number;
  suffixArray: number;
  write: number;
}

/**
 * A shard build started in this run: its tokens (separators included), the core's work counter [done, total]
 * (tokens validated, then suffix-array passes: native/core/shard_writer.hpp; total is 0 until the native job
 * starts) and when it started and finished (performance.now() ms).
 */
export interface StartedShard {
  tokens: number;
  work: BigUint64Array;
  startedAt: number;
  finishedAt?: number;
}

/**
 * The shard builds of one build: at most `parallel` in flight; `done` holds the finished ones (the reused
 * ones first) in shard order. `onFinished` runs as each finishes (record it, report progress).
 */
export class ShardBuilds {
  readonly done: ShardRecord[];
  readonly seconds: ShardSeconds = { validate: 0, suffixArray: 0, write: 0 };
  /** The shard builds started in this run, for progress. */
  readonly started: StartedShard[] = [];
  private readonly inflight: Array<Promise<void>> = [];

  constructor(
    private readonly root: string,
    private readonly spec: { vocabSize: number; threads: number; parallel: number; cancel: Uint8Array },
    reused: readonly ShardRecord[],
    private readonly onFinished: (record: ShardRecord) => void,
  ) {
    this.done = [...reused];
  }

  /** Starts building `shard` as shard number `ordinal`, covering input documents [before, after); waits while the builds in flight fill the budget. */
  async start(shard: PendingShard, ordinal: number, before: number, after: number): Promise<void> {
    const { vocabSize, threads, parallel, cancel } = this.spec;
    const started: StartedShard = { tokens: shard.length, work: new BigUint64Array(2), startedAt: performance.now() };
    this.started.push(started);
    const job = shard.write(this.root, ordinal, vocabSize, threads, cancel, started.work).then(({ entry, seconds }) => {
      started.finishedAt = performance.now();
      this.seconds.validate += seconds.validate ?? 0;
      this.seconds.suffixArray += seconds['suffix-array'] ?? 0;
      this.seconds.write += seconds.write ?? 0;
      const record = { entry, inputBefore: before, inputAfter: after };
      this.onFinished(record);
      this.done.push(record);
      this.done.sort((a, b) => a.entry.dir.localeCompare(b.entry.dir));
    });
    this.inflight.push(job);
    job.catch(() => {}); // awaited below or in finish/settle; this only keeps an early failure from going unhandled
    if (this.inflight.length >= parallel) await this.inflight.shift();
  }

  /** Waits for every build in flight; the first failure rejects. */
  async finish(): Promise<void> {
    while (this.inflight.length) await this.inflight.shift();
  }

  /** After a failure: lets every build still in flight settle (they write into the work directory). */
  async settle(): Promise<void> {
    await Promise.allSettled(this.inflight);
  }
}
