/**
 * A build deletes and overwrites only what is its own, and loses nothing it committed: links planted where a
 * build writes (its work directory, its lock's temporary file), foreign files inside a shard directory of a
 * target, a manifest listing a nested shard directory, a failure after an append's commit, a manifest write cut
 * short by a full disk (a file-size limit here), and inputs that are FIFOs.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildIndex, openIndex, TraceIndexError } from '../lib/index';
import * as O from './helpers/oracle';

const scratch = O.tmpDir('not-ours');
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));

const ids = { name: 'ids', vocabSize: 10 };
const docs = (k: number) => Array.from({ length: 3 }, (_, i) => ({ tokens: [1, 2, 3, (i + k) % 10], id: `d${k}-${i}` }));

function victimDir(dir: string): Record<string, string> {
  fs.mkdirSync(dir, { recursive: true });
  const files = { 'thesis.tex': 'years of work', 'data.csv': '1,2,3' };
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
  return files;
}
const contents = (dir: string) => Object.fromEntries(fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]));

test('a link planted at the work directory name is refused, and what it points to is untouched', async (t) => {
  const shared = path.join(scratch, 'wsym', 'shared');
  fs.mkdirSync(shared, { recursive: true });
  const input = path.join(scratch, 'wsym', 'in.jsonl');
  fs.writeFileSync(input, '{"text":"hello world"}\n');
  const out = path.join(shared, 'idx');
  let work: string | undefined;
  await buildIndex({ inputs: [input], out, onProgress: () => { work ??= fs.readdirSync(shared).find((e) => e.includes('.building-')); } });
  t.truthy(work);  // file inputs: a name a rerun (or anyone) can predict
  fs.rmSync(out, { recursive: true });
  const victim = path.join(scratch, 'wsym', 'victim');
  const files = victimDir(victim);
  fs.symlinkSync(victim, path.join(shared, work!));
  const e = await t.throwsAsync(buildIndex({ inputs: [input], out }), { instanceOf: TraceIndexError });
  t.is(e!.code, 'ERR_INVALID_ARGUMENT');
  t.regex(e!.message, /is not a directory/);
  t.deepEqual(contents(victim), files);
  t.false(fs.existsSync(out));
  // A real directory there holding someone's files: refused too, nothing removed.
  fs.rmSync(path.join(shared, work!));
  victimDir(path.join(shared, work!));
  const e2 = await t.throwsAsync(buildIndex({ inputs: [input], out }), { instanceOf: TraceIndexError });
  t.regex(e2!.message, /holds files that are not a build's/);
  t.deepEqual(contents(path.join(shared, work!)), files);
});

test("a link planted at the lock's temporary name is removed, not written through", async (t) => {
  const shared = path.join(scratch, 'lsym', 'shared');
  fs.mkdirSync(shared, { recursive: true });
  const victim = path.join(scratch, 'lsym', 'victim.txt');
  fs.writeFileSync(victim, 'precious content');
  fs.symlinkSync(victim, path.join(shared, `.idx.lock.${process.pid}.tmp`));
  await buildIndex({ inputs: [{ text: 'x' }], out: path.join(shared, 'idx') });
  t.is(fs.readFileSync(victim, 'utf8'), 'precious content');
});

test("a target whose shard directory holds foreign files is not replaced", async (t) => {
  const out = path.join(scratch, 'deep');
  await buildIndex({ inputs: docs(0), out, tokenizer: ids });
  const files = victimDir(path.join(out, 'shard-00000'));
  const e = await t.throwsAsync(buildIndex({ inputs: docs(1), out, tokenizer: ids }), { instanceOf: TraceIndexError });
  t.is(e!.code, 'ERR_INVALID_ARGUMENT');
  t.regex(e!.message, /shard-00000\/(thesis\.tex|data\.csv)/);
  for (const [f, text] of Object.entries(files)) t.is(fs.readFileSync(path.join(out, 'shard-00000', f), 'utf8'), text);
});

test('an append keeps a shard the manifest lists under a nested directory', async (t) => {
  const out = path.join(scratch, 'nested');
  await buildIndex({ inputs: [{ text: 'hello world' }], out });
  fs.renameSync(path.join(out, 'shard-00000'), path.join(scratch, 'nested-s'));
  fs.mkdirSync(path.join(out, 'shard-00000'));
  fs.renameSync(path.join(scratch, 'nested-s'), path.join(out, 'shard-00000', 'data'));
  const m = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
  m.shards[0].dir = 'shard-00000/data';
  fs.writeFileSync(path.join(out, 'manifest.json'), JSON.stringify(m));
  await buildIndex({ inputs: [{ text: 'more text' }], out, append: true });
  const idx = await openIndex(out);
  t.is(await idx.count('hello'), 1);
  t.is(await idx.count('more'), 1);
  idx.close();
});

test('a failure after an append committed its manifest keeps the shards it lists', async (t) => {
  const out = path.join(scratch, 'done-throws');
  await buildIndex({ inputs: docs(0), out, tokenizer: ids });
  const e = await t.throwsAsync(buildIndex({
    inputs: docs(5), out, tokenizer: ids, append: true,
    onProgress: (p) => { if (p.stage === 'done') throw new Error('progress UI failed'); },
  }));
  t.is(e!.message, 'progress UI failed');  // the caller's own error, passed through
  const idx = await openIndex(out, { tokenizer: ids });
  t.is(idx.info.documents, 6);  // the append is in
  t.is(await idx.count([1, 2, 3, 5]), 1);  // docs(5)'s first document
  idx.close();
});

test('a manifest write cut short by a full disk fails the append and leaves the index as it was', async (t) => {
  const out = path.join(scratch, 'short');
  await buildIndex({ inputs: docs(0), out, tokenizer: ids, shardTokens: 8 });
  const before = fs.readFileSync(path.join(out, 'manifest.json'), 'utf8');
  // A file-size limit above every shard file and below the longer manifest: what a disk filling mid-write does.
  const blocks = Math.ceil(before.length / 1024);
  const script = `require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'index.js'))})
    .buildIndex({ inputs: ${JSON.stringify(docs(7))}, out: ${JSON.stringify(out)}, tokenizer: ${JSON.stringify(ids)}, append: true, shardTokens: 8 })
    .then(() => console.log('resolved'), (e) => console.log('rejected ' + e.code));`;
  const child = spawnSync('bash', ['-c', `ulimit -f ${blocks}; exec "$0" -e "$1"`, process.execPath, script], { encoding: 'utf8' });
  t.regex(child.stdout, /^rejected ERR_IO/, child.stderr);
  t.is(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'), before);
  const idx = await openIndex(out, { tokenizer: ids });
  t.is(idx.info.documents, 3);
  idx.close();
});

test('a FIFO given as an input is refused at once, not read on the JS thread', async (t) => {
  const fifo = path.join(scratch, 'pipe.jsonl');
  execFileSync('mkfifo', [fifo]);
  const e = await t.throwsAsync(buildIndex({ inputs: [fifo], out: path.join(scratch, 'fifo-out') }), { instanceOf: TraceIndexError });
  t.is(e!.code, 'ERR_BAD_INPUT');
  t.regex(e!.message, /pipe\.jsonl: not a regular file/);
  t.false(fs.existsSync(path.join(scratch, 'fifo-out')));
});

test("a lock of this process is live while its thread is: refused then, taken over once its worker is terminated", async (t) => {
  const lib = path.join(__dirname, '..', 'lib', 'index.js');
  const out = path.join(scratch, 'wlock', 'idx');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const script = `
const { Worker, isMainThread, parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const t = require(${JSON.stringify(lib)});
const out = ${JSON.stringify(out)}, lock = ${JSON.stringify(path.join(path.dirname(out), '.idx.lock'))};
if (isMainThread) {
  (async () => {
    const w = new Worker(__filename);
    await new Promise((r) => w.once('message', r));
    while (!fs.existsSync(lock)) await new Promise((r) => setTimeout(r, 5));
    const during = await t.buildIndex({ inputs: [{ text: 'hello' }], out }).then(() => 'resolved', (e) => e.code);
    await w.terminate();
    const after = await t.buildIndex({ inputs: [{ text: 'hello' }], out }).then(() => 'resolved', (e) => e.code + ' ' + e.message);
    const idx = await t.openIndex(out);
    console.log(JSON.stringify({ during, after, count: await idx.count('hello') }));
    idx.close();
  })();
} else {
  parentPort.postMessage('go');
  t.buildIndex({ inputs: Array.from({ length: 400 }, (_, i) => ({ text: 'y'.repeat(20000) + i })), out, shardTokens: 400000 });
}`;
  const file = path.join(scratch, 'wlock.js');
  fs.writeFileSync(file, script);
  const child = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 120_000 });
  t.is(child.status, 0, child.stderr);
  t.deepEqual(JSON.parse(child.stdout.trim().split('\n').pop()!), { during: 'ERR_INVALID_ARGUMENT', after: 'resolved', count: 1 });
});
