/**
 * Document input: streams DocumentRecords out of .txt, .jsonl, .jsonl.gz and .jsonl.zst files (listed by
 * ./paths), stdin (JSONL) or caller-supplied iterables.
 * zstd is decoded by the reference decoder in the addon (Node 20's zlib has no zstd).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { pipeline, Transform } from 'node:stream';
import { TraceIndexError, throwIfAborted } from '../errors';
import { addon } from '../native';
import { InputKind, inputKind, resolveInputs, STDIN_PATH, unreadablePath } from './paths';
import { readRegularFileAsync } from './files';
import {
  badInput, createSkipCollector, DocumentRecord, FieldPlan, markInvalidUtf8, MAX_JSON_DEPTH, nestedDeeperThan, planFields, ReadOptions,
  recordFromJson, recordFromValue,
} from './records';

/** File name used for stdin in default ids, error messages and onSkip reports. */
export const STDIN_NAME = '<stdin>';
/** File name used for records of an iterable in onSkip reports; `line` is then the 0-based record number. */
export const ITERABLE_NAME = '<iterable>';

/**
 * Longest JSONL line, and largest .txt file, read: one document must fit in a JavaScript string with room to
 * spare. Longer ones are bad input (ERR_BAD_INPUT with file:line), found before they are held in memory.
 */
export const MAX_DOCUMENT_BYTES = 256 << 20;

/** Yielded by splitLines for a line longer than the limit (in place of the line, whose bytes are dropped). */
const TOO_LONG = Symbol('line too long');
type Line = Buffer | typeof TOO_LONG;

/**
 * Splits a byte stream into lines of raw bytes (LF or CRLF, final line may lack a newline) without buffering
 * more than one line: a line reaching past `maxBytes` yields TOO_LONG at once and is skipped to its end.
 */
async function* splitLines(chunks: AsyncIterable<Buffer | string>, maxBytes = MAX_DOCUMENT_BYTES): AsyncGenerator<Line> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let discarding = false;
  const strip = (line: Buffer) => (line.length > 0 && line[line.length - 1] === 0x0d ? line.subarray(0, line.length - 1) : line);
  for await (const chunk of chunks) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let start = 0;
    for (let newline = bytes.indexOf(0x0a, start); newline !== -1; newline = bytes.indexOf(0x0a, start)) {
      const tail = bytes.subarray(start, newline);
      start = newline + 1;
      if (discarding) {
        discarding = false;
        continue;
      }
      const over = pendingBytes + tail.length > maxBytes;
      const line = over ? null : pending.length > 0 ? Buffer.concat([...pending, tail]) : tail;
      pending = [];
      pendingBytes = 0;
      yield line ? strip(line) : TOO_LONG;
    }
    if (start < bytes.length && !discarding) {
      const rest = bytes.subarray(start);
      if (pendingBytes + rest.length > maxBytes) {
        pending = [];
        pendingBytes = 0;
        discarding = true;
        yield TOO_LONG;
      } else {
        pending.push(rest);
        pendingBytes += rest.length;
      }
    }
  }
  if (pending.length > 0) yield strip(Buffer.concat(pending));
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The text of UTF-8 bytes, or null when they are not valid UTF-8. */
function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

/** Offset of the first byte of the first invalid sequence in bytes that are not valid UTF-8 (for messages). */
function firstInvalidUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    const n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
    if (n === 0) return i;
    const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
    if (i + 1 >= b.length || b[i + 1] < lo || b[i + 1] > hi) return i;
    for (let k = 2; k <= n; k++) if (i + k >= b.length || (b[i + k] & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return b.length;
}

function isZlibError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}

function readFailure(file: string, err: unknown): TraceIndexError {
  if (err instanceof TraceIndexError) return err;
  if (isZlibError(err)) return badInput(`${file}: corrupt gzip data (${(err as Error).message})`, err);
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM') return unreadablePath(file, err);
  return new TraceIndexError('ERR_IO', `${file}: read failed (${(err as Error)?.message ?? String(err)})`, { cause: err });
}

