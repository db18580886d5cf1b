/**
 * POST /: the request and response shapes of infini-gram's API server (index, query_type, query | query_ids and
 * the query type's options in; the engine's fields plus latency, token_ids and tokens out), so a client of that API
 * switches by changing the URL. Answers are exact (approx is always false; max_support is accepted and not
 * needed). Differences, all documented in docs/server.md:
 *  - find and get_doc_by_rank address the index's own suffix arrays: an infini-gram index served in place has
 *    infini-gram's ranks; an index built by traceindex has its own (its shards, token-value order, no separator
 *    suffixes). get_doc_by_rank keeps the engine's token_ids (the document's tokens), which infini-gram's server
 *    overwrites with the query's.
 *  - get_doc_by_ptr and the *_cnf forms (AND / OR queries) need byte pointers or CNF search: ERR_UNSUPPORTED (400).
 *  - attribute gives each document as { s, doc_ix, offset } (shard, document, token offset of the match) instead
 *    of a byte pointer into infini-gram's token file; enforce_bow is not supported.
 *  - errors are `{ error: message, code }` with a fitting HTTP status (infini-gram answers most errors with 200).
 * Document ends count as the token `eosTokenId` in next-token distributions, as infini-gram's engine reports them.
 */
import type { Index } from '../query/open-index';
import type { IndexInfo } from '../query/types';
import { HttpError } from './errors';
import type { Limits } from './limits';
import { coreOf } from '../query/core';
import { resultBudget, attributionTokens, withinBudget } from './routes';

export interface InfinigramBody {
  index?: string;
  corpus?: string;
  query_type: string;
  query?: string;
  query_ids?: unknown;
  [option: string]: unknown;
}

export const INFINIGRAM_QUERY_TYPES = ['count', 'prob', 'ntd', 'infgram_prob', 'infgram_ntd', 'search_docs', 'attribute', 'find', 'get_doc_by_rank'] as const;
const UNSUPPORTED: Record<string, string> = {
  get_doc_by_ptr: 'it addresses documents by byte pointer into infini-gram\'s token file; use search_docs, or POST /v1/indexes/NAME/document',
  count_cnf: 'CNF (AND / OR) queries are not supported', search_docs_cnf: 'CNF (AND / OR) queries are not supported', find_cnf: 'CNF (AND / OR) queries are not supported',
  creativity: 'it is not implemented; POST /v1/indexes/NAME/longest-match answers the longest prefix of each suffix',
};

export interface InfinigramContext {
  index: Index;
  info: IndexInfo;
  /** The token reported for document ends in ntd / infgram_ntd (infini-gram's eos_token_id). */
  eosTokenId: number;
  limits: Limits;
  call: () => { timeoutMs: number; signal: AbortSignal };
}

type Json = Record<string, unknown>;

function unsupported(message: string): HttpError {
  return new HttpError(400, 'ERR_UNSUPPORTED', message);
}
function bad(message: string): HttpError {
  return new HttpError(400, 'ERR_INVALID_ARGUMENT', message);
}

/** The query's token ids, checked as infini-gram's server checks them (with our limits). */
export function infinigramIds(index: Index, vocab: number, body: InfinigramBody, limits: Limits): number[] {
  const hasQuery = body.query !== undefined;
  const hasIds = body.query_ids !== undefined;
  if (hasQuery === hasIds) throw bad('Exactly one of query and query_ids must be present!');
  if (hasQuery) {
    if (typeof body.query !== 'string') throw bad('query must be a string!');
    if (body.query.includes(' AND ') || body.query.includes(' OR ')) throw unsupported('CNF (AND / OR) queries are not supported');
    if (body.query.length > 4 * limits.maxQueryTokens) throw new HttpError(413, 'ERR_TOO_LARGE', `Please limit your input to <= ${limits.maxQueryTokens} tokens!`);
    if (!index.tokenizer.readsText) throw bad(`this index's tokenizer (${index.tokenizer.name}) has no text form: send query_ids`);
    const ids = Array.from(coreOf(index).tokenize(body.query));
    if (ids.length > limits.maxQueryTokens) throw new HttpError(413, 'ERR_TOO_LARGE', `Please limit your input to <= ${limits.maxQueryTokens} tokens!`);
    return ids;
  }
  const q = body.query_ids;
  if (Array.isArray(q) && q.some((x) => Array.isArray(x))) throw unsupported('CNF (AND / OR) queries are not supported');
  if (!Array.isArray(q) || !q.every((x) => Number.isSafeInteger(x))) throw bad('query_ids must be a list of integers!');
  if (q.length > limits.maxQueryTokens) throw new HttpError(413, 'ERR_TOO_LARGE', `Please limit your input to <= ${limits.maxQueryTokens} tokens!`);
  if (q.some((x) => x < 0 || x >= vocab)) throw new HttpError(400, 'ERR_TOKEN_RANGE', 'Some item(s) in your query_ids are out-of-range!');
  return q as number[];
}

