/**
 * The /v1 query routes. Each body holds one query (`query`, answered `{ result }`) or a batch (`queries`,
 * answered `{ results }` in order); a batch is one native batch call (locate, which has no batch form in the
 * library, runs its queries side by side under one work slot). Queries are tokenized here so the per-query token
 * limit holds before any native work; the call gets the request's remaining deadline as `timeoutMs` and the
 * request's AbortSignal, so a client that goes away cancels its query in the core.
 */
import { TraceIndexError } from '../errors';
import type { Index } from '../query/open-index';
import type { ShieldOptions, TraceOptions } from '../provenance/trace';
import { costOf, MAX_SNIPPET_BUDGET, OCCURRENCE_COST, SNIPPET_BUDGET } from '../query/core';
import { HttpError } from './errors';
import type { Limits } from './limits';
import type { QueryRoute } from './schemas';
import { documentJson, locateJson, nextTokensJson, shieldJson, traceJson, addTextOffsets } from '../viewer/results';
import { coreOf } from '../query/core';
import type { CallOptions, LocateResult } from '../query/types';

export type Query = string | number[];

export interface QueryBody {
  query?: Query;
  queries?: Query[];
  timeoutMs?: number;
  [option: string]: unknown;
}

/** Token ids of one query, within the limits (413 above them), with the batch position in the message. */
export function tokenizeQuery(index: Index, q: Query, at: number | undefined, limits: Limits): Uint32Array {
  const where = at === undefined ? 'query' : `queries[${at}]`;
  const tooLong = (n: number, unit: string) =>
    new HttpError(413, 'ERR_TOO_LARGE', `${where} has ${n} ${unit}, more than the limit of ${limits.maxQueryTokens} tokens`);
  if (typeof q === 'string' && q.length > 4 * limits.maxQueryTokens) throw tooLong(q.length, 'characters');
  if (Array.isArray(q) && q.length > limits.maxQueryTokens) throw tooLong(q.length, 'tokens');
  let ids: Uint32Array;
  try {
    ids = coreOf(index).tokenize(q);
  } catch (err) {
    const e = err as TraceIndexError;
    throw e instanceof TraceIndexError ? new TraceIndexError(e.code, `${where}: ${e.message}`) : err;
  }
  if (ids.length > limits.maxQueryTokens) throw tooLong(ids.length, 'tokens');
  return ids;
}

export function batchOf<T>(body: { [k: string]: unknown }, one: string, many: string, limits: Limits): { single: boolean; items: T[] } {
  const single = body[one] !== undefined;
  const items = (single ? [body[one]] : body[many]) as T[];
  if (items.length > limits.maxBatch)
    throw new HttpError(413, 'ERR_TOO_LARGE', `${items.length} ${many} in one request, more than the limit of ${limits.maxBatch}`);
  return { single, items };
}

function tooMuch(what: string, n: number, limits: Limits): HttpError {
  return new HttpError(413, 'ERR_TOO_LARGE', `${what} ${n} tokens, more than the limit of ${limits.maxResultTokens} per request: ask for fewer queries, occurrences, attributions or less context`);
}

/**
 * Refuses (413) a request whose answer may hold more than maxResultTokens tokens, before any work: a trace or shield
 * holds at most maxDocuments attributions per output token (a span or window ends at each at most), each with
 * 2 × context tokens of context (their spans' tokens and objects are counted in the core, against the same budget:
 * resultBudget); next tokens at most min(top, vocabulary) entries per query. Locate pages are checked once
 * their queries are counted (locatePages).
 */
export function checkResultBudget(route: QueryRoute, body: QueryBody, ids: Uint32Array[], vocabSize: number, limits: Limits): void {
  let need = 0;
  if (route === 'trace' || route === 'shield') {
    for (const q of ids) need += attributionTokens(q.length, body as TraceOptions, (body.mode as { window?: number } | undefined)?.window ?? 1);
  } else if (route === 'next-tokens') {
    need = ids.length * Math.min((body.top as number | undefined) ?? 100, vocabSize);
  }
  if (need > limits.maxResultTokens) throw tooMuch('the answer may hold', need, limits);
}

