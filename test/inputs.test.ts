import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as v8 from 'node:v8';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { TraceIndexError } from '../lib/errors';
import { buildIndex, openIndex } from '../lib/index';
import { resolveInputs } from '../lib/inputs/paths';
import { createSkipCollector, DocumentRecord, ReadOptions } from '../lib/inputs/records';
import { readDocuments } from '../lib/inputs/streams';
import { addon } from '../lib/native';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'traceindex-inputs-'));
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));

let dirCounter = 0;
/** A fresh directory holding `files` (relative path → contents). */
function makeDir(files: Record<string, string | Buffer>): string {
  const dir = path.join(scratch, `case${dirCounter++}`);
  for (const [rel, contents] of Object.entries(files)) {
    const full = path.join(dir, rel);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, contents);
  }
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

async function collect(inputs: Parameters<typeof readDocuments>[0], options?: ReadOptions): Promise<DocumentRecord[]> {
  const out: DocumentRecord[] = [];
  for await (const doc of readDocuments(inputs, options)) out.push(doc);
  return out;
}

/** Records yielded before the generator threw, and the error. */
async function collectUntilError(inputs: Parameters<typeof readDocuments>[0], options?: ReadOptions): Promise<{ docs: DocumentRecord[]; error: TraceIndexError }> {
  const docs: DocumentRecord[] = [];
  try {
    for await (const doc of readDocuments(inputs, options)) docs.push(doc);
  } catch (error) {
    if (!(error instanceof TraceIndexError)) throw error;
    return { docs, error };
  }
  throw new Error(`expected an error, got ${docs.length} documents`);
}

const jsonl = (...rows: unknown[]): string => rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';

// ---------------------------------------------------------------------------
// Formats

test('a .txt file is one document with id relative to the input root and meta.path', async (t) => {
  const dir = makeDir({ 'notes.txt': 'line one\nline two\n' });
  const file = path.join(dir, 'notes.txt');
  t.deepEqual(await collect([file]), [{ text: 'line one\nline two\n', id: 'notes.txt', meta: { path: file } }]);
});

test('.txt: a UTF-8 BOM is dropped, other bytes kept verbatim (CRLF included)', async (t) => {
  const dir = makeDir({ 'bom.txt': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('héllo\r\nworld')]) });
  const docs = await collect([path.join(dir, 'bom.txt')]);
  t.is(docs[0].text, 'héllo\r\nworld');
});

test('.jsonl: one record per line, default ids file:line, other fields as meta', async (t) => {
  const dir = makeDir({ 'a.jsonl': jsonl({ text: 'alpha', source: 'web', n: 1 }, { text: 'beta' }, { text: 'gamma', id: 'g-1' }) });
  const file = path.join(dir, 'a.jsonl');
  t.deepEqual(await collect([file]), [
    { text: 'alpha', id: `${file}:1`, meta: { source: 'web', n: 1 } },
    { text: 'beta', id: `${file}:2` },
    { text: 'gamma', id: 'g-1' },
  ]);
});

test('.jsonl: blank and whitespace-only lines are skipped silently but still count for line numbers', async (t) => {
  const dir = makeDir({ 'b.jsonl': '\n{"text":"one"}\n\n   \n\t\n{"text":"two"}\n\n' });
  const file = path.join(dir, 'b.jsonl');
  t.deepEqual(await collect([file]), [
    { text: 'one', id: `${file}:2` },
    { text: 'two', id: `${file}:6` },
  ]);
});

test('.jsonl: CRLF line endings and a missing final newline', async (t) => {
  const dir = makeDir({ 'crlf.jsonl': '{"text":"one"}\r\n{"text":"two\\r\\n"}\r\n\r\n{"text":"three"}' });
  const file = path.join(dir, 'crlf.jsonl');
  t.deepEqual(await collect([file]), [
    { text: 'one', id: `${file}:1` },
    { text: 'two\r\n', id: `${file}:2` },
    { text: 'three', id: `${file}:4` },
  ]);
});

test('.jsonl: multi-byte UTF-8 split across read chunks decodes intact', async (t) => {
  const text = '日本語テキスト🙂'.repeat(20000); // one line far larger than a 64 KiB read chunk
  const dir = makeDir({ 'wide.jsonl': jsonl({ text }, { text: 'ß' }) });
  const docs = await collect([path.join(dir, 'wide.jsonl')]);
  t.is(docs.length, 2);
  t.is(docs[0].text, text);
  t.is(docs[1].text, 'ß');
});

test('.jsonl.gz is gunzipped (including multi-member gzip)', async (t) => {
  const part1 = zlib.gzipSync(jsonl({ text: 'one' }, { text: 'two', id: 2 }));
  const part2 = zlib.gzipSync(jsonl({ text: 'three' }));
  const dir = makeDir({ 'c.jsonl.gz': Buffer.concat([part1, part2]) });
  const file = path.join(dir, 'c.jsonl.gz');
  t.deepEqual(await collect([file]), [
    { text: 'one', id: `${file}:1` },
    { text: 'two', id: '2' },
    { text: 'three', id: `${file}:3` },
  ]);
});

// zstd: test/fixtures/docs.jsonl.zst was made with the zstd CLI (two frames: `zstd -19` of the first two
// lines, `zstd -3` of the rest, concatenated; content checksums on). Tests make other zstd data with
// zstdRawFrame, a minimal encoder (stored blocks), so they need no zstd binary.
const ZST_FIXTURE = path.join(__dirname, '..', '..', 'test', 'fixtures', 'docs.jsonl.zst');

function fixtureLongText(): string {
  let long = '';
  for (let i = 0; i < 30000; i++) long += 'w' + ((i * 7919) % 10007) + ' ';
  return long;
}

/** A zstd frame of raw (stored) blocks of at most 128 KiB, without content size or checksum. */
function zstdRawFrame(data: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38])]; // magic, descriptor, window 2^17
  let offset = 0;
  do {
    const size = Math.min(1 << 17, data.length - offset);
    parts.push(zstdBlockHeader(size, offset + size >= data.length), data.subarray(offset, offset + size));
    offset += size;
  } while (offset < data.length);
  return Buffer.concat(parts);
}

function zstdBlockHeader(size: number, last: boolean, type = 0): Buffer {
  const header = size * 8 + type * 2 + (last ? 1 : 0);
  return Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff]);
}

function zstdSkippableFrame(payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(0x184d2a50, 0);
  header.writeUInt32LE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

test('.jsonl.zst that decodes to many times its size gives the event loop a turn every MiB decoded (it held it for a whole read chunk)', async (t) => {
  // 64 documents of 1 MiB of 'a', each 8 RLE blocks of 128 KiB: 64 MiB from 2.5 kB, all of it in one read chunk.
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38])];
  const raw = (s: string, last = false) => parts.push(zstdBlockHeader(s.length, last), Buffer.from(s));
  for (let d = 0; d < 64; d++) {
    raw('{"text":"');
    for (let b = 0; b < 8; b++) parts.push(zstdBlockHeader(1 << 17, false, 1), Buffer.from('a'));
    raw('"}\n', d === 63);
  }
  const dir = makeDir({ 'rle.jsonl.zst': Buffer.concat(parts) });
  let turns = 0;
  let on = true;
  const tick = () => {
    if (!on) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  let docs = 0;
  let chars = 0;
  for await (const d of readDocuments([path.join(dir, 'rle.jsonl.zst')])) {
    docs++;
    chars += d.text!.length;
  }
  on = false;
  t.is(docs, 64);
  t.is(chars, 64 * 2 ** 20);
  t.true(turns >= 63, `${turns} turns of the event loop while 64 MiB were decoded`);
});

