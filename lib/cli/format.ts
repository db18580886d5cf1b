/**
 * Progress reporting for long CLI jobs (stderr), plus human-readable byte/count/duration formatting.
 * On a TTY: one redrawn line, at most ~10 redraws/s. Otherwise: a plain line every few seconds.
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
  }

  /** Merges fields into the current state; cheap enough to call per item (writes are throttled). */
  update(fields: ProgressFields): void {
    Object.assign(this.fields, fields);
    const now = this.now();
    if (now - this.lastWriteAt >= (this.tty ? this.redrawMs : this.intervalMs)) this.write(now);
  }

  /** Ends the job: replaces the progress line with `summary`. */
  done(summary: string): void {
    if (this.quiet) return;
    if (this.tty && this.lineOnScreen) this.stream.write('\r\x1b[K');
    this.lineOnScreen = false;
    this.stream.write(`${summary}\n`);
  }

  /** The current status line (no control characters). */
  render(now = this.now()): string {
    const { total, bytes, note } = this.fields;
    const done = this.fields.done ?? (total !== undefined ? 0 : undefined);
    const elapsedSeconds = Math.max((now - this.stageStartedAt) / 1000, 1e-9);
    const parts: string[] = [this.stage];
    if (total !== undefined && total > 0 && done !== undefined) {
      const fraction = Math.min(Math.max(done / total, 0), 1);
      if (this.tty) {
        const filled = Math.round(fraction * BAR_WIDTH);
        parts.push(`[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`);
      }
      parts.push(`${(fraction * 100).toFixed(1)}%`);
      parts.push(`${formatCount(done)}/${formatCount(total)} ${this.unit}`);
    } else if (done !== undefined) {
      parts.push(`${formatCount(done)} ${this.unit}`);
    }
    if (bytes !== undefined) parts.push(formatBytes(bytes));
    if (done !== undefined && done > 0) parts.push(`${formatCount(done / elapsedSeconds)} ${this.unit}/s`);
    else if (bytes !== undefined && bytes > 0) parts.push(`${formatBytes(bytes / elapsedSeconds)}/s`);
    if (total !== undefined && done !== undefined && done > 0 && done < total) {
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