function integer(body: InfinigramBody, key: string, fallback: number, min: number): number {
  const v = body[key];
  if (v === undefined || v === null) return fallback;
  if (!Number.isSafeInteger(v) || (v as number) < min) throw bad(`${key} must be an integer >= ${min}!`);
  return v as number;
}

export async function infinigramQuery(ctx: InfinigramContext, body: InfinigramBody): Promise<Json> {
  const type = body.query_type;
  if (Object.hasOwn(UNSUPPORTED, type)) throw unsupported(`query_type ${type} is not supported by traceindex: ${UNSUPPORTED[type]}`);
  if (!(INFINIGRAM_QUERY_TYPES as readonly string[]).includes(type))
    throw bad(`Invalid query_type: ${String(type).slice(0, 64)} (supported: ${INFINIGRAM_QUERY_TYPES.join(', ')})`);
  const { index } = ctx;
  // get_doc_by_rank uses the query only to mark it in `spans`: it may be left out.
  const noQuery = type === 'get_doc_by_rank' && body.query === undefined && body.query_ids === undefined;
  const ids = noQuery ? [] : infinigramIds(index, ctx.info.vocabSize, body, ctx.limits);
  const started = process.hrtime.bigint();
  const result = await QUERY[type as (typeof INFINIGRAM_QUERY_TYPES)[number]](ctx, ids, body);
  result.latency = Number(process.hrtime.bigint() - started) / 1e6;
  if (type !== 'get_doc_by_rank') result.token_ids = ids;  // there the engine's token_ids (the document's) stay
  result.tokens = index.tokenizer.readsText ? ids.map((t) => index.tokenizer.decode([t])) : ids.map(String);
  return result;
}

/** Occurrences of `ids` as infini-gram counts them: the empty query matches every token, document ends included. */
async function counts(ctx: InfinigramContext, queries: number[][]): Promise<number[]> {
  const all = ctx.info.tokens + ctx.info.documents;
  const nonEmpty = queries.filter((q) => q.length > 0);
  const got = nonEmpty.length ? Array.from(await ctx.index.countBatch(nonEmpty, ctx.call())) : [];
  let k = 0;
  return queries.map((q) => (q.length === 0 ? all : got[k++]));
}

/** Tokens of the longest suffix of `ids` that occurs (binary search: a suffix of an occurring string occurs). */
async function longestOccurringSuffix(ctx: InfinigramContext, ids: number[]): Promise<number> {
  let lo = 0;
  let hi = ids.length + 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    const [n] = await counts(ctx, [ids.slice(ids.length - mid)]);
    if (n > 0) lo = mid;
    else hi = mid;
  }
  return lo;
}

async function prob(ctx: InfinigramContext, prompt: number[], cont: number): Promise<Json> {
  const [promptCnt, contCnt] = await counts(ctx, [prompt, [...prompt, cont]]);
  if (promptCnt === 0) return { prompt_cnt: 0, cont_cnt: 0, prob: -1 };
  return { prompt_cnt: promptCnt, cont_cnt: contCnt, prob: contCnt / promptCnt };
}

async function ntd(ctx: InfinigramContext, prompt: number[]): Promise<Json> {
  const { index } = ctx;
  const [[promptCnt], [next]] = await Promise.all([counts(ctx, [prompt]), index.nextTokensBatch([prompt], ctx.call())]);
  const byToken = new Map<number, number>();
  if (promptCnt > 0 && next.suffixLength === prompt.length)
    next.tokens.forEach((t, i) => byToken.set(t, next.counts[i]));
  const followed = Array.from(byToken.values()).reduce((a, b) => a + b, 0);
  // Occurrences at a document's end are followed by the separator, which infini-gram reports as eos.
  if (promptCnt > followed) byToken.set(ctx.eosTokenId, (byToken.get(ctx.eosTokenId) ?? 0) + promptCnt - followed);
  const result_by_token_id: Record<string, Json> = {};
  for (const t of Array.from(byToken.keys()).sort((a, b) => a - b)) {
    const c = byToken.get(t) as number;
    const entry: Json = { cont_cnt: c, prob: c / promptCnt };
    if (index.tokenizer.readsText && t < ctx.info.vocabSize) entry.token = index.tokenizer.decode([t]);
    result_by_token_id[t] = entry;
  }
  return { prompt_cnt: promptCnt, result_by_token_id, approx: false };
}

