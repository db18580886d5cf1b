/**
 * Where a build writes and how it takes the target's place, safely:
 * - the target lock `.NAME.lock` beside the target: one build, append or combine of a target at a time, held
 *   from before the first file is touched until after the swap and its clean-up;
 * - the target check: only an absent path, an empty directory or a directory holding nothing but a traceindex
 *   index may be replaced;
 * - the work directory `.NAME.building-<fingerprint>` with its shard records (resume), and the removal of
 *   orphans (work directories of dead builds and combines of the target, which hold nothing but index files);
 * - the swap of the finished directory into place.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TraceIndexError } from '../errors';
import { isErrnoError } from '../inputs/files';
import { addon } from '../native';
import { MANIFEST_FILE, parseManifest, readManifest, FORMAT_NAME, ShardEntry, shardFiles, writeFileDurably } from './manifest';

/** A finished shard's record: its manifest entry and the input documents it covers. */
export interface ShardRecord {
  entry: ShardEntry;
  /** Input documents consumed before and after this shard (ordinals in the document stream). */
  inputBefore: number;
  inputAfter: number;
}

/** Lock file that pre-lock builds left inside their work directories (still honoured when cleaning). */
const OLD_LOCK_FILE = 'build.lock';

/** Names a build, an append or a combine may leave at the top of an index or work directory. */
const INDEX_ENTRY = /^(manifest\.json(\.tmp)?|shard-\d+(\.json(\.tmp)?)?|build\.lock)$/;

function sibling(out: string, suffix: string): string {
  return path.join(path.dirname(out), `.${path.basename(out)}.${suffix}`);
}

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A lock file's holder: "PID TOKEN" (a lock of this version) or "PID" (an older one, and build.lock). */
interface Holder { pid: number; token?: string }

function lockHolder(file: string): Holder | null {
  try {
    const [pid, token] = fs.readFileSync(file, 'utf8').split(' ');
    const n = Number(pid);
    return Number.isInteger(n) && n > 0 ? { pid: n, ...(token && { token }) } : null;
  } catch {
    return null;
  }
}

/**
 * Whether a lock's holder runs: another process that exists, or, in this one, the thread that took it (a worker
 * terminated mid-build never releases its lock; the addon drops its token with the worker).
 */
function holderAlive(h: Holder): boolean {
  if (h.pid !== process.pid) return pidAlive(h.pid);
  return h.token === undefined || addon.lockHeld(h.token);
}

export interface TargetLock {
  file: string;
  release(): void;
}

/**
 * Takes the lock of target `out`: `.NAME.lock` beside it, holding this process's id and a token of the thread
 * that took it. A lock held by a live process (in this one, a live thread) refuses (ERR_INVALID_ARGUMENT naming
 * it); one whose holder is gone is taken over. The file is created complete (written under a temporary name,
 * then hard-linked into place, which fails if it exists).
 */
export function lockTarget(out: string): TargetLock {
  const file = sibling(out, 'lock');
  const token = randomBytes(8).toString('hex');
  const content = `${process.pid} ${token}`;
  const tmp = `${file}.${process.pid}.${token}.tmp`;
  addon.holdLock(token);
  let taken = false;
  try {
    // Created new, never through what stands at that name (exclusive creation does not follow a link).
    fs.writeFileSync(tmp, content, { flag: 'wx' });
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          fs.linkSync(tmp, file);
          break;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code !== 'EEXIST') {
            // A file system without hard links: exclusive creation (a reader may briefly see it empty).
            if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') {
              try {
                fs.writeFileSync(file, content, { flag: 'wx' });
                break;
              } catch (e) {
                if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
              }
            } else {
              throw err;
            }
          }
          const holder = lockHolder(file);
          if (holder !== null && holderAlive(holder))
            throw new TraceIndexError('ERR_INVALID_ARGUMENT', `another build of ${out} is running (process ${holder.pid}, lock ${file})`);
          if (attempt > 0)
            throw new TraceIndexError('ERR_INVALID_ARGUMENT', `cannot take the lock ${file} of ${out} (remove it if no build of ${out} is running)`);
          fs.rmSync(file, { force: true }); // its holder is gone
        }
      }
      taken = true;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  } finally {
    if (!taken) addon.releaseLock(token);
  }
  return {
    file,
    release: () => {
      if (lockHolder(file)?.token === token) fs.rmSync(file, { force: true });
      addon.releaseLock(token);
    },
  };
}

/** Names a finished shard directory may hold (upgrade's temporary samples included). */
const SHARD_ENTRY = /^(tokens|sa|docs|meta|unigram|samples)\.bin(\.tmp)?$/;

