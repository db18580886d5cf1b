/**
 * Progress reporting for long CLI jobs (stderr), plus human-readable byte/count/duration formatting.
 * On a TTY: one redrawn line, at most ~10 redraws/s, and (with `live`) redrawn every 250 ms on a timer so the
 * elapsed time moves while nothing else does. Otherwise: a plain line every few seconds.
 */
// ---------------------------------------------------------------------------
// Formatting

const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
const COUNT_SUFFIXES = ['', 'k', 'M', 'G', 'T', 'P'];

/** Three significant digits: 1.50, 15.0, 150. */
function threeDigits(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function scaled(n: number, base: number, units: string[], separator: string): string {
  let unit = 0;
  let value = Math.abs(n);
  // Round first so 1023.9 KiB becomes 1.00 MiB rather than "1024 KiB".
  while (unit < units.length - 1 && Number(threeDigits(value)) >= base) {
    value /= base;
    unit++;
  }
  return `${n < 0 ? '-' : ''}${threeDigits(value)}${separator}${units[unit]}`;
}

/** 512 → "512 B", 1536 → "1.50 KiB", 4 * 2**30 → "4.00 GiB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  if (Math.abs(bytes) < 1024) return `${Math.round(bytes)} B`;
  return scaled(bytes, 1024, BINARY_UNITS, ' ');
}

/** 999 → "999", 1234 → "1.23k", 2_500_000 → "2.50M". */
export function formatCount(count: number): string {
  if (!Number.isFinite(count)) return String(count);
  if (Math.abs(count) < 1000) return String(Math.round(count));
  return scaled(count, 1000, COUNT_SUFFIXES, '');
}

/** 0.4 → "0s", 75 → "1m15s", 3725 → "1h02m". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

// ---------------------------------------------------------------------------
// Reporter

export interface ProgressFields {
  /** Items done so far in this stage (documents, tokens, ...). */
  done?: number;
  /** Items expected; enables the bar, percentage and ETA. */
  total?: number;
  /** Bytes processed so far in this stage. */
  bytes?: number;
  /** Short free text shown at the end of the line (e.g. the current file). */
  note?: string;
  /** Fraction of the whole job done, for the bar and percentage when it is not done/total (e.g. by time). */
  fraction?: number;
  /** Seconds left, when the job estimates it (instead of from done/total); NaN: not known yet ("ETA ?"). */
  etaSeconds?: number;
  /** Rate text replacing the average rate (e.g. a moving rate over the last seconds). */
  rate?: string;
}

/** The part of a writable stream the reporter uses (process.stderr by default). */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  stream?: ProgressStream;
  /** Overrides stream.isTTY. */
  tty?: boolean;
  /** What `done` counts, for the line ("docs", "tokens"); default 'items'. */
  unit?: string;
  /** Non-TTY: seconds between plain lines; default 5. */
  intervalSeconds?: number;
  /** TTY: minimum milliseconds between redraws; default 100. */
  redrawMs?: number;
  /** Clock in milliseconds (for tests); default performance.now. */
  now?: () => number;
  /** Write nothing at all. */
  quiet?: boolean;
  /** Redraw on a timer between start() and done(): every `tickMs` on a TTY, every interval otherwise. */
  live?: boolean;
  /** Real milliseconds between timer redraws on a TTY (also how often the timer checks otherwise); default 250. */
  tickMs?: number;
  /** How `done` and `total` print; default formatCount. */
  formatDone?: (n: number) => string;
  /** TTY, no total: a spinner character leads the line. */
  spinner?: boolean;
}

const SPINNER = ['|', '/', '-', '\\'];

/**
 * Rates over the last `windowSeconds` (records/s, bytes/s, …): add() the running totals as they grow, rates()
 * divides the change over the window by its length (the first samples: since the start).
 */
export class MovingRate {
  private readonly samples: Array<{ at: number; values: number[] }> = [];

  constructor(private readonly windowSeconds = 5) {}

  add(nowMs: number, values: number[]): void {
    // Cheap per item: a sample younger than a 25th of the window is moved forward rather than kept.
    const last = this.samples[this.samples.length - 1];
    if (this.samples.length >= 2 && nowMs - this.samples[this.samples.length - 2].at < (this.windowSeconds * 1000) / 25) {
      last.at = nowMs;
      last.values = [...values];
      return;
    }
    this.samples.push({ at: nowMs, values: [...values] });
    // Keep one sample older than the window, so the window is always covered.
    while (this.samples.length > 2 && nowMs - this.samples[1].at >= this.windowSeconds * 1000) this.samples.shift();
  }

  rates(): number[] {
    if (this.samples.length < 2) return [];
    const first = this.samples[0], last = this.samples[this.samples.length - 1];
    const seconds = (last.at - first.at) / 1000;
    return seconds > 0 ? last.values.map((v, i) => (v - first.values[i]) / seconds) : [];
  }
}

const BAR_WIDTH = 20;

export class ProgressReporter {
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly unit: string;
  private readonly intervalMs: number;
  private readonly redrawMs: number;
  private readonly now: () => number;
  private readonly quiet: boolean;
  private readonly live: boolean;
  private readonly tickMs: number;
  private readonly formatDone: (n: number) => string;
  private readonly spinner: boolean;
  private timer: ReturnType<typeof setInterval> | null = null;
  private frame = 0;

