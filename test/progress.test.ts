/** The CLI's progress reporter and its byte/count formatting (lib/cli/format.ts). */
import test from 'ava';
import { formatBytes, formatCount, formatDuration, ProgressReporter } from '../lib/cli/format';

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
