/**
 * Tokenizer throughput in MB per CPU-second (the process's CPU time, so a busy shared machine slows the wall clock
 * but not the figure; wall-clock MB/s is reported next to it) on one core, for every named tokenizer on the same text: the native encoders
 * (one document per call, and batches of about 1 MB per call) against the JS tokenizers they replace (their
 * ids compared on the text they encode), and with --python the Python peers (tiktoken, Hugging Face
 * tokenizers: bench/python/tokenizers_peer.py) on the same documents in the same run, their ids compared too.
 *
 *   node dist/bench/tokenizers.js [--mb 4] [--js-mb 0.5] [--corpus prose|multilingual] [--only cl100k_base,llama-2]
 *                                 [--python [python3]] [--out bench/results/tokenizers-<corpus>.json]
 *
 * --only also takes json:llama-3, json:gpt2, json:o200k and json:llama-2: tokenizer.json files written from the packages'
 * data (test/helpers/tokenizer-json.ts), native against @huggingface/tokenizers (no Python peers).
 *
 * prose: the Markdown files under node_modules (English prose and code, sorted by path, repeated up to --mb);
 * multilingual: test/helpers/multilingual.ts's generated documents (many scripts, emoji, numbers, whitespace).
 *
 *   node dist/bench/tokenizers.js --long-word 20 [--rounds 2] [--only ...] [--out bench/results/tokenizers-long-word.json]
 *
 * instead measures one word of that many MB (no pre-tokenizer split: random a-z, the prose corpus's letters
 * alone, random CJK ideographs) against the same bytes cut into 2 KB documents (each still one word), native
 * encoders, MB per CPU-second; the ratio long / small is the figure (rounds alternate the two).
 * Vocabularies for the Python peers are written from the npm packages (nothing is downloaded).
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { markdownFiles } from './corpus';
import { peerVocabulary } from './peer-vocab';
import { loadTokenizer } from '../lib/tokenizers/named';
import type { TokenArray, Tokenizer } from '../lib/tokenizers/tokenizer';
import { multilingualDocument, rng } from '../test/helpers/multilingual';
import { TOKENIZER_JSONS, writeTokenizerJson } from '../test/helpers/tokenizer-json';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length && !argv[i + 1].startsWith('--') ? argv[i + 1] : fallback;
};
const MB = Number(arg('mb', '4'));
const JS_MB = Number(arg('js-mb', '0.5'));
const CORPUS = arg('corpus', 'prose');
const NAMES = arg('only', 'cl100k_base,o200k_base,llama-3,llama-2').split(',');
const PYTHON = argv.includes('--python') ? arg('python', 'python3') : null;
const LONG_WORD = Number(arg('long-word', '0'));
const ROUNDS = Number(arg('rounds', '2'));
const ROOT = path.resolve(__dirname, '..', '..');
const OUT = arg('out', path.join(ROOT, 'bench', 'results', LONG_WORD ? 'tokenizers-long-word.json' : `tokenizers-${CORPUS}.json`));

/** Documents of about 4 KB (cut at blank lines) until `mb` MB of UTF-8. */
function documents(): string[] {
  const limit = MB * 1e6;
  const docs: string[] = [];
  let bytes = 0;
  if (CORPUS === 'multilingual') {
    const r = rng(1);
    while (bytes < limit) { const d = multilingualDocument(r, 400); docs.push(d); bytes += Buffer.byteLength(d); }
    return docs;
  }
  const files = markdownFiles(path.join(ROOT, 'node_modules'));
  for (let round = 0; bytes < limit; round++) {
    for (const f of files) {
      let doc = '';
      for (const para of fs.readFileSync(f, 'utf8').split(/\n\n/)) {
        doc += para + '\n\n';
        if (doc.length >= 4096) { docs.push(doc); bytes += Buffer.byteLength(doc); doc = ''; }
        if (bytes >= limit) return docs;
      }
      if (doc) { docs.push(doc); bytes += Buffer.byteLength(doc); }
    }
  }
  return docs;
}

const idsHash = (arrays: ArrayLike<number>[]) => {
  const h = createHash('sha256');
  for (const a of arrays) h.update(Buffer.from(Uint32Array.from(a).buffer));
  return h.digest('hex').slice(0, 16);
};

