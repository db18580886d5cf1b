/**
 * Build modes against a one-process build of the same documents: a killed build resumed gives the same
 * bytes; --append equals a fresh build of all the documents; partitioned parts built as separate processes
 * and combined answer exactly like a one-process build; missing or mismatched parts are refused.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildIndex, combineIndexes, openIndex, partitionFiles } from '../lib/index';
import * as O from './helpers/oracle';

const scratch = O.tmpDir('build-modes');
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));

const r = O.rng(77);
const WORDS = Array.from({ length: 500 }, () => Array.from({ length: O.randInt(r, 2, 8) }, () => String.fromCharCode(97 + O.randInt(r, 0, 26))).join(''));
const sentence = (rr: () => number, n: number) => Array.from({ length: n }, () => O.pick(rr, WORDS)).join(' ');

/** Five JSONL files of documents; returns the directory and all texts in file order. */
function corpus(name: string, perFile: number, words: [number, number]): { dir: string; texts: string[] } {
  const dir = path.join(scratch, name);
  fs.mkdirSync(dir, { recursive: true });
  const rr = O.rng(name.length * 31 + perFile);
  const texts: string[] = [];
  for (let f = 0; f < 5; f++) {
    const lines: string[] = [];
    for (let i = 0; i < perFile; i++) {
      const text = sentence(rr, O.randInt(rr, words[0], words[1]));
      texts.push(text);
      lines.push(JSON.stringify({ id: `${name}-${f}-${i}`, text }));
    }
    fs.writeFileSync(path.join(dir, `f${f}.jsonl`), lines.join('\n') + '\n');
  }
  return { dir, texts };
}

function shardBytes(dir: string): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  for (const s of fs.readdirSync(dir).filter((x) => x.startsWith('shard-')).sort())
    for (const f of fs.readdirSync(path.join(dir, s))) m.set(`${s}/${f}`, fs.readFileSync(path.join(dir, s, f)));
  m.set('manifest.json', fs.readFileSync(path.join(dir, 'manifest.json')));
  return m;
}

function probes(texts: string[]): string[] {
  const rr = O.rng(5);
  const out = ['the', 'zzzzzz', WORDS[0], `${WORDS[1]} ${WORDS[2]}`];
  for (let i = 0; i < 40; i++) {
    const t = O.pick(rr, texts);
    const a = O.randInt(rr, 0, Math.max(1, t.length - 10));
    out.push(t.slice(a, a + O.randInt(rr, 3, 20)));
  }
  return out.filter((p) => p.length > 0);
}

async function answers(dir: string, qs: string[]) {
  const idx = await openIndex(dir);
  try {
    const counts = Array.from(await idx.countBatch(qs));
    const located = await Promise.all(qs.slice(0, 10).map((q) => idx.locate(q, { limit: 5 }).then((l) => l.occurrences.map((o) => [o.id, o.position.token]))));
    const spans = (await idx.traceBatch(qs.slice(0, 10).map((q) => q + ' ' + q))).map((t) => t.spans.map((s) => [s.start, s.end, s.count]));
    return { counts, located, spans, documents: idx.info.documents, tokens: idx.info.tokens, unigram: Array.from(idx.unigramCounts()) };
  } finally {
    idx.close();
  }
}

