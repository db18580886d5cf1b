/**
 * The CLI's provenance commands end to end, through child processes: trace, shield, scan (resumable),
 * contamination, calibrate, export-surprisal, checked against the brute-force oracles and the API.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildIndex, Index, openIndex } from '../lib/index';
import * as O from './helpers/oracle';
import { close, Corpus, isWordByte } from './helpers/trace-oracle';

const scratch = O.tmpDir('cli-trace');
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));

function cli(args: string[], input?: string) {
  const res = spawnSync(process.execPath, [O.CLI, ...args], { encoding: 'utf8', timeout: 60_000, input });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}
/** --json output of a command that succeeds (exit 0; `shield` exits 3 when it refuses, `refused` says so). */
function json(args: string[], input?: string) {
  const res = cli([...args, '--json'], input);
  if (res.status !== 0 && !(args[0] === 'shield' && res.status === 3)) throw new Error(`traceindex ${args.join(' ')} failed (${res.status}): ${res.stderr}`);
  const out = JSON.parse(res.stdout);
  if (args[0] === 'shield' && (res.status === 3) !== out.refuse) throw new Error(`shield exited ${res.status} with refuse ${out.refuse}`);
  return out;
}

const r0 = O.rng(4242);
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'río', 'naïve', '日本', 'x', 'of', 'the', 'and'];
const sentence = (r: () => number, n = O.randInt(r, 5, 40)) => Array.from({ length: n }, () => O.pick(r, WORDS)).join(' ') + '.';
const TEXTS = Array.from({ length: 70 }, () => sentence(r0));
const DOCS = TEXTS.map(O.utf8);
const corpus = new Corpus(DOCS);
const DIR = path.join(scratch, 'idx');
let idxP: Promise<Index> | undefined;
const index = () => (idxP ??= (async () => {
  await buildIndex({ inputs: TEXTS.map((text, i) => ({ text, id: `doc${i}` })), out: DIR, tokenizer: 'bytes', shardTokens: 2000 });
  return openIndex(DIR);
})());
test.after.always(async () => (await idxP)?.close());

/** Outputs mixing long corpus pieces and new words. */
function outputs(seed: number, n: number): string[] {
  const r = O.rng(seed);
  return Array.from({ length: n }, () => {
    const parts: string[] = [];
    for (let p = 0; p < O.randInt(r, 1, 4); p++) {
      const doc = O.pick(r, TEXTS);
      const at = O.randInt(r, 0, Math.max(1, doc.length - 30));
      parts.push(r() < 0.75 ? doc.slice(at, at + O.randInt(r, 5, 80)) : `zebra ${sentence(r, 3)} quokka`);
    }
    return parts.join(' ');
  });
}

const spanKeys = (spans: Array<{ start: number; end: number; count: number }>) => spans.map((s) => [s.start, s.end, s.count]);
const uncovered = <T extends { start: number; end: number }>(spans: T[]) => spans.filter((s) => !spans.some((x) => x !== s && x.start <= s.start && s.end <= x.end));

