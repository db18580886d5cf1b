/** The CLI's progress reporter and its byte/count formatting (lib/cli/format.ts), and the build's and scan's progress. */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { progressTick } from '../lib/build/build';
import { runBuild } from '../lib/cli/commands/build';
import { runScan } from '../lib/cli/commands/scan';
import { formatBytes, formatCount, formatDuration, MovingRate, ProgressReporter } from '../lib/cli/format';
import { BuildProgress, buildIndex, openIndex } from '../lib/index';
import * as O from './helpers/oracle';

test('formatBytes and formatCount', (t) => {
  t.is(formatBytes(0), '0 B');
  t.is(formatBytes(1023), '1023 B');
  t.is(formatBytes(1024), '1.00 KiB');
  t.is(formatBytes(1536), '1.50 KiB');
  t.is(formatBytes(15 * 2 ** 20), '15.0 MiB');
  t.is(formatBytes(4 * 2 ** 30), '4.00 GiB');
  t.is(formatBytes(2 ** 20 - 1), '1.00 MiB');
  t.is(formatCount(999), '999');
  t.is(formatCount(1234), '1.23k');
  t.is(formatCount(2_500_000), '2.50M');
  t.is(formatCount(999_999), '1.00M');
  t.is(formatCount(3e9), '3.00G');
});

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns: 200, write: (s: string) => writes.push(s) } };
}

test('ProgressReporter (not a TTY): plain lines every interval, then the summary', (t) => {
  let clock = 0;
  const { writes, stream } = fakeStream(false);
  const progress = new ProgressReporter({ stream, unit: 'docs', now: () => clock });
  progress.start('reading', 1000);
  for (let i = 1; i <= 1000; i++) {
    clock = i * 10; // 10 s total, 100 docs/s
    progress.update({ done: i, bytes: i * 1024 });
  }
  progress.done('read 1000 docs');
  t.deepEqual(writes, [
    'reading  50.0%  500/1.00k docs  500 KiB  100 docs/s  ETA 5s  elapsed 5s\n',
    'reading  100.0%  1.00k/1.00k docs  1000 KiB  100 docs/s  elapsed 10s\n',
    'read 1000 docs\n',
  ]);
});

test('ProgressReporter (TTY): redrawn line with a bar, throttled to ~10/s', (t) => {
  let clock = 0;
  const { writes, stream } = fakeStream(true);
  const progress = new ProgressReporter({ stream, unit: 'docs', now: () => clock });
  progress.start('indexing', 100);
  for (let i = 1; i <= 100; i++) {
    clock = i * 20; // 2 s total: at most ~20 redraws, not 100
    progress.update({ done: i });
  }
  progress.done('indexed 100 docs');
  t.true(writes.length <= 23, String(writes.length));
  t.true(writes.slice(0, -2).every((w) => w.startsWith('\r\x1b[Kindexing  [')));
  t.is(writes[writes.length - 2], '\r\x1b[K');
  t.is(writes[writes.length - 1], 'indexed 100 docs\n');
  t.true(writes.some((w) => w.includes('[##########..........]  50.0%  50/100 docs')), writes.join('|'));
});

test('formatDuration: seconds, minutes and seconds, hours and minutes', (t) => {
  t.is(formatDuration(0.4), '0s');
  t.is(formatDuration(59.4), '59s');
  t.is(formatDuration(75), '1m15s');
  t.is(formatDuration(3599), '59m59s');
  t.is(formatDuration(3725), '1h02m');
  t.is(formatDuration(-1), '?');
  t.is(formatDuration(Infinity), '?');
});

// ---------------------------------------------------------------------------
// Live progress: timer redraws, the build's shard-build work and ETA, scan's bar and summary.

test('ProgressReporter (live): the timer redraws with no update, so the elapsed time moves', async (t) => {
  let clock = 0;
  const { writes, stream } = fakeStream(true);
  const progress = new ProgressReporter({ stream, unit: 'docs', now: () => clock, live: true, tickMs: 2 });
  progress.start('build', 10);
  progress.update({ done: 3 });
  const before = writes.length;
  clock = 7000;
  await new Promise((resolve) => setTimeout(resolve, 60));
  progress.done('end');
  const redrawn = writes.slice(before, -2);
  t.true(redrawn.length >= 2, String(redrawn.length));
  t.true(redrawn.every((w) => w.includes('3/10 docs') && w.includes('elapsed 7s')), redrawn.join('|'));
  // done() stopped the timer: nothing after the summary.
  const count = writes.length;
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.is(writes.length, count);
  t.is(writes[writes.length - 1], 'end\n');
});

