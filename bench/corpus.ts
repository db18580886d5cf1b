/**
 * Benchmark corpora: generated Zipfian text (deterministic for a seed, cached in the temp directory) or a
 * given file, streamed as documents. Shared by every benchmark so they measure the same data.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DocumentRecord } from '../lib/index';

/** Documents are cut at the first newline after this many bytes. */
export const DOC_BYTES = 1 << 16;

/** sfc32: small, fast, seedable; the corpus and the query sample depend only on the seed. */
export function prng(seed: number): () => number {
  let a = 0x9e3779b9, b = 0x243f6a88, c = 0xb7e15162, d = seed >>> 0;
  const next = (): number => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    const t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    const r = (t + d) | 0;
    c = (c + r) | 0;
    return (r >>> 0) / 4294967296;
  };
  for (let i = 0; i < 16; i++) next();
  return next;
}

export interface Corpus {
  path: string;
  bytes: number;
  description: string;
  label: string;
}

/**
 * Zipf(s = 1) over 50,000 random lowercase words, separated by spaces, '.' and newlines: frequent words and
 * phrases repeat as in natural text. Written once per (size, seed) to os.tmpdir(), via a temporary name.
 */
export function generateCorpus(mb: number, seed: number): Corpus {
  const bytes = Math.round(mb * 1e6);
  const file = path.join(os.tmpdir(), `traceindex-bench-zipf-${mb}mb-seed${seed}.txt`);
  const description = `generated: Zipf(s=1) over 50,000 random words, seed ${seed}`;
  const corpus = { path: file, bytes, description, label: `zipf-${mb}mb` };
  if (fs.existsSync(file) && fs.statSync(file).size === bytes) return corpus;
  const rand = prng(seed);
  const words: Buffer[] = [];
  for (let i = 0; i < 50000; i++) {
    const w = Buffer.alloc(2 + Math.floor(rand() * 9));
    for (let j = 0; j < w.length; j++) w[j] = 97 + Math.floor(rand() * 26);
    words.push(w);
  }
  const cdf = new Float64Array(words.length);
  let sum = 0;
  for (let i = 0; i < words.length; i++) cdf[i] = sum += 1 / (i + 1);
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  const chunk = Buffer.alloc(1 << 22);
  let used = 0, written = 0;
  while (written < bytes) {
    const u = rand() * sum;
    let lo = 0, hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] < u) lo = mid + 1; else hi = mid;
    }
    const w = words[lo];
    if (used + w.length + 1 > chunk.length) {
      const n = Math.min(used, bytes - written);
      fs.writeSync(fd, chunk, 0, n);
      written += n;
      used = 0;
    }
    w.copy(chunk, used);
    used += w.length;
    const r = Math.floor(rand() * 12);
    chunk[used++] = r === 0 ? 10 : r === 1 ? 46 : 32;
    if (written + used >= bytes) {
      fs.writeSync(fd, chunk, 0, bytes - written);
      written = bytes;
    }
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
  return corpus;
}

/** The Markdown files under `dir`, sorted by path (English prose and code shipped with the dependencies). */
export function markdownFiles(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) markdownFiles(p, out);
    else if (e.isFile() && e.name.endsWith('.md')) out.push(p);
  }
  return out;
}

/**
 * English-like prose as JSONL (one {"text", "id"} object per line, documents of 2-32 KB): a random walk over
 * the word bigrams of the Markdown under node_modules, so a BPE tokenizer meets real words, punctuation and
 * code at natural rates, in any amount, with nothing downloaded. Deterministic for (size, seed); cached in
 * os.tmpdir() like generateCorpus.
 */