test('trace --json: spans equal the oracle (CLI defaults: min-length 12, word boundaries; and overridden)', async (t) => {
  const idx = await index();
  for (const [k, text] of outputs(1, 6).entries()) {
    const o = O.utf8(text);
    const bare = json(['trace', DIR, text, '--min-length', '1', '--no-word-boundaries', '--max-documents', '2']);
    t.deepEqual(bare.options, { minLength: 1, wordBoundaries: false, maxDocuments: 2, seed: 0 });
    t.is(bare.tokens, o.length);
    t.deepEqual(spanKeys(bare.spans), spanKeys(corpus.trace(o)), `bare trace of ${JSON.stringify(text)}`);
    for (const s of bare.spans) {
      t.true(close(s.bci, corpus.scores(o.slice(s.start, s.end)).bci));
      t.is(s.text, Buffer.from(o.slice(s.start, s.end)).toString('utf8'));
      t.is(s.documents.length, Math.min(2, s.count));
      for (const d of s.documents) t.true(corpus.occursAt(d.document, d.position.token, o.slice(s.start, s.end)));
    }
    // Defaults: at least 12 tokens, trimmed to whole words (covered spans aside: see trace.test.ts).
    const def = json(['trace', DIR, text]);
    t.deepEqual(def.options, { minLength: 12, wordBoundaries: true, maxDocuments: 3, seed: 0 });
    const api = await idx.trace(text, { minLength: 12, wordBoundaries: true, maxDocuments: 3 });
    t.deepEqual(spanKeys(def.spans), spanKeys(api.spans));
    t.deepEqual(spanKeys(uncovered(def.spans)), spanKeys(corpus.trace(o, { minLength: 12, isWord: isWordByte })));
    if (k === 0) {
      // stdin, --max-count, --delimiters, --log-base.
      const opt = json(['trace', DIR, '-', '--min-length', '2', '--no-word-boundaries', '--max-count', '3', '--delimiters', '.', '--log-base', '2'], text);
      t.deepEqual(spanKeys(opt.spans), spanKeys(corpus.trace(o, { minLength: 2, maxCount: 3, delimiters: [0x2e] })));
      for (const s of opt.spans) t.true(close(s.bci, corpus.scores(o.slice(s.start, s.end)).bci / Math.log(2)));
      const human = cli(['trace', DIR, text, '--min-length', '1', '--no-word-boundaries']);
      t.is(human.status, 0);
      t.regex(human.stdout, new RegExp(`^spans ≥ 1 tokens \\(bytes\\), ≤ ∞ occurrences, 3 documents each\n${bare.spans.length} span\\(s\\) in ${o.length} token\\(s\\)\n`));
    }
  }
  const bad = cli(['trace', DIR, 'abc', '--min-length=-3']);
  t.is(bad.status, 2, 'a malformed flag is a usage mistake');
  t.regex(bad.stderr, /--min-length must be a non-negative integer/);
});

test('shield --json: the refuse flag equals the naive decision, maximal and window mode; --tau is required', async (t) => {
  await index();
  const r = O.rng(2);
  for (const [k, text] of outputs(2, 6).entries()) {
    const o = O.utf8(text);
    const spans = corpus.trace(o);
    const bcis = spans.map((s) => corpus.scores(o.slice(s.start, s.end)).bci).sort((a, b) => a - b);
    const tau = bcis.length > 1 ? (bcis[bcis.length - 2] + bcis[bcis.length - 1]) / 2 - (k % 2) * 1e3 : 10;
    const got = json(['shield', DIR, text, `--tau=${tau}`, '--min-length', '1', '--no-word-boundaries']);
    t.is(got.refuse, bcis.some((x) => x > tau), `maximal tau ${tau}`);
    t.true(close(got.maxBci, bcis.length ? bcis[bcis.length - 1] : 0));
    t.deepEqual(spanKeys(got.spans), spanKeys(spans));
    const w = O.randInt(r, 2, 10);
    const wins = corpus.windows(o, w, 4).map((s) => corpus.scores(o.slice(s.start, s.end)).bci);
    const wt = wins.length ? wins[0] + 0.5 : 1;
    const gw = json(['shield', DIR, text, `--tau=${wt}`, '--window', String(w), '--max-count', '4']);
    t.deepEqual(spanKeys(gw.spans), spanKeys(corpus.windows(o, w, 4)), `windows of ${w}`);
    t.is(gw.refuse, wins.some((x) => x > wt));
    const human = cli(['shield', DIR, text, `--tau=${tau}`, '--min-length', '1', '--no-word-boundaries']);
    t.is(human.status, got.refuse ? 3 : 0, 'shield exits 3 when it refuses');
    t.regex(human.stdout, got.refuse ? /^spans ≥ 1 tokens \(bytes\), [^\n]*\nREFUSE/ : /^spans ≥ 1 tokens \(bytes\), [^\n]*\nallow/);
  }
  const missing = cli(['shield', DIR, 'alpha beta']);
  t.is(missing.status, 2);
  t.regex(missing.stderr, /--tau/);
});