function decode(ctx: InfinigramContext, ids: number[]): string | undefined {
  return ctx.index.tokenizer.readsText ? ctx.index.tokenizer.decode(ids) : undefined;
}

const QUERY: Record<(typeof INFINIGRAM_QUERY_TYPES)[number], (ctx: InfinigramContext, ids: number[], body: InfinigramBody) => Promise<Json>> = {
  async count(ctx, ids) {
    const [n] = await counts(ctx, [ids]);
    return { count: n, approx: false };
  },
  async prob(ctx, ids) {
    if (ids.length === 0) throw bad('Please provide a non-empty query!');
    return prob(ctx, ids.slice(0, -1), ids[ids.length - 1]);
  },
  async ntd(ctx, ids, body) {
    integer(body, 'max_support', 1000, 1);
    return ntd(ctx, ids);
  },
  async infgram_prob(ctx, ids) {
    if (ids.length === 0) throw bad('Please provide a non-empty query!');
    const prompt = ids.slice(0, -1);
    const len = await longestOccurringSuffix(ctx, prompt);
    const r = await prob(ctx, prompt.slice(prompt.length - len), ids[ids.length - 1]);
    r.suffix_len = len;
    const text = decode(ctx, prompt.slice(prompt.length - len));
    if (text !== undefined) r.longest_suffix = text;
    return r;
  },
  async infgram_ntd(ctx, ids, body) {
    integer(body, 'max_support', 1000, 1);
    const len = await longestOccurringSuffix(ctx, ids);
    const r = await ntd(ctx, ids.slice(ids.length - len));
    r.suffix_len = len;
    const text = decode(ctx, ids.slice(ids.length - len));
    if (text !== undefined) r.longest_suffix = text;
    return r;
  },
  async search_docs(ctx, ids, body) {
    const maxnum = integer(body, 'maxnum', 1, 1);
    const maxDisp = integer(body, 'max_disp_len', 1000, 1);
    if (maxnum > 100) throw bad('maxnum must be an integer in [1, 100]!');
    if (ids.length === 0) throw bad('Please provide a non-empty query!');
    if (maxnum * maxDisp > ctx.limits.maxResultTokens)
      throw new HttpError(413, 'ERR_TOO_LARGE', `maxnum x max_disp_len is ${maxnum * maxDisp} tokens, more than the limit of ${ctx.limits.maxResultTokens} per request`);
    const core = coreOf(ctx.index);
    const [ranges] = await core.suffixRanges([ids], ctx.call());
    const cnt = ranges.reduce((n, [lo, hi]) => n + hi - lo, 0);
    if (cnt === 0) return { cnt: 0, approx: false, idxs: [], documents: [], message: '0 occurrences found' };
    // Occurrences drawn uniformly with replacement, as infini-gram draws them: idx is a position in the shards'
    // suffix-array ranges laid end to end, shown as get_doc_by_rank shows its rank (max_disp_len tokens around it,
    // never the whole document).
    const idxs = Array.from({ length: maxnum }, () => Math.floor(Math.random() * cnt));
    const items = idxs.map((idx) => {
      let s = 0;
      for (; idx >= ranges[s][1] - ranges[s][0]; s++) idx -= ranges[s][1] - ranges[s][0];
      return { shard: s, rank: ranges[s][0] + idx };
    });
    const shown = await withinBudget(ctx.limits, () => core.documentsByRank(items, maxDisp, resultBudget(ctx.call(), ctx.limits)));
    const documents = shown.map((d) => ({
      doc_ix: d.document, doc_len: d.length, disp_len: d.tokens.length, needle_offset: d.needleOffset,
      metadata: metadataString(ctx.index, d.id, d.metadata), token_ids: d.tokens, blocked: false, spans: highlight(ctx, d.tokens, ids),
    }));
    return { cnt, approx: false, idxs, documents, message: `${cnt} occurrences found. Displaying the documents of occurrences #${JSON.stringify(idxs).replace(/,/g, ', ')}` };
  },
  async find(ctx, ids) {
    const [ranges] = await coreOf(ctx.index).suffixRanges([ids], ctx.call());
    return { cnt: ranges.reduce((n, [lo, hi]) => n + hi - lo, 0), segment_by_shard: ranges };
  },
  async get_doc_by_rank(ctx, ids, body) {
    const maxDisp = integer(body, 'max_disp_len', 1000, 1);
    const core = coreOf(ctx.index);
    const ranks = core.shardRanks();
    const s = body.s;
    if (!Number.isSafeInteger(s) || (s as number) < 0) throw bad(`s must be an integer in range [0, ${ranks.length})`);
    if ((s as number) >= ranks.length) throw new HttpError(404, 'ERR_NOT_FOUND', `s must be an integer in range [0, ${ranks.length})`);
    const rank = body.rank;
    const n = ranks[s as number];
    if (!Number.isSafeInteger(rank) || (rank as number) < 0) throw bad(`rank must be an integer in range [0, ${n})`);
    if ((rank as number) >= n) throw new HttpError(404, 'ERR_NOT_FOUND', `rank must be an integer in range [0, ${n})`);
    const [d] = await withinBudget(ctx.limits, () => core.documentsByRank([{ shard: s as number, rank: rank as number }], maxDisp, resultBudget(ctx.call(), ctx.limits)));
    return {
      doc_ix: d.document, doc_len: d.length, disp_len: d.tokens.length, needle_offset: d.needleOffset,
      metadata: metadataString(ctx.index, d.id, d.metadata), token_ids: d.tokens, blocked: false, spans: highlight(ctx, d.tokens, ids),
    };
  },
  async attribute(ctx, ids, body) {
    const { index } = ctx;
    if (body.enforce_bow === true) throw unsupported('enforce_bow is not supported (traceindex has no beginning-of-word table); POST /v1/indexes/NAME/trace has wordBoundaries for the bytes tokenizer');
    const minLen = integer(body, 'min_len', 1, 0);
    const maxCnt = integer(body, 'max_cnt', 10, 1);
    const delims = body.delim_ids === undefined ? [] : body.delim_ids;
    if (!Array.isArray(delims) || !delims.every((x) => Number.isSafeInteger(x) && x >= 0 && x < ctx.info.vocabSize))
      throw bad('delim_ids must be a list of integers of the vocabulary!');
    if (ids.length === 0) return { spans: [] };
    const { info } = ctx;
    const options = { minLength: Math.max(1, minLen), maxCount: maxCnt, delimiters: delims as number[], maxDocuments: Math.min(maxCnt, 10_000), context: 0 };
    const need = attributionTokens(ids.length, options);
    if (need > ctx.limits.maxResultTokens)
      throw new HttpError(413, 'ERR_TOO_LARGE', `the answer may hold ${need} tokens, more than the limit of ${ctx.limits.maxResultTokens} per request: ask for a smaller max_cnt`);
    const [r] = await withinBudget(ctx.limits, () => index.traceBatch([ids], resultBudget({ ...options, ...ctx.call() }, ctx.limits)));
    // infini-gram's unigram log-probabilities are over every token of its stream, one separator per document included.
    const logRatio = Math.log((info.tokens + info.documents) / info.tokens);
    return {
      spans: r.spans.map((s) => ({
        l: s.start, r: s.end, length: s.end - s.start, count: s.count,
        unigram_logprob_sum: -s.scores.bci - (s.end - s.start) * logRatio,
        docs: s.documents.map((d) => ({ s: d.shard, doc_ix: d.document, offset: d.position.token })),
      })),
    };
  },
};

