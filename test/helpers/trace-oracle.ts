/**
 * Brute-force oracles for the provenance layer (maximal spans, BCI and its variants, TraceShield, the match
 * state, Prov-Decode's continuation scores, CBD weights), computed from the documents alone. Like oracle.ts,
 * nothing here imports lib/: the definitions are written from the README and native/core/trace.hpp.
 *
 * Substring search: the corpus is one JS string, a token per UTF-16 code unit (ids < 0xFFFF), documents
 * separated by U+FFFF, which no pattern contains, so a match never crosses a document boundary.
 */
import type { Tokens } from './oracle';

const SEP = '\uffff';

const str = (t: Tokens, from = 0, to = t.length): string => {
  let s = '';
  for (let i = from; i < to; i++) s += String.fromCharCode(t[i]);
  return s;
};

export interface BruteSpan {
  start: number;
  end: number;
  count: number;
}

export interface AllScores {
  bci: number;
  density: number;
  maxToken: number;
  kl: number;
  countSurprisal: number;
}

export class Corpus {
  readonly text: string;
  readonly N: number;
  readonly unigram: Map<number, number>;

  constructor(readonly docs: Tokens[]) {
    for (const d of docs) for (let i = 0; i < d.length; i++) if (d[i] >= 0xffff) throw new Error('Corpus: token ids < 0xFFFF only');
    this.text = SEP + docs.map((d) => str(d)).join(SEP) + SEP;
    this.N = docs.reduce((t, d) => t + d.length, 0);
    this.unigram = new Map();
    for (const d of docs) for (let i = 0; i < d.length; i++) this.unigram.set(d[i], (this.unigram.get(d[i]) ?? 0) + 1);
  }

  /** Does tokens[from, to) occur in some document (substring search)? The empty sequence does not count. */
  occurs(tokens: Tokens, from = 0, to = tokens.length): boolean {
    if (to <= from) return false;
    return this.text.indexOf(str(tokens, from, to)) >= 0;
  }

  /** Occurrences of tokens[from, to), overlapping ones included. */
  count(tokens: Tokens, from = 0, to = tokens.length): number {
    if (to <= from) return 0;
    const p = str(tokens, from, to);
    let n = 0;
    for (let at = this.text.indexOf(p); at >= 0; at = this.text.indexOf(p, at + 1)) n++;
    return n;
  }

  /** Does `pat` occur in document `doc` at token offset `at`? (Checks an attribution against the text.) */
  occursAt(doc: number, at: number, pat: Tokens): boolean {
    const d = this.docs[doc];
    if (!d || at < 0 || at + pat.length > d.length) return false;
    for (let k = 0; k < pat.length; k++) if (d[at + k] !== pat[k]) return false;
    return true;
  }

  /** c(t), with `floor` for a token the corpus never contains. */
  c(t: number, floor = 0.5): number {
    return this.unigram.get(t) ?? floor;
  }

  /** −ln P_train(t) = −ln(c(t) / N), natural log. */
  h(t: number, floor = 0.5): number {
    return -Math.log(this.c(t, floor) / this.N);
  }