test('.jsonl.zst (zstd CLI fixture, two frames, a 177 kB line over several blocks) reads like .jsonl', async (t) => {
  const docs = await collect([ZST_FIXTURE]);
  t.deepEqual(docs, [
    { text: 'alpha', id: 'a' },
    { text: '日本語テキスト🙂 ß', id: `${ZST_FIXTURE}:2`, meta: { src: 'zst' } },
    { text: fixtureLongText(), id: 'long' },
    { text: 'omega', id: `${ZST_FIXTURE}:5` },
  ]);
});

test('.jsonl.zst: skippable frames, stored blocks, frames split mid-line, an empty file', async (t) => {
  const text = jsonl({ text: 'one' }, { text: 'two', id: 2 }, { text: 'three' });
  const cut = text.indexOf('two'); // the second frame starts inside line 2
  const dir = makeDir({
    'multi.jsonl.zst': Buffer.concat([
      zstdSkippableFrame(Buffer.from('metadata')),
      zstdRawFrame(Buffer.from(text.slice(0, cut))),
      zstdSkippableFrame(Buffer.alloc(0)),
      zstdRawFrame(Buffer.from(text.slice(cut))),
    ]),
    'empty.jsonl.zst': Buffer.alloc(0),
    'empty-frame.jsonl.zst': zstdRawFrame(Buffer.alloc(0)),
  });
  const file = path.join(dir, 'multi.jsonl.zst');
  t.deepEqual(await collect([file]), [
    { text: 'one', id: `${file}:1` },
    { text: 'two', id: '2' },
    { text: 'three', id: `${file}:3` },
  ]);
  t.deepEqual(await collect([path.join(dir, 'empty.jsonl.zst'), path.join(dir, 'empty-frame.jsonl.zst')]), []);
});

// The decoder's window is native memory V8 does not count (up to 32 MiB a file): end() and close() free it at
// once, and the reader closes it however it stops (found by review: 16 files read in turn held +33 MiB each until
// a full collection).
test('ZstdDecoder: end() and close() free the decoder; a later decode or end is ERR_INVALID_ARGUMENT; close is idempotent', async (t) => {
  const data = Buffer.from(jsonl({ text: 'one' }));
  const frame = zstdRawFrame(data);
  const closedCode = (f: () => unknown) => (t.throws(f) as { code?: string }).code;
  const d = new addon.ZstdDecoder();
  const r = await d.decode(frame, 1 << 20);
  t.deepEqual([Buffer.from(r.output), r.consumed, r.more], [data, frame.length, false]);
  d.end();
  t.is(closedCode(() => d.decode(frame, 1)), 'ERR_INVALID_ARGUMENT');
  t.is(closedCode(() => d.end()), 'ERR_INVALID_ARGUMENT');
  d.close();
  d.close();
  const e = new addon.ZstdDecoder();
  const head = Buffer.from((await e.decode(frame.subarray(0, 12), 1 << 20)).output);
  t.deepEqual(head, data.subarray(0, head.length));
  e.close();
  t.is(closedCode(() => e.decode(frame.subarray(10), 1)), 'ERR_INVALID_ARGUMENT');
  // A truncated frame still fails end() (and frees the decoder).
  const f = new addon.ZstdDecoder();
  await f.decode(frame.subarray(0, frame.length - 1), 1 << 20);
  t.is(closedCode(() => f.end()), 'ERR_BAD_INPUT');
  t.is(closedCode(() => f.end()), 'ERR_INVALID_ARGUMENT');
  // Bad arguments.
  const g = new addon.ZstdDecoder();
  t.is(closedCode(() => g.decode(frame, 0)), 'ERR_INVALID_ARGUMENT');
  t.is(closedCode(() => g.decode([1, 2] as unknown as Uint8Array, 1)), 'ERR_INVALID_ARGUMENT');
  g.close();
});

// Decoding runs on the thread pool, one call at a time per decoder: a call while one is under way is refused (the
// stream is not shared), and close() during a call lets the call end before the window is freed.
test('ZstdDecoder: calls return about `limit` bytes in order; a call or end() while one is under way is refused; close() while one is under way does not crash', async (t) => {
  const data = Buffer.from(Array.from({ length: 150_000 }, (_, i) => `line ${i} ${(i * 7919) % 10007}\n`).join(''));
  const frame = zstdRawFrame(data);
  const limit = 100_000, step = 1 << 17;  // ZSTD_DStreamOutSize(): a call may pass the limit by less than one step
  const d = new addon.ZstdDecoder();
  const pieces: Buffer[] = [];
  let input: Buffer = frame, more = true;
  while (input.length > 0 || more) {
    const call = d.decode(input, limit);
    const busy = t.throws(() => d.decode(input, limit)) as TraceIndexError;
    t.is(busy.code, 'ERR_INVALID_ARGUMENT');
    t.regex(busy.message, /^a decode is under way on this zstd decoder/);
    t.is((t.throws(() => d.end()) as TraceIndexError).code, 'ERR_INVALID_ARGUMENT');
    const r = await call;
    t.true(r.output.length < limit + step, `${r.output.length} bytes out of one call`);
    pieces.push(Buffer.from(r.output));
    input = input.subarray(r.consumed);
    more = r.more;
  }
  d.end();
  t.true(pieces.length >= Math.ceil(data.length / (limit + step)), `${pieces.length} calls`);
  t.true(Buffer.concat(pieces).equals(data));
  // Closed while a call is under way: the call settles (its output, or the data's error), later calls are refused.
  for (const [input, bad] of [[frame, false], [Buffer.from('not zstd at all, not at all'), true]] as const) {
    for (let k = 0; k < 20; k++) {
      const e = new addon.ZstdDecoder();
      const call = e.decode(input, 1 << 20);
      e.close();
      t.is((t.throws(() => e.decode(input, 1)) as TraceIndexError).code, 'ERR_INVALID_ARGUMENT');
      if (bad) await t.throwsAsync(call, { code: 'ERR_BAD_INPUT' });
      else t.true(data.subarray(0, (await call).output.length).equals((await call).output));
    }
  }
});

test('corrupt or truncated zstd → ERR_BAD_INPUT naming the file, after the documents before the damage', async (t) => {
  const fixture = fs.readFileSync(ZST_FIXTURE);
  const firstFrame = fixture.subarray(0, 93); // `zstd -19` of the first two lines
  t.deepEqual([...firstFrame.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd]);
  t.deepEqual([...fixture.subarray(93, 97)], [0x28, 0xb5, 0x2f, 0xfd]);
  const badMagic = Buffer.from(fixture);
  badMagic[94] ^= 0xff;
  const stored = zstdRawFrame(Buffer.from(jsonl({ text: 'kept' })));
  const reservedBlock = Buffer.concat([stored, Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38]), zstdBlockHeader(4, true, 3), Buffer.from('abcd')]);
  const cases: Array<[string, Buffer, number]> = [
    ['plain.jsonl.zst', Buffer.from(jsonl({ text: 'not zstd' })), 0],
    ['zz.jsonl.zst', Buffer.from('zz'), 0],
    ['truncated.jsonl.zst', fixture.subarray(0, fixture.length >> 1), 2],
    ['bad-second-magic.jsonl.zst', badMagic, 2],
    ['reserved-block.jsonl.zst', reservedBlock, 1],
    ['cut-header.jsonl.zst', Buffer.concat([stored, Buffer.from([0x28, 0xb5, 0x2f])]), 1],
  ];
  // The fixture's frames carry a content checksum (descriptor bit 2): one flipped byte of it is damage too.
  t.is((fixture[4] >> 2) & 1, 1);
  const badChecksum = Buffer.from(fixture);
  badChecksum[92] ^= 0x01;
  const dir = makeDir({ ...Object.fromEntries(cases.map(([name, body]) => [name, body])), 'bad-checksum.jsonl.zst': badChecksum });
  for (const [name, , before] of cases) {
    const file = path.join(dir, name);
    const { docs, error } = await collectUntilError([file]);
    t.is(error.code, 'ERR_BAD_INPUT', name);
    t.true(error.message.startsWith(`${file}: corrupt zstd data (`), error.message);
    t.is(docs.length, before, name);
  }
  const file = path.join(dir, 'bad-checksum.jsonl.zst');
  const { docs, error } = await collectUntilError([file]);
  t.is(error?.message, `${file}: corrupt zstd data (Restored data doesn't match checksum)`);
  t.true(docs.length <= 2);  // at most the frame's own lines, decoded before its checksum is read
});