export function generateProse(mb: number, seed: number): Corpus {
  const bytes = Math.round(mb * 1e6);
  const file = path.join(os.tmpdir(), `traceindex-bench-prose-${mb}mb-seed${seed}.jsonl`);
  const description = `generated: word-bigram walk over the Markdown under node_modules, JSONL, seed ${seed}`;
  const corpus = { path: file, bytes, description, label: `prose-${mb}mb` };
  if (fs.existsSync(file) && fs.statSync(file).size >= bytes) return { ...corpus, bytes: fs.statSync(file).size };
  const ids = new Map<string, number>();
  const words: string[] = [];
  const seq: number[] = [];
  for (const f of markdownFiles(path.join(__dirname, '..', '..', 'node_modules'))) {
    for (const w of fs.readFileSync(f, 'utf8').split(/\s+/)) {
      if (!w) continue;
      let id = ids.get(w);
      if (id === undefined) { id = words.length; ids.set(w, id); words.push(w); }
      seq.push(id);
    }
  }
  // Successors of each word as one flat array (CSR): next[start[w] .. start[w + 1]).
  const start = new Int32Array(words.length + 1);
  for (let i = 0; i + 1 < seq.length; i++) start[seq[i] + 1]++;
  for (let w = 0; w < words.length; w++) start[w + 1] += start[w];
  const fill = start.slice(0, words.length);
  const next = new Int32Array(Math.max(seq.length - 1, 1));
  for (let i = 0; i + 1 < seq.length; i++) next[fill[seq[i]]++] = seq[i + 1];
  const rand = prng(seed);
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  let written = 0;
  let w = seq[0];
  for (let n = 0; written < bytes; n++) {
    const target = 2000 + Math.floor(rand() * 30000);
    const parts: string[] = [];
    let len = 0, para = 40 + Math.floor(rand() * 80);
    while (len < target) {
      const deg = start[w + 1] - start[w];
      w = deg > 0 ? next[start[w] + Math.floor(rand() * deg)] : seq[Math.floor(rand() * seq.length)];
      const sep = --para === 0 ? '\n\n' : ' ';
      if (para === 0) para = 40 + Math.floor(rand() * 80);
      parts.push(words[w], sep);
      len += words[w].length + sep.length;
    }
    const line = Buffer.from(JSON.stringify({ text: parts.join('').trimEnd(), id: `prose${n}` }) + '\n');
    fs.writeSync(fd, line);
    written += line.length;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
  return { ...corpus, bytes: written };
}

export function fileCorpus(file: string): Corpus {
  const bytes = fs.statSync(file).size;
  return { path: file, bytes, description: `file ${file}`, label: path.basename(file).replace(/\.[^.]*$/, '') };
}

/**
 * The corpus as documents: cut at the first newline after DOC_BYTES bytes (or, with no newline, at a UTF-8
 * character boundary after 4 * DOC_BYTES), streamed so memory does not grow with the corpus.
 */
export async function* corpusDocuments(file: string): AsyncGenerator<DocumentRecord> {
  let pending: Buffer = Buffer.alloc(0);
  let n = 0;
  const cut = (final: boolean): Buffer | undefined => {
    if (pending.length === 0) return undefined;
    let end = pending.indexOf(10, DOC_BYTES);
    if (end !== -1) end += 1;
    else if (pending.length >= 4 * DOC_BYTES) {
      end = 4 * DOC_BYTES;
      while (end > 0 && (pending[end] & 0xc0) === 0x80) end--;  // never split a UTF-8 sequence
    } else if (final) end = pending.length;
    else return undefined;
    const doc = pending.subarray(0, end);
    pending = pending.subarray(end);
    return doc;
  };
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
    pending = pending.length ? Buffer.concat([pending, chunk as Buffer]) : chunk as Buffer;
    for (let d = cut(false); d; d = cut(false)) yield { text: d.toString('utf8'), id: `doc${n++}` };
  }
  for (let d = cut(true); d; d = cut(true)) yield { text: d.toString('utf8'), id: `doc${n++}` };
}

/** Drops the index's files from the page cache (python3's os.posix_fadvise; no root needed). */
export function evict(dir: string): boolean {
  const files: string[] = [];
  for (const s of fs.readdirSync(dir)) {
    const p = path.join(dir, s);
    if (fs.statSync(p).isDirectory()) for (const f of fs.readdirSync(p)) files.push(path.join(p, f));
  }
  const py = 'import os,sys\nfor f in sys.argv[1:]:\n fd=os.open(f,os.O_RDONLY); os.fsync(fd); os.posix_fadvise(fd,0,0,os.POSIX_FADV_DONTNEED); os.close(fd)';
  return spawnSync('python3', ['-c', py, ...files]).status === 0;
}

/** Random present queries of 2-20 tokens sampled from documents. */
export function sampleQueries(docs: Uint32Array[], n: number, seed: number): Uint32Array[] {
  const rand = prng(seed);
  const out: Uint32Array[] = [];
  while (out.length < n) {
    const d = docs[Math.floor(rand() * docs.length)];
    const len = 2 + Math.floor(rand() * 19);
    if (d.length <= len) continue;
    const at = Math.floor(rand() * (d.length - len));
    out.push(d.slice(at, at + len));
  }
  return out;
}
