/**
 * Argument checks shared by the API and the CLI. Every failure is ERR_INVALID_ARGUMENT with one message form,
 * `<name> must be <expected>, got <actual>` (invalidArgument), so callers and tests see the same wording for
 * every option.
 */
import { TraceIndexError } from './errors';

/** The largest value of an unsigned 32-bit field: the bound of counts and lengths the core keeps in 32 bits. */
export const MAX_UINT32 = 2 ** 32 - 1;

/** The longest delay a timer can wait (setTimeout fires at once, after 1 ms, for longer ones). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** A short, safe rendering of a value for an error message. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return 'a function';
  return ArrayBuffer.isView(value) ? `a ${value.constructor.name}` : 'an object';
}

/** The one form of every argument error: `<name> must be <expected>, got <actual>` (ERR_INVALID_ARGUMENT). */
export function invalidArgument(name: string, expected: string, actual: unknown): TraceIndexError {
  return new TraceIndexError('ERR_INVALID_ARGUMENT', `${name} must be ${expected}, got ${describe(actual)}`);
}

/** Bounds of an integer option: the value used when it is undefined, and the largest allowed. */
export interface IntegerBounds {
  default?: number;
  max?: number;
}

function integerIn(name: string, value: unknown, min: number, bounds: IntegerBounds): number {
  if (value === undefined && bounds.default !== undefined) return bounds.default;
  const max = bounds.max ?? Number.MAX_SAFE_INTEGER;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const word = min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer >= ${min}`;
    throw invalidArgument(name, max === Number.MAX_SAFE_INTEGER ? word : `${word} <= ${max}`, value);
  }
  return value;
}

/** An integer in [0, max] (default max: Number.MAX_SAFE_INTEGER); `bounds.default` when undefined. */
export function nonNegativeInteger(name: string, value: unknown, bounds: IntegerBounds = {}): number {
  return integerIn(name, value, 0, bounds);
}

/** An integer in [1, max] (default max: Number.MAX_SAFE_INTEGER); `bounds.default` when undefined. */
export function positiveInteger(name: string, value: unknown, bounds: IntegerBounds = {}): number {
  return integerIn(name, value, 1, bounds);
}

/** A finite number; `fallback` when undefined (if given). */
export function finiteNumber(name: string, value: unknown, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidArgument(name, 'a finite number', value);
  return value;
}

/** A number that is not NaN (±Infinity allowed: e.g. a threshold that never or always fires). */
export function number(name: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value)) throw invalidArgument(name, 'a number', value);
  return value;
}

/** One of `allowed`; `fallback` when undefined (if given). */
export function oneOf<T>(name: string, value: unknown, allowed: readonly T[], fallback?: T): T {
  if (value === undefined && fallback !== undefined) return fallback;
  if (!allowed.includes(value as T)) throw invalidArgument(name, `one of ${allowed.map((a) => describe(a)).join(', ')}`, value);
  return value as T;
}

/** A plain object (not null, not an array); `{}` when undefined. */
export function plainObject<T extends object>(name: string, value: T | undefined): T {
  if (value === undefined) return {} as T;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidArgument(name, 'an object', value);
  return value;
}

/** An AbortSignal, or undefined. */
export function abortSignal(name: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  // Duck-typed: a signal from another realm (a vm context, a polyfill) is not an instance of this one's class.
  const s = value as AbortSignal;
  if (typeof s !== 'object' || s === null || typeof s.aborted !== 'boolean' || typeof s.addEventListener !== 'function')
    throw invalidArgument(name, 'an AbortSignal', value);
  return s;
}

/** A time limit in milliseconds: a number in [0, MAX_TIMEOUT_MS], or undefined (no limit). */
export function timeoutMs(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !(value >= 0 && value <= MAX_TIMEOUT_MS))
    throw invalidArgument(name, `a number of milliseconds in [0, ${MAX_TIMEOUT_MS}]`, value);
  return value;
}

const BYTE_MULTIPLIERS: Record<string, number> = {
  '': 1, b: 1,
  k: 2 ** 10, kib: 2 ** 10, kb: 1e3,
  m: 2 ** 20, mib: 2 ** 20, mb: 1e6,
  g: 2 ** 30, gib: 2 ** 30, gb: 1e9,
  t: 2 ** 40, tib: 2 ** 40, tb: 1e12,
};

/**
 * Parses a byte size: a plain number ('1e9', '1024') or a number with a unit. KiB/MiB/GiB/TiB
 * and the bare letters K/M/G/T are binary; KB/MB/GB/TB are decimal. Case-insensitive, optional
 * space. Fractions round down to whole bytes. Junk, negatives and non-finite values throw
 * ERR_INVALID_ARGUMENT.
 */
export function parseBytes(text: string | number, name = 'byte size'): number {
  const invalid = () => invalidArgument(name, 'a byte size such as 4GiB, 512MB or 1e9', text);
  if (typeof text === 'number') {
    if (!Number.isFinite(text) || text < 0) throw invalid();
    return Math.floor(text);
  }
  if (typeof text !== 'string') throw invalid();
  const match = /^\s*(\d+(?:\.\d*)?(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (!match) throw invalid();
  const multiplier = BYTE_MULTIPLIERS[match[2].toLowerCase()];
  if (multiplier === undefined) throw invalid();
  const bytes = Number(match[1]) * multiplier;
  if (!Number.isFinite(bytes) || bytes > Number.MAX_SAFE_INTEGER) throw invalid();
  return Math.floor(bytes);
}