/** The largest zstd window read (native/core/zstd_stream.hpp; zstd levels up to --ultra 20 stay within it). */
export const MAX_ZSTD_WINDOW = 2 ** 25;
/**
 * Decoded bytes per decode call: the JS thread splits and parses one call's output while the next decodes on the
 * thread pool (and a call's completion is a turn of the event loop).
 */
const ZSTD_CALL = 1024 * 1024;

/**
 * Walks the frame and block headers of a zstd stream as its bytes go by (RFC 8878, 3.1), to refuse a frame
 * whose window is above MAX_ZSTD_WINDOW with a message that says so, where it starts (the documents of the frames
 * before it are read). The decoder refuses such a frame too; bytes the walker cannot walk are left to it.
 */
class ZstdFrameWalker {
  private phase: 'magic' | 'skippable' | 'descriptor' | 'header' | 'block' | 'off' = 'magic';
  private need = 4;
  private head: number[] = [];
  private skip = 0;
  /** The frame header's layout, read from its descriptor byte (RFC 8878 3.1.1.1.1). */
  private layout = { single: false, dictionaryLength: 0, sizeLength: 0 };
  private checksum = false;
  private position = 0;    // bytes walked
  private frameStart = 0;  // where the current frame's magic number starts
  /** Set when a frame is refused: the error, and where that frame starts in the stream. */
  refusal: { at: number; error: Error } | undefined;

  constructor(private readonly refuse: (why: string) => Error) {}

  push(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length && this.phase !== 'off';) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, bytes.length - i);
        this.skip -= n;
        i += n;
        this.position += n;
        continue;
      }
      if (this.phase === 'magic' && this.head.length === 0) this.frameStart = this.position;
      this.head.push(bytes[i++]);
      this.position++;
      if (this.head.length === this.need) this.step();
    }
  }

  private next(phase: ZstdFrameWalker['phase'], need: number, skip = 0): void {
    this.phase = phase;
    this.need = need;
    this.skip = skip;
    this.head = [];
  }

  private step(): void {
    const h = this.head;
    const le = (from: number, n: number) => h.slice(from, from + n).reduceRight((v, b) => v * 256 + b, 0);
    switch (this.phase) {
      case 'magic': {
        const magic = le(0, 4);
        if (magic === 0xfd2fb528) return this.next('descriptor', 1);
        if (Math.floor(magic / 16) === 0x184d2a5) return this.next('skippable', 4);
        return this.next('off', 0);
      }
      case 'skippable':
        return this.next('magic', 4, le(0, 4));
      case 'descriptor': {
        const d = h[0], single = ((d >> 5) & 1) === 1, fcs = d >> 6;
        this.checksum = ((d >> 2) & 1) === 1;
        this.layout = { single, dictionaryLength: [0, 1, 2, 4][d & 3], sizeLength: fcs ? 1 << fcs : single ? 1 : 0 };
        const { dictionaryLength, sizeLength } = this.layout;
        return this.next('header', (single ? 0 : 1) + dictionaryLength + sizeLength);
      }
      case 'header': {
        const { single, dictionaryLength, sizeLength } = this.layout;
        if (!single) {
          const exponent = 10 + (h[0] >> 3), base = 2 ** exponent;
          return this.window(base + (base / 8) * (h[0] & 7));
        }
        // A single segment's window is its content size (a 2-byte field counts from 256).
        return this.window(le(dictionaryLength, sizeLength) + (sizeLength === 2 ? 256 : 0));
      }
      case 'block': {
        const v = le(0, 3), last = v & 1, type = (v >> 1) & 3, size = Math.floor(v / 8);
        if (type === 3) return this.next('off', 0);
        const body = type === 1 ? 1 : size;
        if (last) return this.next('magic', 4, body + (this.checksum ? 4 : 0));
        return this.next('block', 3, body);
      }
    }
  }

  private window(bytes: number): void {
    if (bytes <= MAX_ZSTD_WINDOW) return this.next('block', 3);
    const why = `a zstd frame needs a window of ${bytes} bytes, more than the ${MAX_ZSTD_WINDOW} this reader supports (recompress at a lower level, without --long)`;
    this.refusal = { at: this.frameStart, error: this.refuse(why) };
    this.next('off', 0);
  }
}

