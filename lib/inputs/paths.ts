/**
 * Input paths: expands files, directories and globs into a sorted list of readable input files.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { TraceIndexError } from '../errors';
import { badInput, describe } from './records';

/** The path that means "read JSONL from stdin". */
export const STDIN_PATH = '-';

const SUPPORTED_TYPES = '.txt, .jsonl, .jsonl.gz or .jsonl.zst';

export type InputKind = 'txt' | 'jsonl' | 'jsonl.gz' | 'jsonl.zst';

/** Classifies a file by name; undefined for files we do not read. */
export function inputKind(file: string): InputKind | undefined {
  const lower = file.toLowerCase();
  if (lower.endsWith('.jsonl.gz')) return 'jsonl.gz';
  if (lower.endsWith('.jsonl.zst')) return 'jsonl.zst';
  if (lower.endsWith('.jsonl')) return 'jsonl';
  if (lower.endsWith('.txt')) return 'txt';
  return undefined;
}

export function unreadablePath(given: string, err: unknown): TraceIndexError {
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
  // A FIFO or a device would block the reads that identify an input (on the JS thread): stdin is `-`.
  if (!st.isFile()) throw badInput(`${given}: not a regular file (pipe a stream in as - instead)`);
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
