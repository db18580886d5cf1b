/**
 * Independent oracles for traceindex: brute-force answers computed from the documents alone (never from an
 * index), two independent suffix sorts, random and adversarial corpus generators, and small test utilities.
 * Nothing here imports lib/: the oracles must not share code with what they check.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import SuffixArray from 'mnemonist/suffix-array';

export type Tokens = ArrayLike<number>;

// ---------------------------------------------------------------------------------------------------------
// Deterministic randomness

/** mulberry32: a small seeded PRNG, so every failing case can be replayed from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
export const randInt = (r: () => number, lo: number, hiExclusive: number): number => lo + Math.floor(r() * (hiExclusive - lo));
export const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

// ---------------------------------------------------------------------------------------------------------
// Brute-force queries. Documents are token arrays; a match never crosses a document boundary.

export interface Occ { doc: number; offset: number }

function matchesAt(doc: Tokens, at: number, pat: Tokens): boolean {
  if (at + pat.length > doc.length) return false;
  for (let k = 0; k < pat.length; k++) if (doc[at + k] !== pat[k]) return false;
  return true;
}

/** Every (doc, offset) where `pat` occurs, in document order then offset order. */
export function occurrences(docs: Tokens[], pat: Tokens): Occ[] {
  const out: Occ[] = [];
  if (pat.length === 0) return out;
  for (let d = 0; d < docs.length; d++) {
    const doc = docs[d];
    for (let i = 0; i + pat.length <= doc.length; i++) if (matchesAt(doc, i, pat)) out.push({ doc: d, offset: i });
  }
  return out;
}

export function count(docs: Tokens[], pat: Tokens): number {
  return occurrences(docs, pat).length;
}

/** A shard size that cuts `docs` into about `parts` shards and still fits the longest document. */
export function shardTokensFor(docs: Tokens[], parts: number): number {
  const maxLen = Math.max(...docs.map((d) => d.length));
  return Math.max(maxLen + 1, Math.ceil((totalTokens(docs) + docs.length) / parts));
}

export function totalTokens(docs: Tokens[]): number {
  return docs.reduce((t, d) => t + d.length, 0);
}

/** Longest prefix of q occurring in some document, and its occurrence count (all tokens when 0). */
export function longestPrefix(docs: Tokens[], q: Tokens): { length: number; count: number } {
  let best = 0;
  let n = 0;
  for (const doc of docs) {
    for (let i = 0; i < doc.length; i++) {
      let k = 0;
      while (k < q.length && i + k < doc.length && doc[i + k] === q[k]) k++;
      if (k > best) { best = k; n = 1; } else if (k === best && k > 0) n++;
    }
  }
  return best === 0 ? { length: 0, count: totalTokens(docs) } : { length: best, count: n };
}

/**
 * ∞-gram next-token distribution: the longest suffix of ctx that occurs followed by a token (inside the same
 * document), and the counts of the tokens following it, ordered by count descending then token id.
 */