// A frame of 140 000 one-byte stored blocks in a 2^25 window: decoding is linear in the data (fzstd, used before,
// moved its whole 32 MiB window for every block: about a millisecond each, minutes for this file of 560 kB).
test('a zstd frame of many tiny blocks decodes in time linear in its size', async (t) => {
  t.timeout(30_000);
  const line = Buffer.from(jsonl({ text: 'ab' }));  // 14 bytes
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 15 << 3])];  // window 2^(10+15)
  const blocks = line.length * 10_000;
  for (let i = 0; i < blocks; i++) parts.push(zstdBlockHeader(1, i === blocks - 1), line.subarray(i % line.length, i % line.length + 1));
  const dir = makeDir({ 'tiny-blocks.jsonl.zst': Buffer.concat(parts) });
  const docs = await collect([path.join(dir, 'tiny-blocks.jsonl.zst')]);
  t.is(docs.length, 10_000);
  t.true(docs.every((d) => d.text === 'ab'));
});

// A decoder allocates a frame's declared window (up to 2 GB) from its header alone: 20 such frames of 25 bytes each
// took a build to 23 GB (fzstd). Frames whose window is above 2^25 are refused before the decoder sees them.
test('zstd frames declaring windows above 2^25 bytes are ERR_BAD_INPUT before any is allocated; 2^25 itself reads', async (t) => {
  const block = Buffer.concat([zstdBlockHeader(16, true), Buffer.from('{"text":"hi"}\n\n\n')]);
  const frame = (descriptor: number[]) => Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, ...descriptor]), block]);
  const big = (exponent: number, mantissa: number) => frame([0x00, (exponent << 3) | mantissa]);  // window 2^(10+e) * (1 + m/8)
  const single = (size: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(size); return frame([0xa0, ...b]); };  // single segment, 4-byte content size
  const cases: Array<[string, Buffer, number | undefined]> = [
    ['w1.875G.jsonl.zst', Buffer.concat(Array.from({ length: 20 }, () => big(20, 7))), 1_006_632_960 * 2],
    ['w2^25+.jsonl.zst', Buffer.concat([zstdRawFrame(Buffer.from(jsonl({ text: 'kept' }))), big(15, 1)]), 2 ** 25 + 2 ** 22],
    ['single-segment-1G.jsonl.zst', single(2 ** 30), 2 ** 30],
    // descriptor 0xa2: single segment, a 2-byte dictionary id before the 4-byte content size
    ['single-segment-dict-1G.jsonl.zst', frame([0xa2, 0x07, 0x00, 0x00, 0x00, 0x00, 0x40]), 2 ** 30],
    ['skippable-then-big.jsonl.zst', Buffer.concat([zstdSkippableFrame(Buffer.alloc(300)), big(16, 0)]), 2 ** 26],
    ['w2^25.jsonl.zst', big(15, 0), undefined],
  ];
  const dir = makeDir(Object.fromEntries(cases.map(([name, body]) => [name, body])));
  for (const [name, , window] of cases) {
    const file = path.join(dir, name);
    if (window === undefined) {
      t.deepEqual((await collect([file])).map((d) => d.text), ['hi'], name);
      continue;
    }
    const { docs, error } = await collectUntilError([file]);
    t.is(error?.code, 'ERR_BAD_INPUT', name);
    t.is(error?.message, `${file}: a zstd frame needs a window of ${window} bytes, more than the 33554432 this reader supports (recompress at a lower level, without --long)`);
    t.deepEqual(docs.map((d) => d.text), name.startsWith('w2^25+') ? ['kept'] : [], name);
  }
});

test('nested text field via dotted path; its parent stays in meta without it', async (t) => {
  const dir = makeDir({
    'n.jsonl': jsonl(
      { doc: { body: 'first', lang: 'en' }, src: 'w' },
      { doc: { body: 'second' }, src: 'x' },
    ),
  });
  const file = path.join(dir, 'n.jsonl');
  t.deepEqual(await collect([file], { textField: 'doc.body' }), [
    { text: 'first', id: `${file}:1`, meta: { doc: { lang: 'en' }, src: 'w' } },
    { text: 'second', id: `${file}:2`, meta: { src: 'x' } },
  ]);
});

test('idField: strings kept, numbers stringified, nested path works', async (t) => {
  const dir = makeDir({ 'ids.jsonl': jsonl({ text: 'a', uid: 'u1' }, { text: 'b', uid: 42 }, { text: 'c', uid: 1.5 }, { text: 'd', x: { k: 'deep' } }) });
  const file = path.join(dir, 'ids.jsonl');
  t.deepEqual(
    (await collect([file], { idField: 'uid', metaFields: 'none' })).map((d) => d.id),
    ['u1', '42', '1.5', `${file}:4`],
  );
  t.deepEqual((await collect([file], { idField: 'x.k', metaFields: 'none' })).map((d) => d.id), [`${file}:1`, `${file}:2`, `${file}:3`, 'deep']);
});

test('metaFields: all / none / a list (missing listed fields omitted, dotted names kept flat)', async (t) => {
  const dir = makeDir({ 'm.jsonl': jsonl({ id: 'r1', text: 't', a: 1, b: { c: 2, d: 3 }, e: null }, { id: 'r2', text: 'u' }) });
  const file = path.join(dir, 'm.jsonl');
  t.deepEqual(await collect([file]), [
    { text: 't', id: 'r1', meta: { a: 1, b: { c: 2, d: 3 }, e: null } },
    { text: 'u', id: 'r2' },
  ]);
  t.deepEqual(await collect([file], { metaFields: 'none' }), [
    { text: 't', id: 'r1' },
    { text: 'u', id: 'r2' },
  ]);
  t.deepEqual(await collect([file], { metaFields: ['a', 'b.c', 'e', 'missing'] }), [
    { text: 't', id: 'r1', meta: { a: 1, 'b.c': 2, e: null } },
    { text: 'u', id: 'r2' },
  ]);
});

test('tokensField: pre-tokenized ids, text and tokens fields both left out of meta', async (t) => {
  const dir = makeDir({ 't.jsonl': jsonl({ ids: [5, 0, 65535, 4294967295], text: 'raw', lang: 'en' }, { ids: [] }) });
  const file = path.join(dir, 't.jsonl');
  t.deepEqual(await collect([file], { tokensField: 'ids' }), [
    { tokens: [5, 0, 65535, 4294967295], id: `${file}:1`, meta: { lang: 'en' } },
    { tokens: [], id: `${file}:2` },
  ]);
});

// ---------------------------------------------------------------------------
// Paths, directories, globs

function corpusDir(): string {
  return makeDir({
    'b.jsonl': jsonl({ text: 'B1' }, { text: 'B2' }),
    'a.txt': 'A',
    'a-b.txt': 'AB',
    'sub/z.txt': 'Z',
    'sub/c.jsonl.gz': zlib.gzipSync(jsonl({ text: 'C1' })),
    'sub/deeper/d.jsonl': jsonl({ text: 'D1', id: 'd' }),
    'README.md': '# not input',
    'data.json': '{"text":"not read"}',
    '.hidden.jsonl': jsonl({ text: 'hidden' }),
    '.git/x.jsonl': jsonl({ text: 'hidden dir' }),
  });
}