/** The snippet tokens of the attributions of an output of `tokens` tokens, at most (spans: width 1, checkResultBudget). */
export function attributionTokens(tokens: number, o: TraceOptions, width = 1): number {
  return Math.max(0, tokens - width + 1) * (o.maxDocuments ?? 3) * (2 * (o.context ?? 16) + width);
}

/** The core's cap on what a request's calls return: its budget, within the most a call may hold. */
const resultCap = (limits: Limits) => Math.min(limits.maxResultTokens, MAX_SNIPPET_BUDGET);

/**
 * Call options with `cap` (default: the request's budget) as the core's bound on what the call returns: snippet and
 * document tokens, with each occurrence's objects and each record counted (core.ts, SNIPPET_BUDGET).
 */
export function resultBudget<T extends object>(o: T, limits: Limits, cap = resultCap(limits)): T {
  return { ...o, [SNIPPET_BUDGET]: cap };
}

/** fn's result; the core's ERR_TOO_LARGE at the budget passed by resultBudget said as the request's limit (413). */
export async function withinBudget<T>(limits: Limits, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw overBudget(err, limits);
  }
}

function overBudget(err: unknown, limits: Limits): unknown {
  if (!(err instanceof TraceIndexError) || err.code !== 'ERR_TOO_LARGE') return err;
  return new HttpError(413, 'ERR_TOO_LARGE', `the answer's snippets, documents and their records (a token per 4 bytes) exceed the limit of ${resultCap(limits)} tokens per request: ask for fewer attributions, occurrences or documents, or less context`);
}

const TRACE_KEYS = ['minLength', 'maxCount', 'delimiters', 'wordBoundaries', 'maxDocuments', 'seed', 'context', 'logBase', 'unseenFloor'] as const;

export function traceOptionsOf(body: Record<string, unknown>): TraceOptions {
  const o: Record<string, unknown> = {};
  for (const k of TRACE_KEYS) if (body[k] !== undefined) o[k] = body[k];
  if (o.logBase === 1) throw new HttpError(400, 'ERR_INVALID_ARGUMENT', 'logBase must not be 1');
  return o as TraceOptions;
}

/** Answers one query route; `call` carries the deadline left and the request's AbortSignal. */
export async function answer(route: QueryRoute, index: Index, body: QueryBody, ids: Uint32Array[], call: { timeoutMs: number; signal: AbortSignal }, limits: Limits): Promise<unknown[]> {
  return withinBudget(limits, () => answerRoute(route, index, body, ids, call, limits));
}