export function nextTokens(docs: Tokens[], ctx: Tokens): { suffixLength: number; total: number; tokens: number[]; counts: number[] } {
  // For each position p with a next token doc[p], the length of the common suffix of ctx and doc[0, p).
  const ends: Array<{ tok: number; len: number }> = [];
  let best = -1;
  for (const doc of docs) {
    for (let p = 0; p < doc.length; p++) {
      let l = 0;
      while (l < ctx.length && l < p && doc[p - 1 - l] === ctx[ctx.length - 1 - l]) l++;
      ends.push({ tok: doc[p], len: l });
      if (l > best) best = l;
    }
  }
  if (best < 0) return { suffixLength: 0, total: 0, tokens: [], counts: [] };
  const dist = new Map<number, number>();
  for (const e of ends) if (e.len >= best) dist.set(e.tok, (dist.get(e.tok) ?? 0) + 1);
  const order = [...dist.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  return {
    suffixLength: best,
    total: order.reduce((t, [, c]) => t + c, 0),
    tokens: order.map(([t]) => t),
    counts: order.map(([, c]) => c),
  };
}

export function unigram(docs: Tokens[], vocabSize: number): number[] {
  const c = new Array<number>(vocabSize).fill(0);
  for (const d of docs) for (let i = 0; i < d.length; i++) c[d[i]]++;
  return c;
}

// ---------------------------------------------------------------------------------------------------------
// Suffix sorting

/**
 * Naive suffix sort of a shard's token stream (documents each followed by `separator`, the largest value):
 * the positions of non-separator tokens, ordered by their suffixes (a proper prefix sorts first).
 */
export function naiveSuffixSort(text: Tokens, separator: number): number[] {
  const pos: number[] = [];
  for (let i = 0; i < text.length; i++) if (text[i] !== separator) pos.push(i);
  const n = text.length;
  pos.sort((a, b) => {
    while (a < n && b < n) {
      if (text[a] !== text[b]) return text[a] - text[b];
      a++;
      b++;
    }
    return a === n ? -1 : 1;
  });
  return pos;
}

/**
 * The same order from mnemonist's DC3 suffix array over a string of char codes (< 0x100 each). Only for a
 * text whose separator occurs once, at its end (one document): mnemonist's padding misorders a suffix that
 * is a proper prefix of another at the end of the text, which a single trailing separator rules out.
 */
export function mnemonistSuffixSort(text: Tokens, separator: number): number[] {
  let s = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] > 0xff || (text[i] === separator && i !== text.length - 1)) throw new Error('mnemonistSuffixSort: one document of byte tokens only');
    s += String.fromCharCode(text[i]);
  }
  return new SuffixArray(s).array.filter((p) => text[p] !== separator);
}

