/**
 * The trace options of the CLI's provenance commands (trace, shield, scan, contamination), with friendlier
 * defaults than the API's, fitted to the index's tokenizer and printed with every human result.
 */
import type { Index, TraceOptions } from '../index';
import { MAX_UINT32 } from '../validate';
import { FlagName, Flags, intFlag, numberFlag } from './command';

/** The flags of every tracing command. */
export const TRACE_FLAGS: readonly FlagName[] = ['min-length', 'max-count', 'delimiters', 'no-word-boundaries', 'max-documents', 'seed', 'log-base'];

/**
 * CLI defaults: spans of at least 12 tokens with the bytes tokenizer (12 bytes: shorter spans are mostly
 * common words) and of at least 4 with any other tokenizer (4 BPE or word-piece tokens, about three words:
 * 12 such tokens would be about twelve words, and a short output would show no span); whole words with the
 * bytes tokenizer; 3 attributions per span. The API's defaults are the bare definition instead.
 */
export const TRACE_DEFAULTS = { minLengthBytes: 12, minLengthTokens: 4, wordBoundaries: true, maxDocuments: 3 };

/** The default --min-length for an index's tokenizer (TRACE_DEFAULTS). */
export function defaultMinLength(index: Index): number {
  return index.tokenizer.name === 'bytes' ? TRACE_DEFAULTS.minLengthBytes : TRACE_DEFAULTS.minLengthTokens;
}

/**
 * Trace options from the flags, checked before the index is opened; the result completes them for an index
 * (the --min-length default and word boundaries depend on its tokenizer).
 */
export function traceFlags(flags: Flags): (index: Index) => TraceOptions {
  const minLength = intFlag(flags, 'min-length', { max: MAX_UINT32 });
  const o: TraceOptions = {
    maxDocuments: intFlag(flags, 'max-documents', { default: TRACE_DEFAULTS.maxDocuments, max: MAX_UINT32 }),
    seed: intFlag(flags, 'seed', { default: 0, max: MAX_UINT32 }),
  };
  const maxCount = intFlag(flags, 'max-count');
  if (maxCount !== undefined) o.maxCount = maxCount;
  if (typeof flags.delimiters === 'string')
    o.delimiters = Array.from(flags.delimiters.replace(/\\n/g, '\n').replace(/\\t/g, '\t'));
  const logBase = numberFlag(flags, 'log-base');
  if (logBase !== undefined) o.logBase = logBase;
  return (index) => ({
    minLength: minLength ?? defaultMinLength(index),
    wordBoundaries: index.tokenizer.name === 'bytes' && !flags['no-word-boundaries'] && TRACE_DEFAULTS.wordBoundaries,
    ...o,
  });
}

/**
 * The effective options in one line, the first of every human trace result: "spans ≥ 4 tokens (cl100k_base),
 * ≤ ∞ occurrences, 3 documents each"; with shield's `window`, the windows checked instead of the spans.
 */
export function describeTraceOptions(index: Index, o: TraceOptions, window?: number): string {
  return [
    window !== undefined ? `windows of ${window} tokens (${index.tokenizer.name})` : `spans ≥ ${o.minLength ?? 1} tokens (${index.tokenizer.name})`,
    ...(o.wordBoundaries && window === undefined ? ['whole words'] : []),
    `≤ ${o.maxCount ?? '∞'} occurrences`,
    `${o.maxDocuments ?? 3} documents each`,
    ...(o.delimiters && window === undefined ? [`delimiters ${JSON.stringify(o.delimiters.join(''))}`] : []),
  ].join(', ');
}
