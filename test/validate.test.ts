/** lib/validate.ts: the shared argument checks, their one message form, and byte sizes. */
import test from 'ava';
import { TraceIndexError } from '../lib/errors';
import {
  abortSignal, finiteNumber, invalidArgument, MAX_TIMEOUT_MS, MAX_UINT32, nonNegativeInteger, number, oneOf, parseBytes,
  plainObject, positiveInteger, timeoutMs,
} from '../lib/validate';

/** The check throws ERR_INVALID_ARGUMENT with the message `<name> must be <...>, got <actual>`. */
function refuses(t: import('ava').ExecutionContext, fn: () => unknown, message: string | RegExp): void {
  const e = t.throws(fn, { instanceOf: TraceIndexError });
  t.is(e?.code, 'ERR_INVALID_ARGUMENT');
  if (typeof message === 'string') t.is(e?.message, message);
  else t.regex(e?.message ?? '', message);
}

test('invalidArgument: one message form, with a short rendering of the actual value', (t) => {
  const e = invalidArgument('limit', 'a positive integer', -3);
  t.true(e instanceof TraceIndexError);
  t.is(e.code, 'ERR_INVALID_ARGUMENT');
  t.is(e.message, 'limit must be a positive integer, got -3');
  t.is(invalidArgument('x', 'y', 'abc').message, 'x must be y, got "abc"');
  t.is(invalidArgument('x', 'y', 'a'.repeat(100)).message, `x must be y, got "${'a'.repeat(40)}…"`);
  t.is(invalidArgument('x', 'y', null).message, 'x must be y, got null');
  t.is(invalidArgument('x', 'y', undefined).message, 'x must be y, got undefined');
  t.is(invalidArgument('x', 'y', [1]).message, 'x must be y, got an array');
  t.is(invalidArgument('x', 'y', { a: 1 }).message, 'x must be y, got an object');
  t.is(invalidArgument('x', 'y', new Uint8Array(2)).message, 'x must be y, got a Uint8Array');
  t.is(invalidArgument('x', 'y', 10n).message, 'x must be y, got 10n');
});

test('integers: bounds inclusive, defaults only for undefined, everything else refused', (t) => {
  t.is(nonNegativeInteger('n', 0), 0);
  t.is(nonNegativeInteger('n', MAX_UINT32, { max: MAX_UINT32 }), MAX_UINT32);
  t.is(nonNegativeInteger('n', undefined, { default: 7 }), 7);
  t.is(positiveInteger('n', 1), 1);
  t.is(positiveInteger('n', Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);
  refuses(t, () => nonNegativeInteger('n', MAX_UINT32 + 1, { max: MAX_UINT32 }), 'n must be a non-negative integer <= 4294967295, got 4294967296');
  refuses(t, () => nonNegativeInteger('n', -1), 'n must be a non-negative integer, got -1');
  refuses(t, () => positiveInteger('n', 0), 'n must be a positive integer, got 0');
  refuses(t, () => positiveInteger('n', 11, { max: 10 }), 'n must be a positive integer <= 10, got 11');
  for (const bad of [1.5, NaN, Infinity, -Infinity, '3', null, undefined, 2 ** 53, {}]) {
    refuses(t, () => nonNegativeInteger('n', bad), /^n must be a non-negative integer, got /);
    refuses(t, () => positiveInteger('n', bad, { max: 100 }), /^n must be a positive integer <= 100, got /);
  }
  refuses(t, () => nonNegativeInteger('n', null, { default: 3 }), 'n must be a non-negative integer, got null');
});

test('numbers, one-of, objects, signals and time limits', (t) => {
  t.is(finiteNumber('x', -2.5), -2.5);
  t.is(finiteNumber('x', undefined, 1), 1);
  for (const bad of [NaN, Infinity, '1', undefined]) refuses(t, () => finiteNumber('x', bad), /^x must be a finite number, got /);
  t.is(number('tau', Infinity), Infinity);
  refuses(t, () => number('tau', NaN), 'tau must be a number, got NaN');
  t.is(oneOf('w', 2, [1, 2, 4]), 2);
  t.is(oneOf('w', undefined, [1, 2, 4], 4), 4);
  refuses(t, () => oneOf('w', 3, [1, 2, 4]), 'w must be one of 1, 2, 4, got 3');
  refuses(t, () => oneOf('mode', 'x', ['a', 'b']), 'mode must be one of "a", "b", got "x"');
  t.deepEqual(plainObject('options', undefined), {});
  const o = { a: 1 };
  t.is(plainObject('options', o), o);
  for (const bad of [null, [1], 'x', 3]) refuses(t, () => plainObject('options', bad as never), /^options must be an object, got /);
  const c = new AbortController();
  t.is(abortSignal('signal', c.signal), c.signal);
  t.is(abortSignal('signal', undefined), undefined);
  const foreign = { aborted: false, addEventListener() {}, removeEventListener() {} };
  t.is(abortSignal('signal', foreign), foreign as never, 'a signal of another realm is accepted');
  for (const bad of [{}, 'x', null, true]) refuses(t, () => abortSignal('signal', bad), /^signal must be an AbortSignal, got /);
  t.is(timeoutMs('timeoutMs', 0), 0);
  t.is(timeoutMs('timeoutMs', 0.5), 0.5);
  t.is(timeoutMs('timeoutMs', MAX_TIMEOUT_MS), 2 ** 31 - 1);
  t.is(timeoutMs('timeoutMs', undefined), undefined);
  for (const bad of [-1, NaN, MAX_TIMEOUT_MS + 1, 2 ** 40, Infinity, '10', null])
    refuses(t, () => timeoutMs('timeoutMs', bad), /^timeoutMs must be a number of milliseconds in \[0, 2147483647\], got /);
});

test('parseBytes accepts units and plain numbers', (t) => {
  const cases: Array<[string | number, number]> = [
    ['0', 0],
    ['1024', 1024],
    ['1e9', 1_000_000_000],
    ['1.5e3', 1500],
    ['4GiB', 4 * 2 ** 30],
    ['4gib', 4 * 2 ** 30],
    ['4G', 4 * 2 ** 30],
    ['512MB', 512_000_000],
    ['512 MiB', 512 * 2 ** 20],
    ['2k', 2048],
    ['2KB', 2000],
    ['1TiB', 2 ** 40],
    ['10B', 10],
    [' 7 ', 7],
    ['1.5KiB', 1536],
    ['0.5KB', 500],
    ['.5k', 512],
    ['1.1B', 1],
    [4096, 4096],
  ];
  for (const [input, expected] of cases) t.is(parseBytes(input), expected, String(input));
});

test('parseBytes rejects junk with ERR_INVALID_ARGUMENT', (t) => {
  for (const junk of ['', ' ', 'abc', '4XB', '-1', '-1GiB', '1e400', 'GiB', '4 G B', '4GiBs', '1,000', '0x10', 'NaN', 'Infinity', '1e30']) {
    const error = t.throws(() => parseBytes(junk), { instanceOf: TraceIndexError }, junk);
    t.is(error?.code, 'ERR_INVALID_ARGUMENT', junk);
  }
  for (const junk of [-1, Number.NaN, Number.POSITIVE_INFINITY, null, undefined, {}] as unknown[]) {
    t.throws(() => parseBytes(junk as number), { instanceOf: TraceIndexError }, String(junk));
  }
});