interface Line { id: string; tokens: number; maxBci: number; spans: Array<{ start: number; end: number; count: number; bci: number }>; error?: { code: string } }

function scanInput(n: number): { file: string; texts: string[] } {
  const texts = outputs(3, n);
  const file = path.join(scratch, `outputs-${n}.jsonl`);
  fs.writeFileSync(file, texts.map((text, i) => JSON.stringify({ text, id: `o${i}` })).join('\n') + '\n');
  return { file, texts };
}

function checkScanFile(t: import('ava').ExecutionContext, out: string, texts: string[], what: string) {
  const lines = fs.readFileSync(out, 'utf8').split('\n').filter((l) => l.trim());
  const parsed: Line[] = [];
  for (const l of lines) {
    try {
      parsed.push(JSON.parse(l));
    } catch {
      t.fail(`${what}: a line of ${out} is not JSON: ${l.slice(0, 80)}…`);
    }
  }
  const ids = parsed.map((p) => p.id);
  t.is(new Set(ids).size, ids.length, `${what}: no duplicate ids`);
  t.deepEqual([...ids].sort(), texts.map((_, i) => `o${i}`).sort(), `${what}: every record once`);
  const byId = new Map(parsed.map((p) => [p.id, p]));
  for (let i = 0; i < texts.length; i += Math.ceil(texts.length / 20)) {
    const p = byId.get(`o${i}`);
    if (!p) continue;
    const o = O.utf8(texts[i]);
    t.deepEqual(spanKeys(p.spans), spanKeys(corpus.trace(o, { minLength: 4 })), `${what}: record o${i}`);
    t.is(p.tokens, o.length);
  }
}

test('scan --out writes JSONL in order; a re-run skips the ids already there (truncated after a whole line)', async (t) => {
  await index();
  const { file, texts } = scanInput(300);
  const out = path.join(scratch, 'scan-a.jsonl');
  const args = ['scan', DIR, file, '--out', out, '--min-length', '4', '--no-word-boundaries', '--quiet'];
  const first = cli(args);
  t.is(first.status, 0, first.stderr);
  const full = fs.readFileSync(out, 'utf8');
  t.deepEqual(full.trim().split('\n').map((l) => JSON.parse(l).id), texts.map((_, i) => `o${i}`), 'input order');
  checkScanFile(t, out, texts, 'complete scan');
  // Re-running changes nothing: every id is there.
  t.is(cli(args).status, 0);
  t.is(fs.readFileSync(out, 'utf8'), full);
  // Keep the first 123 lines, re-run: the union is complete, nothing twice.
  const keep = full.split('\n').slice(0, 123).join('\n') + '\n';
  fs.writeFileSync(out, keep);
  t.is(cli(args).status, 0);
  checkScanFile(t, out, texts, 'resumed scan');
  // Without --out, JSONL on stdout.
  const stdout = cli(['scan', DIR, file, '--min-length', '4', '--no-word-boundaries']);
  t.is(stdout.stdout, full);
});

// Regression (fixed; lib/cli-trace.ts runScan): resuming after a torn last line. runScan tolerates a torn line when it reads
// the ids already present ("that record is traced again"), but it then appends to the file as it is, without
// first ending the torn line: the first new record is written onto the end of the fragment, so that line is
// not JSON and the record is lost from the output (and the next resume traces it again onto a now-valid file).
// Input: a complete `scan --out` file cut in the middle of line 124; expected after a re-run: 300 JSON lines,
// each id once; actual: one line is `<fragment>{"id":"o123",...}`, unparseable.
test('scan --out resumes after a torn last line (a scan killed mid-write): every line is JSON, no record lost', async (t) => {
  await index();
  const { file, texts } = scanInput(300);
  const out = path.join(scratch, 'scan-b.jsonl');
  const args = ['scan', DIR, file, '--out', out, '--min-length', '4', '--no-word-boundaries', '--quiet'];
  t.is(cli(args).status, 0);
  const full = fs.readFileSync(out, 'utf8');
  const lines = full.split('\n');
  fs.writeFileSync(out, lines.slice(0, 123).join('\n') + '\n' + lines[123].slice(0, 40));
  t.is(cli(args).status, 0);
  checkScanFile(t, out, texts, 'resumed after a torn line');
});

