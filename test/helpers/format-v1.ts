/** Index directories as a format version 1 writer leaves them (docs/FORMAT.md, Versioning). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addon } from '../../lib/native';

export const V1_FILES = ['tokens.bin', 'sa.bin', 'docs.bin', 'meta.bin', 'unigram.bin'];
export const manifestOf = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
export const writeManifest = (dir: string, m: unknown) => fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(m, null, 2));

/** The index as a version 1 writer leaves it: no samples.bin, every header and the manifest saying 1. */
export async function stripToV1(dir: string): Promise<void> {
  const m = manifestOf(dir);
  m.formatVersion = 1;
  for (const s of m.shards) {
    fs.rmSync(path.join(dir, s.dir, 'samples.bin'));
    delete s.files['samples.bin'];
    for (const f of V1_FILES) {
      const file = path.join(dir, s.dir, f);
      const b = fs.readFileSync(file);
      b.writeUInt32LE(1, 8);
      fs.writeFileSync(file, b);
      s.files[f].xxh64 = await addon.checksumFile(file);
    }
  }
  writeManifest(dir, m);
}
