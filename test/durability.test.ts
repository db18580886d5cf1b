/**
 * Durability: a build killed at any moment leaves `out` as it was; aborted builds reject with ERR_ABORTED and
 * keep the old index; stale temporary directories are cleaned by the next build; builds are deterministic.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildIndex, openIndex, TraceIndexError } from '../lib/index';
import * as O from './helpers/oracle';

const scratch = O.tmpDir('durability');
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));

const r = O.rng(2024);
const WORDS = Array.from({ length: 3000 }, () => Array.from({ length: O.randInt(r, 2, 9) }, () => String.fromCharCode(97 + O.randInt(r, 0, 26))).join(''));
const OLD_TEXTS = Array.from({ length: 60 }, () => Array.from({ length: O.randInt(r, 5, 60) }, () => O.pick(r, WORDS)).join(' '));
const PROBES = OLD_TEXTS.slice(0, 20).map((s) => s.slice(3, 3 + 12)).concat(['the', 'zzzz', WORDS[0], WORDS[1] + ' ' + WORDS[2]]);

/** ~24 MB of JSONL (about 2 s to build here) written once. */
function bigCorpus(): string {
  const file = path.join(scratch, 'big.jsonl');
  if (fs.existsSync(file)) return file;
  const fd = fs.openSync(file, 'w');
  const rr = O.rng(7);
  let total = 0;
  for (let i = 0; total < 24e6; i++) {
    const text = Array.from({ length: O.randInt(rr, 50, 400) }, () => O.pick(rr, WORDS)).join(' ');
    const line = JSON.stringify({ text, id: `big-${i}` }) + '\n';
    fs.writeSync(fd, line);
    total += line.length;
  }
  fs.closeSync(fd);
  return file;
}

async function buildOld(out: string) {
  await buildIndex({ inputs: OLD_TEXTS.map((text, i) => ({ text, id: `old-${i}` })), out, shardTokens: 600 });
}

const oldDocs = OLD_TEXTS.map(O.utf8);
async function assertOldAnswers(t: import('ava').ExecutionContext, out: string) {
  const idx = await openIndex(out);
  t.is(idx.info.documents, OLD_TEXTS.length);
  t.deepEqual(Array.from(await idx.countBatch(PROBES)), PROBES.map((p) => O.count(oldDocs, O.utf8(p))));
  const d = await idx.document('old-7');
  t.is(d.text, OLD_TEXTS[7]);
  await idx.verify();
  idx.close();
}

function tempDirsOf(out: string): string[] {
  const prefix = `.${path.basename(out)}.building-`;
  return fs.readdirSync(path.dirname(out)).filter((x) => x.startsWith(prefix)).map((x) => path.join(path.dirname(out), x));
}

/** Documents of the index at dir, or -1 when it does not open. */
async function documentsIn(dir: string): Promise<number> {
  try {
    const idx = await openIndex(dir);
    const n = idx.info.documents;
    idx.close();
    return n;
  } catch (e) {
    if (!(e instanceof TraceIndexError)) throw e;
    return -1;
  }
}

async function opens(dir: string): Promise<boolean> {
  try {
    (await openIndex(dir)).close();
    return true;
  } catch (e) {
    if (!(e instanceof TraceIndexError)) throw e;
    return false;
  }
}

