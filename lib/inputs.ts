/**
 * Document input: expands input paths into files and streams DocumentRecords out of
 * .txt, .jsonl, .jsonl.gz and .jsonl.zst files, stdin (JSONL) or caller-supplied iterables.
 * zstd is decoded by fzstd (pure JS, streaming; Node 20's zlib has no zstd).
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { pipeline, Transform } from 'node:stream';
import { TraceIndexError, throwIfAborted } from './errors';

export interface DocumentRecord {
  text?: string;                       // one of text / tokens
  tokens?: ArrayLike<number>;          // pre-tokenized ids (number[] | Uint8Array | Uint16Array | Uint32Array)
  id?: string;                         // document id; see defaults below
  meta?: Record<string, unknown>;      // kept as document metadata (JSON-serialisable)
}

export interface ReadOptions {
  /** JSONL field holding the text; dotted path for nested fields ('a.b'); default 'text'. */
  textField?: string;
  /** JSONL field holding pre-tokenized ids instead of text (array of ints); default none. */
  tokensField?: string;
  /** Default 'id'; the value may be a string or a number (numbers become strings). */
  idField?: string;
  /** Other fields kept as meta; default 'all' (every field but the text/tokens and id fields). */
  metaFields?: string[] | 'all' | 'none';
  /** Default false: a bad line throws ERR_BAD_INPUT. */
  skipBadLines?: boolean;
  /** Called for every skipped line when skipBadLines is set. */
  onSkip?: (bad: BadLine) => void;
  signal?: AbortSignal;
  /** Called with the bytes read from input files as reading proceeds (compressed bytes for .gz/.zst). */
  onBytes?: (bytes: number) => void;
}

export interface BadLine { file: string; line: number; reason: string }

export interface SkipReport { skipped: number; first: BadLine[] }

/** The path that means "read JSONL from stdin". */
export const STDIN_PATH = '-';
/** File name used for stdin in default ids, error messages and onSkip reports. */
export const STDIN_NAME = '<stdin>';
/** File name used for records of an iterable in onSkip reports; `line` is then the 0-based record number. */
export const ITERABLE_NAME = '<iterable>';

const SUPPORTED_TYPES = '.txt, .jsonl, .jsonl.gz or .jsonl.zst';

type InputKind = 'txt' | 'jsonl' | 'jsonl.gz' | 'jsonl.zst';

/** Collects skipped lines for a summary: pass `onSkip` to readDocuments, read `skipped`/`first` afterwards. */
export function createSkipCollector(keepFirst = 10): SkipReport & { onSkip: (bad: BadLine) => void } {
  const report = {
    skipped: 0,
    first: [] as BadLine[],
    onSkip(bad: BadLine): void {
      report.skipped++;
      if (report.first.length < keepFirst) report.first.push(bad);
    },
  };
  return report;
}

// ---------------------------------------------------------------------------
// Path expansion

function badInput(message: string, cause?: unknown): TraceIndexError {
  return new TraceIndexError('ERR_BAD_INPUT', message, cause === undefined ? undefined : { cause });
}

/** Classifies a file by name; undefined for files we do not read. */
function inputKind(file: string): InputKind | undefined {
  const lower = file.toLowerCase();
  if (lower.endsWith('.jsonl.gz')) return 'jsonl.gz';
  if (lower.endsWith('.jsonl.zst')) return 'jsonl.zst';
  if (lower.endsWith('.jsonl')) return 'jsonl';
  if (lower.endsWith('.txt')) return 'txt';
  return undefined;
}

function unreadablePath(given: string, err: unknown): TraceIndexError {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return badInput(`input not found: ${given}`, err);
  if (code === 'EACCES' || code === 'EPERM') return badInput(`cannot read input ${given}: permission denied`, err);
  return badInput(`cannot read input ${given}: ${(err as Error)?.message ?? String(err)}`, err);
}

async function checkReadable(file: string): Promise<void> {
  try {
    await fsp.access(file, fs.constants.R_OK);
  } catch (err) {
    throw unreadablePath(file, err);
  }
}

const hasGlobChars = (s: string): boolean => /[*?]/.test(s);

