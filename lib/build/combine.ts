/**
 * combineIndexes: ties the finished parts of a partitioned build (`build --shard i/N`, one job per part on
 * any scheduler) into one index without copying: the index's shard directories are relative symlinks into
 * the parts, and its manifest lists the parts' shards in part order, so the combined index answers exactly
 * like a one-process build of the same inputs. Every part must be present once, finished, and from the same
 * partition; anything else is refused before the index is written. The parts must stay where they are.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkOut } from './workdir';
import { TraceIndexError } from '../errors';
import { checkShardFiles, FORMAT_NAME, FORMAT_VERSION, Manifest, readManifest, ShardEntry, SHARD_FILES, writeManifest } from './manifest';
import { addon, nativeError } from '../native';

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
        for (const f of SHARD_FILES) {
          const file = path.join(p.dir, s.dir, f);
          if ((await addon.checksumFile(file)) !== s.files[f].xxh64) throw new TraceIndexError('ERR_INDEX_CORRUPT', `${file}: checksum differs from its part's manifest`);
        }
  }

  checkOut(target);
  const work = path.join(path.dirname(target), `.${path.basename(target)}.combining-${process.pid}`);
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  try {
    const shards: ShardEntry[] = [];
    for (let i = 0; i < first.part.count; i++) {
      const p = byIndex.get(i)!;
      for (const s of p.m.shards) {
        const dir = `shard-${String(shards.length).padStart(5, '0')}`;
        fs.symlinkSync(path.relative(target, path.join(p.dir, s.dir)), path.join(work, dir), 'dir');
        shards.push({ ...s, dir });
      }
    }
    const manifest: Manifest = {
      format: FORMAT_NAME,
      formatVersion: FORMAT_VERSION,
      tokenizer: first.m.tokenizer,
      tokenWidth: first.m.tokenWidth,
      vocabSize: first.m.vocabSize,
      tokens: shards.reduce((t, s) => t + s.tokens - s.documents, 0),
      documents: shards.reduce((t, s) => t + s.documents, 0),
      shards,
    };
    writeManifest(work, manifest, addon.fsyncPath);
    const exchanged = addon.exchangeOrRename(work, target);
    addon.fsyncPath(path.dirname(target));
    if (exchanged) fs.rmSync(work, { recursive: true, force: true });
    return { out: target, parts: parts.length, shards: shards.length, documents: manifest.documents, tokens: manifest.tokens };
  } catch (err) {
    fs.rmSync(work, { recursive: true, force: true });
    throw nativeError(err);
  }
}