test('SIGKILL at random moments never leaves a half index: the old index answers as before, temp dirs never open', async (t) => {
  const corpus = bigCorpus();
  const bigDocs = fs.readFileSync(corpus, 'utf8').split('\n').filter(Boolean).length;
  const parent = fs.mkdtempSync(path.join(scratch, 'kill-'));
  const out = path.join(parent, 'idx');
  await buildOld(out);
  await assertOldAnswers(t, out);
  const fresh = path.join(parent, 'never-built');
  const delays = [150, 500, 900, 1300, 1700].map((d) => d + O.randInt(r, 0, 200));
  let finished = 0;
  for (const delay of delays) {
    for (const target of [out, fresh]) {
      if (target === fresh && delay > 600) continue; // the fresh path is exercised at early kills only (time budget)
      const child = spawn(process.execPath, [O.CLI, 'build', corpus, '--out', target, '--shard-tokens', '5000000', '--quiet'], { stdio: 'ignore' });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const timer = new Promise<'timer'>((resolve) => setTimeout(() => resolve('timer'), delay));
      const first = await Promise.race([exited, timer]);
      if (first === 'timer') child.kill('SIGKILL');
      const code = await exited;
      // A kill landing after the build's atomic swap, before the process exits, finds the build complete.
      const completed = (first !== 'timer' && code === 0) || (await documentsIn(target)) === bigDocs;
      if (completed) finished++;
      if (target === out) {
        if (completed) {
          // The build won the race: out is the new index, complete. Put the old one back for the next round.
          t.is(await documentsIn(out), bigDocs);
          fs.rmSync(out, { recursive: true });
          await buildOld(out);
        }
        await assertOldAnswers(t, out);
      } else {
        t.is(fs.existsSync(target) && (await opens(target)), completed, `fresh out after a kill at ${delay} ms`);
      }
      for (const tmp of tempDirsOf(target)) t.false(await opens(tmp), `${tmp} must not open as an index`);
    }
  }
  t.true(finished < delays.length, 'at least one build was killed mid-way');

  // A stale temp dir of a dead process (plus whatever the kills left) is removed by the next build.
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const stale = path.join(parent, `.idx.building-${dead}-deadbeef`);
  fs.mkdirSync(path.join(stale, 'shard-00000'), { recursive: true });
  fs.writeFileSync(path.join(stale, 'shard-00000', 'tokens.bin.tmp'), 'partial');
  const small = path.join(parent, 'small.jsonl');
  fs.writeFileSync(small, OLD_TEXTS.slice(0, 10).map((text) => JSON.stringify({ text })).join('\n'));
  const ok = spawnSync(process.execPath, [O.CLI, 'build', small, '--out', out, '--quiet']);
  t.is(ok.status, 0, ok.stderr.toString());
  t.deepEqual(tempDirsOf(out), []);
  const idx = await openIndex(out);
  t.is(idx.info.documents, 10);
  idx.close();
});

test('an AbortSignal rejects the build with ERR_ABORTED and leaves the old index and no temp dir', async (t) => {
  const parent = fs.mkdtempSync(path.join(scratch, 'abort-'));
  const out = path.join(parent, 'idx');
  await buildOld(out);
  for (const when of [0, 30, 250]) {
    const controller = new AbortController();
    const rr = O.rng(when);
    async function* docs() {
      for (let i = 0; i < 40000; i++) {
        if (i % 500 === 0) await new Promise((res) => setImmediate(res));
        yield { text: Array.from({ length: 60 }, () => O.pick(rr, WORDS)).join(' ') };
      }
    }
    if (when === 0) controller.abort(new Error('stop now'));
    else setTimeout(() => controller.abort(new Error('stop later')), when);
    const err = await t.throwsAsync(buildIndex({ inputs: docs(), out, signal: controller.signal, shardTokens: 300_000 }));
    t.is((err as TraceIndexError).code, 'ERR_ABORTED', err?.message);
    await assertOldAnswers(t, out);
    t.deepEqual(tempDirsOf(out), []);
  }
});

test('determinism: the same inputs built twice give byte-identical shard files and manifest', async (t) => {
  const rr = O.rng(77);
  const docs = O.randomDocs(rr, 300, 400, 30, 0).map((tokens, i) => ({ tokens, id: `x${i}`, meta: { i } }));
  const a = path.join(scratch, 'det-a');
  const b = path.join(scratch, 'det-b');
  await buildIndex({ inputs: docs, out: a, tokenizer: { name: 'ids', vocabSize: 5000 }, shardTokens: 20000 });
  await buildIndex({ inputs: docs, out: b, tokenizer: { name: 'ids', vocabSize: 5000 }, shardTokens: 20000 });
  const list = (d: string): string[] => fs.readdirSync(d, { recursive: true }).map(String).sort();
  t.deepEqual(list(a), list(b));
  t.true(list(a).filter((f) => f.endsWith('sa.bin')).length >= 3);
  for (const f of list(a)) {
    const pa = path.join(a, f);
    if (fs.statSync(pa).isDirectory()) continue;
    t.true(fs.readFileSync(pa).equals(fs.readFileSync(path.join(b, f))), `${f} differs`);
  }
  // A rebuild over an existing index at the same path gives the same bytes too.
  const before = fs.readFileSync(path.join(a, 'manifest.json'));
  await buildIndex({ inputs: docs, out: a, tokenizer: { name: 'ids', vocabSize: 5000 }, shardTokens: 20000 });
  t.true(before.equals(fs.readFileSync(path.join(a, 'manifest.json'))));
});
