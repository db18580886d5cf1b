/** What every benchmark reports beside its figures: the machine, quantiles, and the result files. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export function machine() {
  return {
    cpu: fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1],
    cores: os.cpus().length,
    ramGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    loadAverage: os.loadavg(),
  };
}

export function quantile(xs: number[], p: number): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

export function stats(xs: number[]) {
  return { p50: quantile(xs, 0.5), p90: quantile(xs, 0.9), p99: quantile(xs, 0.99), max: Math.max(...xs), n: xs.length };
}

/** Writes bench/results/NAME.json and NAME.md and prints the Markdown. */
export function writeResult(name: string, result: unknown, markdown: string): void {
  const dir = path.join(__dirname, '..', '..', 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(result, null, 2) + '\n');
  fs.writeFileSync(path.join(dir, `${name}.md`), markdown + '\n');
  process.stdout.write(markdown + '\n');
}