test('directories are walked recursively, sorted component-wise, other types and hidden entries ignored', async (t) => {
  const dir = corpusDir();
  const p = (rel: string) => path.join(dir, rel);
  t.deepEqual(await resolveInputs([dir]), [p('a-b.txt'), p('a.txt'), p('b.jsonl'), p('sub/c.jsonl.gz'), p('sub/deeper/d.jsonl'), p('sub/z.txt')]);
  t.deepEqual(await collect([dir]), [
    { text: 'AB', id: 'a-b.txt', meta: { path: p('a-b.txt') } },
    { text: 'A', id: 'a.txt', meta: { path: p('a.txt') } },
    { text: 'B1', id: `${p('b.jsonl')}:1` },
    { text: 'B2', id: `${p('b.jsonl')}:2` },
    { text: 'C1', id: `${p('sub/c.jsonl.gz')}:1` },
    { text: 'D1', id: 'd' },
    { text: 'Z', id: 'sub/z.txt', meta: { path: p('sub/z.txt') } },
  ]);
});

test('resolveInputs sorts across arguments and de-duplicates files reached twice', async (t) => {
  const dir = corpusDir();
  const p = (rel: string) => path.join(dir, rel);
  t.deepEqual((await resolveInputs([p('sub'), p('b.jsonl'), p('a.txt'), `${dir}/*.txt`, p('sub/z.txt')])).map((f) => path.relative(dir, f)), [
    'a-b.txt', 'a.txt', 'b.jsonl', 'sub/c.jsonl.gz', 'sub/deeper/d.jsonl', 'sub/z.txt',
  ]);
  // The first spelling of a file is the one kept.
  const relativeA = path.relative(process.cwd(), p('a.txt'));
  t.deepEqual(await resolveInputs([relativeA, p('a.txt')]), [relativeA]);
});

test('globs: * within a component, ** across directories, ? for one character', async (t) => {
  const dir = corpusDir();
  const rel = async (pattern: string) => (await resolveInputs([pattern])).map((f) => path.relative(dir, f));
  t.deepEqual(await rel(`${dir}/*.jsonl`), ['b.jsonl']);
  t.deepEqual(await rel(`${dir}/*`), ['a-b.txt', 'a.txt', 'b.jsonl']);
  t.deepEqual(await rel(`${dir}/**/*.txt`), ['a-b.txt', 'a.txt', 'sub/z.txt']);
  t.deepEqual(await rel(`${dir}/**`), ['a-b.txt', 'a.txt', 'b.jsonl', 'sub/c.jsonl.gz', 'sub/deeper/d.jsonl', 'sub/z.txt']);
  t.deepEqual(await rel(`${dir}/s*/*.gz`), ['sub/c.jsonl.gz']);
  t.deepEqual(await rel(`${dir}/sub/**/d.jsonl`), ['sub/deeper/d.jsonl']);
  t.deepEqual(await rel(`${dir}/?.txt`), ['a.txt']);
  const error = await t.throwsAsync(resolveInputs([`${dir}/*.parquet`]), { instanceOf: TraceIndexError });
  t.is(error?.code, 'ERR_BAD_INPUT');
  t.true(error?.message.includes(`${dir}/*.parquet`));
});

/** Runs `body` (async JS with resolveInputs/readDocuments in scope) in a child process; returns its JSON output. */
function runChild(body: string, options: { cwd?: string; input?: string } = {}): unknown {
  const inputs = path.join(__dirname, '..', 'lib', 'inputs');
  const script = `
    const { readDocuments } = require(${JSON.stringify(path.join(inputs, 'streams.js'))});
    const { resolveInputs } = require(${JSON.stringify(path.join(inputs, 'paths.js'))});
    (async () => { ${body} })().then(
      (out) => process.stdout.write(JSON.stringify(out)),
      (e) => process.stdout.write(JSON.stringify({ code: e.code, message: e.message })));`;
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', ...options });
  return JSON.parse(result.stdout);
}

test('relative glob and relative .txt ids (child process: workers cannot chdir)', (t) => {
  const dir = corpusDir();
  t.deepEqual(runChild(`return resolveInputs(['*.txt', 'sub/*.txt']);`, { cwd: dir }), ['a-b.txt', 'a.txt', 'sub/z.txt']);
  t.deepEqual(
    runChild(`const out = []; for await (const d of readDocuments(['sub/z.txt', 'a.txt'])) out.push(d); return out;`, { cwd: dir }),
    [{ text: 'A', id: 'a.txt', meta: { path: 'a.txt' } }, { text: 'Z', id: 'sub/z.txt', meta: { path: 'sub/z.txt' } }],
  );
});

test('a missing path fails before any document is yielded', async (t) => {
  const dir = corpusDir();
  const missing = path.join(dir, 'nope.jsonl');
  const { docs, error } = await collectUntilError([path.join(dir, 'b.jsonl'), missing]);
  t.deepEqual(docs, []);
  t.is(error.code, 'ERR_BAD_INPUT');
  t.is(error.message, `input not found: ${missing}`);
  await t.throwsAsync(resolveInputs([dir, path.join(dir, 'missing-dir')]), { code: 'ERR_BAD_INPUT', message: /missing-dir/ } as never);
});

test('unsupported file types are rejected up front; .jsonl.zst is an input type', async (t) => {
  const dir = makeDir({ 'x.csv': 'a,b\n', 'y.jsonl.zst': 'zz', 'z/q.jsonl.ZST': 'zz', 'z/ok.jsonl': jsonl({ text: 'x' }), 'z/n.zst': 'zz', 'empty/README': 'r' });
  const check = async (inputs: string[], message: string) => {
    const error = await t.throwsAsync(resolveInputs(inputs), { instanceOf: TraceIndexError });
    t.is(error?.code, 'ERR_BAD_INPUT');
    t.is(error?.message, message);
  };
  await check([path.join(dir, 'x.csv')], `${path.join(dir, 'x.csv')}: unsupported input type (expected .txt, .jsonl, .jsonl.gz or .jsonl.zst)`);
  await check([path.join(dir, 'z/n.zst')], `${path.join(dir, 'z/n.zst')}: unsupported input type (expected .txt, .jsonl, .jsonl.gz or .jsonl.zst)`);
  await check([path.join(dir, 'empty')], `no .txt, .jsonl, .jsonl.gz or .jsonl.zst files in directory ${path.join(dir, 'empty')}`);
  t.deepEqual(await resolveInputs([path.join(dir, 'y.jsonl.zst')]), [path.join(dir, 'y.jsonl.zst')]);
  t.deepEqual(await resolveInputs([path.join(dir, 'z')]), [path.join(dir, 'z/ok.jsonl'), path.join(dir, 'z/q.jsonl.ZST')]);
  t.deepEqual(await resolveInputs([`${dir}/**/*.jsonl.zst`]), [path.join(dir, 'y.jsonl.zst')]);
});

// ---------------------------------------------------------------------------
// Bad lines