/** Component-wise code-point order, so 'a/b' sorts before 'a-c' and 'a.b' (a directory's files stay together). */
function comparePaths(a: string, b: string): number {
  const pa = a.split(path.sep);
  const pb = b.split(path.sep);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] !== pb[i]) return pa[i] < pb[i] ? -1 : 1;
  }
  return pa.length - pb.length;
}

/**
 * Every regular file below `root` (following symlinks, skipping hidden entries), as
 * path.join(root, relative). `maxDepth` bounds how many directory levels are entered.
 */
async function listFiles(root: string, maxDepth = Infinity): Promise<string[]> {
  const files: string[] = [];
  const visitedDirs = new Set<string>();
  async function visit(dir: string, depth: number): Promise<void> {
    let entries: fs.Dirent[];
    try {
      const real = await fsp.realpath(dir);
      if (visitedDirs.has(real)) return; // symlink cycle
      visitedDirs.add(real);
      entries = await fsp.readdir(dir, { withFileTypes: true });
    } catch (err) {
      throw unreadablePath(dir, err);
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const st = await fsp.stat(full);
          isDir = st.isDirectory();
          isFile = st.isFile();
        } catch (err) {
          throw unreadablePath(full, err);
        }
      }
      if (isDir && depth + 1 < maxDepth) await visit(full, depth + 1);
      else if (isFile) files.push(full);
    }
  }
  await visit(root, 0);
  return files;
}

/** Keeps the files we read; checks each is readable. */
async function keepReadableInputs(files: string[]): Promise<string[]> {
  const kept = files.filter((f) => inputKind(f) !== undefined);
  for (const f of kept) await checkReadable(f);
  return kept;
}