// A full collection before each timed phase: the JS tokenizers' vocabularies make a heap of ~200 MB, and a
// major GC of it landing inside a 0.1 s phase (it did, in o200k_base's encodeBatch row: 17-20 MB/CPU-s against
// 49 with this) times V8, not the encoder.
v8.setFlagsFromString('--expose-gc');
const collect = vm.runInNewContext('gc') as () => void;
const gc = () => { collect(); collect(); };  // the second waits for the first's concurrent sweeping

interface Clock { wall: number; cpu: number }
const clock = () => { const c = process.cpuUsage(); return { wall: Number(process.hrtime.bigint()) / 1e9, cpu: (c.user + c.system) / 1e6 }; };
const since = (t0: Clock): Clock => { const t = clock(); return { wall: t.wall - t0.wall, cpu: t.cpu - t0.cpu }; };
function time<T>(f: () => T): [T, Clock] {
  gc();
  const t0 = clock();
  const r = f();
  return [r, since(t0)];
}

function batches(docs: string[]): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let n = 0;
  for (const d of docs) {
    cur.push(d);
    if ((n += d.length) >= 1 << 20) { out.push(cur); cur = []; n = 0; }
  }
  if (cur.length) out.push(cur);
  return out;
}

interface Row { tokenizer: string; engine: string; mb: number; cpuSeconds: number; wallSeconds: number; mbPerCpuSecond: number; mbPerWallSecond: number; tokens: number; idsEqual?: boolean }
const row = (tokenizer: string, engine: string, bytes: number, t: Clock, tokens: number, idsEqual?: boolean): Row =>
  ({ tokenizer, engine, mb: bytes / 1e6, cpuSeconds: t.cpu, wallSeconds: t.wall, mbPerCpuSecond: bytes / 1e6 / t.cpu, mbPerWallSecond: bytes / 1e6 / t.wall, tokens, idsEqual });

/** The --long-word texts: one word of LONG_WORD MB each (code units = bytes for the Latin ones). */
function longWords(): Record<string, string> {
  const r = rng(3);
  const bytes = Math.round(LONG_WORD * 1e6);
  const letters = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) letters[i] = 97 + Math.floor(r() * 26);
  let prose = '';
  for (const f of markdownFiles(path.join(ROOT, 'node_modules'))) {
    prose += fs.readFileSync(f, 'utf8').replace(/[^A-Za-z]+/g, '');
    if (prose.length >= bytes) break;
  }
  const cjk = Array.from({ length: Math.round(bytes / 3) }, () => String.fromCharCode(0x4e00 + Math.floor(r() * 0x5200))).join('');
  return { 'random a-z': letters.toString('latin1'), 'prose letters': prose.repeat(Math.ceil(bytes / prose.length)).slice(0, bytes), 'CJK ideographs': cjk };
}

interface LongRow { tokenizer: string; text: string; mb: number; round: number; smallMbPerCpuSecond: number; longMbPerCpuSecond: number; ratio: number; tokens: number }

async function longWordMain() {
  const words = longWords();
  const rows: LongRow[] = [];
  console.log(`one word of ${LONG_WORD} MB against the same bytes in 2 KB documents, native encoders, MB/cpu-s, ${ROUNDS} rounds`);
  for (const name of NAMES) {
    const native = await loadTokenizer(name, { implementation: 'native' });
    if (!native.native) throw new Error(`${name} does not encode natively: ${native.jsReason}`);
    for (const [text, word] of Object.entries(words)) {
      const mb = Buffer.byteLength(word) / 1e6;
      const small: string[] = [];
      for (let i = 0; i < word.length; i += 2048) small.push(word.slice(i, i + 2048));  // whole code points: all BMP
      for (let round = 1; round <= ROUNDS; round++) {
        const [, tSmall] = time(() => small.map((d) => native.encode(d)));
        const [longIds, tLong] = time(() => native.encode(word));
        const r: LongRow = { tokenizer: name, text, mb, round, smallMbPerCpuSecond: mb / tSmall.cpu, longMbPerCpuSecond: mb / tLong.cpu, ratio: tSmall.cpu / tLong.cpu, tokens: longIds.length };
        rows.push(r);
        console.log(`  ${name.padEnd(12)} ${text.padEnd(15)} 2 KB documents ${r.smallMbPerCpuSecond.toFixed(2).padStart(6)}  one word ${r.longMbPerCpuSecond.toFixed(2).padStart(6)}  ratio ${r.ratio.toFixed(2)}  (${longIds.length} tokens)`);
      }
    }
  }
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, JSON.stringify({ longWordMb: LONG_WORD, cpus: os.cpus().length, node: process.version, date: new Date().toISOString(), rows }, null, 2) + '\n');
  console.log(`wrote ${path.relative(process.cwd(), OUT)}`);
}

