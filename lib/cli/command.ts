/**
 * What every CLI command is made of: its table entry (Command), the flags it may take, and the helpers that
 * turn flags into checked values (a bad flag is a UsageError: exit 2), open an index, print a result, and
 * turn SIGINT/SIGTERM into an AbortSignal.
 */
import * as fs from 'node:fs';
import { Index, openIndex, OpenOptions } from '../index';
import { ioError, isErrnoError } from '../inputs/files';
import { IntegerBounds, MAX_UINT32, nonNegativeInteger, oneOf, positiveInteger } from '../validate';

/** Parsed flags: strings for valued flags, true for switches. */
export type Flags = Record<string, string | boolean | undefined>;

/** Every flag any command takes (node:util parseArgs specs). A command lists the ones it takes. */
export const FLAGS = {
  out: { type: 'string' },
  tokenizer: { type: 'string' },
  'text-field': { type: 'string' },
  'tokens-field': { type: 'string' },
  'id-field': { type: 'string' },
  memory: { type: 'string' },
  'shard-tokens': { type: 'string' },
  threads: { type: 'string' },
  'skip-bad-lines': { type: 'boolean' },
  'tokenizer-workers': { type: 'string' },
  append: { type: 'boolean' },
  'skip-duplicate-append': { type: 'boolean' },
  'no-resume': { type: 'boolean' },
  shard: { type: 'string' },
  verify: { type: 'boolean' },
  quiet: { type: 'boolean' },
  quick: { type: 'boolean' },
  json: { type: 'boolean' },
  tokens: { type: 'string' },
  'word-start': { type: 'boolean' },
  limit: { type: 'string' },
  offset: { type: 'string' },
  context: { type: 'string' },
  top: { type: 'string' },
  'min-length': { type: 'string' },
  'max-count': { type: 'string' },
  delimiters: { type: 'string' },
  'no-word-boundaries': { type: 'boolean' },
  'max-documents': { type: 'string' },
  seed: { type: 'string' },
  'log-base': { type: 'string' },
  tau: { type: 'string' },
  window: { type: 'string' },
  field: { type: 'string' },
  lengths: { type: 'string' },
  samples: { type: 'string' },
  format: { type: 'string' },
  'token-width': { type: 'string' },
  'vocab-size': { type: 'string' },
  html: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

export type FlagName = keyof typeof FLAGS;

/** Flags of every command that opens an index: how to read it (infini-gram) and a local copy of its tokenizer. */
export const INDEX_FLAGS: readonly FlagName[] = ['tokenizer', 'format', 'token-width', 'vocab-size'];

/** One command of the table (./commands): `traceindex <name> ...`. */
export interface Command {
  name: string;
  /** One line: what it does. */
  summary: string;
  /** Its arguments and flags, after `traceindex <name> ` (may span lines). */
  usage: string;
  /** The flags it takes (--help is always accepted); any other is a usage error. */
  options: readonly FlagName[];
  /** Long commands get an AbortSignal that SIGINT or SIGTERM fires. */
  interruptible?: boolean;
  /** Runs the command; resolves with its exit code (default 0). A UsageError exits 2, any other error 1. */
  run(args: string[], flags: Flags, signal?: AbortSignal): Promise<number | void>;
}

/** The exit code of `shield` when it refuses the text (0 when it allows it). */
export const EXIT_REFUSED = 3;

/** A mistake in the command line: exit code 2, with a hint to the command's usage. */
export class UsageError extends Error {}

/** The signals that interrupt a long command, and their numbers (the exit code is 128 + the number). */
const SIGNALS = { SIGINT: 2, SIGTERM: 15 } as const;

/** A command stopped by SIGINT or SIGTERM: it exits with 128 + the signal's number (130, 143). */
export class Interrupted extends Error {
  readonly exitCode: number;
  constructor(readonly signal: keyof typeof SIGNALS, message = `interrupted (${signal})`) {
    super(message);
    this.exitCode = 128 + SIGNALS[signal];
  }
}

/**
 * Runs `fn` with a signal that SIGINT or SIGTERM aborts (the command then stops with ERR_ABORTED, which
 * comes out as an Interrupted unless the command threw its own, more telling, Interrupted).
 */
export async function interruptible<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const handlers = (Object.keys(SIGNALS) as Array<keyof typeof SIGNALS>).map((s) => [s, () => controller.abort(new Interrupted(s))] as const);
  for (const [s, h] of handlers) process.once(s, h);
  try {
    return await fn(controller.signal);
  } catch (err) {
    if (!(err instanceof Interrupted) && controller.signal.reason instanceof Interrupted) throw controller.signal.reason;
    throw err;
  } finally {
    for (const [s, h] of handlers) process.off(s, h);
  }
}