/**
 * Why a directory holds something other than index files, or null. `deep`: also inside its shard directories
 * (real ones; a combined index's shard links are removed as links).
 */
function foreignEntries(dir: string, deep = false): string | null {
  const foreign = fs.readdirSync(dir).filter((e) => !INDEX_ENTRY.test(e));
  if (deep)
    for (const e of fs.readdirSync(dir))
      if (/^shard-\d+$/.test(e) && fs.lstatSync(path.join(dir, e)).isDirectory())
        foreign.push(...fs.readdirSync(path.join(dir, e)).filter((f) => !SHARD_ENTRY.test(f)).map((f) => `${e}/${f}`));
  if (foreign.length === 0) return null;
  return foreign.slice(0, 5).map((e) => JSON.stringify(e)).join(', ') + (foreign.length > 5 ? `, … (${foreign.length} entries)` : '');
}

/**
 * Refuses (ERR_INVALID_ARGUMENT, touching nothing) a target a build may not replace: anything but an absent
 * path, an empty directory, or a directory whose manifest.json is a traceindex manifest and whose other
 * entries are index files (shard directories, shard records).
 */
export function checkReplaceable(out: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(out);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const refuse = (why: string) => new TraceIndexError('ERR_INVALID_ARGUMENT', `${out} ${why}: refusing to replace it`);
  if (!st.isDirectory()) throw refuse('exists and is not a directory');
  const entries = fs.readdirSync(out);
  if (entries.length === 0) return;
  if (!entries.includes(MANIFEST_FILE)) throw refuse('exists, is not empty and holds no index');
  let format: unknown;
  try {
    format = parseManifest(out).format;
  } catch (err) {
    if (!(err instanceof TraceIndexError) || err.code === 'ERR_IO') throw err;
  }
  if (format !== FORMAT_NAME) throw refuse(`holds a ${MANIFEST_FILE} that is not a traceindex manifest`);
  const foreign = foreignEntries(out, true);
  if (foreign) throw refuse(`holds files that are not part of an index (${foreign})`);
}

/**
 * Removes the work directories that dead builds and combines of `out` left beside it (`.NAME.building-*`,
 * `.NAME.combining-*`, e.g. one holding the old index after a kill past the swap), except `keep`. Call it
 * holding the target lock: no live build of this version then owns one. A directory is removed only when it
 * is provably ours: a real directory of that name holding nothing but index files and no live pre-lock build.
 */
export function removeOrphans(out: string, keep?: string): void {
  const parent = path.dirname(out);
  const name = path.basename(out).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`^\\.${name}\\.(building-[0-9a-f-]+|combining-\\d+)$`);
  const lockTemp = new RegExp(`^\\.${name}\\.lock\\.(\\d+)(?:\\.([0-9a-f]+))?\\.tmp$`); // lockTarget's, of a holder killed mid-way
  let entries: string[];
  try {
    entries = fs.readdirSync(parent);
  } catch {
    return;
  }
  for (const e of entries) {
    const dir = path.join(parent, e);
    const temp = lockTemp.exec(e);
    if (temp && !holderAlive({ pid: Number(temp[1]), ...(temp[2] && { token: temp[2] }) })) fs.rmSync(dir, { force: true });
    if (!pattern.test(e) || dir === keep) continue;
    try {
      if (!fs.lstatSync(dir).isDirectory() || foreignEntries(dir) !== null) continue;
      const holder = lockHolder(path.join(dir, OLD_LOCK_FILE));
      if (holder !== null && holderAlive(holder)) continue;
      fs.rmSync(dir, { recursive: true, force: true });
    } catch (err) {
      if (!isErrnoError(err)) throw err; // an orphan we cannot read or remove is left for later
    }
  }
}

/** The work directory of a build: named by its fingerprint, so that a rerun finds it and resumes. */
export function workDirectory(out: string, fingerprint: string | null): string {
  return sibling(out, `building-${fingerprint ?? `${process.pid}-${Math.random().toString(16).slice(2, 10)}`}`);
}

/** The work directory of a combine. */
export function combineDirectory(out: string): string {
  return sibling(out, `combining-${process.pid}`);
}

function shardName(ordinal: number): string {
  return `shard-${String(ordinal).padStart(5, '0')}`;
}

/**
 * Whether `work` exists, after checking that a build may empty it: a real directory (not a link), owned by this
 * user, holding nothing but index files. Its name is predictable, so anything else standing there was not left by
 * a build of ours: ERR_INVALID_ARGUMENT, touching nothing.
 */
