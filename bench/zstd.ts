/**
 * .jsonl.zst input decoding: the addon's zstd reader (native/core/zstd_stream.hpp) against fzstd (the pure-JS
 * decoder used before, loaded from --fzstd DIR, a directory where `npm install fzstd` was run; skipped without it):
 * the addon fed 64 KiB read chunks (1 MiB out per call, off the JS thread), fzstd 512-byte slices, rounds
 * alternating; and readDocuments over the .zst file against the same JSONL uncompressed (--plain FILE). Decoded
 * bytes are checked equal.
 *
 *   zstd -19 corpus.jsonl -o corpus.jsonl.zst
 *   node dist/bench/zstd.js --file corpus.jsonl.zst --plain corpus.jsonl --fzstd /tmp/fz --rounds 3
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readDocuments } from '../lib/inputs/streams';
import { addon } from '../lib/native';
import { machine, writeResult } from './report';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const SLICE = 512;  // fzstd's slices, as lib/inputs/streams.ts fed it
const CHUNK = 64 * 1024, CALL = 1024 * 1024;  // a read chunk; decoded bytes per call (lib/inputs/streams.ts)

type Decoder = (data: Buffer) => Promise<number> | number;

async function native(data: Buffer): Promise<number> {
  const d = new addon.ZstdDecoder();
  let n = 0;
  for (let at = 0; at < data.length; at += CHUNK)
    for (let input = data.subarray(at, at + CHUNK), more = true; input.length > 0 || more;) {
      const r = await d.decode(input, CALL);
      n += r.output.length;
      input = input.subarray(r.consumed);
      more = r.more;
    }
  d.end();
  return n;
}

function fzstdDecoder(dir: string | undefined): Decoder | undefined {
  if (!dir) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Decompress } = require(path.resolve(dir, 'node_modules', 'fzstd')) as {
    Decompress: new (ondata: (c: Uint8Array) => void) => { push(c: Uint8Array, final?: boolean): void };
  };
  return (data) => {
    let n = 0;
    const d = new Decompress((c) => { n += c.length; });
    for (let at = 0; at < data.length; at += SLICE) d.push(data.subarray(at, at + SLICE), false);
    d.push(new Uint8Array(0), true);
    return n;
  };
}

async function documents(file: string): Promise<number> {
  let n = 0;
  for await (const _ of readDocuments([file])) n++;
  return n;
}

async function main(): Promise<void> {
  const file = arg('file');
  if (!file) throw new Error('usage: node dist/bench/zstd.js --file X.jsonl.zst [--plain X.jsonl] [--fzstd DIR] [--rounds N]');
  const plain = arg('plain');
  const rounds = Number(arg('rounds') ?? 3);
  const data = fs.readFileSync(file);
  const decoders: Array<[string, Decoder]> = [['traceindex (zstd 1.5.7)', native]];
  const fz = fzstdDecoder(arg('fzstd'));
  if (fz) decoders.push(['fzstd 0.1.1', fz]);
  else console.error('fzstd: skipped (pass --fzstd DIR, a directory where `npm install fzstd` was run)');
  const seconds: Record<string, number[]> = {};
  let size = -1;
  for (let r = 0; r < rounds; r++) {
    for (const [name, decode] of decoders) {
      const t = performance.now();
      const n = await decode(data);
      (seconds[name] ??= []).push((performance.now() - t) / 1000);
      if (size >= 0 && n !== size) throw new Error(`${name} decoded ${n} bytes, not ${size}`);
      size = n;
    }
    for (const f of plain ? [file, plain] : [file]) {
      const t = performance.now();
      const docs = await documents(f);
      (seconds[`readDocuments ${path.basename(f)} (${docs} documents)`] ??= []).push((performance.now() - t) / 1000);
    }
  }
  const rows = Object.entries(seconds).map(([name, s]) => {
    const best = Math.min(...s);
    return `| ${name} | ${s.map((x) => x.toFixed(2)).join(', ')} | ${name.startsWith('readDocuments') ? '' : (size / 1e6 / best).toFixed(0)} |`;
  });
  const md = [`${path.basename(file)}: ${(data.length / 1e6).toFixed(1)} MB compressed, ${(size / 1e6).toFixed(1)} MB decoded`, '',
    '| decoder / reader | seconds per round | MB/s decoded (best) |', '|---|---|---:|', ...rows].join('\n');
  writeResult(`zstd-inputs-${path.basename(file).replace(/\.jsonl\.zst$/, '')}`, { machine: machine(), file, compressed: data.length, decoded: size, seconds }, md);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
