/**
 * Files that would crash the host process or answer wrongly through the JS API: a shard listed twice through a
 * link, and a file truncated in place under an open index. The core's own cases (damaged sa.bin, meta.bin,
 * unigram.bin, the mutation corpus) are in test/native.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildIndex, openIndex, TraceIndexError } from '../lib';
import * as O from './helpers/oracle';

const scratch = O.tmpDir('reliability');
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));
let n = 0;

const r = O.rng(1010);
const DOCS = O.randomDocs(r, 60, 1200, 5, 97).filter((d) => d.length > 0);
const TEXTS = DOCS.map((d) => Buffer.from(d).toString('latin1'));
// Starts with the largest byte of the alphabet ('e'), so its suffix-array range lies far past the first page
// of sa.bin: a truncation keeps that page (zeroed past the new end), and a search confined to it by the
// sampled keys would read zeros there without a fault.
const PROBE = TEXTS[3].slice(TEXTS[3].indexOf('e', 10), TEXTS[3].indexOf('e', 10) + 3);
const manifestOf = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));

async function fresh(): Promise<string> {
  const out = path.join(scratch, `idx-${n++}`);
  await buildIndex({ inputs: TEXTS.map((text, i) => ({ text, id: `d${i}` })), out });
  return out;
}

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return e instanceof TraceIndexError ? e.code : `not a TraceIndexError: ${String(e)}`;
  }
  return undefined;
}

test('a shard listed twice through a symlink is refused, not counted twice', async (t) => {
  const dir = await fresh();
  const m = manifestOf(dir);
  t.is(m.shards.length, 1);
  const copy = { ...m.shards[0], dir: 'shard-alias' };
  fs.symlinkSync(m.shards[0].dir, path.join(dir, copy.dir));
  m.shards.push(copy);
  m.tokens *= 2;
  m.documents *= 2;
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(m));
  let err: unknown;
  try {
    (await openIndex(dir)).close();
  } catch (e) {
    err = e;
  }
  t.true(err instanceof TraceIndexError);
  t.is((err as TraceIndexError).code, 'ERR_INDEX_CORRUPT');
  t.regex((err as Error).message, /listed twice/);
});

test('a file truncated in place under an open index gives ERR_IO, and the process lives', async (t) => {
  const dir = await fresh(), other = await fresh();
  const idx = await openIndex(dir), untouched = await openIndex(other);
  const want = O.count(DOCS, Array.from(Buffer.from(PROBE, 'latin1')));
  t.true(want > 0);
  t.is(await idx.count(PROBE), want);
  // What docs/FORMAT.md forbids: rewriting a file of an open index in place. Its pages past the new end vanish.
  const sa = path.join(dir, manifestOf(dir).shards[0].dir, 'sa.bin');
  t.true(fs.statSync(sa).size > 16 * 4096);
  fs.truncateSync(sa, 64);
  t.is(await codeOf(idx.count(PROBE)), 'ERR_IO');
  t.is(await codeOf(() => idx.countSync(PROBE)), 'ERR_IO');
  t.is(await codeOf(idx.locate(PROBE)), 'ERR_IO');
  t.is(await untouched.count(PROBE), want);
  idx.close();
  untouched.close();
});

test('verify({ quick: true }) and openIndex(dir, { verify }) refuse a suffix array out of order that open alone accepts', async (t) => {
  const dir = await fresh();
  const m = manifestOf(dir);
  const sa = path.join(dir, m.shards[0].dir, 'sa.bin');
  const width = m.shards[0].pointerWidth as number;
  const buf = fs.readFileSync(sa);
  // Reverse the order of the entries (64-byte header, then little-endian pointers): every entry stays in
  // range, every adjacent pair is out of order.
  const entries = (buf.length - 64) / width;
  const out = Buffer.from(buf);
  for (let i = 0; i < entries; i++) buf.copy(out, 64 + (entries - 1 - i) * width, 64 + i * width, 64 + (i + 1) * width);
  const good = await openIndex(dir);
  const ok = await good.verify({ quick: true });
  t.deepEqual(ok, { files: 0, bytes: ok.bytes, shards: 1, quick: true });
  t.true(ok.bytes > 0);
  good.close();
  fs.writeFileSync(sa, out);
  const opened = await openIndex(dir); // open checks headers and sizes, not order
  t.is(await codeOf(opened.verify({ quick: true })), 'ERR_INDEX_CORRUPT');
  t.is(await codeOf(opened.verify()), 'ERR_INDEX_CORRUPT');
  opened.close();
  t.is(await codeOf(openIndex(dir, { verify: 'quick' })), 'ERR_INDEX_CORRUPT');
  t.is(await codeOf(openIndex(dir, { verify: 'full' })), 'ERR_INDEX_CORRUPT');
  t.is(await codeOf(openIndex(dir, { verify: 'fast' as never })), 'ERR_INVALID_ARGUMENT');
  const cli = spawnSync(process.execPath, [O.CLI, 'verify', dir, '--quick'], { encoding: 'utf8' });
  t.is(cli.status, 1);
  t.regex(cli.stderr, /ERR_INDEX_CORRUPT/);
});
