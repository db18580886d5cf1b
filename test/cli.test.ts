/**
 * The CLI end to end, through child processes: outputs checked against the brute-force oracle.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as O from './helpers/oracle';

const scratch = O.tmpDir('cli');
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));

function cli(...args: string[]) {
  const res = spawnSync(process.execPath, [O.CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}
function json(...args: string[]) {
  const res = cli(...args, '--json');
  if (res.status !== 0) throw new Error(`traceindex ${args.join(' ')} failed (${res.status}): ${res.stderr}`);
  return JSON.parse(res.stdout);
}

const r = O.rng(31337);
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'río', 'naïve', '日本', 'x'];
const sentence = () => Array.from({ length: O.randInt(r, 3, 40) }, () => O.pick(r, WORDS)).join(' ');

// Inputs of every kind: .txt files, .jsonl, .jsonl.gz (with a bad line, skipped with --skip-bad-lines).
const inputDir = path.join(scratch, 'in');
fs.mkdirSync(inputDir);
const txt = [sentence(), sentence() + '\n' + sentence()];
txt.forEach((s, i) => fs.writeFileSync(path.join(inputDir, `t${i}.txt`), s));
const jl = Array.from({ length: 30 }, (_, i) => ({ text: sentence(), id: `j${i}`, source: 'jsonl', n: i }));
fs.writeFileSync(path.join(inputDir, 'a.jsonl'), jl.map((x) => JSON.stringify(x)).join('\n') + '\n');
const gz = Array.from({ length: 20 }, (_, i) => ({ text: sentence(), id: `g${i}` }));
const gzLines = gz.map((x) => JSON.stringify(x));
gzLines.splice(5, 0, '{"text": not json');
gzLines.splice(12, 0, '{"no_text": 1}');
fs.writeFileSync(path.join(inputDir, 'b.jsonl.gz'), zlib.gzipSync(gzLines.join('\n') + '\n'));
// resolveInputs sorts paths: a.jsonl, b.jsonl.gz, t0.txt, t1.txt
const TEXTS = [...jl.map((x) => x.text), ...gz.map((x) => x.text), ...txt];
const DOCS = TEXTS.map(O.utf8);
const IDS = [...jl.map((x) => x.id), ...gz.map((x) => x.id), 't0.txt', 't1.txt'];
const OUT = path.join(scratch, 'idx');

let builtOnce: { status: number | null; stdout: string; stderr: string } | undefined;
function buildAll() {
  builtOnce ??= cli('build', inputDir, '--out', OUT, '--skip-bad-lines', '--shard-tokens', '1500');
  return builtOnce;
}

test('build from txt, jsonl and jsonl.gz with --skip-bad-lines reports the skipped lines', (t) => {
  const b = buildAll();
  t.is(b.status, 0, b.stderr);
  t.regex(b.stderr, /skipped 2 bad line\(s\)/);
  t.true(b.stderr.includes('b.jsonl.gz:6'), b.stderr);
  const j = json('build', inputDir, '--out', path.join(scratch, 'idx-json'), '--skip-bad-lines');
  t.is(j.documents, DOCS.length);
  t.is(j.tokens, O.totalTokens(DOCS));
  t.is(j.skipped, 2);
  const bad = cli('build', inputDir, '--out', path.join(scratch, 'idx-strict'));
  t.is(bad.status, 1);
  t.regex(bad.stderr, /ERR_BAD_INPUT/);
  t.true(bad.stderr.includes('b.jsonl.gz:6'));
  t.false(fs.existsSync(path.join(scratch, 'idx-strict')));
});

test('info --json describes the index', (t) => {
  t.is(buildAll().status, 0);
  const info = json('info', OUT);
  t.is(info.documents, DOCS.length);
  t.is(info.tokens, O.totalTokens(DOCS));
  t.is(info.tokenWidth, 1);
  t.is(info.tokenizer.name, 'bytes');
  t.true(info.shards.length >= 3);
  t.is(info.shards.reduce((s: number, x: { documents: number }) => s + x.documents, 0), DOCS.length);
  t.regex(cli('info', OUT).stdout, /documents\s+/);
});

test('count --json prints exactly {"count":N} with N from the oracle, for text and --tokens', (t) => {
  t.is(buildAll().status, 0);
  const queries = ['alpha', 'beta gamma', 'río naïve', '日本 x', 'x x x', 'zeta', 'a', TEXTS[3].slice(2, 30)];
  for (const q of queries) {
    const res = cli('count', OUT, q, '--json');
    t.is(res.status, 0, res.stderr);
    t.is(res.stdout, `{"count":${O.count(DOCS, O.utf8(q))}}\n`);
  }
  t.is(cli('count', OUT, 'beta').stdout.trim(), String(O.count(DOCS, O.utf8('beta'))));
  const ids = O.utf8('gamma');
  t.is(cli('count', OUT, '--tokens', ids.join(','), '--json').stdout, `{"count":${O.count(DOCS, ids)}}\n`);
  // Several positional words are joined with spaces.
  t.is(cli('count', OUT, 'alpha', 'beta', '--json').stdout, `{"count":${O.count(DOCS, O.utf8('alpha beta'))}}\n`);
});

test('locate --json pages through exact occurrences with ids, metadata and byte positions', (t) => {
  t.is(buildAll().status, 0);
  const q = 'gamma';
  const occ = O.occurrences(DOCS, O.utf8(q));
  const res = json('locate', OUT, q, '--limit', '4', '--offset', '2', '--context', '3');
  t.is(res.total, occ.length);
  const page = occ.slice(2, 6);
  t.deepEqual(res.occurrences.map((o: { document: number; position: { token: number; byte: number } }) => [o.document, o.position.token, o.position.byte]),
    page.map((o) => [o.doc, o.offset, o.offset]));
  res.occurrences.forEach((o: { id: string; document: number; metadata: unknown }) => {
    t.is(o.id, IDS[o.document]);
    if (o.document < jl.length) t.deepEqual(o.metadata, { source: 'jsonl', n: o.document });
  });
  t.regex(cli('locate', OUT, q, '--limit', '1').stdout, new RegExp(`^${occ.length} occurrence`));
});

test('longest, next and document --json match the oracle', (t) => {
  t.is(buildAll().status, 0);
  const q = TEXTS[5].slice(0, 25) + ' zzzz';
  const want = O.longestPrefix(DOCS, O.utf8(q));
  const l = json('longest', OUT, q);
  t.deepEqual([l.length, l.count], [want.length, want.count]);
  t.is(l.text, Buffer.from(O.utf8(q).slice(0, want.length)).toString('utf8'));

  for (const ctx of ['alpha be', 'gamma', 'qqq delt']) {
    const n = json('next', OUT, ctx, '--top', '3');
    const w = O.nextTokens(DOCS, O.utf8(ctx));
    t.is(n.suffixLength, w.suffixLength);
    t.is(n.total, w.total);
    t.is(n.distinct, w.tokens.length);
    t.deepEqual(n.top.map((x: { token: number; count: number }) => [x.token, x.count]), w.tokens.slice(0, 3).map((tok, i) => [tok, w.counts[i]]));
  }

  for (const ref of ['0', '31', 'j7', 'g3', 't1.txt']) {
    const d = json('document', OUT, ref);
    const k = /^\d+$/.test(ref) ? Number(ref) : IDS.indexOf(ref);
    t.is(d.document, k);
    t.is(d.id, IDS[k]);
    t.is(d.text, TEXTS[k]);
    t.deepEqual(d.tokens, DOCS[k]);
  }
  t.is(cli('document', OUT, 'j2').stdout, TEXTS[2] + '\n');
});

test('verify succeeds on a good index and fails with a code on a damaged one', (t) => {
  t.is(buildAll().status, 0);
  const v = json('verify', OUT);
  t.true(v.ok);
  const copy = path.join(scratch, 'damaged');
  fs.cpSync(OUT, copy, { recursive: true });
  const m = JSON.parse(fs.readFileSync(path.join(copy, 'manifest.json'), 'utf8'));
  const f = path.join(copy, m.shards[1].dir, 'meta.bin');
  const b = fs.readFileSync(f);
  b[b.length - 2] ^= 1;
  fs.writeFileSync(f, b);
  const res = cli('verify', copy);
  t.is(res.status, 1);
  t.regex(res.stderr, /ERR_INDEX_CORRUPT/);
  t.true(res.stderr.includes('meta.bin'));
});

test('demo --json builds and queries an index of node_modules docs', (t) => {
  const out = path.join(scratch, 'demo');
  const d = json('demo', '--out', out);
  t.is(d.index, out);
  t.true(d.documents > 0);
  t.is(d.queries.length, 2);
  for (const q of d.queries) {
    t.true(q.count >= 0);
    t.is(q.sources.length, Math.min(3, q.count));
    t.is(json('count', out, q.text).count, q.count);
  }
  t.true(d.queries[1].count >= 1, 'the second sample is cut from the corpus, so it occurs');
});

test('errors: non-zero exit and a message on stderr', (t) => {
  const missing = cli('count', path.join(scratch, 'nope'), 'x');
  t.is(missing.status, 1);
  t.regex(missing.stderr, /ERR_INDEX_NOT_FOUND/);
  t.is(missing.stdout, '');
  const flag = cli('count', OUT, 'x', '--no-such-flag');
  t.is(flag.status, 2);
  t.regex(flag.stderr, /no-such-flag|Unknown option/i);
  const cmd = cli('frobnicate');
  t.is(cmd.status, 2);
  t.regex(cmd.stderr, /unknown command frobnicate/);
  t.is(cli().status, 2);
  t.is(cli('--help').status, 0);
  const noOut = cli('build', inputDir);
  t.is(noOut.status, 2);
  t.regex(noOut.stderr, /--out/);
  const badLimit = cli('locate', OUT, 'x', '--limit', '-3');
  t.is(badLimit.status, 2);
  const badTokens = cli('count', OUT, '--tokens', '1,a');
  t.is(badTokens.status, 2);
  t.is(buildAll().status, 0);
  const range = cli('count', OUT, '--tokens', '97,255', '--json');
  t.is(range.status, 1);
  t.regex(range.stderr, /ERR_TOKEN_RANGE/);
  const empty = cli('count', OUT, '');
  t.is(empty.status, 1);
  t.regex(empty.stderr, /ERR_INVALID_ARGUMENT/);
});