function globComponentRegex(component: string): RegExp {
  const body = component
    .split('')
    .map((ch) => (ch === '*' ? '[^/]*' : ch === '?' ? '[^/]' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

/** `**` matches zero or more whole components; other components match one component each. */
function matchGlob(pattern: Array<RegExp | '**'>, components: string[]): boolean {
  if (pattern.length === 0) return components.length === 0;
  const [head, ...rest] = pattern;
  if (head === '**') {
    return matchGlob(rest, components) || (components.length > 0 && matchGlob(pattern, components.slice(1)));
  }
  return components.length > 0 && head.test(components[0]) && matchGlob(rest, components.slice(1));
}

async function expandGlob(given: string): Promise<string[]> {
  const components = given.split(/[\\/]/);
  const firstGlob = components.findIndex(hasGlobChars);
  const baseParts = components.slice(0, firstGlob);
  const base = baseParts.length === 0 ? '.' : baseParts.length === 1 && baseParts[0] === '' ? path.sep : baseParts.join(path.sep);
  const patternParts = components.slice(firstGlob).filter((c) => c !== '');
  const pattern = patternParts.map((c) => (c === '**' ? ('**' as const) : globComponentRegex(c)));
  const maxDepth = patternParts.includes('**') ? Infinity : patternParts.length;
  let baseStat: fs.Stats;
  try {
    baseStat = await fsp.stat(base);
  } catch (err) {
    throw unreadablePath(given, err);
  }
  if (!baseStat.isDirectory()) throw badInput(`input not found: ${given}`);
  const candidates = await listFiles(base, maxDepth);
  const matched = candidates.filter((f) => matchGlob(pattern, path.relative(base, f).split(path.sep)));
  const kept = await keepReadableInputs(matched);
  if (kept.length === 0) throw badInput(`no ${SUPPORTED_TYPES} files match ${given}`);
  return kept;
}

async function expandPath(given: string): Promise<string[]> {
  let st: fs.Stats;
  try {
    st = await fsp.stat(given);
  } catch (err) {
    if (hasGlobChars(given) && (err as NodeJS.ErrnoException)?.code === 'ENOENT') return expandGlob(given);
    throw unreadablePath(given, err);
  }
  if (st.isDirectory()) {
    const kept = await keepReadableInputs(await listFiles(given));
    if (kept.length === 0) throw badInput(`no ${SUPPORTED_TYPES} files in directory ${given}`);
    return kept;
  }
  if (inputKind(given) === undefined) throw badInput(`${given}: unsupported input type (expected ${SUPPORTED_TYPES})`);
  await checkReadable(given);
  return [given];
}

/**
 * Expand paths (files, directories recursively, simple globs with * and ** in the last
 * components) into a sorted, de-duplicated list of input files; fail before any work
 * starts on a missing or unreadable path (ERR_BAD_INPUT naming it) or a file type we do
 * not read. Directory walks and globs skip hidden entries and files of other types.
 * `-` (stdin) is kept, after the files.
 */
export async function resolveInputs(paths: string[]): Promise<string[]> {
  if (!Array.isArray(paths)) throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'input paths must be an array of strings');
  const byAbsolutePath = new Map<string, string>();
  let readStdin = false;
  for (const given of paths) {
    if (typeof given !== 'string' || given === '') {
      throw new TraceIndexError('ERR_INVALID_ARGUMENT', `input path must be a non-empty string, got ${describe(given)}`);
    }
    if (given === STDIN_PATH) {
      readStdin = true;
      continue;
    }
    for (const file of await expandPath(given)) {
      const absolute = path.resolve(file);
      if (!byAbsolutePath.has(absolute)) byAbsolutePath.set(absolute, file);
    }
  }
  const files = [...byAbsolutePath.entries()].sort(([a], [b]) => comparePaths(a, b)).map(([, file]) => file);
  if (readStdin) files.push(STDIN_PATH);
  return files;
}

// ---------------------------------------------------------------------------
// Record building

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const hasOwn = (obj: object, key: string): boolean => Object.prototype.hasOwnProperty.call(obj, key);

function getPath(obj: Record<string, unknown>, parts: string[]): unknown {
  let current: unknown = obj;
  for (const part of parts) {
    if (!isPlainObject(current) || !hasOwn(current, part)) return undefined;
    current = current[part];
  }
  return current;
}

/** Deletes a (nested) field in place, dropping parents it leaves empty. */
function deletePath(obj: Record<string, unknown>, parts: string[]): void {
  const [head, ...rest] = parts;
  if (!hasOwn(obj, head)) return;
  if (rest.length === 0) {
    delete obj[head];
    return;
  }
  const child = obj[head];
  if (!isPlainObject(child)) return;
  deletePath(child, rest);
  if (Object.keys(child).length === 0) delete obj[head];
}

function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

const isUnsignedTypedArray = (v: unknown): boolean =>
  v instanceof Uint8Array || v instanceof Uint16Array || v instanceof Uint32Array;

/** Undefined when `tokens` is an array-like of non-negative integers, else why not. */
function tokensProblem(tokens: unknown, what: string): string | undefined {
  if (isUnsignedTypedArray(tokens)) return undefined;
  if (typeof tokens !== 'object' || tokens === null || typeof (tokens as ArrayLike<unknown>).length !== 'number') {
    return `${what} is not an array of non-negative integers (got ${describe(tokens)})`;
  }
  const list = tokens as ArrayLike<unknown>;
  for (let i = 0; i < list.length; i++) {
    const t = list[i];
    if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0) {
      return `${what} is not an array of non-negative integers (element ${i} is ${typeof t === 'number' ? t : describe(t)})`;
    }
  }
  return undefined;
}

function idProblem(id: unknown, what: string): string | undefined {
  if (typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id))) return undefined;
  return `${what} must be a string or number (got ${describe(id)})`;
}

interface FieldPlan {
  textField: string;
  textPath: string[];
  tokensField?: string;
  tokensPath?: string[];
  idField: string;
  idPath: string[];
  metaFields: string[] | 'all' | 'none';
  skipBadLines: boolean;
  onSkip?: (bad: BadLine) => void;
  signal?: AbortSignal;
  onBytes?: (bytes: number) => void;
}