async function main() {
  if (LONG_WORD) return longWordMain();
  const docs = documents();
  const bytes = docs.reduce((n, d) => n + Buffer.byteLength(d), 0);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'traceindex-bench-tokenizers-'));
  const docsFile = path.join(work, 'docs.jsonl');
  fs.writeFileSync(docsFile, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
  console.log(`${CORPUS}: ${docs.length} documents, ${(bytes / 1e6).toFixed(2)} MB (JS tokenizers on the first ${JS_MB} MB)`);
  const rows: Row[] = [];
  const report = (r: Row) => {
    rows.push(r);
    console.log(`  ${r.tokenizer.padEnd(12)} ${r.engine.padEnd(38)} ${r.mbPerCpuSecond.toFixed(2).padStart(7)} MB/cpu-s ${r.mbPerWallSecond.toFixed(2).padStart(7)} MB/s wall  ${r.tokens} tokens${r.idsEqual === undefined ? '' : r.idsEqual ? '  ids equal' : '  IDS DIFFER'}`);
  };
  const jsDocs: string[] = [];
  for (let n = 0, i = 0; i < docs.length && n < JS_MB * 1e6; i++) { jsDocs.push(docs[i]); n += Buffer.byteLength(docs[i]); }
  const jsBytes = jsDocs.reduce((n, d) => n + Buffer.byteLength(d), 0);
  try {
    for (const name of NAMES) {
      const json = name.startsWith('json:') ? name.slice(5) as keyof typeof TOKENIZER_JSONS : null;
      const spec = json ? await writeTokenizerJson(work, json) : name;
      const native = await loadTokenizer(spec, { implementation: 'native' });
      const js = await loadTokenizer(spec, { implementation: 'js' });
      if (!native.native) throw new Error(`${name} does not encode natively: ${native.jsReason}`);
      native.encode('warm up'); js.encode('warm up');
      const [one, tOne] = time(() => docs.map((d) => native.encode(d)));
      const nativeHash = idsHash(one);
      const tokens = one.reduce((n, a) => n + a.length, 0);
      report(row(name, 'native, encode per document', bytes, tOne, tokens));
      const enc = (native as Required<Tokenizer>).encodeBatch;
      const parts = batches(docs);
      gc();
      const t0 = clock();
      const batched: TokenArray[] = [];
      for (const b of parts) batched.push(...(await enc(b, 1)));
      report(row(name, 'native, encodeBatch (~1 MB, 1 thread)', bytes, since(t0), tokens, idsHash(batched) === nativeHash));
      const [jsIds, tJs] = time(() => jsDocs.map((d) => js.encode(d)));
      report(row(name, 'JS tokenizer (today\'s)', jsBytes, tJs, jsIds.reduce((n, a) => n + a.length, 0), idsHash(jsIds) === idsHash(one.slice(0, jsDocs.length))));
      if (PYTHON && !json) {
        const vocab = await peerVocabulary(name, work);
        const py = spawnSync(PYTHON, [path.join(ROOT, 'bench', 'python', 'tokenizers_peer.py'), '--vocab', vocab, '--docs', docsFile], { encoding: 'utf8', maxBuffer: 1 << 24 });
        if (py.status !== 0) { console.log(`  ${name}: Python peers failed: ${py.stderr.trim().split('\n').pop()}`); continue; }
        for (const line of py.stdout.trim().split('\n')) {
          const r = JSON.parse(line) as { engine: string; cpu?: number; wall?: number; tokens?: number; hash?: string; skipped?: string };
          if (r.skipped) { console.log(`  ${name.padEnd(12)} ${r.engine.padEnd(38)} skipped: ${r.skipped}`); continue; }
          report(row(name, r.engine, bytes, { cpu: r.cpu!, wall: r.wall! }, r.tokens!, r.hash === nativeHash));
        }
      }
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, JSON.stringify({ corpus: CORPUS, documents: docs.length, mb: bytes / 1e6, jsMb: jsBytes / 1e6, cpus: os.cpus().length, node: process.version, date: new Date().toISOString(), rows }, null, 2) + '\n');
  console.log(`wrote ${path.relative(process.cwd(), OUT)}`);
}

main().catch((err) => { console.error(err); process.exit(1); });
