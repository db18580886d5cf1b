/**
 * The service's limits, their defaults (docs/server.md lists them) and the gate that bounds native work: at most
 * `maxConcurrent` calls run, at most `maxQueued` wait, and anything beyond is refused at once (503) so memory
 * never grows with the offered load.
 */
import { HttpError } from './errors';

export interface Limits {
  /** Largest request body in bytes (JSON routes; the scan route streams and bounds each line instead). */
  bodyLimit: number;
  /** Largest query, in tokens after tokenization (strings are also refused above 4 × this many characters). */
  maxQueryTokens: number;
  /** Queries in one batch request. */
  maxBatch: number;
  /**
   * Tokens one request may return: snippet tokens of its occurrences and attributions, documents' tokens, next-token
   * entries. Estimated from the request before any work where the request bounds it (413 above); trace and shield
   * pass it to the core as the cap of their attributions' snippets.
   */
  maxResultTokens: number;
  /** Per-request deadline (ms), passed to the engine as timeoutMs: the core stops the query (504). */
  timeoutMs: number;
  /** Native calls running at once. */
  maxConcurrent: number;
  /** Native calls waiting for a slot; one more is answered 503 with Retry-After at once. */
  maxQueued: number;
  /** Scans streaming at once (each keeps up to two batches in flight). */
  maxScans: number;
  /** Largest line of a scan body, in bytes. */
  maxLineBytes: number;
  /** Time to receive the headers of a request (slowloris guard). */
  headersTimeoutMs: number;
  /** Time to receive a whole JSON request body after its headers. */
  bodyTimeoutMs: number;
  /** An idle connection (no bytes either way) is closed after this long; also bounds a stalled scan. */
  idleTimeoutMs: number;
  /** Keep-alive connections are closed after this long without a new request. */
  keepAliveTimeoutMs: number;
  /** SIGTERM / shutdown(): in-flight requests get this long to finish before connections are cut. */
  drainMs: number;
  /** Seconds sent in Retry-After with a 503. */
  retryAfterSeconds: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  bodyLimit: 1 << 20,
  maxQueryTokens: 65_536,
  maxBatch: 1_024,
  maxResultTokens: 1 << 23,
  timeoutMs: 10_000,
  maxConcurrent: 8,
  maxQueued: 256,
  maxScans: 2,
  maxLineBytes: 1 << 20,
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  drainMs: 10_000,
  retryAfterSeconds: 1,
});

/** Limits from partial options: every value must be a positive safe integer. */
export function resolveLimits(given: Partial<Limits> = {}): Limits {
  const out = { ...DEFAULT_LIMITS };
  for (const [k, v] of Object.entries(given)) {
    if (v === undefined) continue;
    if (!(k in DEFAULT_LIMITS)) continue;
    if (!Number.isSafeInteger(v) || (v as number) <= 0)
      throw new HttpError(400, 'ERR_INVALID_ARGUMENT', `limit ${k} must be a positive integer, got ${String(v)}`);
    (out as Record<string, number>)[k] = v as number;
  }
  return out;
}

/**
 * Bounds native work. run() starts fn when a slot is free, queues it when the queue has room, and otherwise
 * throws a 503 at once. A queued task whose deadline passes while it waits is refused with 504 without running.
 */
export class WorkGate {
  private running = 0;
  private readonly waiting: Array<{ start: () => void; fail: (e: Error) => void; timer?: NodeJS.Timeout }> = [];
  rejected = 0;

  constructor(private readonly maxConcurrent: number, private readonly maxQueued: number, private readonly retryAfter: number) {}

  get queued(): number {
    return this.waiting.length;
  }
  get active(): number {
    return this.running;
  }

  /** `deadline` is an absolute Date.now() value; fn gets the milliseconds left. */
  async run<T>(deadline: number, fn: (msLeft: number) => Promise<T> | T): Promise<T> {
    if (this.running < this.maxConcurrent) {
      this.running++;
    } else {
      if (this.waiting.length >= this.maxQueued) {
        this.rejected++;
        throw new HttpError(503, 'ERR_OVERLOADED', `the server is busy (${this.running} running, ${this.waiting.length} queued): retry later`,
          { 'retry-after': String(this.retryAfter) });
      }
      // Resolved by release(), which hands its slot over without freeing it (running stays counted).
      await new Promise<void>((resolve, reject) => {
        const entry: { start: () => void; fail: (e: Error) => void; timer?: NodeJS.Timeout } = { start: resolve, fail: reject };
        entry.timer = setTimeout(() => {
          const i = this.waiting.indexOf(entry);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(deadlineError());
        }, Math.max(0, deadline - Date.now()));
        this.waiting.push(entry);
      });
    }
    try {
      const left = deadline - Date.now();
      if (left <= 0) throw deadlineError();
      return await fn(left);
    } finally {
      this.release();
    }
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) {
      clearTimeout(next.timer);
      next.start();
    } else {
      this.running--;
    }
  }

  /** Refuses every waiting task (shutdown). */
  failWaiting(err: Error): void {
    for (const w of this.waiting.splice(0)) {
      clearTimeout(w.timer);
      w.fail(err);
    }
  }
}

export function deadlineError(): HttpError {
  return new HttpError(504, 'ERR_TIMEOUT', 'the request passed its deadline');
}
