/**
 * The destination of `traceindex serve`'s logs: the lines of one turn of the event loop go out in one write
 * instead of one system call each (under load a turn answers several requests, two lines each), and whatever is
 * left goes out on exit. process.stdout writes synchronously on Linux (files, pipes and terminals), so a line
 * logged before exit is not lost; at most 64 KiB wait at any time.
 */
const FLUSH_AT = 64 * 1024;

export class BatchedLog {
  private lines: string[] = [];
  private size = 0;
  private scheduled = false;
  private readonly flushNow = () => this.flush();  // setImmediate and 'exit' pass arguments flush must not take

  constructor(private readonly out: { write(s: string): unknown } = process.stdout) {
    process.once('exit', this.flushNow);
  }

  write(line: string): void {
    this.lines.push(line);
    this.size += line.length;
    if (this.size >= FLUSH_AT) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushNow);
    }
  }

  /** Writes what waits (pino's logger.flush(cb) calls this with its callback). */
  flush(cb?: (err?: Error) => void): void {
    this.scheduled = false;
    if (this.lines.length > 0) {
      const data = this.lines.length === 1 ? this.lines[0] : this.lines.join('');
      this.lines = [];
      this.size = 0;
      this.out.write(data);
    }
    cb?.();
  }
}