test('ProgressReporter: a job-supplied ETA is rounded up while positive, "?" when unknown, and fraction drives the bar', (t) => {
  const { stream } = fakeStream(true);
  let clock = 0;
  const progress = new ProgressReporter({ stream, now: () => clock });
  progress.start('build');
  clock = 1000;
  progress.update({ fraction: 0.5, etaSeconds: 0.01, note: 'n' });
  t.is(progress.render(), 'build  [##########..........]  50.0%  ETA 1s  elapsed 1s  n');
  progress.update({ etaSeconds: NaN });
  t.is(progress.render(), 'build  [##########..........]  50.0%  ETA ?  elapsed 1s  n');
  progress.update({ etaSeconds: 0, fraction: 1 });
  t.is(progress.render(), 'build  [####################]  100.0%  elapsed 1s  n');
});

test('MovingRate: the rate over the last seconds, not since the start', (t) => {
  const rate = new MovingRate(5);
  t.deepEqual(rate.rates(), []);
  for (let s = 0; s <= 20; s++) rate.add(s * 1000, [s < 10 ? s * 100 : 1000 + (s - 10) * 10, 0]); // 100/s, then 10/s
  const [perSecond, other] = rate.rates();
  t.is(other, 0);
  t.true(Math.abs(perSecond - 10) < 1e-9, String(perSecond)); // the average since the start would be 55/s
});

/** A JSONL file of `n` documents of about `size` bytes each, deterministic. */
function corpus(dir: string, n: number, size: number): string {
  const r = O.rng(7);
  const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa'];
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const w: string[] = [];
    for (let len = 0; len < size; len += 6) w.push(words[Math.floor(r() * words.length)]);
    lines.push(JSON.stringify({ id: `d${i}`, text: w.join(' ') }));
  }
  const file = path.join(dir, 'corpus.jsonl');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

test.serial('build progress: reports on a timer while shards build, the shard-build work reaches its total, no ETA of 0 while building', async (t) => {
  const dir = O.tmpDir('progress-build');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = corpus(dir, 400, 6000); // ~2.4 MB, bytes tokenizer: 4+ shards of 600k tokens
  const tick = progressTick.ms;
  progressTick.ms = 1;
  t.teardown(() => { progressTick.ms = tick; });
  const reports: BuildProgress[] = [];
  const result = await buildIndex({ inputs: [file], out: path.join(dir, 'idx'), shardTokens: 600_000, onProgress: (p) => reports.push(p) });
  t.true(result.shards >= 4, String(result.shards));
  // Independent total: the core's units are 1 (validation) + 6 (suffix array) per token, separators included.
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'idx', 'manifest.json'), 'utf8'));
  const tokens = manifest.shards.reduce((s: number, sh: { tokens: number }) => s + sh.tokens, 0);
  const last = reports[reports.length - 1];
  t.is(last.stage, 'done');
  t.deepEqual(last.suffixArray, { done: 7 * tokens, total: 7 * tokens });
  // Reports while shards build and nothing is read: the timer's, with the work counter moving.
  const idle = reports.filter((p, i) => i > 0 && p.building > 0 && p.bytesRead === reports[i - 1].bytesRead && p.documents === reports[i - 1].documents);
  t.true(idle.length >= 2, `${idle.length} reports without input progress`);
  let done = 0;
  for (const p of reports) {
    t.true(p.suffixArray.done >= done && p.suffixArray.done <= p.suffixArray.total, JSON.stringify(p));
    done = p.suffixArray.done;
    if (p.building > 0) t.true(p.etaSeconds === undefined || p.etaSeconds > 0, JSON.stringify(p));
    // No shard building: every shard started has its suffix array (each one's counter reached its total).
    else t.is(p.suffixArray.done, p.suffixArray.total, JSON.stringify(p));
  }
  t.true(reports.some((p) => p.building > 0 && p.suffixArray.done > 0 && p.suffixArray.done < p.suffixArray.total), 'seen midway');
});