  private stage = '';
  private fields: ProgressFields = {};
  private stageStartedAt = 0;
  private lastWriteAt = -Infinity;
  private lineOnScreen = false; // TTY: a progress line is drawn and not yet terminated

  constructor(options: ProgressOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.tty = options.tty ?? this.stream.isTTY === true;
    this.unit = options.unit ?? 'items';
    this.intervalMs = (options.intervalSeconds ?? 5) * 1000;
    this.redrawMs = options.redrawMs ?? 100;
    this.now = options.now ?? (() => performance.now());
    this.quiet = options.quiet === true;
    this.live = options.live === true;
    this.tickMs = options.tickMs ?? 250;
    this.formatDone = options.formatDone ?? formatCount;
    this.spinner = options.spinner === true;
  }

  /** Begins a stage; on a TTY the previous stage's line is kept on screen. */
  start(stage: string, total?: number): void {
    this.endLine();
    this.stage = stage;
    this.fields = total === undefined ? {} : { total };
    this.stageStartedAt = this.now();
    this.lastWriteAt = -Infinity;
    if (this.tty) this.write(); // show the stage at once; plain output waits for the first interval
    else this.lastWriteAt = this.stageStartedAt;
    if (this.live && !this.quiet && !this.timer) {
      this.timer = setInterval(() => {
        if (this.tty || this.now() - this.lastWriteAt >= this.intervalMs) this.write();
      }, this.tickMs);
      this.timer.unref();
    }
  }

  /** Stops the timer (done() does too); the line stays as it is. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Merges fields into the current state; cheap enough to call per item (writes are throttled unless `now`). */
  update(fields: ProgressFields, redrawNow = false): void {
    Object.assign(this.fields, fields);
    const now = this.now();
    if (redrawNow || now - this.lastWriteAt >= (this.tty ? this.redrawMs : this.intervalMs)) this.write(now);
  }

  /** Ends the job: replaces the progress line with `summary`. */
  done(summary: string): void {
    this.stop();
    if (this.quiet) return;
    if (this.tty && this.lineOnScreen) this.stream.write('\r\x1b[K');
    this.lineOnScreen = false;
    this.stream.write(`${summary}\n`);
  }

  /** The current status line (no control characters). */
  render(now = this.now()): string {
    const { total, bytes, note, rate } = this.fields;
    const done = this.fields.done ?? (total !== undefined ? 0 : undefined);
    const elapsedSeconds = Math.max((now - this.stageStartedAt) / 1000, 1e-9);
    const parts: string[] = [this.stage];
    const known = total !== undefined && total > 0 && done !== undefined;
    const fraction = this.fields.fraction ?? (known ? done / total : undefined);
    if (fraction !== undefined) {
      const f = Math.min(Math.max(fraction, 0), 1);
      if (this.tty) {
        const filled = Math.round(f * BAR_WIDTH);
        parts.push(`[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`);
      }
      parts.push(`${(f * 100).toFixed(1)}%`);
    } else if (this.tty && this.spinner) {
      parts[0] = `${SPINNER[this.frame++ % SPINNER.length]} ${this.stage}`;
    }
    const unit = this.unit ? ` ${this.unit}` : '';
    if (known) parts.push(`${this.formatDone(done)}/${this.formatDone(total)}${unit}`);
    else if (done !== undefined) parts.push(`${this.formatDone(done)}${unit}`);
    if (bytes !== undefined) parts.push(formatBytes(bytes));
    if (rate !== undefined) {
      if (rate) parts.push(rate); // '': the caller shows no rate
    } else if (done !== undefined && done > 0) parts.push(`${this.formatDone(done / elapsedSeconds)}${unit}/s`);
    else if (bytes !== undefined && bytes > 0) parts.push(`${formatBytes(bytes / elapsedSeconds)}/s`);
    const eta = this.fields.etaSeconds;
    if (eta !== undefined) {
      // A positive estimate is rounded up: "ETA 0s" would say the job is over.
      if (!(eta <= 0)) parts.push(`ETA ${Number.isFinite(eta) ? formatDuration(Math.ceil(eta)) : '?'}`);
    } else if (known && done > 0 && done < total) {
      parts.push(`ETA ${formatDuration(((total - done) * elapsedSeconds) / done)}`);
    }
    parts.push(`elapsed ${formatDuration(elapsedSeconds)}`);
    if (note) parts.push(note);
    return parts.join('  ');
  }

  private write(now = this.now()): void {
    this.lastWriteAt = now;
    if (this.quiet) return;
    const line = this.render(now);
    if (this.tty) {
      const columns = this.stream.columns ?? 0;
      const fitted = columns > 1 && line.length >= columns ? line.slice(0, columns - 1) : line;
      this.stream.write(`\r\x1b[K${fitted}`);
      this.lineOnScreen = true;
    } else {
      this.stream.write(`${line}\n`);
    }
  }

  private endLine(): void {
    if (this.quiet || !this.lineOnScreen) return;
    this.write(); // final state of the stage
    this.stream.write('\n');
    this.lineOnScreen = false;
  }
}