test('a build killed mid-way resumes from its finished shards and gives the same bytes as an uninterrupted build', async (t) => {
  const { dir, texts } = corpus('resume', 1500, [40, 160]);
  const clean = path.join(scratch, 'resume-clean');
  await buildIndex({ inputs: [dir], out: clean, shardTokens: 200_000 });
  const expected = shardBytes(clean);
  t.true([...expected.keys()].filter((k) => k.endsWith('sa.bin')).length >= 5, 'several shards');

  const out = path.join(scratch, 'resume-out');
  let resumedSomewhere = false;
  for (const delayMs of [700, 1200]) {
    fs.rmSync(out, { recursive: true, force: true });
    const child = spawn(process.execPath, [O.CLI, 'build', dir, '--out', out, '--shard-tokens', '200000', '--quiet'], { stdio: 'ignore' });
    // Kill once at least one shard record exists (or after the delay).
    const started = Date.now();
    while (Date.now() - started < delayMs) {
      await new Promise((res) => setTimeout(res, 20));
      const work = fs.readdirSync(scratch).find((x) => x.startsWith('.resume-out.building-'));
      if (work && fs.readdirSync(path.join(scratch, work)).some((x) => /^shard-\d+\.json$/.test(x))) break;
    }
    child.kill('SIGKILL');
    await new Promise((res) => child.once('exit', res));
    const r2 = await buildIndex({ inputs: [dir], out, shardTokens: 200_000 });
    if (r2.resumed > 0) resumedSomewhere = true;
    const got = shardBytes(out);
    t.deepEqual([...got.keys()], [...expected.keys()]);
    for (const [k, v] of expected) t.true(v.equals(got.get(k)!), `${k} differs after resume`);
    t.deepEqual(fs.readdirSync(scratch).filter((x) => x.startsWith('.resume-out.building-')), []);
  }
  t.true(resumedSomewhere, 'at least one run resumed finished shards');
  t.deepEqual(await answers(out, probes(texts)), await answers(clean, probes(texts)));
});

test('an input edited in place with its size and mtime kept (cp -p, rsync -a) is not resumed onto its old shards', async (t) => {
  const { dir } = corpus('edited', 1500, [40, 160]);
  const out = path.join(scratch, 'edited-out');
  let killedWithShards = false;
  for (let attempt = 0; attempt < 3 && !killedWithShards; attempt++) {
    fs.rmSync(out, { recursive: true, force: true });
    const child = spawn(process.execPath, [O.CLI, 'build', dir, '--out', out, '--shard-tokens', '200000', '--quiet'], { stdio: 'ignore' });
    const exited = new Promise((res) => child.once('exit', res));
    for (const started = Date.now(); Date.now() - started < 5000 && !killedWithShards;) {
      await new Promise((res) => setTimeout(res, 20));
      const work = fs.readdirSync(scratch).find((x) => x.startsWith('.edited-out.building-'));
      killedWithShards = Boolean(work && fs.readdirSync(path.join(scratch, work)).some((x) => /^shard-\d+\.json$/.test(x)));
    }
    child.kill('SIGKILL');
    await exited;
  }
  t.true(killedWithShards, 'killed after a shard was recorded');
  // The first document of the first file gets a word of the same length that occurs nowhere else.
  const first = path.join(dir, fs.readdirSync(dir).sort()[0]);
  const st = fs.statSync(first);
  const before = fs.readFileSync(first, 'utf8');
  const at = before.indexOf('"text":"') + 8;
  const edited = before.slice(0, at) + 'QZXQ' + before.slice(at + 4);
  t.is(Buffer.byteLength(edited), st.size);
  const ref = path.join(scratch, 'edited-mtime-ref');
  t.is(spawnSync('cp', ['-p', first, ref]).status, 0);
  fs.writeFileSync(first, edited);
  t.is(spawnSync('touch', ['-m', '-r', ref, first]).status, 0);  // the nanoseconds too, as cp -p keeps them
  t.is(fs.statSync(first).mtimeMs, st.mtimeMs);
  const r2 = await buildIndex({ inputs: [dir], out, shardTokens: 200_000 });
  t.is(r2.resumed, 0);
  const idx = await openIndex(out);
  t.is(await idx.count('QZXQ'), 1);
  idx.close();
});

test('a build with other inputs does not reuse an interrupted build\'s shards', async (t) => {
  const { dir } = corpus('noreuse', 300, [20, 60]);
  const out = path.join(scratch, 'noreuse-out');
  const child = spawn(process.execPath, [O.CLI, 'build', dir, '--out', out, '--shard-tokens', '20000', '--quiet'], { stdio: 'ignore' });
  const exited = new Promise((res) => child.once('exit', res)); // (it may finish before the kill)
  await new Promise((res) => setTimeout(res, 400));
  child.kill('SIGKILL');
  await exited;
  const r2 = await buildIndex({ inputs: [path.join(dir, 'f0.jsonl')], out, shardTokens: 20000 });
  t.is(r2.resumed, 0);
  const idx = await openIndex(out);
  t.is(idx.info.documents, 300);
  idx.close();
});

