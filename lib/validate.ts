/**
 * Argument validation shared by the API and the CLI: each check throws ERR_INVALID_ARGUMENT with one message
 * form (see invalidArgument).
 */
import { TraceIndexError } from './errors';

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
export function parseBytes(text: string | number): number {
  const invalid = () => new TraceIndexError('ERR_INVALID_ARGUMENT', `invalid byte size: ${JSON.stringify(text)} (expected e.g. 4GiB, 512MB, 1e9)`);
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