const badLineCases: Array<{ name: string; line: string; reason: string; options?: ReadOptions }> = [
  { name: 'invalid JSON', line: '{"text": "unterminated', reason: 'invalid JSON (' },
  { name: 'array', line: '["text"]', reason: 'expected a JSON object, got array' },
  { name: 'string', line: '"just a string"', reason: 'expected a JSON object, got string' },
  { name: 'null', line: 'null', reason: 'expected a JSON object, got null' },
  { name: 'missing text', line: '{"body": "x"}', reason: "missing text field 'text'" },
  { name: 'text not a string', line: '{"text": 12}', reason: "text field 'text' is not a string (got number)" },
  { name: 'nested text missing', line: '{"doc": "flat"}', reason: "missing text field 'doc.body'", options: { textField: 'doc.body' } },
  { name: 'tokens missing', line: '{"text": "x"}', reason: "missing tokens field 'ids'", options: { tokensField: 'ids' } },
  { name: 'tokens negative', line: '{"ids": [1, -1]}', reason: "tokens field 'ids' is not an array of non-negative integers (element 1 is -1)", options: { tokensField: 'ids' } },
  { name: 'tokens fractional', line: '{"ids": [0.5]}', reason: "tokens field 'ids' is not an array of non-negative integers (element 0 is 0.5)", options: { tokensField: 'ids' } },
  { name: 'tokens string element', line: '{"ids": ["7"]}', reason: "tokens field 'ids' is not an array of non-negative integers (element 0 is string)", options: { tokensField: 'ids' } },
  { name: 'tokens not array', line: '{"ids": "1 2 3"}', reason: "tokens field 'ids' is not an array of non-negative integers (got string)", options: { tokensField: 'ids' } },
  { name: 'id null', line: '{"text": "x", "id": null}', reason: "id field 'id' must be a string or finite number (got null)" },
  { name: 'id boolean', line: '{"text": "x", "id": true}', reason: "id field 'id' must be a string or finite number (got boolean)" },
  { name: 'id object', line: '{"text": "x", "id": {"a": 1}}', reason: "id field 'id' must be a string or finite number (got object)" },
  // Regression (fixed): an id that JSON reads as Infinity was "must be a string or number (got number)".
  { name: 'id infinite', line: '{"text": "x", "id": 1e400}', reason: "id field 'id' must be a string or finite number (got Infinity)" },
  // An integer id past 2^53 - 1 lost digits in JSON.parse (it became 12345678901234567000): refused, never stored rounded.
  { name: 'id beyond 2^53', line: '{"text": "x", "id": 12345678901234567890}', reason: "id field 'id' is an integer beyond 2^53 - 1 (read as 12345678901234567000: JSON numbers this large lose digits); write the id as a string" },
  { name: 'id 2^53', line: '{"text": "x", "id": 9007199254740993}', reason: "id field 'id' is an integer beyond 2^53 - 1 (read as 9007199254740992: JSON numbers this large lose digits); write the id as a string" },
  { name: 'id below -2^53', line: '{"text": "x", "id": -9007199254740992}', reason: "id field 'id' is an integer beyond 2^53 - 1 (read as -9007199254740992: JSON numbers this large lose digits); write the id as a string" },
  { name: 'nested id beyond 2^53', line: '{"doc": {"body": "x"}, "m": {"id": 1e300}}', reason: "id field 'm.id' is an integer beyond 2^53 - 1 (read as 1e+300: JSON numbers this large lose digits); write the id as a string", options: { textField: 'doc.body', idField: 'm.id' } },
];

for (const { name, line, reason, options } of badLineCases) {
  test(`bad line (${name}) throws ERR_BAD_INPUT naming file:line, after yielding earlier lines`, async (t) => {
    const good = options?.tokensField ? { ids: [1] } : options?.textField ? { doc: { body: 'ok' } } : { text: 'ok' };
    const dir = makeDir({ 'bad.jsonl': jsonl(good, '', line, good) });
    const file = path.join(dir, 'bad.jsonl');
    const { docs, error } = await collectUntilError([file], options);
    t.is(docs.length, 1);
    t.is(error.code, 'ERR_BAD_INPUT');
    t.true(error.message.startsWith(`${file}:3: ${reason}`), error.message);
  });
}

test('numeric ids up to 2^53 - 1 keep every digit; larger ones as strings are kept exactly; skipBadLines skips the larger numbers', async (t) => {
  const dir = makeDir({ 'ids.jsonl': jsonl(
    '{"text": "a", "id": 9007199254740991}', '{"text": "b", "id": -9007199254740991}', '{"text": "c", "id": 0}', '{"text": "d", "id": 1.5}',
    '{"text": "e", "id": "12345678901234567890"}', '{"text": "f", "id": 12345678901234567890}', '{"text": "g", "id": 7}') });
  const file = path.join(dir, 'ids.jsonl');
  const skip = createSkipCollector();
  const docs = await collect([file], { skipBadLines: true, onSkip: skip.onSkip });
  t.deepEqual(docs.map((d) => [d.text, d.id]), [['a', '9007199254740991'], ['b', '-9007199254740991'], ['c', '0'], ['d', '1.5'], ['e', '12345678901234567890'], ['g', '7']]);
  t.deepEqual(skip.first, [{ file, line: 6, reason: "id field 'id' is an integer beyond 2^53 - 1 (read as 12345678901234567000: JSON numbers this large lose digits); write the id as a string" }]);
});

test('duplicate ids are kept as they are; a lookup by id returns the first document (in build order) that has it', async (t) => {
  const dir = makeDir({ 'a.jsonl': jsonl({ id: 'x', text: 'first' }, { id: 'y', text: 'other' }), 'b.jsonl': jsonl({ id: 'x', text: 'second' }, { id: 7, text: 'seven' }, { id: '7', text: 'seven again' }) });
  const out = path.join(dir, 'idx');
  await buildIndex({ inputs: [dir], out, shardTokens: 16 });
  const idx = await openIndex(out);
  try {
    t.true(idx.info.shards.length > 1, 'the duplicates in different shards');
    t.deepEqual((await Promise.all([0, 1, 2, 3, 4].map((n) => idx.document(n)))).map((d) => [d.id, d.text]),
      [['x', 'first'], ['y', 'other'], ['x', 'second'], ['7', 'seven'], ['7', 'seven again']]);
    t.is((await idx.document('x')).document, 0);
    t.is(idx.documentSync('x').text, 'first');
    t.is((await idx.document('7')).text, 'seven');
  } finally {
    idx.close();
  }
});

test('bad line inside .jsonl.gz names the .gz file and line', async (t) => {
  const dir = makeDir({ 'bad.jsonl.gz': zlib.gzipSync(jsonl({ text: 'a' }, { text: 'b' }, '{oops')) });
  const file = path.join(dir, 'bad.jsonl.gz');
  const { docs, error } = await collectUntilError([file]);
  t.is(docs.length, 2);
  t.is(error.code, 'ERR_BAD_INPUT');
  t.true(error.message.startsWith(`${file}:3: invalid JSON (`), error.message);
});

