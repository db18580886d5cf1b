/** Comparing token arrays of two encoders (the JS oracle and the native encoder) document by document. */
import { loadTokenizer } from '../../lib/tokenizers/named';
import type { TokenArray } from '../../lib/tokenizers/tokenizer';

/** Same array type, same ids. */
export const sameTokens = (a: TokenArray, b: TokenArray): boolean =>
  a.constructor === b.constructor && a.length === b.length && a.every((x, i) => x === b[i]);

/** One line per document whose arrays differ: the text's start and both arrays' first ids. */
export function mismatches(docs: string[], expected: TokenArray[], actual: TokenArray[]): string[] {
  const bad: string[] = [];
  docs.forEach((d, i) => {
    if (!sameTokens(expected[i], actual[i]))
      bad.push(`${JSON.stringify(d.slice(0, 80))}: ${Array.from(expected[i].slice(0, 12))} vs ${Array.from(actual[i].slice(0, 12))}`);
  });
  return bad;
}

/** The JS and the native implementation of a tokenizer (a name or a tokenizer.json path). */
export const bothImplementations = (spec: string) =>
  Promise.all([loadTokenizer(spec, { implementation: 'js' }), loadTokenizer(spec, { implementation: 'native' })]);