/** A document's metadata as infini-gram stores it: one JSON line (newline included), written by Python's json.dumps. */
function metadataString(index: Index, id: string, metadata: Record<string, unknown> | undefined): string {
  return pythonJson(index.format === 'infini-gram' ? metadata ?? {} : { id, metadata: metadata ?? {} }) + '\n';
}

/** JSON as Python's json.dumps writes it by default (", " and ": " separators, non-ASCII escaped). */
export function pythonJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(pythonJson).join(', ')}]`;
  if (v && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${pythonJson(k)}: ${pythonJson(x)}`).join(', ')}}`;
  if (typeof v === 'string') return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return JSON.stringify(v ?? null);
}

/**
 * The display tokens split around the query's occurrences, as infini-gram's server labels them: [text, '0' | null];
 * with no query, the whole display as one unlabelled piece.
 */
function highlight(ctx: InfinigramContext, hay: number[], needle: number[]): Array<[string, string | null]> {
  const out: Array<[string, string | null]> = [];
  let from = 0;
  const text = (a: number, b: number) => decode(ctx, hay.slice(a, b)) ?? hay.slice(a, b).join(' ');
  if (needle.length === 0) return [[text(0, hay.length), null]];
  for (let p = 0; p + needle.length <= hay.length;) {
    let hit = true;
    for (let k = 0; k < needle.length; k++) if (hay[p + k] !== needle[k]) { hit = false; break; }
    if (!hit) { p++; continue; }
    if (p > from) out.push([text(from, p), null]);
    out.push([text(p, p + needle.length), '0']);
    p += needle.length;
    from = p;
  }
  if (from < hay.length) out.push([text(from, hay.length), null]);
  return out;
}