  /** Every score of a sequence, straight from the README's definitions. */
  scores(tokens: Tokens, opts: { logBase?: number; unseenFloor?: number; count?: number } = {}): AllScores {
    const floor = opts.unseenFloor ?? 0.5;
    const k = opts.logBase ? Math.log(opts.logBase) : 1;
    const n = tokens.length;
    let bci = 0;
    let maxToken = -Infinity;
    const q = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const h = this.h(tokens[i], floor);
      bci += h;
      maxToken = Math.max(maxToken, h);
      q.set(tokens[i], (q.get(tokens[i]) ?? 0) + 1);
    }
    let kl = 0;
    for (const [t, c] of q) {
      const qs = c / n;
      const p = this.c(t, floor) / this.N;
      kl += qs * Math.log(qs / p);
    }
    const count = opts.count ?? this.count(tokens);
    return {
      bci: bci / k,
      density: bci / k / n,
      maxToken: maxToken / k,
      kl: kl / k,
      countSurprisal: -Math.log(count / this.N) / k,
    };
  }

  /**
   * Maximal spans of o[from, to) straight from the definition: o[i:j] occurs while neither o[i-1:j] nor
   * o[i:j+1] (inside the piece) does. For each start, every end is tried by substring search; only the
   * largest occurring end can be right-maximal, and it is kept when the left extension does not occur.
   */
  maximalSpans(o: Tokens, from = 0, to = o.length): Array<{ start: number; end: number }> {
    const out: Array<{ start: number; end: number }> = [];
    for (let i = from; i < to; i++) {
      let j = i;
      while (j < to && this.occurs(o, i, j + 1)) j++;
      if (j === i) continue; // o[i] itself does not occur
      if (i > from && this.occurs(o, i - 1, j)) continue; // left extension occurs
      out.push({ start: i, end: j });
    }
    return out;
  }

  /**
   * The trace of an output with options, from the definitions in native/core/trace.hpp: delimiters cut the
   * output into pieces (a piece ends just after a delimiter token) and spans are maximal within their piece;
   * word alignment trims every span to whole words (a span may not start or end between two word tokens)
   * and drops spans that end up empty or covered by another; then minLength and maxCount filter.
   */
  trace(o: Tokens, opts: { minLength?: number; maxCount?: number; delimiters?: number[]; isWord?: (t: number) => boolean } = {}): BruteSpan[] {
    const delims = new Set(opts.delimiters ?? []);
    let spans: Array<{ start: number; end: number }> = [];
    for (let a = 0; a < o.length;) {
      let b = a;
      while (b < o.length && !delims.has(o[b])) b++;
      if (b < o.length) b++; // the delimiter belongs to (ends) its piece
      spans.push(...this.maximalSpans(o, a, b));
      a = b;
    }
    if (opts.isWord) {
      const w = (i: number) => opts.isWord!(o[i]);
      const inside = (i: number) => i > 0 && i < o.length && w(i - 1) && w(i); // boundary i cuts a word
      const trimmed: Array<{ start: number; end: number }> = [];
      for (const s of spans) {
        let start = s.start;
        while (start < s.end && inside(start)) start++;
        let end = s.end;
        while (end > start && inside(end)) end--;
        if (end > start) trimmed.push({ start, end });
      }
      const key = (s: { start: number; end: number }) => `${s.start},${s.end}`;
      const unique = [...new Map(trimmed.map((s) => [key(s), s])).values()];
      spans = unique.filter((s) => !unique.some((x) => x !== s && x.start <= s.start && s.end <= x.end));
      spans.sort((x, y) => x.start - y.start || x.end - y.end);
    }
    const out: BruteSpan[] = [];
    for (const s of spans) {
      if (s.end - s.start < (opts.minLength ?? 1)) continue;
      const count = this.count(o, s.start, s.end);
      if (opts.maxCount !== undefined && count > opts.maxCount) continue;
      out.push({ start: s.start, end: s.end, count });
    }
    return out;
  }

  /** TraceShield's window mode: every stride-1 window of w tokens that occurs (maxCount filters). */
  windows(o: Tokens, w: number, maxCount?: number): BruteSpan[] {
    const out: BruteSpan[] = [];
    for (let i = 0; i + w <= o.length; i++) {
      const count = this.count(o, i, i + w);
      if (count === 0 || (maxCount !== undefined && count > maxCount)) continue;
      out.push({ start: i, end: i + w, count });
    }
    return out;
  }

  /** The longest suffix of `pushed` (at most `window` tokens; 0 = unbounded) that occurs: length, count, BCI. */
  longestSuffix(pushed: Tokens, window = 0): { length: number; count: number; bci: number } {
    const n = pushed.length;
    const cap = window > 0 ? Math.min(window, n) : n;
    for (let len = cap; len >= 1; len--) {
      if (this.occurs(pushed, n - len, n)) {
        let bci = 0;
        for (let i = n - len; i < n; i++) bci += this.h(pushed[i]);
        return { length: len, count: this.count(pushed, n - len, n), bci };
      }
    }
    return { length: 0, count: this.N, bci: 0 };
  }
}

/** Word tokens of the bytes tokenizer, from lib/trace.ts's description: letters, digits, _, ' and bytes ≥ 0x80. */
export function isWordByte(b: number): boolean {
  return b >= 0x80 || (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x5f || b === 0x27;
}

/** Relative closeness for scores (exact infinities must match exactly). */
export function close(a: number, b: number, rel = 1e-9): boolean {
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b)) + 1e-12;
}

/**
 * Outputs spliced from corpus pieces and new tokens: 2–6 pieces, each a slice of a random document (1–40
 * tokens, sometimes with one token changed) or fresh random tokens.
 */
export function splicedOutputs(r: () => number, docs: Tokens[], n: number, fresh: () => number): number[][] {
  const nonEmpty = docs.filter((d) => d.length > 0);
  const out: number[][] = [];
  for (let k = 0; k < n; k++) {
    const o: number[] = [];
    const pieces = 2 + Math.floor(r() * 5);
    for (let p = 0; p < pieces; p++) {
      if (r() < 0.7) {
        const d = nonEmpty[Math.floor(r() * nonEmpty.length)];
        const len = 1 + Math.floor(r() * Math.min(40, d.length));
        const at = Math.floor(r() * (d.length - len + 1));
        const piece = Array.from(d).slice(at, at + len);
        if (r() < 0.2) piece[Math.floor(r() * piece.length)] = fresh();
        o.push(...piece);
      } else {
        const len = 1 + Math.floor(r() * 8);
        for (let i = 0; i < len; i++) o.push(fresh());
      }
    }
    out.push(o);
  }
  return out;
}
