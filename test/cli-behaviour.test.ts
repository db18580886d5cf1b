/**
 * A CLI that explains itself: --version / -V, `help COMMAND`, usage mistakes as one line and a hint, errors
 * as JSON with --json, shield's exit status 3 when it refuses, a quiet end when the reader of stdout goes
 * away (`scan ... | head`), Ctrl-C during a build (exit 130, where the partial build is, and a re-run that
 * resumes it), and trace defaults that fit the tokenizer, printed first.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildIndex, openIndex } from '../lib/index';
import { COMMANDS } from '../lib/cli/commands';
import * as O from './helpers/oracle';

const scratch = O.tmpDir('cli-behaviour');
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));

function cli(...args: string[]) {
  const res = spawnSync(process.execPath, [O.CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

const TEXTS = Array.from({ length: 40 }, (_, i) => `Record ${i}: the quick brown fox jumps over the lazy dog near river ${i % 7} today.`);
let bytesIndex: Promise<string> | undefined;
const bytesIdx = () => (bytesIndex ??= buildIndex({ inputs: TEXTS.map((text, i) => ({ text, id: `r${i}` })), out: path.join(scratch, 'bytes') }).then((r) => r.out));

test('--version and -V print the package version; help and help COMMAND print the usages', (t) => {
  const pkg = JSON.parse(fs.readFileSync(path.join(O.REPO, 'package.json'), 'utf8'));
  for (const flag of ['--version', '-V']) {
    const r = cli(flag);
    t.is(r.status, 0);
    t.is(r.stdout, `${pkg.version}\n`);
  }
  const usage = cli('help');
  t.is(usage.status, 0);
  t.is(usage.stdout, cli('--help').stdout);
  for (const c of COMMANDS) {
    const r = cli('help', c.name);
    t.is(r.status, 0, c.name);
    t.is(r.stdout, cli(c.name, '--help').stdout, `help ${c.name} is ${c.name} --help`);
  }
});

test('a usage mistake is one line and a hint (exit 2); with --json every error is JSON on stderr', async (t) => {
  const dir = await bytesIdx();
  for (const [args, hint] of [[['count', dir, 'fox', '--tau', '3'], 'traceindex count --help'], [['frobnicate'], 'traceindex --help'],
    [['help', 'frobnicate'], 'traceindex --help'], [['locate', dir, 'fox', '--limit', 'ten'], 'traceindex locate --help']] as const) {
    const r = cli(...args);
    t.is(r.status, 2, args.join(' '));
    t.is(r.stdout, '');
    const lines = r.stderr.split('\n');
    t.is(lines.length, 3, r.stderr);
    t.regex(lines[0], /^traceindex: /);
    t.is(lines[1], `Run '${hint}' for usage.`);
    // The same mistake with --json: one JSON object on stderr, the same exit code.
    const j = cli(...args, '--json');
    t.is(j.status, 2);
    t.is(j.stdout, '');
    t.deepEqual(JSON.parse(j.stderr), { error: { code: 'ERR_INVALID_ARGUMENT', message: lines[0].slice('traceindex: '.length) } });
  }
  // Errors with a code: exit 1, {"error":{"code","message"}}.
  const missing = cli('count', path.join(scratch, 'nothing-here'), 'fox', '--json');
  t.is(missing.status, 1);
  t.is(missing.stdout, '');
  const e = JSON.parse(missing.stderr).error;
  t.is(e.code, 'ERR_INDEX_NOT_FOUND');
  t.regex(e.message, /nothing-here/);
  t.deepEqual(Object.keys(JSON.parse(missing.stderr)), ['error']);
  const range = cli('count', dir, '--tokens', '300', '--json');
  t.is(range.status, 1);
  t.is(JSON.parse(range.stderr).error.code, 'ERR_TOKEN_RANGE');
});

test('shield exits 3 when it refuses and 0 when it allows, with or without --json', async (t) => {
  const dir = await bytesIdx();
  const text = 'the quick brown fox jumps over the lazy dog';
  const refuse = cli('shield', dir, text, '--tau', '1');
  t.is(refuse.status, 3, refuse.stderr);
  t.regex(refuse.stdout, /\nREFUSE: /);
  const allow = cli('shield', dir, text, '--tau', '1e9', '--json');
  t.is(allow.status, 0, allow.stderr);
  t.false(JSON.parse(allow.stdout).refuse);
  const refuseJson = cli('shield', dir, text, '--tau', '1', '--json');
  t.is(refuseJson.status, 3);
  t.true(JSON.parse(refuseJson.stdout).refuse);
});

test('scan into a reader that goes away (scan ... | head) ends quietly with exit 0', async (t) => {
  const dir = await bytesIdx();
  const file = path.join(scratch, 'outputs.jsonl');
  fs.writeFileSync(file, Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ id: `o${i}`, text: TEXTS[i % TEXTS.length] })).join('\n') + '\n');
  const child = spawn(process.execPath, [O.CLI, 'scan', dir, file, '--min-length', '8'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  // Read the first line, then close the pipe, as head does.
  const first = await new Promise<string>((resolve) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) {
        child.stdout.destroy();
        resolve(buf.slice(0, buf.indexOf('\n')));
      }
    });
  });
  const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  t.is(JSON.parse(first).id, 'o0');
  t.is(status, 0, stderr);
  t.is(stderr, 'spans ≥ 8 tokens (bytes), whole words, ≤ ∞ occurrences, 3 documents each\n', 'no EPIPE error, no stack trace');
});

// Serial: the other tests' spawnSync calls block this worker's event loop, so the poll below would send SIGINT
// only after the build had finished.
test.serial('Ctrl-C during a build exits 130, says where the partial build is, and re-running resumes it', async (t) => {
  const inputs = path.join(scratch, 'big');
  fs.mkdirSync(inputs);
  const r = O.rng(77);
  const words = ['alpha', 'beta', 'gamma', 'delta', 'eps', 'zeta', 'eta', 'theta'];
  for (let f = 0; f < 4; f++) {
    const lines: string[] = [];
    for (let i = 0; i < 15_000; i++) lines.push(JSON.stringify({ id: `${f}-${i}`, text: Array.from({ length: 60 }, () => O.pick(r, words)).join(' ') }));
    fs.writeFileSync(path.join(inputs, `in${f}.jsonl`), lines.join('\n') + '\n');
  }
  const out = path.join(scratch, 'interrupted');
  const args = [O.CLI, 'build', inputs, '--out', out, '--shard-tokens', '250000']; // ~75 shards: the interrupt lands long before the end
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  // Interrupt once a shard is finished (its record is in the work directory).
  const work = () => fs.readdirSync(scratch).filter((e) => e.startsWith('.interrupted.building-')).map((e) => path.join(scratch, e));
  const deadline = Date.now() + 60_000;
  while (!work().some((w) => fs.existsSync(path.join(w, 'shard-00000.json'))) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
  child.kill('SIGINT');
  const status = await closed;
  t.is(status, 130, stderr);
  const [dir] = work();
  t.truthy(dir, 'the partial build is kept');
  t.true(stderr.includes(`traceindex: interrupted (SIGINT): ${out} is left as it was; the partial build is in ${dir}: run the same command again to resume it`), stderr);
  t.false(fs.existsSync(out));
  const again = spawnSync(process.execPath, [...args, '--json'], { encoding: 'utf8', timeout: 120_000 });
  t.is(again.status, 0, again.stderr);
  const result = JSON.parse(again.stdout);
  t.true(result.resumed >= 1, `resumed ${result.resumed}`);
  t.is(result.documents, 60_000);
  t.deepEqual(work(), []);
});

test('trace defaults fit the tokenizer: spans of ≥ 12 byte tokens, of ≥ 4 BPE tokens; printed first', async (t) => {
  const bpe = path.join(scratch, 'cl100k');
  await buildIndex({ inputs: TEXTS.map((text, i) => ({ text, id: `r${i}` })), out: bpe, tokenizer: 'cl100k_base' });
  const output = 'I saw the lazy dog near river 3 today.';
  const traced = cli('trace', bpe, output, '--json');
  t.is(traced.status, 0, traced.stderr);
  const j = JSON.parse(traced.stdout);
  t.deepEqual(j.options, { minLength: 4, wordBoundaries: false, maxDocuments: 3, seed: 0 });
  const idx = await openIndex(bpe);
  const want = await idx.trace(output, { minLength: 4, maxDocuments: 3 });
  t.deepEqual(j.spans.map((s: { start: number; end: number }) => [s.start, s.end]), want.spans.map((s) => [s.start, s.end]));
  t.true(want.spans.length > 0 && (await idx.trace(output, { minLength: 12 })).spans.length === 0, 'the old default (12) finds nothing here');
  idx.close();
  const human = cli('trace', bpe, output);
  t.is(human.stdout.split('\n')[0], 'spans ≥ 4 tokens (cl100k_base), ≤ ∞ occurrences, 3 documents each');
  const bytes = cli('trace', await bytesIdx(), output);
  t.is(bytes.stdout.split('\n')[0], 'spans ≥ 12 tokens (bytes), whole words, ≤ ∞ occurrences, 3 documents each');
  const options = cli('shield', bpe, output, '--tau', '1e9', '--max-count', '2', '--max-documents', '1');
  t.is(options.stdout.split('\n')[0], 'spans ≥ 4 tokens (cl100k_base), ≤ 2 occurrences, 1 documents each');
  const windows = cli('shield', bpe, output, '--tau', '1e9', '--window', '3');
  t.is(windows.stdout.split('\n')[0], 'windows of 3 tokens (cl100k_base), ≤ ∞ occurrences, 3 documents each');
  const explicit = cli('trace', bpe, output, '--min-length', '12', '--json');
  t.is(JSON.parse(explicit.stdout).options.minLength, 12);
});
