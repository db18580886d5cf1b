/**
 * Document records: the record and read-option types, and the checks that turn a parsed JSONL value or a
 * caller-supplied object into a DocumentRecord (or say why the line is bad).
 */
import { TraceIndexError } from '../errors';

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

/**
 * JSON values (a JSONL line, a record's meta) nested deeper than this are refused as bad input: writing them
 * back (JSON.stringify, into meta.bin) would overflow the stack.
 */
export const MAX_JSON_DEPTH = 1000;

/** Whether `value` nests objects or arrays deeper than `max` levels (walked without recursion; a cycle counts as too deep). */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v)) continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return false;
}

/** A .txt document whose file is not valid UTF-8: its raw bytes (BOM dropped) and the U+FFFD its text holds for them. */
export interface InvalidUtf8 {
  bytes: Buffer;
  replacements: number;
}

const invalidUtf8 = new WeakMap<DocumentRecord, InvalidUtf8>();

/** The raw bytes behind a record read from a .txt file that is not valid UTF-8 (its `text` has U+FFFD for them). */
export function invalidUtf8Of(record: DocumentRecord): InvalidUtf8 | undefined {
  return invalidUtf8.get(record);
}

export function markInvalidUtf8(record: DocumentRecord, info: InvalidUtf8): void {
  invalidUtf8.set(record, info);
}

export function badInput(message: string, cause?: unknown): TraceIndexError {
  return new TraceIndexError('ERR_BAD_INPUT', message, cause === undefined ? undefined : { cause });
}

export function describe(value: unknown): string {
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
  if (!Number.isSafeInteger(list.length) || list.length < 0) return `${what} has no valid length (got ${list.length})`;
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
  return `${what} must be a string or finite number (got ${typeof id === 'number' ? id : describe(id)})`;
}

export interface FieldPlan {
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

export function planFields(options: ReadOptions): FieldPlan {
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
export function recordFromJson(value: unknown, defaultId: string, plan: FieldPlan): DocumentRecord | string {
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
    // JSON.parse has rounded an integer this large to a double already (the source digits are gone on Node < 22).
    if (typeof id === 'number' && Number.isInteger(id) && !Number.isSafeInteger(id))
      return `id field '${plan.idField}' is an integer beyond 2^53 - 1 (read as ${id}: JSON numbers this large lose digits); write the id as a string`;
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
export function recordFromValue(value: unknown, index: number): DocumentRecord | string {
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
    if (nestedDeeperThan(meta, MAX_JSON_DEPTH)) return `meta is nested deeper than ${MAX_JSON_DEPTH} levels (or holds a cycle)`;
    record.meta = meta;
  }
  return record;
}