function planFields(options: ReadOptions): FieldPlan {
  const invalid = (message: string) => new TraceIndexError('ERR_INVALID_ARGUMENT', message);
  const fieldName = (value: unknown, name: string, fallback?: string): string | undefined => {
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || value === '' || value.split('.').includes('')) {
      throw invalid(`${name} must be a non-empty field name or dotted path`);
    }
    return value;
  };
  const textField = fieldName(options.textField, 'textField', 'text')!;
  const tokensField = fieldName(options.tokensField, 'tokensField');
  const idField = fieldName(options.idField, 'idField', 'id')!;
  const metaFields = options.metaFields ?? 'all';
  if (metaFields !== 'all' && metaFields !== 'none' && !(Array.isArray(metaFields) && metaFields.every((f) => typeof f === 'string'))) {
    throw invalid(`metaFields must be 'all', 'none' or an array of field names`);
  }
  if (options.onSkip !== undefined && typeof options.onSkip !== 'function') throw invalid('onSkip must be a function');
  return {
    textField,
    textPath: textField.split('.'),
    tokensField,
    tokensPath: tokensField?.split('.'),
    idField,
    idPath: idField.split('.'),
    metaFields,
    skipBadLines: options.skipBadLines === true,
    onSkip: options.onSkip,
    signal: options.signal,
    onBytes: options.onBytes,
  };
}

/** Builds a record from a parsed JSONL value (which it may mutate), or returns why the line is bad. */
function recordFromJson(value: unknown, defaultId: string, plan: FieldPlan): DocumentRecord | string {
  if (!isPlainObject(value)) return `expected a JSON object, got ${describe(value)}`;
  const record: DocumentRecord = {};
  if (plan.tokensPath) {
    const tokens = getPath(value, plan.tokensPath);
    if (tokens === undefined) return `missing tokens field '${plan.tokensField}'`;
    if (!Array.isArray(tokens)) return `tokens field '${plan.tokensField}' is not an array of non-negative integers (got ${describe(tokens)})`;
    const problem = tokensProblem(tokens, `tokens field '${plan.tokensField}'`);
    if (problem) return problem;
    record.tokens = tokens as number[];
  } else {
    const text = getPath(value, plan.textPath);
    if (text === undefined) return `missing text field '${plan.textField}'`;
    if (typeof text !== 'string') return `text field '${plan.textField}' is not a string (got ${describe(text)})`;
    record.text = text;
  }
  const id = getPath(value, plan.idPath);
  if (id === undefined) {
    record.id = defaultId;
  } else {
    const problem = idProblem(id, `id field '${plan.idField}'`);
    if (problem) return problem;
    record.id = String(id);
  }
  let meta: Record<string, unknown> | undefined;
  if (plan.metaFields === 'all') {
    deletePath(value, plan.textPath);
    if (plan.tokensPath) deletePath(value, plan.tokensPath);
    deletePath(value, plan.idPath);
    meta = value;
  } else if (plan.metaFields !== 'none') {
    meta = {};
    for (const field of plan.metaFields) {
      const v = getPath(value, field.split('.'));
      if (v !== undefined) setOwn(meta, field, v);
    }
  }
  if (meta && Object.keys(meta).length > 0) record.meta = meta;
  return record;
}

/** Validates a caller-supplied record and returns a normalised copy, or why it is bad. */
function recordFromValue(value: unknown, index: number): DocumentRecord | string {
  if (!isPlainObject(value)) return `expected a document record object, got ${describe(value)}`;
  const { text, tokens, id, meta } = value as DocumentRecord;
  const record: DocumentRecord = {};
  if (text !== undefined && tokens !== undefined) return 'record has both text and tokens; give one';
  if (text !== undefined) {
    if (typeof text !== 'string') return `text is not a string (got ${describe(text)})`;
    record.text = text;
  } else if (tokens !== undefined) {
    const problem = tokensProblem(tokens, 'tokens');
    if (problem) return problem;
    record.tokens = tokens;
  } else {
    return 'record has neither text nor tokens';
  }
  if (id === undefined) {
    record.id = String(index);
  } else {
    const problem = idProblem(id, 'id');
    if (problem) return problem;
    record.id = String(id);
  }
  if (meta !== undefined) {
    if (!isPlainObject(meta)) return `meta must be a plain object (got ${describe(meta)})`;
    record.meta = meta;
  }
  return record;
}

// ---------------------------------------------------------------------------
// Streaming

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