export function checkOurs(work: string): boolean {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(work);
  } catch (err) {
    if (isErrnoError(err) && err.code === 'ENOENT') return false;
    throw err;
  }
  const why = !st.isDirectory() ? 'is not a directory'
    : typeof process.getuid === 'function' && st.uid !== process.getuid() ? 'belongs to another user'
    : foreignEntries(work) !== null ? `holds files that are not a build's (${foreignEntries(work)})` : null;
  if (why) throw new TraceIndexError('ERR_INVALID_ARGUMENT', `the work directory ${work} ${why}: remove it if it is not needed, then build again`);
  return true;
}

/**
 * Prepares the work directory and returns the finished shards it can reuse: consecutive shard-NNNNN.json
 * records of this fingerprint whose files pass their checksums. Everything else in it is removed.
 */
export async function prepareWorkDirectory(work: string, fingerprint: string | null, resume: boolean): Promise<ShardRecord[]> {
  fs.mkdirSync(path.dirname(work), { recursive: true });
  const workExists = checkOurs(work);
  const reused: ShardRecord[] = [];
  if (workExists && resume && fingerprint) {
    for (let i = 0; ; i++) {
      const dir = shardName(i);
      let rec: ShardRecord & { fingerprint?: string };
      try {
        rec = JSON.parse(fs.readFileSync(path.join(work, `${dir}.json`), 'utf8'));
      } catch {
        break;
      }
      if (rec.fingerprint !== fingerprint || rec.entry?.dir !== dir || !(await shardIntact(work, rec.entry))) break;
      reused.push({ entry: rec.entry, inputBefore: rec.inputBefore, inputAfter: rec.inputAfter });
    }
  }
  if (workExists) {
    const keep = new Set(reused.flatMap((r) => [r.entry.dir, `${r.entry.dir}.json`]));
    for (const e of fs.readdirSync(work)) if (!keep.has(e)) fs.rmSync(path.join(work, e), { recursive: true, force: true });
  } else {
    fs.mkdirSync(work);
  }
  return reused;
}

async function shardIntact(root: string, entry: ShardEntry): Promise<boolean> {
  try {
    for (const f of shardFiles(entry)) {
      const file = path.join(root, entry.dir, f);
      if (fs.statSync(file).size !== entry.files[f]!.bytes) return false;
      if ((await addon.checksumFile(file)) !== entry.files[f]!.xxh64) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/** Records a finished shard beside it in the work directory, durably, for a resume. */
export function recordShard(work: string, record: ShardRecord, fingerprint: string | null): void {
  writeJsonDurably(path.join(work, `${record.entry.dir}.json`), { ...record, fingerprint });
}

/**
 * Shard directories in an index that no manifest lists: left by an interrupted append. Kept: those `listed`
 * and those the manifest on disk lists now (an append that failed after its manifest went in committed them), by
 * the first component of each listed path.
 */
export function removeUnlistedShards(dir: string, listed: readonly ShardEntry[]): void {
  const keep = new Set<string>();
  const add = (shards: readonly ShardEntry[]) => { for (const s of shards) keep.add(s.dir.split('/')[0]); };
  add(listed);
  try {
    add(readManifest(dir).shards);
  } catch (err) {
    if (!(err instanceof TraceIndexError)) throw err; // unreadable or damaged: `listed` is all we know
  }
  for (const e of fs.readdirSync(dir)) if (/^shard-\d+(\.json)?$/.test(e) && !keep.has(e)) fs.rmSync(path.join(dir, e), { recursive: true, force: true });
}

/**
 * Swaps the finished `work` directory (manifest written) into place at `out`, atomically, and removes what
 * was there. The target is checked again first: it may have changed while the build ran.
 */
export function swapIntoPlace(work: string, out: string): void {
  checkReplaceable(out);
  const exchanged = addon.exchangeOrRename(work, out);
  addon.fsyncPath(path.dirname(out));
  if (exchanged) fs.rmSync(work, { recursive: true, force: true });
}

/** Bytes of the files below `dir` (best effort: unreadable entries count 0). */
export function directoryBytes(dir: string): number {
  let total = 0;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    try {
      if (e.isDirectory()) total += directoryBytes(p);
      else if (e.isFile()) total += fs.statSync(p).size;
    } catch {
      // gone or unreadable
    }
  }
  return total;
}

export function writeJsonDurably(file: string, value: unknown): void {
  writeFileDurably(file, JSON.stringify(value));
}