/**
 * Decompresses a zstd stream (any number of frames, skippable frames included) chunk by chunk; corrupt or
 * truncated data, or a content checksum that differs, throws ERR_BAD_INPUT naming the file. Back-references up to
 * 2^25 bytes (all levels below --ultra 20). Memory stays bounded: windows are checked before the decoder sees their
 * frame, and a call returns about ZSTD_CALL bytes. Decoding is linear in the output (the reference decoder, in the
 * addon; fzstd, used before, shifted its whole window for every block: a file of tiny blocks took hours), off the
 * JS thread, one call ahead of the reader.
 */
async function* zstdChunks(source: AsyncIterable<Buffer>, file: string): AsyncGenerator<Buffer> {
  const walker = new ZstdFrameWalker((why) => badInput(`${file}: ${why}`));
  const decoder = new addon.ZstdDecoder();
  const corrupt = (err: unknown) => badInput(`${file}: corrupt zstd data (${(err as Error)?.message ?? String(err)})`, err);
  const chunks = source[Symbol.asyncIterator]();
  let read = 0;                      // compressed bytes before the chunk being decoded
  let refusal: Error | undefined;    // the walker refused a frame: thrown once what precedes it is handed on
  /** The next compressed bytes, up to a refused frame; undefined at the end of the stream or of what is read. */
  const nextInput = async (): Promise<Uint8Array | undefined> => {
    if (refusal) return undefined;
    const next = await chunks.next();
    if (next.done) return undefined;
    const chunk: Buffer = next.value;
    walker.push(chunk);
    const refused = walker.refusal;
    if (refused) {
      refusal = refused.error;
      return chunk.subarray(0, Math.max(0, refused.at - read));
    }
    read += chunk.length;
    return chunk;
  };
  const start = (input: Uint8Array) => {
    let call: ReturnType<typeof decoder.decode>;
    try {
      call = decoder.decode(input, ZSTD_CALL);
    } catch (err) {
      call = Promise.reject(err);  // damage the call before found (its output was handed on first)
    }
    call.catch(() => {});  // awaited below, unless the reader stops first
    return call;
  };
  try {
    let input = await nextInput();
    let call = input && start(input);
    while (call) {
      let r: Awaited<typeof call>;
      try {
        r = await call;
      } catch (err) {
        throw corrupt(err);
      }
      input = input!.subarray(r.consumed);
      if (input.length === 0 && !r.more) input = await nextInput();
      call = input && start(input);  // decodes while what this one gave is parsed
      if (r.output.length > 0) yield r.output;
    }
    if (refusal) throw refusal;
    try {
      decoder.end();
    } catch (err) {
      throw corrupt(err);
    }
  } finally {
    decoder.close();  // its window is native memory V8 does not count: freed now (or when a call under way ends)
    await chunks.return?.();
  }
}

/** Lines of a JSONL file, decompressed when needed; read errors become TraceIndexErrors naming the file. */
async function* fileLines(file: string, kind: InputKind, onBytes?: (bytes: number) => void): AsyncGenerator<Line> {
  const source = fs.createReadStream(file);
  // Raw bytes are counted on their way to the decoder (for progress against the files' sizes).
  const raw = onBytes
    ? pipeline(source, new Transform({ transform(chunk: Buffer, _enc, done) { onBytes(chunk.length); done(null, chunk); } }), () => {})
    : source;
  const stream = kind === 'jsonl.gz' ? pipeline(raw, zlib.createGunzip(), () => {}) : raw;
  try {
    yield* splitLines(kind === 'jsonl.zst' ? zstdChunks(raw, file) : stream);
  } catch (err) {
    throw readFailure(file, err);
  } finally {
    stream.destroy();
    raw.destroy();
    source.destroy();
  }
}

