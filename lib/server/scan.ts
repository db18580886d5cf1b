/**
 * POST /v1/indexes/NAME/scan: NDJSON records `{ id?, text | tokens }` in, one NDJSON result per record out, in
 * input order, with bounded memory both ways. The request body is read line by line only as Index.scan pulls
 * records, and Index.scan is pulled only as the response stream drains: a slow reader slows the reading of the
 * body, and an upload of any size streams through in flat memory. A bad line yields a result with `error` in its
 * place and the scan goes on.
 */
import { Readable } from 'node:stream';
import type { Index } from '../query/open-index';
import type { ScanResult } from '../provenance/scan';
import type { TraceOptions } from '../provenance/trace';
import { HttpError } from './errors';
import type { Limits } from './limits';
import { spanJson } from '../viewer/results';
import { resultBudget, attributionTokens, traceOptionsOf } from './routes';
import { traceOptions } from './schemas';
import { coreOf } from '../query/core';

/** Trace options from the query string (numbers and booleans as text), within the JSON routes' bounds (schemas.ts). */
export function scanOptions(query: Record<string, unknown>): TraceOptions {
  const parsed: Record<string, unknown> = {};
  for (const [k, raw] of Object.entries(query ?? {})) {
    const v = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (typeof v !== 'string') continue;
    switch (k) {
      case 'minLength': case 'maxCount': case 'maxDocuments': case 'seed': case 'context': {
        const n = Number(v);
        const max = traceOptions[k].maximum;
        if (v.trim() === '' || !Number.isSafeInteger(n) || n < 0 || n > max)
          throw new HttpError(400, 'ERR_INVALID_ARGUMENT', `${k} must be an integer in [0, ${max}], got ${JSON.stringify(v.slice(0, 40))}`);
        parsed[k] = n;
        break;
      }
      case 'logBase': case 'unseenFloor': {
        const n = Number(v);
        const max = traceOptions[k].maximum;
        if (v.trim() === '' || !Number.isFinite(n) || n <= 0 || n > max) throw new HttpError(400, 'ERR_INVALID_ARGUMENT', `${k} must be a positive number, at most ${max}`);
        parsed[k] = n;
        break;
      }
      case 'wordBoundaries':
        if (v !== 'true' && v !== 'false') throw new HttpError(400, 'ERR_INVALID_ARGUMENT', 'wordBoundaries must be true or false');
        parsed[k] = v === 'true';
        break;
      case 'delimiters':
        parsed[k] = Array.from(v);
        break;
      default:
        throw new HttpError(400, 'ERR_INVALID_ARGUMENT', `unknown scan option ${JSON.stringify(k.slice(0, 40))}`);
    }
  }
  return traceOptionsOf(parsed);
}

/** Lines of a byte stream, each at most maxBytes (a longer one comes out as an error marker, its rest skipped). */
export async function* lines(body: AsyncIterable<Buffer | string>, maxBytes: number): AsyncGenerator<Buffer | { tooLong: number }> {
  let parts: Buffer[] = [];
  let held = 0;
  let skipping = false;
  let skipped = 0;
  for await (const chunk of body) {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    while (buf.length > 0) {
      const nl = buf.indexOf(0x0a);
      const piece = nl < 0 ? buf : buf.subarray(0, nl);
      if (skipping) skipped += piece.length;
      else if (held + piece.length > maxBytes) {
        skipping = true;
        skipped = held + piece.length;
        parts = [];
        held = 0;
      } else {
        parts.push(piece);
        held += piece.length;
      }
      if (nl < 0) break;
      if (skipping) yield { tooLong: skipped };
      else yield Buffer.concat(parts, held);
      parts = [];
      held = 0;
      skipping = false;
      skipped = 0;
      buf = buf.subarray(nl + 1);
    }
  }
  if (skipping) yield { tooLong: skipped };
  else if (held > 0) yield Buffer.concat(parts, held);
}