test.serial('build command: the bar is redrawn while shards build and never shows ETA 0s with a shard building; --json keeps stdout clean', async (t) => {
  const dir = O.tmpDir('progress-cli');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = corpus(dir, 400, 6000);
  const tick = progressTick.ms;
  progressTick.ms = 1;
  t.teardown(() => { progressTick.ms = tick; });
  let clock = 0;
  const { writes, stream } = fakeStream(true);
  await runBuild({ 'shard-tokens': '600000' }, [file], path.join(dir, 'idx'), undefined, { stream, now: () => (clock += 50), tickMs: 1 });
  const lines = writes.filter((w) => w.startsWith('\r\x1b[Kbuild'));
  const building = lines.filter((l) => / building/.test(l));
  t.true(building.length >= 2, `${building.length} lines while building`);
  for (const l of lines) t.false(/ETA 0s/.test(l), l);
  for (const l of building) t.regex(l, /ETA (\?|[1-9]\d*s|\d+m)/);
  // The same input state drawn more than once: redraws without input progress.
  const states = lines.map((l) => l.replace(/^.*elapsed \S+ {2}/, '').replace(/ \(shard build \d+%\)/, ''));
  t.true(states.some((s, i) => i > 0 && s === states[i - 1] && / building/.test(s)), states.join('\n'));
  t.regex(writes[writes.length - 1], /^400 docs, .* shard\(s\), .* in [\d.]+ s\n$/);

  const res = spawnSync(process.execPath, [O.CLI, 'build', file, '--out', path.join(dir, 'idx-json'), '--shard-tokens', '600000', '--json'], { encoding: 'utf8' });
  t.is(res.status, 0, res.stderr);
  t.is(res.stdout.trim().split('\n').length, 1);
  t.is(JSON.parse(res.stdout).documents, 400);
  t.is(res.stderr, '');
});

test.serial('scan: the bar over the input bytes reaches 100 %, the summary counts what the scan wrote; --json: JSONL on stdout, one summary object on stderr', async (t) => {
  const dir = O.tmpDir('progress-scan');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = corpus(dir, 60, 3000);
  await buildIndex({ inputs: [file], out: path.join(dir, 'idx') });
  const r = O.rng(3);
  const outputs = Array.from({ length: 200 }, (_, i) => {
    const doc = JSON.parse(fs.readFileSync(file, 'utf8').split('\n')[i % 60]).text as string;
    const at = Math.floor(r() * 2000);
    const text = i % 3 === 0 ? `zz${i} qq unrelated words only` : `${doc.slice(at, at + 40 + (i % 50))} tail ${i}`;
    return JSON.stringify({ id: `o${i}`, text });
  });
  const input = path.join(dir, 'outputs.jsonl');
  fs.writeFileSync(input, outputs.join('\n') + '\n');
  const out = path.join(dir, 'results.jsonl');
  const idx = await openIndex(path.join(dir, 'idx'));
  let clock = 0;
  const { writes, stream } = fakeStream(true);
  const flags = { out, tau: '2', 'min-length': '12', 'no-word-boundaries': true };
  const summary = await runScan(idx, [input], flags, { minLength: 12, wordBoundaries: false }, undefined, { stream, now: () => (clock += 10), tickMs: 1 });
  idx.close();
  const results = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const flagged = results.filter((x) => x.spans.some((s: { bci: number }) => s.bci > 2)).length;
  t.is(results.length, 200);
  t.true(flagged > 0 && flagged < 200, String(flagged));
  t.like(summary, { records: 200, flagged, errors: results.filter((x) => x.error).length, output: out });
  const bars = writes.filter((w) => w.startsWith('\r\x1b[K') && w.includes('scan'));
  const size = formatBytes(fs.statSync(input).size);
  t.true(bars[bars.length - 1].includes(`100.0%  ${size}/${size}`), bars[bars.length - 1]);
  t.regex(bars[bars.length - 1], /records\/s, .*\/s/);
  t.is(writes[writes.length - 1], `scanned 200 record(s), ${flagged} flagged (a span above τ 2), 0 error(s), ${formatCount(summary.tokens)} tokens in ${summary.seconds.toFixed(2)} s (${formatCount(summary.recordsPerSecond)} records/s) → ${out}\n`);

  const res = spawnSync(process.execPath, [O.CLI, 'scan', path.join(dir, 'idx'), input, '--min-length', '12', '--no-word-boundaries', '--tau', '2', '--json'], { encoding: 'utf8' });
  t.is(res.status, 0, res.stderr);
  const lines = res.stdout.trim().split('\n').map((l) => JSON.parse(l));
  t.deepEqual(lines.map((l) => l.id), results.map((x) => x.id));
  const errLines = res.stderr.trim().split('\n');
  t.is(errLines.length, 1, res.stderr);
  t.like(JSON.parse(errLines[0]), { records: 200, flagged, errors: 0, output: '-' });
});