test('scan --out never cuts or appends to a file it did not write: a non-result line, a foreign last line, an input, a directory', async (t) => {
  await index();
  const { file } = scanInput(20);
  const run = (out: string) => cli(['scan', DIR, file, '--out', out, '--min-length', '4', '--quiet']);
  const cases: Array<[string, string | Buffer, RegExp]> = [
    ['notes.txt', 'line one of my notes\nprecious last line without newline', /line 1 is not a scan result/],
    ['one-line.txt', 'a file with no newline at all', /its last line is not the start of a scan result/],
    // A result line, then a last line that is not a result's start; and invalid UTF-8 before a torn result.
    ['mixed.jsonl', '{"id":"o0","tokens":1,"maxBci":0,"spans":[]}\nnot a result', /its last line is not the start/],
    ['bad-utf8.jsonl', Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0x0a]), Buffer.from('{"id":"tor')]), /line 1 is not a scan result/],
  ];
  for (const [name, content, why] of cases) {
    const out = path.join(scratch, `foreign-${name}`);
    fs.writeFileSync(out, content);
    const r = run(out);
    t.is(r.status, 1, `${name}: ${r.stderr}`);
    t.regex(r.stderr, why, name);
    t.regex(r.stderr, /ERR_INVALID_ARGUMENT|scan appends only to its own results/, name);
    t.deepEqual(fs.readFileSync(out), Buffer.from(content), `${name} is untouched`);
  }
  // The input itself, and a directory.
  const input = path.join(scratch, 'foreign-input.jsonl');
  fs.copyFileSync(file, input);
  const before = fs.readFileSync(input);
  const self = cli(['scan', DIR, input, '--out', input, '--quiet']);
  t.is(self.status, 1, self.stderr);
  t.regex(self.stderr, /the same file as the input/);
  t.deepEqual(fs.readFileSync(input), before);
  const dir = fs.mkdtempSync(path.join(scratch, 'foreign-dir-'));
  const d = run(dir);
  t.is(d.status, 1, d.stderr);
  t.regex(d.stderr, /not a regular file/);
  // A torn result after whole results is still cut and resumed (the test above), and an empty file is fine.
  const empty = path.join(scratch, 'foreign-empty.jsonl');
  fs.writeFileSync(empty, '');
  t.is(run(empty).status, 0);
  t.is(fs.readFileSync(empty, 'utf8').trim().split('\n').length, 20);
});