test('--append equals a fresh build of all the documents, and refuses another tokenizer', async (t) => {
  const { dir, texts } = corpus('append', 200, [10, 80]);
  const files = fs.readdirSync(dir).sort().map((f) => path.join(dir, f));
  const fresh = path.join(scratch, 'append-fresh');
  await buildIndex({ inputs: files, out: fresh, shardTokens: 30_000 });
  const grown = path.join(scratch, 'append-grown');
  await buildIndex({ inputs: files.slice(0, 2), out: grown, shardTokens: 30_000 });
  const r1 = await buildIndex({ inputs: files.slice(2, 4), out: grown, shardTokens: 30_000, append: true });
  const r2 = await buildIndex({ inputs: files.slice(4), out: grown, shardTokens: 30_000, append: true });
  t.is(r2.documents, 1000);
  t.true(r2.shards > r1.shards);
  const qs = probes(texts);
  const a = await answers(grown, qs);
  const b = await answers(fresh, qs);
  t.deepEqual(a.counts, b.counts);
  t.deepEqual(a.unigram, b.unigram);
  t.deepEqual(a.spans, b.spans);
  t.is(a.documents, b.documents);
  t.is(a.tokens, b.tokens);
  // Document order (and with it locate order) is build order: the same here.
  t.deepEqual(a.located, b.located);
  const idx = await openIndex(grown);
  await idx.verify();
  idx.close();
  await t.throwsAsync(buildIndex({ inputs: [{ tokens: [1, 2] }], out: grown, append: true, tokenizer: { name: 'x', vocabSize: 10 } }), { code: 'ERR_TOKENIZER_MISMATCH' });
  // A damaged index (a shard file missing or truncated) is refused as it is, not appended to.
  const manifest = fs.readFileSync(path.join(grown, 'manifest.json'));
  const meta = path.join(grown, 'shard-00000', 'meta.bin');
  const saved = fs.readFileSync(meta);
  for (const damage of [() => fs.rmSync(meta), () => fs.writeFileSync(meta, saved.subarray(0, saved.length - 1))]) {
    damage();
    const err = await t.throwsAsync(buildIndex({ inputs: [{ text: 'more text' }], out: grown, append: true }), { code: 'ERR_INDEX_CORRUPT' });
    t.regex(err!.message, /meta\.bin: (missing|\d+ bytes, the manifest records)/);
    t.deepEqual(fs.readFileSync(path.join(grown, 'manifest.json')), manifest, 'the manifest is untouched');
  }
  fs.writeFileSync(meta, saved);
});

test('partitioned parts built as separate processes and combined answer like a one-process build', async (t) => {
  const { dir, texts } = corpus('parts', 250, [10, 90]);
  const one = path.join(scratch, 'parts-one');
  await buildIndex({ inputs: [dir], out: one, shardTokens: 25_000 });
  const parts: string[] = [];
  const children = [0, 1, 2].map((i) => {
    const out = path.join(scratch, `parts-${i}`);
    parts.push(out);
    return new Promise<number>((res) => spawn(process.execPath, [O.CLI, 'build', dir, '--out', out, '--shard', `${i}/3`, '--shard-tokens', '25000', '--quiet'], { stdio: 'inherit' }).once('exit', (c) => res(c ?? 1)));
  });
  t.deepEqual(await Promise.all(children), [0, 0, 0]);
  const combined = path.join(scratch, 'parts-combined');
  const c = spawnSync(process.execPath, [O.CLI, 'combine', combined, ...parts.slice().reverse(), '--verify', '--json'], { encoding: 'utf8' });
  t.is(c.status, 0, c.stderr);
  t.is(JSON.parse(c.stdout).parts, 3);
  const qs = probes(texts);
  t.deepEqual(await answers(combined, qs), await answers(one, qs));
  const idx = await openIndex(combined);
  await idx.verify();
  idx.close();

  // A missing part, a part given twice, a part of another partition, and an unfinished part are refused.
  const missing = spawnSync(process.execPath, [O.CLI, 'combine', path.join(scratch, 'x1'), parts[0], parts[2]], { encoding: 'utf8' });
  t.is(missing.status, 1);
  t.regex(missing.stderr, /1\/3 missing/);
  await t.throwsAsync(combineIndexes(path.join(scratch, 'x2'), [parts[0], parts[0], parts[1]]), { message: /given twice/ });
  const other = path.join(scratch, 'parts-other');
  await buildIndex({ inputs: [path.join(dir, 'f0.jsonl'), path.join(dir, 'f1.jsonl'), path.join(dir, 'f2.jsonl')], out: other, part: { index: 1, count: 3 }, shardTokens: 25_000 });
  await t.throwsAsync(combineIndexes(path.join(scratch, 'x3'), [parts[0], other, parts[2]]), { message: /another partition/ });
  await t.throwsAsync(combineIndexes(path.join(scratch, 'x4'), [parts[0], path.join(scratch, 'nowhere'), parts[2]]), { code: 'ERR_INDEX_NOT_FOUND' });
  t.false(fs.existsSync(path.join(scratch, 'x1')));
});