async function* stdinLines(): AsyncGenerator<Line> {
  try {
    // Leave stdin open if the consumer stops early.
    yield* splitLines(process.stdin.iterator({ destroyOnReturn: false }));
  } catch (err) {
    throw readFailure(STDIN_NAME, err);
  }
}

/**
 * Records of JSONL lines. A line must be valid UTF-8 (JSON text is; a line that is not is bad, so that the
 * index never holds U+FFFD in place of the corpus's bytes), at most MAX_DOCUMENT_BYTES long and nested at
 * most MAX_JSON_DEPTH deep.
 */
async function* jsonlDocuments(lines: AsyncIterable<Line>, file: string, plan: FieldPlan): AsyncGenerator<DocumentRecord> {
  let lineNumber = 0;
  for await (const bytes of lines) {
    lineNumber++;
    throwIfAborted(plan.signal);
    const where = `${file}:${lineNumber}`;
    if (bytes === TOO_LONG) {
      skipOrThrow(plan, file, lineNumber, `line longer than ${MAX_DOCUMENT_BYTES / 2 ** 20} MiB (the limit)`, where);
      continue;
    }
    let line = decodeUtf8(bytes);
    if (line === null) {
      skipOrThrow(plan, file, lineNumber, `not valid UTF-8 (byte ${firstInvalidUtf8(bytes)} of the line)`, where);
      continue;
    }
    if (lineNumber === 1 && line.charCodeAt(0) === 0xfeff) line = line.slice(1); // UTF-8 BOM
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      skipOrThrow(plan, file, lineNumber, `invalid JSON (${(err as Error).message})`, where);
      continue;
    }
    if (nestedDeeperThan(value, MAX_JSON_DEPTH)) {
      skipOrThrow(plan, file, lineNumber, `JSON nested deeper than ${MAX_JSON_DEPTH} levels`, where);
      continue;
    }
    const record = recordFromJson(value, where, plan);
    if (typeof record === 'string') skipOrThrow(plan, file, lineNumber, record, where);
    else yield record;
  }
}

function skipOrThrow(plan: FieldPlan, file: string, line: number, reason: string, where: string): void {
  if (!plan.skipBadLines) throw badInput(`${where}: ${reason}`);
  plan.onSkip?.({ file, line, reason });
}

/** Longest common directory of the files (absolute), or undefined when they share none (e.g. Windows drives). */
function commonDirectory(files: string[]): string | undefined {
  if (files.length === 0) return undefined;
  let common = path.dirname(path.resolve(files[0])).split(path.sep);
  for (const file of files.slice(1)) {
    const dir = path.dirname(path.resolve(file)).split(path.sep);
    let n = 0;
    while (n < common.length && n < dir.length && common[n] === dir[n]) n++;
    common = common.slice(0, n);
  }
  if (common.length === 0) return undefined;
  return common.length === 1 && common[0] === '' ? path.sep : common.join(path.sep);
}

/**
 * A .txt document: the file's text (BOM dropped). A file that is not valid UTF-8 is read with U+FFFD for the
 * invalid sequences, and the record carries the raw bytes and the count (invalidUtf8Of) for the build to
 * index the bytes as they are (bytes tokenizer) or report the replacements.
 */
async function readTextFile(file: string, id: string): Promise<{ record: DocumentRecord; bytes: number }> {
  let bytes: Buffer;
  try {
    bytes = await readRegularFileAsync(file, MAX_DOCUMENT_BYTES, (why) => badInput(`${file}: ${why}`));
  } catch (err) {
    throw readFailure(file, err);
  }
  const size = bytes.length;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
  const text = decodeUtf8(bytes);
  const record: DocumentRecord = { text: text ?? bytes.toString('utf8'), id, meta: { path: file } };
  if (text === null) {
    // Genuine U+FFFD (EF BF BD) in the file are not replacements.
    const replacements = countChar(record.text!, 0xfffd) - countBytes(bytes, REPLACEMENT_BYTES);
    markInvalidUtf8(record, { bytes, replacements });
  }
  return { record, bytes: size };
}

const REPLACEMENT_BYTES = Buffer.from([0xef, 0xbf, 0xbd]);