test('scan --out killed midway, then re-run: the union is complete with no duplicates', async (t) => {
  await index();
  const { file, texts } = scanInput(3000);
  const out = path.join(scratch, 'scan-c.jsonl');
  const opts = ['--out', out, '--min-length', '4', '--no-word-boundaries', '--quiet'];
  // The first run reads its records from stdin, of which it gets only the first half: it is surely midway when
  // killed (SIGKILL: no cleanup) once some of its results are on disk.
  const child = spawn(process.execPath, [O.CLI, 'scan', DIR, '-', ...opts], { stdio: ['pipe', 'ignore', 'ignore'] });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  child.stdin.write(fs.readFileSync(file, 'utf8').split('\n').slice(0, 1500).join('\n') + '\n');
  const lineCount = () => (fs.existsSync(out) ? fs.readFileSync(out, 'utf8').split('\n').length - 1 : 0);
  for (let i = 0; i < 3000 && lineCount() < 500; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  child.kill('SIGKILL');
  await exited;
  const partial = fs.readFileSync(out, 'utf8');
  const complete = partial.split('\n').length - 1;
  t.true(complete >= 500 && complete <= 1500, `${complete} lines before the kill`);
  t.log(`killed after ${complete} line(s) (${partial.length} bytes${partial.endsWith('\n') ? '' : ', last line torn'})`);
  // A kill can tear the last line (see the regression test above): cut back to whole lines, as a user would.
  fs.writeFileSync(out, partial.slice(0, partial.lastIndexOf('\n') + 1));
  const rerun = cli(['scan', DIR, file, ...opts]);
  t.is(rerun.status, 0, rerun.stderr);
  checkScanFile(t, out, texts, 'killed and resumed');
});

test('contamination --json: the share equals a brute-force check of items having a span of at least --min-length', async (t) => {
  await index();
  const r = O.rng(5);
  const items = [...outputs(6, 40), ...Array.from({ length: 20 }, () => `zebra ${O.randInt(r, 0, 1e6)} quokka`)];
  const file = path.join(scratch, 'eval.jsonl');
  const lines = items.map((q, i) => JSON.stringify({ question: { text: q }, id: `e${i}` }));
  lines.splice(10, 0, 'not json');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  for (const minLength of [8, 25]) {
    for (const words of [false, true]) {
      const args = ['contamination', DIR, file, '--min-length', String(minLength), '--field', 'question.text', ...(words ? [] : ['--no-word-boundaries'])];
      const got = json(args);
      const want = items.map((q, i) => ({ id: `e${i}`, spans: corpus.trace(O.utf8(q), { minLength, isWord: words ? isWordByte : undefined }) })).filter((x) => x.spans.length > 0);
      t.is(got.items, items.length);
      t.is(got.errors.length, 1);
      t.is(got.errors[0].code, 'ERR_BAD_INPUT');
      t.is(got.minLength, minLength);
      t.is(got.contaminated, want.length, `min-length ${minLength}, words ${words}`);
      t.is(got.share, want.length / items.length);
      t.deepEqual(got.flagged.map((f: { id: string }) => f.id), want.map((w) => w.id));
      t.true(got.share > 0 && got.share < 1, `share ${got.share}`);
    }
  }
  t.is(cli(['contamination', DIR, file]).status, 2, '--min-length is required');
});

/** A NumPy .npy file parsed by hand: magic, version, header dict, little-endian float32 payload. */
function readNpy(file: string): { descr: string; fortran: boolean; shape: number[]; data: Float32Array } {
  const b = fs.readFileSync(file);
  if (b.subarray(0, 6).toString('latin1') !== '\x93NUMPY') throw new Error('not an .npy file');
  const major = b[6];
  const headerLen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = b.subarray(start, start + headerLen).toString('latin1');
  if ((start + headerLen) % 64 !== 0) throw new Error(`payload not 64-byte aligned (${start + headerLen})`);
  if (!header.endsWith('\n')) throw new Error('header does not end in a newline');
  const descr = /'descr':\s*'([^']+)'/.exec(header)![1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)![1] === 'True';
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)![1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const payload = b.subarray(start + headerLen);
  const data = new Float32Array(payload.length / 4);
  for (let i = 0; i < data.length; i++) data[i] = payload.readFloatLE(i * 4);
  return { descr, fortran, shape, data };
}

test('export-surprisal writes a float32 .npy equal to surprisalTable (natural log and --log-base)', async (t) => {
  const idx = await index();
  for (const logBase of [undefined, 2]) {
    const out = path.join(scratch, `surprisal-${logBase ?? 'e'}.npy`);
    const res = json(['export-surprisal', DIR, '--out', out, ...(logBase ? ['--log-base', String(logBase)] : [])]);
    t.deepEqual(res, { out, entries: idx.manifest.vocabSize });
    const npy = readNpy(out);
    t.is(npy.descr, '<f4');
    t.false(npy.fortran);
    t.deepEqual(npy.shape, [idx.manifest.vocabSize]);
    t.is(npy.data.length, idx.manifest.vocabSize);
    t.deepEqual(npy.data, Float32Array.from(idx.surprisalTableSync({ logBase })));
    for (let id = 0; id < npy.data.length; id++)
      t.true(close(npy.data[id], -Math.log(corpus.c(id) / corpus.N) / (logBase ? Math.log(logBase) : 1), 1e-6), `id ${id}`);
  }
  t.is(cli(['export-surprisal', DIR]).status, 2, '--out is required');
});