test('skipBadLines reports exactly the skipped lines and keeps every good one', async (t) => {
  const dir = makeDir({
    'mixed.jsonl': jsonl({ text: 'one' }, 'not json', { text: 'two' }, [1, 2], '', { text: 3 }, { text: 'three', id: false }, { text: 'four' }),
  });
  const file = path.join(dir, 'mixed.jsonl');
  const skipped: Array<{ file: string; line: number; reason: string }> = [];
  const docs = await collect([file], { skipBadLines: true, onSkip: (bad) => skipped.push(bad) });
  t.deepEqual(docs, [
    { text: 'one', id: `${file}:1` },
    { text: 'two', id: `${file}:3` },
    { text: 'four', id: `${file}:8` },
  ]);
  t.deepEqual(
    skipped.map(({ file: f, line }) => ({ f, line })),
    [2, 4, 6, 7].map((line) => ({ f: file, line })),
  );
  t.regex(skipped[0].reason, /^invalid JSON \(/);
  t.deepEqual(skipped.slice(1).map((s) => s.reason), [
    'expected a JSON object, got array',
    "text field 'text' is not a string (got number)",
    "id field 'id' must be a string or finite number (got boolean)",
  ]);

  const collector = createSkipCollector(2);
  await collect([file], { skipBadLines: true, onSkip: collector.onSkip });
  t.is(collector.skipped, 4);
  t.deepEqual(collector.first.map((b) => b.line), [2, 4]);
});

test('skipBadLines without onSkip still reports: one summary warning', async (t) => {
  const dir = makeDir({ 'w.jsonl': jsonl({ text: 'a' }, '{bad', '[]') });
  const file = path.join(dir, 'w.jsonl');
  const warned = once(process, 'warning');
  const docs = await collect([file], { skipBadLines: true });
  t.is(docs.length, 1);
  const [warning] = (await warned) as [Error & { code?: string }];
  t.is(warning.code, 'TRACEINDEX_SKIPPED_INPUT');
  t.true(warning.message.startsWith(`skipped 2 bad input line(s); first: ${file}:2: invalid JSON`), warning.message);
});

test('corrupt or truncated gzip → ERR_BAD_INPUT naming the file', async (t) => {
  const body = zlib.gzipSync(jsonl(...Array.from({ length: 2000 }, (_, i) => ({ text: `document number ${i} ${'x'.repeat(i % 50)}` }))));
  const corrupted = Buffer.from(body);
  for (let i = 100; i < 140; i++) corrupted[i] ^= 0x5a;
  const dir = makeDir({ 'corrupt.jsonl.gz': corrupted, 'truncated.jsonl.gz': body.subarray(0, body.length >> 1), 'plain.jsonl.gz': jsonl({ text: 'not gzip' }) });
  for (const name of ['corrupt.jsonl.gz', 'truncated.jsonl.gz', 'plain.jsonl.gz']) {
    const file = path.join(dir, name);
    const { error } = await collectUntilError([file]);
    t.is(error.code, 'ERR_BAD_INPUT', name);
    t.true(error.message.startsWith(`${file}: corrupt gzip data`), error.message);
  }
});

// ---------------------------------------------------------------------------
// Abort, options

test('abort mid-stream throws ERR_ABORTED at the next record', async (t) => {
  const dir = makeDir({ 'many.jsonl': jsonl(...Array.from({ length: 100 }, (_, i) => ({ text: `t${i}` }))) });
  const controller = new AbortController();
  const seen: string[] = [];
  const error = await t.throwsAsync(
    (async () => {
      for await (const doc of readDocuments([path.join(dir, 'many.jsonl')], { signal: controller.signal })) {
        seen.push(doc.text!);
        if (seen.length === 3) controller.abort();
      }
    })(),
    { instanceOf: TraceIndexError },
  );
  t.is(error?.code, 'ERR_ABORTED');
  t.deepEqual(seen, ['t0', 't1', 't2']);

  const already = AbortSignal.abort(new Error('stop now'));
  const { docs, error: early } = await collectUntilError([{ text: 'x' }], { signal: already });
  t.deepEqual(docs, []);
  t.is(early.code, 'ERR_ABORTED');
  t.is(early.message, 'stop now');
});

test('invalid options → ERR_INVALID_ARGUMENT', async (t) => {
  for (const options of [{ metaFields: 'some' }, { textField: '' }, { idField: 'a..b' }, { onSkip: 3 }] as unknown as ReadOptions[]) {
    const { error } = await collectUntilError([{ text: 'x' }], options);
    t.is(error.code, 'ERR_INVALID_ARGUMENT', JSON.stringify(options));
  }
  const { error } = await collectUntilError(42 as never);
  t.is(error.code, 'ERR_INVALID_ARGUMENT');
});

// ---------------------------------------------------------------------------
// Iterables

test('sync iterable: normalised records, default ids are 0-based record numbers', async (t) => {
  const tokens = new Uint16Array([1, 2, 65535]);
  const docs = await collect([
    { text: 'a' },
    { tokens, id: 'tok' },
    { text: 'c', id: 7, meta: { k: 'v' } } as unknown as DocumentRecord,
    { tokens: [0, 4] },
  ]);
  t.deepEqual(docs, [
    { text: 'a', id: '0' },
    { tokens, id: 'tok' },
    { text: 'c', id: '7', meta: { k: 'v' } },
    { tokens: [0, 4], id: '3' },
  ]);
  t.is(docs[1].tokens, tokens); // typed arrays pass through uncopied
});

test('generators and async generators', async (t) => {
  function* sync(): Generator<DocumentRecord> {
    yield { text: 'x' };
    yield { text: 'y', id: 'why' };
  }
  async function* asyncGen(): AsyncGenerator<DocumentRecord> {
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      yield { tokens: new Uint32Array([i]) };
    }
  }
  t.deepEqual(await collect(sync()), [{ text: 'x', id: '0' }, { text: 'y', id: 'why' }]);
  t.deepEqual(await collect(asyncGen()), [0, 1, 2].map((i) => ({ tokens: new Uint32Array([i]), id: String(i) })));
});

test('bad iterable records: error names the record number; skipBadLines reports them', async (t) => {
  const records = [
    { text: 'ok' },
    { text: 5 },
    { text: 'a', tokens: [1] },
    {},
    { tokens: [1, -2] },
    { tokens: new Int32Array([3, -1]) },
    { tokens: 'abc' },
    { text: 'b', id: null },
    { text: 'c', meta: [1] },
    'plain string',
    { tokens: { length: -1 } },
    { tokens: { length: 1.5, 0: 1 } },
    { tokens: { length: NaN } },
    { text: 'last' },
  ] as unknown as DocumentRecord[];
  const { docs, error } = await collectUntilError(records);
  t.deepEqual(docs, [{ text: 'ok', id: '0' }]);
  t.is(error.code, 'ERR_BAD_INPUT');
  t.is(error.message, 'record 1: text is not a string (got number)');

  const skipped: Array<{ file: string; line: number; reason: string }> = [];
  const kept = await collect(records, { skipBadLines: true, onSkip: (bad) => skipped.push(bad) });
  t.deepEqual(kept, [{ text: 'ok', id: '0' }, { text: 'last', id: '13' }]);
  t.deepEqual(skipped, [
    { file: '<iterable>', line: 1, reason: 'text is not a string (got number)' },
    { file: '<iterable>', line: 2, reason: 'record has both text and tokens; give one' },
    { file: '<iterable>', line: 3, reason: 'record has neither text nor tokens' },
    { file: '<iterable>', line: 4, reason: 'tokens is not an array of non-negative integers (element 1 is -2)' },
    { file: '<iterable>', line: 5, reason: 'tokens is not an array of non-negative integers (element 1 is -1)' },
    { file: '<iterable>', line: 6, reason: 'tokens is not an array of non-negative integers (got string)' },
    { file: '<iterable>', line: 7, reason: 'id must be a string or finite number (got null)' },
    { file: '<iterable>', line: 8, reason: 'meta must be a plain object (got array)' },
    { file: '<iterable>', line: 9, reason: 'expected a document record object, got string' },
    { file: '<iterable>', line: 10, reason: 'tokens has no valid length (got -1)' },
    { file: '<iterable>', line: 11, reason: 'tokens has no valid length (got 1.5)' },
    { file: '<iterable>', line: 12, reason: 'tokens has no valid length (got NaN)' },
  ]);
});

// ---------------------------------------------------------------------------
// stdin (child process: the test worker's stdin is not ours to feed)

test("'-' reads JSONL from stdin, after the files", (t) => {
  const dir = makeDir({ 'f.jsonl': jsonl({ text: 'from file' }) });
  const read = `const out = []; for await (const d of readDocuments(['-', ${JSON.stringify(path.join(dir, 'f.jsonl'))}])) out.push(d); return out;`;
  t.deepEqual(runChild(read, { input: '{"text":"s1"}\r\n\n{"text":"s2","id":"x"}' }), [
    { text: 'from file', id: `${path.join(dir, 'f.jsonl')}:1` },
    { text: 's1', id: '<stdin>:1' },
    { text: 's2', id: 'x' },
  ]);
  t.deepEqual(runChild(read, { input: '{"text":"s1"}\nnope\n' }), { code: 'ERR_BAD_INPUT', message: `<stdin>:2: invalid JSON (${jsonErrorMessage('nope')})` });
});

