/**
 * The infini-gram format reader against indexes written by infini-gram's own indexer (bench/python/ig_index.py,
 * run in a child process): counts, locates, longest matches, next tokens, traces and match states equal those of
 * traceindex's own index of the same documents. Skipped, saying why, when the infini_gram package is absent
 * (pip install -r bench/python/requirements.txt; TRACEINDEX_PYTHON selects the interpreter).
 */
import test, { ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildIndex, Index, openIndex } from '../lib/index';
import type { DocumentRecord } from '../lib/index';
import * as O from './helpers/oracle';

const root = path.resolve(__dirname, '..', '..');
const IG_INDEX = path.join(root, 'bench', 'python', 'ig_index.py');
const scratch = O.tmpDir('infinigram');
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** A Python with infini_gram importable, or why there is none. */
function findPython(): { python?: string; why: string } {
  const candidates = process.env.TRACEINDEX_PYTHON ? [process.env.TRACEINDEX_PYTHON]
    : ['/tmp/pyb/bin/python', path.join(root, '.venv', 'bin', 'python'), 'python3'];
  const tried: string[] = [];
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import infini_gram, numpy'], { encoding: 'utf8' });
    if (r.status === 0) return { python: py, why: '' };
    tried.push(`${py}: ${r.error ? r.error.message : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`)}`);
  }
  return { why: `no Python with the infini_gram package (pip install -r bench/python/requirements.txt, or set TRACEINDEX_PYTHON); tried ${tried.join('; ')}` };
}
const { python, why } = findPython();

/** Runs infini-gram's indexer (its `python -m infini_gram.indexing`, through bench/python/ig_index.py). */
function runIndexer(args: string[]): void {
  const save = args[args.indexOf('--save_dir') + 1];
  const cmd = `exec "$0" "$@" --temp_dir "${save}.tmp" --cpus 1 --mem 1 --ulimit "$(ulimit -Hn)"`;
  const r = spawnSync('sh', ['-c', cmd, python as string, IG_INDEX, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`infini-gram indexer failed (${r.status}): ${r.stderr.slice(-2000)}`);
  fs.rmSync(`${save}.tmp`, { recursive: true, force: true });
}

// ---- corpora -----------------------------------------------------------------------------------------

function textCorpus(seed: number, documents: number): DocumentRecord[] {
  const r = O.rng(seed);
  const letters = 'abcdefghij';
  const words = Array.from({ length: 300 }, (_, i) => {
    let w = '';
    const len = 1 + Math.floor(r() * 6);
    for (let k = 0; k < len; k++) w += letters[Math.floor(r() * letters.length)];
    return i % 37 === 5 ? w + 'é' : i % 53 === 7 ? w + '→' : w;
  });
  const docs: DocumentRecord[] = [];
  for (let d = 0; d < documents; d++) {
    const n = 1 + Math.floor(r() * 120);
    const parts: string[] = [];
    for (let k = 0; k < n; k++) parts.push(words[Math.floor(words.length * r() ** 3)]);
    docs.push({ id: `doc-${d}`, text: parts.join(r() < 0.5 ? ' ' : '. ') });
  }
  return docs;
}

/** u16 ids whose byte order differs from their value order (0x0100 sorts before 0x0001 in infini-gram's table). */
const TRICKY = [0x0001, 0x0100, 0x00ff, 0xff00, 0x0002, 0x0200, 0xfffe, 0x0101, 7, 0x1234, 0x3412];

function idCorpus(seed: number, documents: number): number[][] {
  const r = O.rng(seed);
  return Array.from({ length: documents }, () => {
    const n = 1 + Math.floor(r() * 200);
    const doc: number[] = [];
    while (doc.length < n) {
      if (doc.length > 8 && r() < 0.2) { const a = Math.floor(r() * (doc.length - 8)); doc.push(...doc.slice(a, a + 1 + Math.floor(r() * 8))); }
      else doc.push(TRICKY[Math.floor(TRICKY.length * r() ** 2)]);
    }
    return doc.slice(0, n);
  });
}

// ---- comparisons ---------------------------------------------------------------------------------------

function patternsFrom(docs: ArrayLike<number>[], count: number, seed: number, alphabet: number[]): number[][] {
  const r = O.rng(seed);
  const out: number[][] = [];
  while (out.length < count) {
    const d = docs[Math.floor(r() * docs.length)];
    if (r() < 0.75 && d.length > 0) {
      const a = Math.floor(r() * d.length);
      const len = 1 + Math.floor(r() * Math.min(24, d.length - a));
      const p = Array.from(d).slice(a, a + len);
      if (r() < 0.2) p[Math.floor(r() * p.length)] = alphabet[Math.floor(r() * alphabet.length)];
      out.push(p);
    } else {
      out.push(Array.from({ length: 1 + Math.floor(r() * 4) }, () => alphabet[Math.floor(r() * alphabet.length)]));
    }
  }
  return out;
}

/** Every query kind agrees; `idOf` maps an infini-gram occurrence to the id our index gives that document. */
async function compare(t: ExecutionContext, ig: Index, own: Index, docs: ArrayLike<number>[], alphabet: number[],
  idOf: (o: { id: string; metadata: Record<string, unknown> | undefined; document: number }) => string): Promise<void> {
  t.is(ig.info.documents, own.info.documents);
  t.is(ig.info.tokens, own.info.tokens);
  const patterns = patternsFrom(docs, 600, 7, alphabet);
  const a = await ig.countBatch(patterns);
  const b = await own.countBatch(patterns);
  let mismatches = 0;
  let nonzero = 0;
  for (let i = 0; i < patterns.length; i++) {
    if (a[i] !== b[i]) mismatches++;
    if (a[i] > 0) nonzero++;
  }
  t.is(mismatches, 0, 'counts differ');
  t.true(nonzero > 300, `only ${nonzero} patterns occur`);
  t.deepEqual(Array.from(ig.unigramCounts().subarray(0, own.info.vocabSize)), Array.from(own.unigramCounts()));

  const la = await ig.longestMatchBatch(patterns.slice(0, 200));
  const lb = await own.longestMatchBatch(patterns.slice(0, 200));
  t.deepEqual(la.map((m) => [m.length, m.count]), lb.map((m) => [m.length, m.count]));
  const na = await ig.nextTokensBatch(patterns.slice(0, 200));
  const nb = await own.nextTokensBatch(patterns.slice(0, 200));
  t.deepEqual(na.map((n) => [n.suffixLength, n.total, Array.from(n.tokens), Array.from(n.counts)]),
    nb.map((n) => [n.suffixLength, n.total, Array.from(n.tokens), Array.from(n.counts)]));

  // Locate: the same set of (document id, offset), whatever the document numbering.
  for (const p of patterns.slice(0, 80)) {
    const ra = await ig.locate(p, { limit: 10_000, context: 2 });
    const rb = await own.locate(p, { limit: 10_000, context: 2 });
    t.is(ra.total, rb.total);
    const key = (id: string, o: { position: { token: number }; snippet: { tokens: Uint32Array } }) =>
      `${id}@${o.position.token}:${Array.from(o.snippet.tokens).join(',')}`;
    t.deepEqual(ra.occurrences.map((o) => key(idOf(o), o)).sort(), rb.occurrences.map((o) => key(o.id, o)).sort());
  }

  // Trace: the same spans with the same counts and scores, outputs made of corpus pieces.
  const r = O.rng(11);
  const outputs = Array.from({ length: 40 }, () => {
    const parts = patternsFrom(docs, 1 + Math.floor(r() * 4), Math.floor(r() * 1e9), alphabet);
    return parts.flat();
  });
  const ta = await ig.traceBatch(outputs, { minLength: 1 });
  const tb = await own.traceBatch(outputs, { minLength: 1 });
  const spans = (x: typeof ta) => x.map((res) => res.spans.map((s) => [s.start, s.end, s.count, s.bci.toFixed(9)]));
  t.deepEqual(spans(ta), spans(tb));
  t.true(ta.some((x) => x.spans.length > 0));

  // Match state: the same longest suffix after every token.
  const ma = ig.matchState();
  const mb = own.matchState();
  for (const tok of outputs.slice(0, 10).flat()) {
    const x = ma.push(tok);
    const y = mb.push(tok);
    t.is(x.length, y.length);
    t.is(x.count, y.count);
  }

  // Documents: the same tokens under the mapped id.
  for (let n = 0; n < Math.min(20, ig.info.documents); n++) {
    const d = await ig.document(n);
    const mine = await own.document(idOf(d));
    t.deepEqual(Array.from(d.tokens), Array.from(mine.tokens));
  }
  t.like(await ig.verify(), { shards: ig.info.shards.length });
}

// ---- tests -------------------------------------------------------------------------------------------

if (!python) {
  // Reported as skipped, never as passed: the peer this test checks against is missing.
  test.skip(`infini-gram format reader against infini-gram's own indexer: ${why}`, () => {});
} else {
  test('u8 index written by infini-gram (2 shards, metadata) answers like our own index of the same documents', async (t) => {
    const docs = textCorpus(1, 160);
    const data = path.join(scratch, 'u8-data');
    fs.mkdirSync(data, { recursive: true });
    fs.writeFileSync(path.join(data, 'docs.jsonl'), docs.map((d) => JSON.stringify({ id: d.id, text: d.text })).join('\n') + '\n');
    const igDir = path.join(scratch, 'u8-ig');
    runIndexer(['--data_dir', data, '--save_dir', igDir, '--token_dtype', 'u8', '--add_metadata', '--shards', '2']);
    t.true(fs.existsSync(path.join(igDir, 'table.1')));
    const ownDir = path.join(scratch, 'u8-own');
    await buildIndex({ inputs: docs, out: ownDir });
    const own = await openIndex(ownDir);
    // Auto-detected (no manifest.json, tokenized.N files), width inferred; text through the bytes tokenizer.
    const ig = await openIndex(igDir, { tokenizer: 'bytes' });
    t.is(ig.format, 'infini-gram');
    t.is(ig.info.tokenWidth, 1);
    t.is(ig.info.shards.length, 2);
    const first = await ig.document(0);
    t.is(first.id, 'docs.jsonl:0');
    t.like(first.metadata, { path: 'docs.jsonl', linenum: 0, metadata: { id: 'doc-0' } });
    t.is(first.text, docs[0].text);
    t.is((await ig.document('docs.jsonl:1')).text, docs[1].text);  // shard 1 holds the odd lines
    const bytes = docs.map((d) => Buffer.from(d.text as string, 'utf8'));
    const alphabet = Array.from(new Set(bytes.flatMap((b) => Array.from(b))));
    await compare(t, ig, own, bytes, alphabet, (o) => (o.metadata as { metadata: { id: string } }).metadata.id);
    // Text queries work too.
    const word = (docs[3].text as string).split(' ')[0];
    t.is(await ig.count(word), await own.count(word));
    // The explicit form opens the same index.
    const explicit = await openIndex(igDir, { format: 'infini-gram', tokenWidth: 1 });
    t.is(explicit.tokenizer.name, 'pretokenized');
    t.is(explicit.countSync(Array.from(bytes[5].subarray(0, 3))), own.countSync(Array.from(bytes[5].subarray(0, 3))));
    explicit.close();
    ig.close();
    own.close();
  });

  test('u16 index whose table infini-gram sorted (byte order differs from id order) answers like our own', async (t) => {
    const docs = idCorpus(2, 120);
    const igDir = path.join(scratch, 'u16-ig');
    fs.mkdirSync(igDir, { recursive: true });
    // infini-gram's indexer tokenizes u16 only with a Hugging Face tokenizer: write its tokenized/offset files
    // here (separator before each document, little-endian ids), and let its indexer build the table (it skips
    // tokenizing when they exist).
    const stream: number[] = [];
    const offsets = Buffer.alloc(8 * docs.length);
    docs.forEach((d, i) => {
      offsets.writeBigUInt64LE(BigInt(2 * stream.length), 8 * i);
      stream.push(0xffff, ...d);
    });
    fs.writeFileSync(path.join(igDir, 'tokenized.0'), Buffer.from(Uint16Array.from(stream).buffer));
    fs.writeFileSync(path.join(igDir, 'offset.0'), offsets);
    runIndexer(['--data_dir', igDir, '--save_dir', igDir, '--token_dtype', 'u16']);
    t.true(fs.existsSync(path.join(igDir, 'table.0')));
    const ownDir = path.join(scratch, 'u16-own');
    await buildIndex({ inputs: docs.map((d, i) => ({ id: String(i), tokens: d })), out: ownDir, tokenizer: { name: 'ids', vocabSize: 0xffff } });
    const own = await openIndex(ownDir);
    const ig = await openIndex(igDir);  // width inferred (2)
    t.is(ig.info.tokenWidth, 2);
    t.is(ig.info.vocabSize, 0xffff);
    t.is((await ig.document(3)).id, '3');
    await compare(t, ig, own, docs, TRICKY, (o) => o.id);
    // 0x0100 0x0001 and 0x0001 0x0100: equal counts in both orders.
    t.is(await ig.count([0x0100, 0x0001]), await own.count([0x0100, 0x0001]));
    ig.close();
    own.close();
  });

  test('infini-gram files that do not fit together are refused with ERR_INDEX_CORRUPT', async (t) => {
    const igDir = path.join(scratch, 'bad-ig');
    fs.mkdirSync(igDir, { recursive: true });
    fs.writeFileSync(path.join(igDir, 'tokenized.0'), Buffer.from([0xff, 1, 2, 0xff, 3]));
    fs.writeFileSync(path.join(igDir, 'offset.0'), Buffer.from(new BigUint64Array([0n, 3n]).buffer));
    runIndexer(['--data_dir', igDir, '--save_dir', igDir, '--token_dtype', 'u8']);
    const ok = await openIndex(igDir, { format: 'infini-gram', tokenWidth: 1 });
    t.is(ok.countSync([1, 2]), 1);
    t.is(ok.countSync([2, 3]), 0);
    ok.close();
    const table = path.join(igDir, 'table.0');
    fs.truncateSync(table, fs.statSync(table).size - 1);
    const err = await t.throwsAsync(openIndex(igDir, { tokenWidth: 1 }));
    t.is((err as { code?: string }).code, 'ERR_INDEX_CORRUPT');
    t.regex(err!.message, /table/);
  });
}