async function answerRoute(route: QueryRoute, index: Index, body: QueryBody, ids: Uint32Array[], call: { timeoutMs: number; signal: AbortSignal }, limits: Limits): Promise<unknown[]> {
  switch (route) {
    case 'count':
      return Array.from(await index.countBatch(ids, call));
    case 'locate': {
      const page = { limit: (body.limit as number | undefined) ?? 10, offset: (body.offset as number | undefined) ?? 0, context: (body.context as number | undefined) ?? 16, ...call };
      // Counted first (a search per query): each page holds min(limit, count - offset) occurrences, each a snippet of
      // at most query + 2 × context tokens and OCCURRENCE_COST for its objects.
      const totals = await index.countBatch(ids, call);
      const needs = ids.map((q, i) => Math.min(page.limit, Math.max(0, totals[i] - page.offset)) * (q.length + 2 * page.context + OCCURRENCE_COST));
      const need = needs.reduce((a, b) => a + b, 0);
      if (need > limits.maxResultTokens) throw tooMuch('the answer may hold', need, limits);
      // The records are known only as the pages are read: each query's core bound is its share of the budget, what it
      // needs and the slack in proportion (the shares sum to at most the budget), all pages at once.
      const slack = resultCap(limits) - need;
      const share = (n: number) => n + (need > 0 ? Math.floor((slack * n) / need) : 0);
      const pages = await Promise.allSettled(ids.map((q, i) => index.locate(q, resultBudget(page, limits, share(needs[i])))));
      for (const p of pages)
        if (p.status === 'rejected' && !(p.reason instanceof TraceIndexError && p.reason.code === 'ERR_TOO_LARGE')) throw p.reason;
      // A share too small for its records while the whole may fit: the pages read keep their exact costs, the refused
      // ones are read again in turn, each bound by the cap less all held so far (so a refusal means the total is over).
      let held = 0;
      for (const p of pages) if (p.status === 'fulfilled') held += costOf(p.value);
      const out: LocateResult[] = [];
      for (let i = 0; i < ids.length; i++) {
        const p = pages[i];
        if (p.status === 'fulfilled') {
          out.push(p.value);
          continue;
        }
        const r = await index.locate(ids[i], resultBudget(page, limits, Math.max(0, resultCap(limits) - held)));
        held += costOf(r);
        out.push(r);
      }
      return out.map(locateJson);
    }
    case 'longest-match':
      return (await index.longestMatchBatch(ids, call)).map((m) => ({ length: m.length, count: m.count, text: m.text }));
    case 'next-tokens': {
      const top = (body.top as number | undefined) ?? 100;
      return (await index.nextTokensBatch(ids, call)).map((n) => nextTokensJson(index, n, top));
    }
    case 'trace': {
      const results = (await index.traceBatch(ids, resultBudget({ ...traceOptionsOf(body), ...call }, limits))).map(traceJson);
      if (body.textOffsets) {
        const texts = body.query !== undefined ? [body.query] : (body.queries as Query[]);
        results.forEach((r, i) => {
          if (typeof texts[i] === 'string') addTextOffsets(index, texts[i] as string, ids[i], r.spans as Array<Record<string, unknown>>);
        });
      }
      return results;
    }
    case 'shield': {
      const o: ShieldOptions = resultBudget({ ...traceOptionsOf(body), tau: body.tau as number, ...call }, limits);
      if (body.mode !== undefined) o.mode = body.mode as ShieldOptions['mode'];
      if (body.variant !== undefined) o.variant = body.variant as ShieldOptions['variant'];
      return (await index.shieldBatch(ids, o)).map(shieldJson);
    }
    case 'scores': {
      const o = traceOptionsOf(body);
      return index.scoresBatch(ids, { logBase: o.logBase, unseenFloor: o.unseenFloor, ...call });
    }
  }
}

/** Documents by number (404 at `count` and past) or id (404 when no document has it), within maxResultTokens (413). */
export async function documents(index: Index, count: number, refs: Array<number | string>, call: CallOptions, limits: Limits): Promise<unknown[]> {
  const out: unknown[] = [];
  let tokens = 0;
  for (const ref of refs) {
    if (typeof ref === 'number' && ref >= count)
      throw new HttpError(404, 'ERR_NOT_FOUND', `no document ${ref}: the index has ${count}`);
    try {
      // The core refuses a document over what is left of the budget, its record counted, before reading it.
      const d = await index.document(ref, resultBudget(call, limits, Math.max(0, resultCap(limits) - tokens)));
      tokens += costOf(d);  // its tokens and record, as the core counted them
      out.push(documentJson(d));
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ERR_TOO_LARGE')
        throw new HttpError(413, 'ERR_TOO_LARGE', `the documents asked for hold more than the limit of ${resultCap(limits)} tokens per request: ask for fewer documents`);
      // Schema-checked ids can only fail to be found.
      if (typeof ref === 'string' && code === 'ERR_INVALID_ARGUMENT') throw new HttpError(404, 'ERR_NOT_FOUND', (err as Error).message);
      throw err;
    }
  }
  return out;
}