/** Concatenates documents into a shard token stream, each followed by the separator. */
export function shardText(docs: Tokens[], separator: number): number[] {
  const out: number[] = [];
  for (const d of docs) {
    for (let i = 0; i < d.length; i++) out.push(d[i]);
    out.push(separator);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Corpora

/** Random tokens over [0, alphabet). */
export function randomTokens(r: () => number, length: number, alphabet: number, base = 0): number[] {
  return Array.from({ length }, () => base + randInt(r, 0, alphabet));
}

/** Adversarial documents for a vocabulary: one token repeated, periodic runs, long repeats, empty ones. */
export function adversarialDocs(r: () => number, vocab: number, scale = 1): number[][] {
  const hi = vocab - 1;
  const a = randInt(r, 0, vocab);
  const b = (a + 1) % vocab;
  const c = (a + 2) % vocab;
  const block = randomTokens(r, 37, Math.min(vocab, 5));
  const docs: number[][] = [
    [],
    new Array(300 * scale).fill(a),
    Array.from({ length: 257 * scale }, (_, i) => (i % 2 ? b : a)),
    Array.from({ length: 301 * scale }, (_, i) => [a, b, c][i % 3]),
    [],
    Array.from({ length: 6 * scale }, () => block).flat(),
    [hi, 0, hi, 0, hi],
    [a],
    [],
    new Array(50).fill(a).concat([b], new Array(50).fill(a)),
    [0, 0, 0],
    [hi, hi, hi, hi],
  ];
  return docs;
}

/** Random documents, some sharing long stretches (copied spans), over a small alphabet. */
export function randomDocs(r: () => number, n: number, maxLen: number, alphabet: number, base = 0): number[][] {
  const docs: number[][] = [];
  for (let i = 0; i < n; i++) {
    const len = r() < 0.1 ? 0 : randInt(r, 1, maxLen + 1);
    const d = randomTokens(r, len, alphabet, base);
    if (docs.length > 0 && len > 10 && r() < 0.4) {
      const src = pick(r, docs);
      if (src.length > 5) {
        const from = randInt(r, 0, src.length - 5);
        const span = src.slice(from, from + randInt(r, 5, Math.min(60, src.length - from) + 1));
        d.splice(randInt(r, 0, d.length), 0, ...span);
      }
    }
    docs.push(d);
  }
  return docs;
}

/** Real text: files under /usr/include (and /usr/share/doc), read now, at most `maxBytes` in all. */
export function realTexts(maxBytes: number, maxFiles = 40): Array<{ id: string; text: string }> {
  const out: Array<{ id: string; text: string }> = [];
  let total = 0;
  for (const root of ['/usr/include', '/usr/share/doc']) {
    let names: string[];
    try {
      names = fs.readdirSync(root).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      if (out.length >= maxFiles || total >= maxBytes) return out;
      const p = path.join(root, name);
      let st: fs.Stats;
      try {
        st = fs.statSync(p);
      } catch {
        continue;
      }
      if (!st.isFile() || st.size === 0 || st.size > 40_000 || total + st.size > maxBytes) continue;
      const text = fs.readFileSync(p, 'utf8');
      if (text.includes('\uFFFD')) continue;
      out.push({ id: p, text });
      total += Buffer.byteLength(text);
    }
  }
  return out;
}

/** Unicode text: multi-byte scripts, emoji (4-byte), combining marks, mixed with ASCII. */
export function unicodeTexts(r: () => number, n: number): string[] {
  const pieces = ['héllo', 'wörld', 'naïve', 'Ελληνικά', 'русский', '日本語のテキスト', '中文', '한국어', '😀', '👩‍💻', '𝔘𝔫𝔦', 'e\u0301', ' ', ' ', '.', 'abc', 'ß', '¡', '€'];
  return Array.from({ length: n }, () => Array.from({ length: randInt(r, 0, 40) }, () => pick(r, pieces)).join(''));
}

/** Random present patterns (substrings of documents) and random (mostly absent) ones, all lengths. */
export function patterns(r: () => number, docs: Tokens[], n: number, alphabet: number, base = 0): number[][] {
  const nonEmpty = docs.filter((d) => d.length > 0);
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    const kind = r();
    if (kind < 0.6 && nonEmpty.length > 0) {
      const d = pick(r, nonEmpty);
      const len = r() < 0.1 ? d.length : randInt(r, 1, Math.min(d.length, r() < 0.2 ? 400 : 12) + 1);
      const from = randInt(r, 0, d.length - len + 1);
      const p = Array.from(d).slice(from, from + len);
      if (r() < 0.2 && p.length > 1) p[randInt(r, 0, p.length)] = base + randInt(r, 0, alphabet); // near miss
      out.push(p);
    } else {
      out.push(randomTokens(r, randInt(r, 1, r() < 0.1 ? 200 : 8), alphabet, base));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Utilities

const scratchDirs: string[] = [];
/** A fresh scratch directory, removed when the test process exits (kept with TRACEINDEX_KEEP_TMP=1). */
export function tmpDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `traceindex-${prefix}-`));
  if (scratchDirs.length === 0 && !process.env.TRACEINDEX_KEEP_TMP)
    process.once('exit', () => { for (const d of scratchDirs) fs.rmSync(d, { recursive: true, force: true }); });
  scratchDirs.push(dir);
  return dir;
}

export const REPO = path.resolve(__dirname, '..', '..', '..');
export const CLI = path.join(REPO, 'dist', 'lib', 'cli', 'main.js');
export const LIB = path.join(REPO, 'dist', 'lib', 'index.js');

export function utf8(text: string): number[] {
  return Array.from(Buffer.from(text, 'utf8'));
}

/** Shard files' payload (after the 64-byte header) as numbers of the given element width. */
export function readPayload(file: string, width: 1 | 2 | 4 | 8): number[] {
  const b = fs.readFileSync(file).subarray(64);
  const out: number[] = [];
  for (let i = 0; i + width <= b.length; i += width)
    out.push(width === 1 ? b[i] : width === 2 ? b.readUInt16LE(i) : width === 4 ? b.readUInt32LE(i) : Number(b.readBigUInt64LE(i)));
  return out;
}
