/**
 * Vocabulary files for the Python peers (bench/python/tokenizers_peer.py, ig_index.py --peer-vocab), written
 * from the npm packages the tokenizers come from (nothing downloaded):
 *   {"kind": "tiktoken", "pat_str", "bpe_ranks"}            cl100k_base, o200k_base (js-tiktoken's ranks)
 *   {"kind": "llama-3", "vocab", "merges", "pat_str"}       llama-3 (llama3-tokenizer-js)
 *   {"kind": "llama-2", "vocab", "merges"}                  llama-2 (llama-tokenizer-js)
 *
 *   node dist/bench/peer-vocab.js NAME DIR      writes DIR/NAME.json and prints its path
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const LLAMA3_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** Writes DIR/NAME.json for a named tokenizer; '' for a name the peers do not know. */
export async function peerVocabulary(name: string, dir: string): Promise<string> {
  const file = path.join(dir, `${name}.json`);
  if (name === 'cl100k_base' || name === 'o200k_base') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const r = require(`js-tiktoken/ranks/${name}`) as { pat_str: string; bpe_ranks: string };
    fs.writeFileSync(file, JSON.stringify({ kind: 'tiktoken', pat_str: r.pat_str, bpe_ranks: r.bpe_ranks }));
  } else if (name === 'llama-3') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { llama3Tokenizer: t } = require('llama3-tokenizer-js/bundle/commonjs-llama3-tokenizer-with-baked-data.cjs');
    fs.writeFileSync(file, JSON.stringify({ kind: 'llama-3', vocab: t.vocabById.slice(0, 128000), merges: [...t.merges.keys()], pat_str: LLAMA3_PATTERN }));
  } else if (name === 'llama-2') {
    // ES-module-only package: TypeScript's CommonJS output would turn import() into require().
    const importModule = new Function('s', 'return import(s)') as (s: string) => Promise<{ default: { vocabById: string[]; merges: Map<string, number> } }>;
    const t = (await importModule('llama-tokenizer-js')).default;
    fs.writeFileSync(file, JSON.stringify({ kind: 'llama-2', vocab: t.vocabById, merges: [...t.merges.keys()] }));
  } else {
    return '';
  }
  return file;
}

if (require.main === module) {
  const [name, dir] = process.argv.slice(2);
  if (!name || !dir) {
    process.stderr.write('usage: node dist/bench/peer-vocab.js NAME DIR\n');
    process.exit(2);
  }
  fs.mkdirSync(dir, { recursive: true });
  peerVocabulary(name, dir).then((f) => {
    if (!f) { process.stderr.write(`no peer vocabulary for ${name}\n`); process.exit(2); }
    process.stdout.write(`${f}\n`);
  });
}