test('partitionFiles: contiguous, in order, none empty, balanced by size', (t) => {
  const dir = path.join(scratch, 'pf');
  fs.mkdirSync(dir, { recursive: true });
  const sizes = [10, 500, 20, 20, 20, 400, 30, 5];
  const files = sizes.map((s, i) => {
    const f = path.join(dir, `p${i}.jsonl`);
    fs.writeFileSync(f, 'x'.repeat(s));
    return f;
  });
  for (const n of [1, 2, 3, 5, 8]) {
    const parts = partitionFiles(files, n);
    t.is(parts.length, n);
    t.deepEqual(parts.flat(), files);
    t.true(parts.every((p) => p.length > 0));
  }
  const two = partitionFiles(files, 2);
  t.deepEqual(two[0], files.slice(0, 2));
});

test('progress counts the input files\' bytes up to their total (plain, gzip), for an ETA', async (t) => {
  const { dir } = corpus('progress', 100, [10, 40]);
  const gz = path.join(dir, 'f0.jsonl.gz');
  fs.writeFileSync(gz, require('node:zlib').gzipSync(fs.readFileSync(path.join(dir, 'f0.jsonl'))));
  const files = fs.readdirSync(dir).map((f) => path.join(dir, f));
  const total = files.reduce((s, f) => s + fs.statSync(f).size, 0);
  let last = { bytesRead: -1, bytesTotal: -1 };
  const seen: number[] = [];
  await buildIndex({ inputs: [dir], out: path.join(scratch, 'progress-out'), onProgress: (p) => { last = p; seen.push(p.bytesRead); } });
  t.is(last.bytesTotal, total);
  t.is(last.bytesRead, total);
  t.deepEqual(seen, [...seen].sort((a, b) => a - b), 'never goes back');
});

/** Every document's id in document-number order. */
async function idsInOrder(dir: string): Promise<string[]> {
  const idx = await openIndex(dir);
  try {
    const ids: string[] = [];
    for (let n = 0; n < idx.info.documents; n++) ids.push((await idx.document(n)).id);
    return ids;
  } finally {
    idx.close();
  }
}

test('parts of a partition with fewer files than parts, combined, number the documents as a one-process build does', async (t) => {
  const { dir, texts } = corpus('fewfiles', 90, [10, 60]);
  const files = fs.readdirSync(dir).sort().slice(0, 2).map((f) => path.join(dir, f));
  const one = path.join(scratch, 'fewfiles-one');
  await buildIndex({ inputs: files, out: one, shardTokens: 4_000 });
  const parts: string[] = [];
  for (let i = 0; i < 4; i++) {
    parts.push(path.join(scratch, `fewfiles-part-${i}`));
    const r = await buildIndex({ inputs: files, out: parts[i], part: { index: i, count: 4 }, shardTokens: 4_000 });
    t.is(r.documents, [45, 45, 45, 45][i], 'contiguous runs of equal size');
  }
  const combined = path.join(scratch, 'fewfiles-combined');
  await combineIndexes(combined, parts);
  const expected = files.flatMap((f) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).id));
  t.deepEqual(await idsInOrder(one), expected);
  t.deepEqual(await idsInOrder(combined), expected, 'document numbers equal the one-process build\'s');
  const qs = probes(texts.slice(0, 180));
  t.deepEqual(await answers(combined, qs), await answers(one, qs));
});

