/**
 * How long readDocuments over a .jsonl.zst (with --build: buildIndex of it, bytes tokenizer, end to end) holds the
 * event loop (perf_hooks monitorEventLoopDelay, 1 ms resolution: max and p99) and its time, for two builds of the
 * package side by side (each run in a child process, sides alternating per round): `--before DIR --after DIR` are
 * dist directories (e.g. main's and a branch's).
 *
 *   node dist/bench/zstd-event-loop.js --before /work/main/dist --after dist --rounds 6 [--build] FILE.jsonl.zst...
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const one = `
const { readDocuments } = require(process.argv[1] + '/lib/inputs/streams');
const { buildIndex } = require(process.argv[1] + '/lib/index');
const { monitorEventLoopDelay } = require('perf_hooks');
const fs = require('fs'), os = require('os'), path = require('path');
(async () => {
  const h = monitorEventLoopDelay({ resolution: 1 }); h.enable();
  const t = performance.now(); let docs = 0;
  if (process.argv[3] === 'build') {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'zstd-build-'));
    try {
      docs = (await buildIndex({ inputs: [process.argv[2]], out: path.join(out, 'idx') })).documents;
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  } else for await (const _ of readDocuments([process.argv[2]])) docs++;
  h.disable();
  console.log(JSON.stringify({ s: (performance.now() - t) / 1000, docs, max: h.max / 1e6, p99: h.percentile(99) / 1e6 }));
})();`;

interface Run { s: number; docs: number; max: number; p99: number }

function main(): void {
  const sides: Record<string, string> = { before: path.resolve(arg('before') ?? ''), after: path.resolve(arg('after') ?? '') };
  const rounds = Number(arg('rounds') ?? 6);
  const valued = ['--before', '--after', '--rounds'];
  const files = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !valued.includes(all[i - 1]));
  if (!arg('before') || !arg('after') || files.length === 0) throw new Error('usage: --before DIST --after DIST [--rounds N] FILE.jsonl.zst...');
  for (const file of files) {
    const res: Record<string, Run[]> = { before: [], after: [] };
    for (let r = 0; r < rounds; r++)
      for (const side of r % 2 ? ['after', 'before'] : ['before', 'after']) {
        const o = spawnSync(process.execPath, ['-e', one, sides[side], file, process.argv.includes('--build') ? 'build' : 'read'], { encoding: 'utf8' });
        if (o.status !== 0) throw new Error(o.stderr);
        res[side].push(JSON.parse(o.stdout) as Run);
      }
    for (const side of ['before', 'after']) {
      const f = (k: 's' | 'max' | 'p99') => res[side].map((x) => x[k].toFixed(k === 's' ? 2 : 1)).join(' ');
      console.log(`${path.basename(file)} ${side} (${res[side][0].docs} docs) | s: ${f('s')} | max ms: ${f('max')} | p99 ms: ${f('p99')}`);
    }
  }
}

main();
