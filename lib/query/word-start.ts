/**
 * `wordStart` (CountOptions): a text query counted as a word inside running text, as the occurrences of two
 * token forms, the query's own tokens A and the tokens B of `' ' + query`. B is dropped when it ends with A:
 * then the space is a token of its own and every B occurrence holds an A occurrence of the same text.
 * Otherwise no text position is counted twice: an A and a B occurrence of the same text would be two runs
 * of the document's tokens ending at the same token, the longer (B) ending with the shorter (A).
 *
 * count adds the two counts; locate merges the two occurrence lists in (document, position) order and pages
 * through the merged list, finding where the page starts and ends by binary searches over the two lists.
 */
import { TraceIndexError } from '../errors';
import type { NativeLocate } from '../native';
import { type IndexCore, MAX_SNIPPET_BUDGET } from './core';
import { JsonFloat64Array } from './json-arrays';
import type { Query } from './types';

/** A query's token forms: [A], or [A, B] for a wordStart text query whose spaced form adds occurrences. */
export function queryForms(core: IndexCore, query: Query, wordStart: boolean, i = 0): Uint32Array[] {
  const a = core.tokenize(query);
  if (!wordStart) return [a];
  if (typeof query !== 'string') throw new TraceIndexError('ERR_INVALID_ARGUMENT', `wordStart needs text queries: query ${i} is token ids`);
  if (a.length === 0) throw new TraceIndexError('ERR_INVALID_ARGUMENT', `query ${i} is empty`);
  const b = core.tokenize(' ' + query);
  return endsWith(b, a) ? [a] : [a, b];
}

function endsWith(b: Uint32Array, a: Uint32Array): boolean {
  if (b.length < a.length) return false;
  for (let k = 1; k <= a.length; k++) if (b[b.length - k] !== a[a.length - k]) return false;
  return true;
}

/** The forms of a batch of count queries, and how to sum the forms' counts back into one count per query. */
export function countForms(core: IndexCore, queries: Query[], wordStart: boolean): { forms: Query[]; sum: (counts: Float64Array) => Float64Array } {
  if (!wordStart) return { forms: queries, sum: (c) => c };
  if (!Array.isArray(queries)) throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'a batch is an array of queries');
  const forms: Uint32Array[] = [];
  const owner: number[] = [];
  queries.forEach((q, i) => {
    for (const f of queryForms(core, q, true, i)) {
      forms.push(f);
      owner.push(i);
    }
  });
  return {
    forms,
    sum: (counts) => {
      const out = new JsonFloat64Array(queries.length);
      owner.forEach((q, k) => { out[q] += counts[k]; });
      return out;
    },
  };
}

/** One native locate of a form: [offset, offset + limit) of its occurrences, refused above maxTokens of cost. */
export interface LocateFetch {
  form: 0 | 1;
  offset: number;
  limit: number;
  context: number;
  maxTokens: number;
  /** Part of the page shown (its byte offsets are worked out), not a probe only compared. */
  page: boolean;
}

/** A page over a query's forms: the first `take[f]` occurrences of form f's native page, and the total. */
export interface FormsPage {
  total: number;
  pages: NativeLocate[];
  take: number[];
}

/** (document, position) order of occurrence i of page p against occurrence j of page q. */
function before(p: NativeLocate, i: number, q: NativeLocate, j: number): boolean {
  return p.documents[i] < q.documents[j] || (p.documents[i] === q.documents[j] && p.offsets[i] < q.offsets[j]);
}

/**
 * The page [offset, offset + limit) of a query's occurrences, over its `forms` (1 or 2) token forms, as a
 * generator of the native locates it needs (so the async and Sync forms drive the same steps). One form:
 * one native page. Two: their occurrences merged in (document, position) order: the totals, then O(log)
 * single occurrences to find how many of the first `offset`, and of the first `offset + limit`, come from A;
 * then exactly the page's part of each form, the second under what the first left of `budget`, so the page
 * costs what a one-form page of the same occurrences would, and is refused (ERR_TOO_LARGE) only above it.
 */
export function* locateSteps(forms: number, { offset, limit, context }: { offset: number; limit: number; context: number }, budget: number): Generator<LocateFetch, FormsPage, NativeLocate> {
  if (forms === 1) {
    const p = yield { form: 0, offset, limit, context, maxTokens: budget, page: true };
    return { total: p.total, pages: [p], take: [p.documents.length] };
  }
  // Probes (totals, single occurrences) are compared and dropped, never part of the page: not bound by its budget
  // (a probe's record may cost more than a page of small ones), only by the core's (limit 1, context 0).
  const totalA = (yield { form: 0, offset: 0, limit: 0, context: 0, maxTokens: MAX_SNIPPET_BUDGET, page: false }).total;
  const totalB = (yield { form: 1, offset: 0, limit: 0, context: 0, maxTokens: MAX_SNIPPET_BUDGET, page: false }).total;
  /** How many of the first k merged occurrences are A's: the smallest a in [lo, hi] whose A occurrence a does not precede B's k − a − 1. */
  function* fromA(k: number, lo: number): Generator<LocateFetch, number, NativeLocate> {
    let hi = Math.min(k, totalA);
    lo = Math.max(lo, k - totalB);
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const x = yield { form: 0, offset: mid, limit: 1, context: 0, maxTokens: MAX_SNIPPET_BUDGET, page: false };
      const y = yield { form: 1, offset: k - mid - 1, limit: 1, context: 0, maxTokens: MAX_SNIPPET_BUDGET, page: false };
      if (before(x, 0, y, 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  const k = Math.min(offset, totalA + totalB);
  const end = Math.min(offset + limit, totalA + totalB);
  const a = yield* fromA(k, 0);
  const aEnd = yield* fromA(end, a);
  const pa = yield { form: 0, offset: a, limit: aEnd - a, context, maxTokens: budget, page: true };
  const pb = yield { form: 1, offset: k - a, limit: end - aEnd - (k - a), context, maxTokens: budget - pa.cost, page: true };
  return { total: pa.total + pb.total, pages: [pa, pb], take: [pa.documents.length, pb.documents.length] };
}
