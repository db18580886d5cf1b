/**
 * How long loading a large tokenizer.json holds the JS thread: a byte-level BPE file generated here (nothing is
 * downloaded) of --tokens N entries (default 2^20, the loader's cap): the 256 byte tokens, then merges of random
 * earlier pairs. Each load runs in a child process, with the native encoder and without, for each dist directory
 * given (sides alternating per round); fingerprints are checked equal across sides.
 *
 *   node dist/bench/tokenizer-json-load.js --rounds 3 --tokens 1048576 BEFORE/dist AFTER/dist
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BYTE_CHARS } from '../lib/tokenizers/named';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};

function generate(file: string, n: number): void {
  let s = 12345;
  const rnd = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
  const tokens = BYTE_CHARS.slice(), seen = new Set(tokens), merges: string[] = [];
  while (tokens.length < n) {
    const a = tokens[Math.floor(rnd() * Math.min(tokens.length, 256 + tokens.length * rnd()))];
    const b = tokens[Math.floor(rnd() * 1024) % tokens.length];
    const t = a + b;
    if (t.length > 24 || seen.has(t)) continue;
    seen.add(t);
    tokens.push(t);
    merges.push(`${a} ${b}`);
  }
  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => (vocab[t] = i));
  fs.writeFileSync(file, JSON.stringify({
    version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null, decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
  }));
}

const one = `
const { loadTokenizer } = require(process.argv[1] + '/lib/tokenizers/named');
(async () => {
  const t = performance.now();
  const tok = await loadTokenizer(process.argv[2], { implementation: process.argv[3] });
  console.log(JSON.stringify({ s: (performance.now() - t) / 1000, fingerprint: tok.fingerprint, native: tok.native }));
})();`;

function main(): void {
  const rounds = Number(arg('rounds') ?? 3);
  const n = Number(arg('tokens') ?? 2 ** 20);
  const valued = ['--rounds', '--tokens'];
  const sides = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !valued.includes(all[i - 1])).map((d) => path.resolve(d));
  if (sides.length === 0) throw new Error('usage: [--rounds N] [--tokens N] DIST...');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenizer-json-load-'));
  try {
    const file = path.join(dir, 'big.tokenizer.json');
    generate(file, n);
    console.log(`${n} tokens, ${(fs.statSync(file).size / 1e6).toFixed(1)} MB`);
    const seconds: Record<string, number[]> = {};
    let fingerprint: string | undefined;
    for (let r = 0; r < rounds; r++)
      for (const side of r % 2 ? [...sides].reverse() : sides)
        for (const impl of ['native', 'js']) {
          const o = spawnSync(process.execPath, ['-e', one, side, file, impl], { encoding: 'utf8' });
          if (o.status !== 0) throw new Error(o.stderr);
          const res = JSON.parse(o.stdout) as { s: number; fingerprint: string };
          if ((fingerprint ??= res.fingerprint) !== res.fingerprint) throw new Error(`${side}: fingerprint ${res.fingerprint}, not ${fingerprint}`);
          (seconds[`${side} ${impl}`] ??= []).push(res.s);
        }
    for (const [k, s] of Object.entries(seconds)) console.log(`${k} | s: ${s.map((x) => x.toFixed(2)).join(' ')}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