// As the build reads JSONL (lib/inputs/streams.ts): invalid UTF-8 is refused, not replaced; a BOM opens the body.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The text of line `at` (0-based), or why it has none. */
function lineText(line: Buffer | { tooLong: number }, at: number, first: boolean, maxBytes: number): string | { problem: string } {
  if (!Buffer.isBuffer(line)) return { problem: `line of ${line.tooLong} bytes is longer than the limit of ${maxBytes}` };
  let text: string;
  try {
    text = utf8.decode(line);
  } catch {
    return { problem: `line ${at + 1} is not valid UTF-8` };
  }
  return first && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * The result stream of a scan. Records go to Index.scan as they are parsed; a line that is not a record is passed
 * on as an empty object, which Index.scan reports in its place (ERR_BAD_INPUT), and its message is replaced here
 * by the precise one, so the order of results is kept by Index.scan alone.
 */
export function scanStream(index: Index, vocab: number, body: AsyncIterable<Buffer | string>, options: TraceOptions, limits: Limits, signal: AbortSignal, onEnd: () => void): Readable {
  const problems = new Map<number, string>();
  let position = 0;
  async function* records() {
    let first = true;
    for await (const line of lines(body, limits.maxLineBytes)) {
      const at = position++;
      const text = lineText(line, at, first, limits.maxLineBytes);
      first = false;
      if (typeof text !== 'string') {
        problems.set(at, text.problem);
        yield {};
        continue;
      }
      if (text.trim() === '') {  // blank lines are not records
        position--;
        continue;
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        problems.set(at, `line ${at + 1} is not JSON: ${(err as Error).message}`);
        yield {};
        continue;
      }
      let problem = recordProblem(value, vocab, limits);
      let tokens: Uint32Array | undefined;
      if (!problem) {
        // Tokenized here so the token limit holds for text too.
        try {
          tokens = coreOf(index).tokenize((value as { text?: string; tokens?: number[] }).text ?? (value as { tokens: number[] }).tokens);
          const attributions = attributionTokens(tokens.length, options);
          if (tokens.length > limits.maxQueryTokens) problem = `${tokens.length} tokens, more than the limit of ${limits.maxQueryTokens}`;
          else if (attributions > limits.maxResultTokens)
            problem = `its attributions may hold ${attributions} tokens, more than the limit of ${limits.maxResultTokens}: ask for fewer (maxDocuments) or less context`;
        } catch (err) {
          problem = (err as Error).message;
        }
      }
      if (problem) {
        problems.set(at, `line ${at + 1}: ${problem}`);
        yield {};
        continue;
      }
      const id = (value as { id?: unknown }).id;
      yield { id: id === undefined ? undefined : String(id), tokens };
    }
  }
  async function* results() {
    try {
      for await (const r of index.scan(records(), resultBudget({ ...options, signal }, limits))) {
        const own = problems.get(r.index);
        problems.delete(r.index);
        yield resultLine(r, own) + '\n';
      }
    } catch (err) {
      // The stream has started: the failure is the last line.
      const e = err as { code?: string; message?: string };
      if (!signal.aborted) yield JSON.stringify({ error: { code: e.code ?? 'ERR_INTERNAL', message: e.code ? e.message : 'internal error' } }) + '\n';
    } finally {
      onEnd();
    }
  }
  return Readable.from(results(), { objectMode: false, highWaterMark: 1 << 16 });
}

function resultLine(r: ScanResult, problem: string | undefined): string {
  if (problem !== undefined || r.error)
    return JSON.stringify({ id: problem !== undefined ? String(r.index) : r.id, index: r.index, error: problem !== undefined ? { code: 'ERR_BAD_INPUT', message: problem } : r.error });
  return JSON.stringify({ id: r.id, index: r.index, tokens: r.tokens, maxBci: r.maxBci, spans: r.spans.map(spanJson) });
}

/** Why a parsed line is not a record this index can trace, or undefined. */
function recordProblem(value: unknown, vocab: number, limits: Limits): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'a record is a JSON object {id?, text | tokens}';
  const v = value as Record<string, unknown>;
  for (const k of Object.keys(v)) if (k !== 'id' && k !== 'text' && k !== 'tokens') return `unknown field ${JSON.stringify(k.slice(0, 40))}`;
  if (v.id !== undefined && typeof v.id !== 'string' && !(typeof v.id === 'number' && Number.isSafeInteger(v.id))) return 'id must be a string or an integer';
  if ((v.text === undefined) === (v.tokens === undefined)) return 'a record has exactly one of text or tokens';
  if (v.text !== undefined) {
    if (typeof v.text !== 'string') return 'text must be a string';
    if (v.text.length > 4 * limits.maxQueryTokens) return `text of ${v.text.length} characters is longer than the limit`;
    return undefined;
  }
  if (!Array.isArray(v.tokens)) return 'tokens must be an array of token ids';
  if (v.tokens.length > limits.maxQueryTokens) return `${v.tokens.length} tokens, more than the limit of ${limits.maxQueryTokens}`;
  for (const t of v.tokens) if (!Number.isInteger(t) || t < 0 || t >= vocab) return `token ${JSON.stringify(t)} is not a token id of this index`;
  return undefined;
}
