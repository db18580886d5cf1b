/**
 * The trace options of the CLI's provenance commands (trace, shield, scan, contamination), with friendlier
 * defaults than the API's (printed with every result).
 */
import type { Index, TraceOptions } from '../index';
import { MAX_UINT32 } from '../validate';
import { FlagName, Flags, intFlag, numberFlag } from './command';

/** The flags of every tracing command. */
export const TRACE_FLAGS: readonly FlagName[] = ['min-length', 'max-count', 'delimiters', 'no-word-boundaries', 'max-documents', 'seed', 'log-base'];

/**
 * CLI defaults: spans of at least 12 tokens (with byte tokens, shorter ones are mostly common words), whole
 * words for text tokenizers, 3 attributions per span. The API's defaults are the bare definition instead.
 */
export const TRACE_DEFAULTS = { minLength: 12, wordBoundaries: true, maxDocuments: 3 };

/**
 * Trace options from the flags, checked before the index is opened; the result completes them for an index
 * (word boundaries apply to the bytes tokenizer only).
 */
export function traceFlags(flags: Flags): (index: Index) => TraceOptions {
  const o: TraceOptions = {
    minLength: intFlag(flags, 'min-length', { default: TRACE_DEFAULTS.minLength, max: MAX_UINT32 }),
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
    minLength: o.minLength,
    wordBoundaries: index.tokenizer.name === 'bytes' && !flags['no-word-boundaries'] && TRACE_DEFAULTS.wordBoundaries,
    ...o,
  });
}
