/**
 * Results of the library as JSON values: typed arrays become arrays, and trace spans can carry the UTF-16 offsets
 * of their text in the query string (what a page needs to highlight them).
 */
import type { DocumentInfo, LocateResult, NextTokens, Occurrence } from '../query/types';
import type { Index } from '../query/open-index';
import type { ShieldResult, Span, TraceResult } from '../provenance/trace';

export function occurrenceJson(o: Occurrence): Record<string, unknown> {
  return {
    document: o.document, id: o.id, metadata: o.metadata ?? null, shard: o.shard, position: o.position,
    snippet: { text: o.snippet.text, tokens: Array.from(o.snippet.tokens), start: o.snippet.start },
  };
}

export function spanJson(s: Span): Record<string, unknown> {
  return { start: s.start, end: s.end, text: s.text, count: s.count, bci: s.bci, scores: s.scores, documents: s.documents.map(occurrenceJson) };
}

export function traceJson(r: TraceResult): Record<string, unknown> {
  return { tokens: r.tokens, spans: r.spans.map(spanJson) };
}

export function shieldJson(r: ShieldResult): Record<string, unknown> {
  return { refuse: r.refuse, maxBci: r.maxBci, worst: r.worst ? spanJson(r.worst) : null, spans: r.spans.map(spanJson) };
}

export function locateJson(r: LocateResult): Record<string, unknown> {
  return { total: r.total, occurrences: r.occurrences.map(occurrenceJson) };
}

export function nextTokensJson(index: Index, n: NextTokens, top: number): Record<string, unknown> {
  const k = Math.min(top, n.tokens.length);
  const tokens = Array.from(n.tokens.subarray(0, k));
  const out: Record<string, unknown> = {
    suffixLength: n.suffixLength, total: n.total, distinct: n.tokens.length, approximate: false,
    tokens, counts: Array.from(n.counts.subarray(0, k)),
  };
  if (index.tokenizer.readsText) out.texts = tokens.map((t) => index.tokenizer.decode([t]));
  return out;
}

export function documentJson(d: DocumentInfo): Record<string, unknown> {
  return { document: d.document, id: d.id, metadata: d.metadata ?? null, tokens: Array.from(d.tokens), text: d.text };
}

/**
 * Adds textStart/textEnd to each span of `json` (from traceJson): UTF-16 offsets into `text`, the query the
 * spans were traced in, widened to whole characters when a span boundary falls inside one. Left out when the
 * tokens do not decode back to the text (a tokenizer that normalises).
 */
export function addTextOffsets(index: Index, text: string, ids: Uint32Array, spans: Array<Record<string, unknown>>): void {
  if (!index.tokenizer.readsText || spans.length === 0) return;
  // byteAt[k]: UTF-8 byte offset of token boundary k. The bytes tokenizer's tokens are the bytes themselves.
  const bytes = index.tokenizer.name === 'bytes';
  if (!bytes && index.tokenizer.decode(ids) !== text) return;
  const byteAt = (k: number) => (bytes ? k : index.tokenizer.byteLength(ids.subarray(0, k)));
  // UTF-16 offset of each UTF-8 character start; a byte inside a character maps by rounding down (start) or up (end).
  const starts: number[] = [];   // byte offset of each code point
  const units: number[] = [];    // its UTF-16 offset
  let b = 0;
  let u = 0;
  for (const ch of text) {
    starts.push(b);
    units.push(u);
    const cp = ch.codePointAt(0) as number;
    b += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    u += ch.length;
  }
  starts.push(b);
  units.push(u);
  const floor = (x: number) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= x) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  for (const s of spans) {
    const a = floor(byteAt(s.start as number));
    const endByte = byteAt(s.end as number);
    let e = floor(endByte);
    if (starts[e] < endByte) e++;
    s.textStart = units[a];
    s.textEnd = units[Math.min(e, units.length - 1)];
  }
}