function jsonErrorMessage(text: string): string {
  try {
    JSON.parse(text);
  } catch (err) {
    return (err as Error).message;
  }
  return '';
}

// ---------------------------------------------------------------------------
// Streaming large files (serial: heap measurements need the worker to themselves)

const BIG_LINES = 200_000;
const BIG_PAD = 'x'.repeat(380);

/** Writes a zstd frame of stored 128 KiB blocks as data comes (no zstd encoder needed). */
class RawZstdWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  constructor(private readonly out: fs.WriteStream) {
    out.write(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38]));
  }
  write(line: string): boolean {
    this.pending.push(Buffer.from(line));
    this.pendingBytes += Buffer.byteLength(line);
    let ok = true;
    while (this.pendingBytes >= 1 << 17) {
      const all = Buffer.concat(this.pending);
      ok = this.out.write(Buffer.concat([zstdBlockHeader(1 << 17, false), all.subarray(0, 1 << 17)]));
      this.pending = [all.subarray(1 << 17)];
      this.pendingBytes = all.length - (1 << 17);
    }
    return ok;
  }
  end(): void {
    const rest = Buffer.concat(this.pending);
    this.out.end(Buffer.concat([zstdBlockHeader(rest.length, true), rest]));
  }
}

async function writeBigFile(file: string, kind: 'jsonl' | 'jsonl.gz' | 'jsonl.zst'): Promise<number> {
  const out = fs.createWriteStream(file);
  const sink = kind === 'jsonl.gz' ? zlib.createGzip({ level: 1 }) : kind === 'jsonl.zst' ? new RawZstdWriter(out) : out;
  if (kind === 'jsonl.gz') (sink as zlib.Gzip).pipe(out);
  let bytes = 0;
  for (let i = 0; i < BIG_LINES; i++) {
    const line = `{"text":"doc ${i} ${BIG_PAD}","seq":${i}}\n`;
    bytes += line.length;
    if (!sink.write(line)) await once(kind === 'jsonl.zst' ? out : (sink as NodeJS.EventEmitter), 'drain');
  }
  sink.end();
  await once(out, 'close');
  return bytes;
}

for (const kind of ['jsonl', 'jsonl.gz', 'jsonl.zst'] as const) {
  test.serial(`streams a ${BIG_LINES}-line .${kind} file without holding it in memory`, async (t) => {
    t.timeout(120_000);
    const file = path.join(scratch, `big.${kind}`);
    const uncompressedBytes = await writeBigFile(file, kind);
    const baseline = v8.getHeapStatistics().used_heap_size;
    let peak = baseline;
    let count = 0;
    let seqSum = 0;
    for await (const doc of readDocuments([file])) {
      if (count % 5000 === 0) peak = Math.max(peak, v8.getHeapStatistics().used_heap_size);
      if (count === 123_456) t.is(doc.text, `doc 123456 ${BIG_PAD}`);
      seqSum += (doc.meta as { seq: number }).seq;
      count++;
    }
    fs.rmSync(file);
    t.is(count, BIG_LINES);
    t.is(seqSum, (BIG_LINES * (BIG_LINES - 1)) / 2);
    t.true(uncompressedBytes > 75e6);
    t.log(`heap growth peak ${((peak - baseline) / 1e6).toFixed(1)} MB for ${(uncompressedBytes / 1e6).toFixed(0)} MB of JSONL`);
    t.true(peak - baseline < uncompressedBytes / 3, `heap grew ${peak - baseline} bytes`);
  });
}

// The reader keeps one decode call ahead of what it hands on: stopping it then (a break, or damage further on) closes
// the decoder while that call runs; the call ends, its rejection (if any) goes nowhere, the next file reads.
test('.jsonl.zst: a reader stopped while a decode call is under way ends cleanly (no unhandled rejection), and reads again', async (t) => {
  const lines = Array.from({ length: 40_000 }, (_, i) => jsonl({ text: `document ${i} ${'y'.repeat(i % 97)}` })).join('');
  const good = zstdRawFrame(Buffer.from(lines));
  const damaged = Buffer.concat([good, Buffer.from('this is no zstd frame at all')]);
  const dir = makeDir({ 'good.jsonl.zst': good, 'damaged.jsonl.zst': damaged });
  const rejections: unknown[] = [];
  const onRejection = (why: unknown) => rejections.push(why);
  process.on('unhandledRejection', onRejection);
  try {
    for (const name of ['good.jsonl.zst', 'damaged.jsonl.zst']) {
      for (const stopAt of [0, 1, 5000, 39_999]) {
        let n = 0;
        for await (const doc of readDocuments([path.join(dir, name)])) {
          t.is(doc.text, `document ${n} ${'y'.repeat(n % 97)}`);
          if (n++ === stopAt) break;
        }
        t.is(n, stopAt + 1);
      }
    }
    const { docs, error } = await collectUntilError([path.join(dir, 'damaged.jsonl.zst')]);
    t.is(docs.length, 40_000);
    t.is(error.code, 'ERR_BAD_INPUT');
    t.true(error.message.startsWith(`${path.join(dir, 'damaged.jsonl.zst')}: corrupt zstd data (`), error.message);
    t.is((await collect([path.join(dir, 'good.jsonl.zst')])).length, 40_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    t.deepEqual(rejections, []);
  } finally {
    process.off('unhandledRejection', onRejection);
  }
});

test('breaking out early closes the file (generator return propagates)', async (t) => {
  const dir = makeDir({
    'e.jsonl': jsonl({ text: 'a' }, { text: 'b' }),
    'e.jsonl.gz': zlib.gzipSync(jsonl({ text: 'g' }, { text: 'h' })),
    'e.jsonl.zst': zstdRawFrame(Buffer.from(jsonl({ text: 'z' }, { text: 'y' }))),
  });
  for (const name of ['e.jsonl', 'e.jsonl.gz', 'e.jsonl.zst']) {
    const generator = readDocuments([path.join(dir, name)]);
    const first = await generator.next();
    t.false(first.done);
    t.deepEqual(await generator.return(undefined), { done: true, value: undefined });
    t.deepEqual(await generator.next(), { done: true, value: undefined });
  }
});

// ---------------------------------------------------------------------------
// Input that used to be changed or misreported silently

test('JSONL lines that are not valid UTF-8 are bad lines (file:line and byte), never read as U+FFFD', async (t) => {
  const lines = [
    Buffer.from('{"text":"good one"}'),
    Buffer.concat([Buffer.from('{"text":"caf'), Buffer.from([0xe9]), Buffer.from('"}')]), // Latin-1 é
    Buffer.from('{"text":"a genuine \uFFFD stays"}'),
    Buffer.concat([Buffer.from('{"text":"x'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]), // an encoded surrogate
    Buffer.concat([Buffer.from('{"text":"ok","id":"cut'), Buffer.from([0xe2, 0x82])]), // truncated at the end of the line
  ];
  const dir = makeDir({ 'mixed.jsonl': Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])) });
  const file = path.join(dir, 'mixed.jsonl');
  const { docs, error } = await collectUntilError([file]);
  t.deepEqual(docs.map((d) => d.text), ['good one']);
  t.is(error.code, 'ERR_BAD_INPUT');
  t.is(error.message, `${file}:2: not valid UTF-8 (byte 12 of the line)`);
  const skips = createSkipCollector();
  const kept = await collect([file], { skipBadLines: true, onSkip: skips.onSkip });
  t.deepEqual(kept.map((d) => d.text), ['good one', 'a genuine \uFFFD stays']);
  t.deepEqual(skips.first, [
    { file, line: 2, reason: 'not valid UTF-8 (byte 12 of the line)' },
    { file, line: 4, reason: 'not valid UTF-8 (byte 10 of the line)' },
    { file, line: 5, reason: 'not valid UTF-8 (byte 22 of the line)' },
  ]);
});