test('calibrate --json equals index.calibrate for the same options: monotone quantiles of real corpus spans', async (t) => {
  const idx = await index();
  const got = json(['calibrate', DIR, '--lengths', '4,12', '--samples', '150', '--seed', '9']);
  t.deepEqual(got, idx.calibrateSync({ lengths: [4, 12], samples: 150, seed: 9 }));
  t.deepEqual(json(['calibrate', DIR, '--lengths', '4,12', '--samples', '150', '--seed', '9']), got, 'deterministic');
  for (const c of got) {
    t.is(c.samples, 150);
    const q = c.quantiles;
    t.true(q.p50 <= q.p90 && q.p90 <= q.p95 && q.p95 <= q.p99 && q.p99 <= q.max);
    const bcis = DOCS.flatMap((d) => Array.from({ length: Math.max(0, d.length - c.length + 1) }, (_, i) => corpus.scores(d.slice(i, i + c.length), { count: 1 }).bci));
    for (const v of Object.values(q) as number[]) t.true(bcis.some((x) => close(x, v)), `quantile ${v} is a corpus span's BCI`);
  }
  const human = cli(['calibrate', DIR, '--lengths', '8', '--samples', '50']);
  t.regex(human.stdout, /^length 8: 50 spans, BCI p50/);
});

test('trace --html and scan --html write self-contained reports holding the traced spans', async (t) => {
  const idx = await index();
  const output = `${TEXTS[3]} ${TEXTS[17].slice(0, 30)} zzz ${TEXTS[40]}`;
  const report = path.join(scratch, 'trace.html');
  const traced = json(['trace', DIR, output, '--html', report]);
  const html = fs.readFileSync(report, 'utf8');
  t.true(html.startsWith('<!doctype html>') || html.startsWith('<!DOCTYPE html>'));
  t.false(/<(script|link|img)[^>]+(src|href)="?https?:/i.test(html), 'nothing is fetched from the network');
  t.true(traced.spans.length > 0);
  for (const s of traced.spans) t.true(html.includes(JSON.stringify(s.text).slice(1, -1).slice(0, 20)), `span ${s.text} is in the report`);
  // scan --html keeps the riskiest outputs; the JSONL goes to --out as before.
  const inputs = path.join(scratch, 'outputs-html.jsonl');
  fs.writeFileSync(inputs, [output, 'qqq nothing', TEXTS[9]].map((text, i) => JSON.stringify({ id: `o${i}`, text })).join('\n') + '\n');
  const scanReport = path.join(scratch, 'scan.html');
  const out = path.join(scratch, 'scan-html.jsonl');
  const r = cli(['scan', DIR, inputs, '--out', out, '--html', scanReport, '--quiet']);
  t.is(r.status, 0, r.stderr);
  t.is(fs.readFileSync(out, 'utf8').trim().split('\n').length, 3);
  const scanHtml = fs.readFileSync(scanReport, 'utf8');
  t.true(scanHtml.includes('"o0"') || scanHtml.includes('o0'));
  const api = (await idx.trace(output, { minLength: 12, wordBoundaries: true })).spans.length;
  t.is(traced.spans.length, api);
  // A report path that cannot be written (a directory) is ERR_IO naming it, as every file error of the CLI.
  const bad = cli(['trace', DIR, output, '--html', scratch]);
  t.is(bad.status, 1, bad.stderr);
  t.true(bad.stderr.includes('ERR_IO') && bad.stderr.includes(`cannot write ${scratch}: `) && bad.stderr.includes('(EISDIR)'), bad.stderr);
});
