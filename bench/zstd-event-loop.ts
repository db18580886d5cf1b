/**
 * How long readDocuments over a .jsonl.zst holds the event loop (perf_hooks monitorEventLoopDelay, 1 ms
 * resolution: max and p99) and its time, for two builds of the package side by side (each run in a child
 * process, sides alternating per round): `--before DIR --after DIR` are dist directories (e.g. main's and a
 * branch's).
 *
 *   node dist/bench/zstd-event-loop.js --before /work/main/dist --after dist --rounds 6 FILE.jsonl.zst...
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const one = `
const { readDocuments } = require(process.argv[1] + '/lib/inputs/streams');
const { monitorEventLoopDelay } = require('perf_hooks');
(async () => {
  const h = monitorEventLoopDelay({ resolution: 1 }); h.enable();
  const t = performance.now(); let docs = 0;
  for await (const _ of readDocuments([process.argv[2]])) docs++;
  h.disable();
  console.log(JSON.stringify({ s: (performance.now() - t) / 1000, docs, max: h.max / 1e6, p99: h.percentile(99) / 1e6 }));
})();`;

interface Run { s: number; docs: number; max: number; p99: number }

function main(): void {
  const sides: Record<string, string> = { before: path.resolve(arg('before') ?? ''), after: path.resolve(arg('after') ?? '') };
  const rounds = Number(arg('rounds') ?? 6);
  const files = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
  if (!arg('before') || !arg('after') || files.length === 0) throw new Error('usage: --before DIST --after DIST [--rounds N] FILE.jsonl.zst...');
  for (const file of files) {
    const res: Record<string, Run[]> = { before: [], after: [] };
    for (let r = 0; r < rounds; r++)
      for (const side of r % 2 ? ['after', 'before'] : ['before', 'after']) {
        const o = spawnSync(process.execPath, ['-e', one, sides[side], file], { encoding: 'utf8' });
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