test('JSON nested deeper than 1000 levels is a bad line with file:line (a build fails with ERR_BAD_INPUT, not a stack overflow)', async (t) => {
  const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
  // The record object is level 1, so its field nests depth - 1 more.
  const dir = makeDir({
    'ok.jsonl': jsonl({ text: 'x' }, `{"text":"deepest allowed","m":${nested(999)}}`),
    'deep.jsonl': jsonl({ text: 'x' }, `{"text":"y","m":${nested(1000)}}`),
    'very-deep.jsonl': jsonl({ text: 'x' }, `{"text":"y","m":${nested(100_000)}}`),
  });
  const ok = await collect([path.join(dir, 'ok.jsonl')]);
  t.is(ok.length, 2);
  for (const name of ['deep.jsonl', 'very-deep.jsonl']) {
    const file = path.join(dir, name);
    const { docs, error } = await collectUntilError([file]);
    t.is(docs.length, 1);
    t.is(error.code, 'ERR_BAD_INPUT');
    t.is(error.message, `${file}:2: JSON nested deeper than 1000 levels`);
    const err = await t.throwsAsync(buildIndex({ inputs: [file], out: path.join(scratch, `deep-${name}`) }));
    t.is((err as TraceIndexError).code, 'ERR_BAD_INPUT');
    t.true(err!.message.startsWith(`${file}:2: `), err!.message);
  }
  // The deepest allowed metadata is written and read back intact.
  const out = path.join(scratch, 'deep-ok');
  await buildIndex({ inputs: [path.join(dir, 'ok.jsonl')], out });
  const idx = await openIndex(out);
  let m = (await idx.document(1)).metadata!.m as unknown[];
  let depth = 1;
  while (Array.isArray(m) && m.length > 0) {
    m = m[0] as unknown[];
    depth++;
  }
  t.is(depth, 999);
  idx.close();
  // Caller-supplied metadata: too deep, or cyclic.
  const deepMeta: Record<string, unknown> = {};
  let at = deepMeta;
  for (let i = 0; i < 100_000; i++) at = (at.a = {}) as Record<string, unknown>;
  const cyclic: Record<string, unknown> = { name: 'loop' };
  cyclic.self = cyclic;
  for (const meta of [deepMeta, cyclic]) {
    const e = await t.throwsAsync(buildIndex({ inputs: [{ text: 'ok' }, { text: 'x', meta }], out: path.join(scratch, 'deep-meta') }));
    t.is((e as TraceIndexError).code, 'ERR_BAD_INPUT');
    t.regex(e!.message, /^record 1: meta is nested deeper than 1000 levels/);
  }
});

test('a line longer than 256 MiB is ERR_BAD_INPUT with file:line, found before it is held whole; skipBadLines reads on', async (t) => {
  t.timeout(120_000);
  const file = path.join(scratch, 'long-line.jsonl.gz');
  const gz = zlib.createGzip({ level: 1 });
  const sink = fs.createWriteStream(file);
  gz.pipe(sink);
  const mib = Buffer.alloc(1 << 20, 'a');
  gz.write('{"text":"before"}\n{"text":"');
  for (let i = 0; i < 300; i++) if (!gz.write(mib)) await once(gz, 'drain');
  gz.end('"}\n{"text":"after"}\n');
  await once(sink, 'close');
  const { docs, error } = await collectUntilError([file]);
  t.deepEqual(docs.map((d) => d.text), ['before']);
  t.is(error.code, 'ERR_BAD_INPUT');
  t.is(error.message, `${file}:2: line longer than 256 MiB (the limit)`);
  const skipped: number[] = [];
  const kept = await collect([file], { skipBadLines: true, onSkip: (b) => skipped.push(b.line) });
  t.deepEqual(kept.map((d) => [d.text, d.id]), [['before', `${file}:1`], ['after', `${file}:3`]]);
  t.deepEqual(skipped, [2]);
  fs.rmSync(file);
  // A .txt document over the limit is refused by its size, unread (a sparse file here).
  const big = path.join(scratch, 'huge.txt');
  fs.writeFileSync(big, '');
  fs.truncateSync(big, (256 << 20) + 1);
  const huge = await collectUntilError([big]);
  t.is(huge.error.code, 'ERR_BAD_INPUT');
  t.is(huge.error.message, `${big}: 268435457 bytes, more than the 268435456 allowed`);
  fs.rmSync(big);
});

test('a .txt file that is not valid UTF-8: the bytes tokenizer indexes its raw bytes; text tokenizers count the U+FFFD substitutions', async (t) => {
  const raw = Buffer.concat([
    Buffer.from('ab'), Buffer.from([0xe9]), Buffer.from('cd'), // a Latin-1 é
    Buffer.from([0xc3, 0x28]), // a lead byte without its continuation
    Buffer.from('\uFFFD'), // a genuine U+FFFD (EF BF BD): not a substitution
    Buffer.from(' tail'),
  ]);
  const dir = makeDir({ 'latin1.txt': raw, 'clean.txt': 'plain text' });
  const file = path.join(dir, 'latin1.txt');
  const bytesIdx = path.join(scratch, 'raw-bytes');
  const r = await buildIndex({ inputs: [dir], out: bytesIdx });
  t.is(r.replacements, 0);
  const idx = await openIndex(bytesIdx);
  const doc = await idx.document('latin1.txt');
  t.deepEqual(Array.from(doc.tokens), Array.from(raw), 'the index holds the file\'s bytes');
  t.is(await idx.count([0x62, 0xe9, 0x63]), 1);
  t.is(await idx.count('\uFFFD'), 1);
  t.is((await idx.document('clean.txt')).text, 'plain text');
  idx.close();
  // A text tokenizer reads the text with U+FFFD for each invalid sequence, and says how many.
  const warnings: string[] = [];
  const onWarning = (w: Error & { code?: string }) => { if (w.code === 'TRACEINDEX_INVALID_UTF8') warnings.push(w.message); };
  process.on('warning', onWarning);
  try {
    const tok = path.join(__dirname, '..', '..', 'test', 'fixtures', 'tiny-bpe.tokenizer.json');
    const r2 = await buildIndex({ inputs: [dir], out: path.join(scratch, 'replaced'), tokenizer: tok, tokenizerWorkers: 0 });
    t.is(r2.replacements, 2);
    await new Promise((res) => setImmediate(res));
    t.true(warnings.some((w) => w.includes('replaced 2 invalid UTF-8 sequence(s) with U+FFFD in 1 .txt file(s); first: ' + file)), warnings.join('\n'));
  } finally {
    process.off('warning', onWarning);
  }
  // 0xFF cannot be a bytes token (it is the separator): refused, naming the offset.
  const ff = makeDir({ 'ff.txt': Buffer.from([0x61, 0x62, 0xff, 0x63]) });
  const err = await t.throwsAsync(buildIndex({ inputs: [ff], out: path.join(scratch, 'ff') }));
  t.is((err as TraceIndexError).code, 'ERR_BAD_INPUT');
  t.is(err!.message, `${path.join(ff, 'ff.txt')}: byte 0xFF at offset 2 is not UTF-8 and cannot be indexed by the bytes tokenizer (0xFF is its document separator)`);
});
