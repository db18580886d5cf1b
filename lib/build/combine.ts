/**
 * combineIndexes: ties the finished parts of a partitioned build (`build --shard i/N`, one job per part on
 * any scheduler) into one index without copying: the index's shard directories are relative symlinks into
 * the parts, and its manifest lists the parts' shards in part order, so the combined index answers exactly
 * like a one-process build of the same inputs. Every part must be present once, finished, and from the same
 * partition; anything else is refused before the index is written, as is a target that is, contains or lies
 * inside a part (replacing it would delete the part's files), and an index holding shards other than links into
 * the given parts (an earlier combine's appended documents, another index). The parts must stay where they are.
 * Like a build, a combine holds the target lock and swaps its directory into place (./workdir).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TraceIndexError } from '../errors';
import { ioError, isErrnoError } from '../inputs/files';
import { checkShardFiles, FORMAT_NAME, FORMAT_VERSION, Manifest, readManifest, ShardEntry, shardFiles, writeManifest } from './manifest';
import { addon, nativeError } from '../native';
import { checkOurs, checkReplaceable, combineDirectory, lockTarget, removeOrphans, swapIntoPlace } from './workdir';

export interface CombineResult {
  out: string;
  parts: number;
  shards: number;
  documents: number;
  tokens: number;
}

export async function combineIndexes(out: string, partDirs: string[], options: { verify?: boolean } = {}): Promise<CombineResult> {
  if (partDirs.length === 0) throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'combine needs at least one part');
  const target = path.resolve(out);
  const parts = partDirs.map((d) => {
    const dir = path.resolve(d);
    let m: Manifest;
    try {
      m = readManifest(dir);
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_INDEX_NOT_FOUND')
        throw new TraceIndexError('ERR_INDEX_NOT_FOUND', `part ${dir} is missing or unfinished (no manifest.json)`);
      throw err;
    }
    if (!m.part) throw new TraceIndexError('ERR_INVALID_ARGUMENT', `${dir} is not a part of a partitioned build (build it with --shard i/N)`);
    checkShardFiles(dir, m);
    return { dir, m, part: m.part };
  });
  const first = parts[0];
  for (const p of parts) {
    if (p.m.tokenizer.fingerprint !== first.m.tokenizer.fingerprint || p.m.tokenWidth !== first.m.tokenWidth || p.m.vocabSize !== first.m.vocabSize)
      throw new TraceIndexError('ERR_TOKENIZER_MISMATCH', `part ${p.dir} was built with another tokenizer than ${first.dir}`);
    if (p.part.partition !== first.part.partition || p.part.count !== first.part.count)
      throw new TraceIndexError('ERR_INVALID_ARGUMENT', `part ${p.dir} belongs to another partition than ${first.dir} (other inputs, options or part count)`);
  }
  const byIndex = new Map<number, (typeof parts)[number]>();
  for (const p of parts) {
    if (byIndex.has(p.part.index)) throw new TraceIndexError('ERR_INVALID_ARGUMENT', `part ${p.part.index}/${p.part.count} given twice (${byIndex.get(p.part.index)!.dir}, ${p.dir})`);
    byIndex.set(p.part.index, p);
  }
  const missing = Array.from({ length: first.part.count }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length) throw new TraceIndexError('ERR_INVALID_ARGUMENT', `part(s) ${missing.map((i) => `${i}/${first.part.count}`).join(', ')} missing`);
  if (options.verify) {
    for (const p of parts)
      for (const s of p.m.shards)
        for (const f of shardFiles(s)) {
          const file = path.join(p.dir, s.dir, f);
          if ((await addon.checksumFile(file)) !== s.files[f]!.xxh64) throw new TraceIndexError('ERR_INDEX_CORRUPT', `${file}: checksum differs from its part's manifest`);
        }
  }

  for (const p of parts) {
    const overlap = overlapOf(target, p.dir);
    if (overlap) throw new TraceIndexError('ERR_INVALID_ARGUMENT', `combine target ${target} ${overlap} part ${p.dir}: refusing (it would replace the part's files)`);
  }

  try {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const lock = lockTarget(target);
    try {
      checkReplaceable(target);
      refuseOwnShards(target, parts.map((p) => p.dir));
      removeOrphans(target);
      return writeCombined(target, parts.length, Array.from({ length: first.part.count }, (_, i) => byIndex.get(i)!));
    } finally {
      lock.release();
    }
  } catch (err) {
    throw isErrnoError(err) ? ioError(err) : nativeError(err);
  }
}

/** Writes the combined index in its work directory (shard symlinks into the parts, in part order) and swaps it in. */
function writeCombined(target: string, partCount: number, ordered: Array<{ dir: string; m: Manifest }>): CombineResult {
  const work = combineDirectory(target);
  if (checkOurs(work)) fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  try {
    const shards: ShardEntry[] = [];
    for (const p of ordered) {
      for (const s of p.m.shards) {
        const dir = `shard-${String(shards.length).padStart(5, '0')}`;
        fs.symlinkSync(path.relative(target, path.join(p.dir, s.dir)), path.join(work, dir), 'dir');
        shards.push({ ...s, dir });
      }
    }
    const first = ordered[0].m;
    const inputs = [...new Set(ordered.flatMap((p) => p.m.inputs ?? []))];
    const manifest: Manifest = {
      format: FORMAT_NAME,
      formatVersion: FORMAT_VERSION,
      tokenizer: first.tokenizer,
      tokenWidth: first.tokenWidth,
      vocabSize: first.vocabSize,
      tokens: shards.reduce((t, s) => t + s.tokens - s.documents, 0),
      documents: shards.reduce((t, s) => t + s.documents, 0),
      shards,
      ...(inputs.length > 0 ? { inputs } : {}),
    };
    writeManifest(work, manifest, addon.fsyncPath);
    swapIntoPlace(work, target);
    return { out: target, parts: partCount, shards: shards.length, documents: manifest.documents, tokens: manifest.tokens };
  } catch (err) {
    fs.rmSync(work, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Refuses (nothing written) a target whose shard directories are not all links into the given parts: replacing it
 * would delete its own shards (documents appended to an earlier combine) or drop another index's.
 */
function refuseOwnShards(target: string, partDirs: string[]): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(target).filter((e) => /^shard-\d+$/.test(e)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const homes = new Set(partDirs.map(realPathOf));
  const other: string[] = [];
  for (const e of entries) {
    const at = path.join(target, e);
    if (!fs.lstatSync(at).isSymbolicLink()) other.push(`${e} (its own, e.g. appended documents)`);
    else {
      const dest = path.resolve(target, fs.readlinkSync(at));
      if (!homes.has(realPathOf(path.dirname(dest)))) other.push(`${e} (a link into ${path.dirname(dest)})`);
    }
  }
  if (other.length === 0) return;
  const named = other.slice(0, 5).join(', ') + (other.length > 5 ? `, … (${other.length} shards)` : '');
  throw new TraceIndexError('ERR_INVALID_ARGUMENT', `combine target ${target} holds shards that are not links into the given parts: ${named}; refusing to replace it (nothing written: that would delete them). Combine into a new directory`);
}

/** Real path of `p`, resolving symlinks in the part that exists (the rest is appended as given). */
function realPathOf(p: string): string {
  const rest: string[] = [];
  let at = path.resolve(p);
  for (;;) {
    try {
      return path.join(fs.realpathSync(at), ...rest.reverse());
    } catch {
      const parent = path.dirname(at);
      if (parent === at) return path.join(at, ...rest.reverse());
      rest.push(path.basename(at));
      at = parent;
    }
  }
}

/** How the combine target and a part overlap ('is', 'contains', 'lies inside'), by real paths; null if apart. */
function overlapOf(target: string, part: string): string | null {
  const t = realPathOf(target);
  const p = realPathOf(part);
  const inside = (a: string, b: string) => {
    const rel = path.relative(b, a);
    return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
  };
  if (t === p) return 'is';
  if (inside(p, t)) return 'contains';
  if (inside(t, p)) return 'lies inside';
  return null;
}