test('combine refuses a target that is, contains or lies inside a part, and leaves the parts intact', async (t) => {
  const { dir, texts } = corpus('overlap', 60, [10, 40]);
  const root = path.join(scratch, 'overlap-parts');
  const parts = [0, 1].map((i) => path.join(root, `part-${i}`));
  for (let i = 0; i < 2; i++) await buildIndex({ inputs: [dir], out: parts[i], part: { index: i, count: 2 }, shardTokens: 5_000 });
  const before = parts.map((p) => shardBytes(p));
  const alias = path.join(scratch, 'overlap-alias');
  fs.symlinkSync(parts[1], alias);
  const cases: Array<[string, RegExp]> = [
    [parts[0], /is part/],                            // the part itself (today: its shard files deleted)
    [alias, /is part/],                               // the same, through a symlink
    [root, /contains part/],                          // a directory holding the parts
    [path.join(parts[1], 'all'), /lies inside part/], // inside a part
  ];
  for (const [out, why] of cases) {
    const err = await t.throwsAsync(combineIndexes(out, parts));
    t.is((err as { code?: string }).code, 'ERR_INVALID_ARGUMENT', out);
    t.regex(err!.message, why);
  }
  const c = spawnSync(process.execPath, [O.CLI, 'combine', parts[0], ...parts], { encoding: 'utf8' });
  t.is(c.status, 1);
  t.regex(c.stderr, /ERR_INVALID_ARGUMENT/);
  parts.forEach((p, i) => {
    const now = shardBytes(p);
    t.deepEqual([...now.keys()], [...before[i].keys()]);
    for (const [k, v] of before[i]) t.true(v.equals(now.get(k)!), `${p}/${k} changed`);
  });
  t.false(fs.existsSync(path.join(parts[1], 'all')));
  // A target beside the parts works, and answers like a one-process build.
  const combined = path.join(scratch, 'overlap-combined');
  await combineIndexes(combined, parts);
  const one = path.join(scratch, 'overlap-one');
  await buildIndex({ inputs: [dir], out: one, shardTokens: 5_000 });
  t.deepEqual(await answers(combined, probes(texts)), await answers(one, probes(texts)));
  // A target holding shards of its own (an index built there) is refused untouched; an earlier combine of the same
  // parts (links into them only) is replaced.
  const ownBefore = shardBytes(one);
  const err = await t.throwsAsync(combineIndexes(one, parts));
  t.is((err as { code?: string }).code, 'ERR_INVALID_ARGUMENT');
  t.regex(err!.message, /holds shards that are not links into the given parts: shard-00000 \(its own/);
  const ownNow = shardBytes(one);
  t.deepEqual([...ownNow.keys()], [...ownBefore.keys()]);
  for (const [k, v] of ownBefore) t.true(v.equals(ownNow.get(k)!), `${one}/${k} changed`);
  t.is((await combineIndexes(combined, parts)).parts, 2);
});

test('a repeated --append (a retried job) is refused, also for a copy of the file; skipDuplicateInputs leaves such files out', async (t) => {
  const { dir } = corpus('again', 40, [10, 40]);
  const files = fs.readdirSync(dir).sort().map((f) => path.join(dir, f));
  const out = path.join(scratch, 'again-idx');
  await buildIndex({ inputs: files.slice(0, 2), out, shardTokens: 5_000 });
  const r1 = await buildIndex({ inputs: [files[2]], out, append: true, shardTokens: 5_000 });
  t.is(r1.documents, 120);
  const manifestBefore = fs.readFileSync(path.join(out, 'manifest.json'));
  const unchanged = async () => {
    t.true(fs.readFileSync(path.join(out, 'manifest.json')).equals(manifestBefore));
    const idx = await openIndex(out);
    t.is(idx.info.documents, 120);
    idx.close();
  };
  // The same append again, from the command line as a retried job would.
  const again = spawnSync(process.execPath, [O.CLI, 'build', files[2], '--out', out, '--append', '--shard-tokens', '5000', '--quiet'], { encoding: 'utf8' });
  t.is(again.status, 1);
  t.regex(again.stderr, new RegExp(`ERR_INVALID_ARGUMENT: cannot append ${files[2].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .* already holds`));
  await unchanged();
  // A file of the first build, and a copy of an appended file under another name (touched later), too.
  await t.throwsAsync(buildIndex({ inputs: [files[0]], out, append: true }), { code: 'ERR_INVALID_ARGUMENT', message: /already holds/ });
  const copy = path.join(scratch, 'again-copy.jsonl');
  fs.copyFileSync(files[2], copy);
  fs.utimesSync(copy, new Date(), new Date(Date.now() + 5000));
  await t.throwsAsync(buildIndex({ inputs: [copy, files[3]], out, append: true }), { code: 'ERR_INVALID_ARGUMENT', message: /again-copy\.jsonl/ });
  await unchanged();
  // skipDuplicateInputs appends only the new file; a retry of that is then a no-op.
  const r2 = await buildIndex({ inputs: [copy, files[3]], out, append: true, skipDuplicateInputs: true, shardTokens: 5_000 });
  t.deepEqual(r2.skippedInputs, [copy]);
  t.is(r2.documents, 160);
  const r3 = spawnSync(process.execPath, [O.CLI, 'build', files[3], '--out', out, '--append', '--skip-duplicate-append', '--json'], { encoding: 'utf8' });
  t.is(r3.status, 0, r3.stderr);
  t.is(JSON.parse(r3.stdout).documents, 160);
  // The index equals a fresh build of the four files.
  const fresh = path.join(scratch, 'again-fresh');
  await buildIndex({ inputs: files.slice(0, 4), out: fresh, shardTokens: 5_000 });
  const texts = files.slice(0, 4).flatMap((f) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).text as string));
  const qs = probes(texts);
  t.deepEqual((await answers(out, qs)).counts, (await answers(fresh, qs)).counts);
  t.deepEqual(await idsInOrder(out), await idsInOrder(fresh));
});