/** Runs a check of the API's validators on a flag's value; its ERR_INVALID_ARGUMENT becomes a UsageError. */
function usage<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** A number parsed from a flag's text, or the text itself when it is not one (so the message shows it). */
function numeric(text: string): number | string {
  const n = text.trim() === '' ? NaN : Number(text);
  return Number.isNaN(n) ? text : n;
}

/** An integer flag: non-negative (or positive), within bounds; `bounds.default` when absent. */
export function intFlag(flags: Flags, name: FlagName, bounds: IntegerBounds & { positive?: boolean } = {}): number | undefined {
  const v = flags[name];
  if (v === undefined) return bounds.default;
  const check = bounds.positive ? positiveInteger : nonNegativeInteger;
  return usage(() => check(`--${name}`, numeric(String(v)), bounds));
}

/** A number flag (any finite number). */
export function numberFlag(flags: Flags, name: FlagName): number | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  const n = numeric(String(v));
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

/** A comma-separated list of integers (e.g. --lengths 8,16,32, --tokens 1,2,3). */
export function intListFlag(flags: Flags, name: FlagName, bounds: IntegerBounds & { positive?: boolean } = {}): number[] | undefined {
  const v = flags[name];
  if (typeof v !== 'string') return undefined;
  const check = bounds.positive ? positiveInteger : nonNegativeInteger;
  return v.split(',').filter((s) => s.trim() !== '').map((s) => usage(() => check(`--${name}`, numeric(s), bounds)));
}

/** How to open the index: --format, --token-width, --vocab-size, and --tokenizer (a local copy of the index's). */
export function openOptionsOf(flags: Flags): OpenOptions {
  const o: OpenOptions = {};
  if (typeof flags.tokenizer === 'string') o.tokenizer = flags.tokenizer;
  if (flags.format !== undefined) o.format = usage(() => oneOf('--format', flags.format, ['traceindex', 'infini-gram'] as const));
  if (flags['token-width'] !== undefined) o.tokenWidth = usage(() => oneOf('--token-width', numeric(String(flags['token-width'])), [1, 2, 4]));
  if (flags['vocab-size'] !== undefined) o.vocabSize = intFlag(flags, 'vocab-size', { max: MAX_UINT32 });
  return o;
}

/** Opens the index named by the first argument, runs `fn`, closes it. */
export async function withIndex<T>(dir: string | undefined, flags: Flags, fn: (idx: Index) => Promise<T>): Promise<T> {
  if (!dir) throw new UsageError('missing index directory');
  const idx = await openIndex(dir, openOptionsOf(flags));
  try {
    return await fn(idx);
  } finally {
    idx.close();
  }
}

/** Writes a command's output file (--html, --out): a file-system error is ERR_IO naming it. */
export function writeOutput(file: string, data: string | Uint8Array): void {
  try {
    fs.writeFileSync(file, data);
  } catch (err) {
    throw isErrnoError(err) ? ioError(err, 'cannot write') : err;
  }
}

/** Prints one JSON object with --json, else the human form. */
export function print(flags: Flags, json: unknown, human: string): void {
  process.stdout.write(flags.json ? JSON.stringify(json) + '\n' : human + '\n');
}

/** The query of a command: the text arguments, or --tokens 1,2,3. */
export function queryOf(flags: Flags, rest: string[]): string | number[] {
  const ids = intListFlag(flags, 'tokens', { max: MAX_UINT32 });
  if (ids) return ids;
  if (rest.length === 0) throw new UsageError('missing query text');
  return rest.join(' ');
}

/** The text argument, or stdin when it is "-". */
export async function textArg(rest: string[]): Promise<string> {
  if (rest.length === 1 && rest[0] === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  if (rest.length === 0) throw new UsageError('missing text (or - for stdin)');
  return rest.join(' ');
}
