/**
 * The trace viewer's static files (lib/viewer/assets/, shipped in the package: nothing is fetched from a CDN).
 * They are read from the source tree next to the compiled module, so dist/ needs no copy step.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const VIEWER_ASSETS = ['viewer.js', 'viewer.css'];

const cache = new Map<string, Buffer>();

/** The assets folder: lib/viewer/assets, found from dist/lib/viewer (compiled) or lib/viewer (ts-node). */
function assetsDir(): string {
  const candidates = [path.join(__dirname, 'assets'), path.resolve(__dirname, '..', '..', '..', 'lib', 'viewer', 'assets')];
  for (const c of candidates) if (fs.existsSync(path.join(c, 'index.html'))) return c;
  throw new Error(`traceindex viewer assets not found (looked in ${candidates.join(', ')})`);
}

export function viewerAsset(name: string): Buffer {
  let b = cache.get(name);
  if (!b) {
    b = fs.readFileSync(path.join(assetsDir(), name));
    cache.set(name, b);
  }
  return b;
}