// Regression (fixed; lib/tokenizers/worker.ts): tokenizer workers load a tokenizer.json again by its path. A file
// changed after the build loaded it (and took its fingerprint for the manifest) tokenized the documents with the
// new vocabulary: a valid-looking index whose ids the manifest's tokenizer reads wrongly (count 'a' 10, not 30).
test('a tokenizer.json changed while a build runs is ERR_TOKENIZER_MISMATCH, not an index of other ids', async (t) => {
  const dir = path.join(scratch, 'changed-tokenizer');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'tokenizer.json');
  const wordPiece = (a: number, b: number) => JSON.stringify({
    model: { type: 'WordPiece', vocab: { '[UNK]': 0, a, b }, unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100 },
    pre_tokenizer: { type: 'Whitespace' },
  });
  fs.writeFileSync(file, wordPiece(1, 2));
  const out = path.join(dir, 'idx');
  async function* docs() {
    fs.writeFileSync(file, wordPiece(2, 1));  // once the build has loaded the file, before its workers do
    for (let i = 0; i < 10; i++) yield { id: String(i), text: 'a a a b' };
  }
  const err = await t.throwsAsync(buildIndex({ inputs: docs(), out, tokenizer: file, tokenizerWorkers: 2 }));
  t.is((err as { code?: string }).code, 'ERR_TOKENIZER_MISMATCH');
  t.false(fs.existsSync(path.join(out, 'manifest.json')));
  // Unchanged, the same build goes through (the check passes the tokenizer it loaded).
  const idx = await buildIndex({ inputs: docs(), out, tokenizer: file, tokenizerWorkers: 2 }).then(() => openIndex(out, { tokenizer: file }));
  t.is(await idx.count('a'), 30);
  t.is(await idx.count('b'), 10);
  idx.close();
});
