/**
 * Document input: streams DocumentRecords out of .txt, .jsonl, .jsonl.gz and .jsonl.zst files (listed by
 * ./paths), stdin (JSONL) or caller-supplied iterables.
 * zstd is decoded by fzstd (pure JS, streaming; Node 20's zlib has no zstd).
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { pipeline, Transform } from 'node:stream';
import { TraceIndexError, throwIfAborted } from '../errors';
import { InputKind, inputKind, resolveInputs, STDIN_PATH, unreadablePath } from './paths';
import { badInput, createSkipCollector, DocumentRecord, FieldPlan, planFields, ReadOptions, recordFromJson, recordFromValue } from './records';

/** File name used for stdin in default ids, error messages and onSkip reports. */
export const STDIN_NAME = '<stdin>';
/** File name used for records of an iterable in onSkip reports; `line` is then the 0-based record number. */
export const ITERABLE_NAME = '<iterable>';

/** Splits a byte stream into lines (LF or CRLF, final line may lack a newline) without buffering more than one line. */
async function* splitLines(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  let pending: Buffer[] = [];
  let firstLine = true;
  const decode = (bytes: Buffer): string => {
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 0x0d) end--;
    let line = bytes.toString('utf8', 0, end);
    if (firstLine) {
      firstLine = false;
      if (line.charCodeAt(0) === 0xfeff) line = line.slice(1); // UTF-8 BOM
    }
    return line;
  };
  for await (const chunk of chunks) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let start = 0;
    for (let newline = bytes.indexOf(0x0a, start); newline !== -1; newline = bytes.indexOf(0x0a, start)) {
      const tail = bytes.subarray(start, newline);
      const line = pending.length > 0 ? Buffer.concat([...pending, tail]) : tail;
      pending = [];
      start = newline + 1;
      yield decode(line);
    }
    if (start < bytes.length) pending.push(bytes.subarray(start));
  }
  if (pending.length > 0) yield decode(Buffer.concat(pending));
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

interface ZstdDecompressor { push(chunk: Uint8Array, final?: boolean): void }
type ZstdModule = { Decompress: new (ondata: (data: Uint8Array, final?: boolean) => void) => ZstdDecompressor };

/**
 * Decompresses a zstd stream (any number of frames, skippable frames included) chunk by chunk; corrupt or
 * truncated data throws ERR_BAD_INPUT naming the file. fzstd checks the frame structure but not the optional
 * content checksum, and supports back-references up to 2^25 bytes (all levels below --ultra 20).
 */
async function* zstdChunks(source: AsyncIterable<Buffer>, file: string): AsyncGenerator<Buffer> {
  const { Decompress } = require('fzstd') as ZstdModule; // loaded when a .zst file is read
  const out: Buffer[] = [];
  const decompressor = new Decompress((data) => {
    // fzstd hands out a fresh array per block, so it can be kept without copying.
    if (data.length > 0) out.push(Buffer.from(data.buffer, data.byteOffset, data.length));
  });
  // Yields what was decoded before a failure (as gunzip does), then throws.
  async function* push(chunk: Uint8Array, final: boolean): AsyncGenerator<Buffer> {
    let failure: unknown;
    try {
      decompressor.push(chunk, final);
    } catch (err) {
      failure = badInput(`${file}: corrupt zstd data (${(err as Error)?.message ?? String(err)})`, err);
    }
    while (out.length > 0) yield out.shift()!;
    if (failure) throw failure;
  }
  for await (const chunk of source) yield* push(chunk, false);
  yield* push(new Uint8Array(0), true);
}

/** Lines of a JSONL file, decompressed when needed; read errors become TraceIndexErrors naming the file. */
async function* fileLines(file: string, kind: InputKind, onBytes?: (bytes: number) => void): AsyncGenerator<string> {
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

async function* stdinLines(): AsyncGenerator<string> {
  try {
    // Leave stdin open if the consumer stops early.
    yield* splitLines(process.stdin.iterator({ destroyOnReturn: false }));
  } catch (err) {
    throw readFailure(STDIN_NAME, err);
  }
}

async function* jsonlDocuments(lines: AsyncIterable<string>, file: string, plan: FieldPlan): AsyncGenerator<DocumentRecord> {
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    throwIfAborted(plan.signal);
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      skipOrThrow(plan, file, lineNumber, `invalid JSON (${(err as Error).message})`, `${file}:${lineNumber}`);
      continue;
    }
    const record = recordFromJson(value, `${file}:${lineNumber}`, plan);
    if (typeof record === 'string') skipOrThrow(plan, file, lineNumber, record, `${file}:${lineNumber}`);
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

async function readTextFile(file: string): Promise<string> {
  try {
    const text = await fsp.readFile(file, 'utf8');
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } catch (err) {
    throw readFailure(file, err);
  }
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
      const text = await readTextFile(file);
      plan.onBytes?.(Buffer.byteLength(text));
      throwIfAborted(plan.signal);
      yield { text, id: relative, meta: { path: file } };
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
