/**
 * Where a build writes and how it takes the target's place: the target check (only an absent path, an empty
 * directory or an index may be replaced), the work directory `.NAME.building-<fingerprint>` with its lock
 * and shard records (resume), the removal of dead builds' work directories, and the swap of the finished
 * directory into place.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TraceIndexError } from '../errors';
import { addon } from '../native';
import { MANIFEST_FILE, ShardEntry, SHARD_FILES } from './manifest';

/** A finished shard's record: its manifest entry and the input documents it covers. */
export interface ShardRecord {
  entry: ShardEntry;
  /** Input documents consumed before and after this shard (ordinals in the document stream). */
  inputBefore: number;
  inputAfter: number;
}

const LOCK_FILE = 'build.lock';

/** `out` may be absent, an empty directory or an index (replaced); anything else is refused, untouched. */
export function checkOut(out: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(out);
  } catch {
    return;
  }
  if (!st.isDirectory()) throw new TraceIndexError('ERR_INVALID_ARGUMENT', `${out} exists and is not a directory`);
  const entries = fs.readdirSync(out);
  if (entries.length > 0 && !entries.includes(MANIFEST_FILE))
    throw new TraceIndexError('ERR_INVALID_ARGUMENT', `${out} exists, is not empty and holds no index: refusing to replace it`);
}

/**
 * The work directory of a build: named by its fingerprint, so that a rerun finds it and resumes. Work
 * directories of other (dead) builds of this target are removed.
 */
export function workDirectory(out: string, fingerprint: string | null): string {
  const base = `.${path.basename(out)}.building-`;
  const name = base + (fingerprint ?? `${process.pid}-${Math.random().toString(16).slice(2, 10)}`);
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(path.dirname(out));
  } catch {
    // the parent is created later
  }
  for (const e of entries) {
    if (!e.startsWith(base) || e === name) continue;
    const dir = path.join(path.dirname(out), e);
    if (!lockHeldByLiveProcess(dir)) fs.rmSync(dir, { recursive: true, force: true });
  }
  return path.join(path.dirname(out), name);
}

function lockHeldByLiveProcess(dir: string): boolean {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8'));
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function shardName(ordinal: number): string {
  return `shard-${String(ordinal).padStart(5, '0')}`;
}

/**
 * Prepares and locks the work directory and returns the finished shards it can reuse: consecutive
 * shard-NNNNN.json records of this fingerprint whose files pass their checksums. Everything else in it is
 * removed.
 */
export async function prepareWorkDirectory(work: string, out: string, fingerprint: string | null, resume: boolean): Promise<ShardRecord[]> {
  if (lockHeldByLiveProcess(work)) throw new TraceIndexError('ERR_INVALID_ARGUMENT', `another build of ${out} is running (${work})`);
  fs.mkdirSync(path.dirname(work), { recursive: true });
  const reused: ShardRecord[] = [];
  if (fs.existsSync(work) && resume && fingerprint) {
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
  if (fs.existsSync(work)) {
    const keep = new Set(reused.flatMap((r) => [r.entry.dir, `${r.entry.dir}.json`]));
    for (const e of fs.readdirSync(work)) if (!keep.has(e)) fs.rmSync(path.join(work, e), { recursive: true, force: true });
  } else {
    fs.mkdirSync(work);
  }
  fs.writeFileSync(path.join(work, LOCK_FILE), String(process.pid));
  return reused;
}

/** Unlocks the work directory (before its manifest is written, or when a failed build keeps it for a resume). */
export function unlockWorkDirectory(work: string): void {
  fs.rmSync(path.join(work, LOCK_FILE), { force: true });
}

async function shardIntact(root: string, entry: ShardEntry): Promise<boolean> {
  try {
    for (const f of SHARD_FILES) {
      const file = path.join(root, entry.dir, f);
      if (fs.statSync(file).size !== entry.files[f].bytes) return false;
      if ((await addon.checksumFile(file)) !== entry.files[f].xxh64) return false;
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

/** Shard directories in an index that its manifest does not list: left by an interrupted append. */
export function removeUnlistedShards(dir: string, listed: readonly ShardEntry[]): void {
  const keep = new Set(listed.map((s) => s.dir));
  for (const e of fs.readdirSync(dir)) if (/^shard-\d+(\.json)?$/.test(e) && !keep.has(e)) fs.rmSync(path.join(dir, e), { recursive: true, force: true });
}

/**
 * Swaps the finished `work` directory (manifest written) into place at `out`, atomically, and removes what
 * was there. The target is checked again first: it may have changed while the build ran.
 */
export function swapIntoPlace(work: string, out: string): void {
  checkOut(out);
  const exchanged = addon.exchangeOrRename(work, out);
  addon.fsyncPath(path.dirname(out));
  if (exchanged) fs.rmSync(work, { recursive: true, force: true });
}

export function writeJsonDurably(file: string, value: unknown): void {
  const tmp = file + '.tmp';
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, JSON.stringify(value));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}