function countChar(text: string, code: number): number {
  let n = 0;
  for (let at = text.indexOf(String.fromCharCode(code)); at !== -1; at = text.indexOf(String.fromCharCode(code), at + 1)) n++;
  return n;
}

function countBytes(bytes: Buffer, needle: Buffer): number {
  let n = 0;
  for (let at = bytes.indexOf(needle); at !== -1; at = bytes.indexOf(needle, at + needle.length)) n++;
  return n;
}

async function* fileDocuments(paths: string[], plan: FieldPlan): AsyncGenerator<DocumentRecord> {
  const files = await resolveInputs(paths);
  const root = commonDirectory(files.filter((f) => f !== STDIN_PATH));
  for (const file of files) {
    throwIfAborted(plan.signal);
    if (file === STDIN_PATH) {
      yield* jsonlDocuments(stdinLines(), STDIN_NAME, plan);
      continue;
    }
    const kind = inputKind(file);
    if (kind === 'txt') {
      const relative = root === undefined ? file : path.relative(root, path.resolve(file)).split(path.sep).join('/');
      const { record, bytes } = await readTextFile(file, relative);
      plan.onBytes?.(bytes);
      throwIfAborted(plan.signal);
      yield record;
    } else {
      yield* jsonlDocuments(fileLines(file, kind!, plan.onBytes), file, plan);
    }
  }
}

async function* iterableDocuments(records: Iterable<DocumentRecord> | AsyncIterable<DocumentRecord>, plan: FieldPlan): AsyncGenerator<DocumentRecord> {
  let index = 0;
  for await (const value of records) {
    throwIfAborted(plan.signal);
    const record = recordFromValue(value, index);
    if (typeof record === 'string') skipOrThrow(plan, ITERABLE_NAME, index, record, `record ${index}`);
    else yield record;
    index++;
  }
}

function isPathList(inputs: unknown): inputs is string[] {
  return Array.isArray(inputs) && inputs.every((x) => typeof x === 'string');
}

function isRecordSource(inputs: unknown): inputs is Iterable<DocumentRecord> | AsyncIterable<DocumentRecord> {
  if (typeof inputs !== 'object' || inputs === null) return false; // strings are iterable too, but not records
  return typeof (inputs as Iterable<unknown>)[Symbol.iterator] === 'function' || typeof (inputs as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

/**
 * Stream documents from files (in the order resolveInputs gives) or from an (async)
 * iterable of DocumentRecord. Memory does not grow with file size (JSONL is streamed line
 * by line; a .txt file is one document and is read whole).
 *
 * Default ids: `<file>:<line>` for JSONL (1-based line, file as given, `<stdin>` for `-`),
 * the path relative to the files' common directory for .txt (with `/` separators), and
 * the 0-based record number for iterables. Field options apply to JSONL only.
 * With skipBadLines and no onSkip, a warning summarising the skipped lines is emitted at the end.
 */
export async function* readDocuments(
  inputs: string[] | Iterable<DocumentRecord> | AsyncIterable<DocumentRecord>,
  options: ReadOptions = {},
): AsyncGenerator<DocumentRecord> {
  const plan = planFields(options);
  let unreported: ReturnType<typeof createSkipCollector> | undefined;
  if (plan.skipBadLines && !plan.onSkip) {
    unreported = createSkipCollector(1);
    plan.onSkip = unreported.onSkip;
  }
  throwIfAborted(plan.signal);
  try {
    if (isPathList(inputs)) {
      yield* fileDocuments(inputs, plan);
    } else if (isRecordSource(inputs)) {
      yield* iterableDocuments(inputs, plan);
    } else {
      throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'inputs must be an array of paths or an (async) iterable of document records');
    }
  } finally {
    if (unreported && unreported.skipped > 0) {
      const first = unreported.first[0];
      process.emitWarning(`skipped ${unreported.skipped} bad input line(s); first: ${first.file}:${first.line}: ${first.reason}`, {
        code: 'TRACEINDEX_SKIPPED_INPUT',
      });
    }
  }
}
