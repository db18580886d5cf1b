#!/usr/bin/env python3
"""
End-to-end index builds from text with a model's tokenizer: `traceindex build` against infini-gram's own
indexer, on the same JSONL, the same tokenizer and the same number of CPUs, rounds alternating the tools.

    python bench/python/e2e_build.py --jsonl FILE [--limit-mb 500] [--tokenizer llama-2] [--cpus 2] [--mem 8]
                                     [--rounds 2] [--work /tmp/traceindex-e2e] [--name e2e-build-cl100k]

traceindex: `node dist/lib/cli/main.js build DATA --tokenizer NAME --threads CPUS --memory MEMGiB` (native
tokenizer threads inside the build). infini-gram: `ig_index.py` (its indexer, v4 layout, u32 tokens, with
--add_metadata since traceindex keeps each document's record) tokenizing in its own process pool of CPUS
workers (ig_index.py --peer-vocab: the same vocabulary from the npm packages, encoded by Python tiktoken for
tiktoken ranks, by Hugging Face's Rust `tokenizers` for the Llama ones; its indexer would load a slow Python
tokenizer from a model hub, which is not reachable here, so this favours the peer). infini-gram's suffix-array
step allocates 8 bytes per possible u32 token id (32 GiB), so u32 vocabularies (cl100k_base, o200k_base,
llama-3) do not index on this 24 GiB machine: llama-2 (u16, infini-gram's own `--tokenizer llama`) is the
comparison that runs. Each
build runs in a fresh process measured by getrusage: wall seconds, peak RSS of the largest process, CPU
seconds, bytes on disk. The two token streams are checked equal (token count and every sampled document).
Writes bench/results/NAME.json and .md.
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from compare import dir_bytes, ig_ulimit, log, machine, measured  # noqa: E402

WIDTH = {'llama-2': 'u16', 'cl100k_base': 'u32', 'o200k_base': 'u32', 'llama-3': 'u32'}


def prepare(a) -> str:
    data = os.path.join(a.work, 'data')
    os.makedirs(data, exist_ok=True)
    dst = os.path.join(data, 'corpus.jsonl')
    limit = int(a.limit_mb * 1e6) if a.limit_mb else None
    if not (os.path.exists(dst) and (limit is None or os.path.getsize(dst) >= min(limit, os.path.getsize(a.jsonl)))):
        with open(a.jsonl, 'rb') as src, open(dst + '.tmp', 'wb') as out:
            n = 0
            for line in src:
                if limit is not None and n >= limit:
                    break
                out.write(line)
                n += len(line)
        os.replace(dst + '.tmp', dst)
    return dst


def vocab_file(a) -> str:
    out = subprocess.run(['node', os.path.join(ROOT, 'dist', 'bench', 'peer-vocab.js'), a.tokenizer, a.work],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def build_traceindex(a, data: str, out: str) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    r = measured(['node', os.path.join(ROOT, 'dist', 'lib', 'cli', 'main.js'), 'build', data, '--out', out,
                  '--tokenizer', a.tokenizer, '--threads', str(a.cpus), '--memory', f'{a.mem}GiB', '--json'],
                 os.path.join(a.work, 'traceindex.log'))
    if r['rc'] != 0:
        raise RuntimeError(f"traceindex build failed: see {r['log']}")
    r['disk'] = sum(dir_bytes(out).values())
    return r


def build_infinigram(a, data_dir: str, out: str, vocab: str) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    tmp = out + '-tmp'
    shutil.rmtree(tmp, ignore_errors=True)
    r = measured([sys.executable, os.path.join(HERE, 'ig_index.py'), '--data_dir', data_dir, '--save_dir', out,
                  '--temp_dir', tmp, '--token_dtype', WIDTH[a.tokenizer], '--tokenizer', 'llama', '--peer-vocab', vocab,
                  '--cpus', str(a.cpus), '--mem', str(a.mem), '--shards', '1', '--add_metadata', '--ulimit', str(ig_ulimit())],
                 os.path.join(a.work, 'infinigram.log'))
    shutil.rmtree(tmp, ignore_errors=True)
    if r['rc'] != 0:
        raise RuntimeError(f"infini-gram indexer failed: see {r['log']}")
    r['disk'] = sum(dir_bytes(out).values())
    return r


def same_tokens(ti_dir: str, ig_dir: str, width: str, samples: int = 64) -> dict:
    """Token count and sampled documents of the two indexes, compared (infini-gram: a separator of all-ones
    bytes before each document in tokenized.0, document byte starts in offset.0)."""
    w, fmt = (2, 'H') if width == 'u16' else (4, 'I')
    with open(os.path.join(ig_dir, 'offset.0'), 'rb') as f:
        offsets = list(struct.unpack(f'<{os.path.getsize(f.name) // 8}Q', f.read()))
    size = os.path.getsize(os.path.join(ig_dir, 'tokenized.0'))
    ends = offsets[1:] + [size]
    docs = len(offsets)
    picks = sorted({(i * docs) // samples for i in range(samples)} | {docs - 1})
    js = ('const { openIndex } = require(process.argv[1]);'
          '(async () => { const ix = await openIndex(process.argv[2]); const picks = JSON.parse(process.argv[3]);'
          'const info = ix.info; const docs = picks.map((d) => Array.from(ix.documentSync(d).tokens));'
          'console.log(JSON.stringify({ documents: info.documents, tokens: info.tokens, docs })); ix.close(); })();')
    ours = json.loads(subprocess.run(['node', '-e', js, os.path.join(ROOT, 'dist', 'lib', 'index.js'), ti_dir, json.dumps(picks)],
                                     capture_output=True, text=True, check=True).stdout)
    mismatched = 0
    with open(os.path.join(ig_dir, 'tokenized.0'), 'rb') as f:
        for d, want in zip(picks, ours['docs']):
            f.seek(offsets[d] + w)
            raw = f.read(ends[d] - offsets[d] - w)
            if list(struct.unpack(f'<{len(raw) // w}{fmt}', raw)) != want:
                mismatched += 1
    ig_tokens = size // w - docs
    return {'documents': [ours['documents'], docs], 'tokens': [ours['tokens'], ig_tokens], 'sampled': len(picks),
            'mismatched': mismatched, 'equal': mismatched == 0 and ours['documents'] == docs}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--jsonl', required=True)
    p.add_argument('--limit-mb', type=float, default=0)
    p.add_argument('--tokenizer', default='llama-2', choices=sorted(WIDTH))
    p.add_argument('--cpus', type=int, default=2)
    p.add_argument('--mem', type=int, default=8)
    p.add_argument('--rounds', type=int, default=2)
    p.add_argument('--work', default='/tmp/traceindex-e2e')
    p.add_argument('--name', default=None)
    a = p.parse_args()
    os.makedirs(a.work, exist_ok=True)
    data = prepare(a)
    mb = os.path.getsize(data) / 1e6
    vocab = vocab_file(a)
    ti_dir, ig_dir = os.path.join(a.work, 'ti'), os.path.join(a.work, 'ig')
    rounds = []
    for k in range(a.rounds):
        order = ['traceindex', 'infinigram'] if k % 2 == 0 else ['infinigram', 'traceindex']
        r = {}
        for tool in order:
            log(f'round {k + 1}: {tool} ({mb:.0f} MB, {a.tokenizer}, {a.cpus} CPUs) ...')
            r[tool] = build_traceindex(a, data, ti_dir) if tool == 'traceindex' else build_infinigram(a, os.path.dirname(data), ig_dir, vocab)
            log(f"  {r[tool]['wallSeconds']:.1f} s, peak RSS {r[tool]['peakRssMiB']:.0f} MiB")
        rounds.append(r)
    check = same_tokens(ti_dir, ig_dir, WIDTH[a.tokenizer])
    result = {'machine': machine(), 'corpusMB': mb, 'tokenizer': a.tokenizer, 'cpus': a.cpus, 'memGiB': a.mem,
              'rounds': rounds, 'check': check, 'command': ' '.join(['python', 'bench/python/e2e_build.py'] + sys.argv[1:])}
    name = a.name or f'e2e-build-{a.tokenizer}'
    rows = []
    for i, r in enumerate(rounds):
        t, g = r['traceindex'], r['infinigram']
        rows.append(f"| {i + 1} | {t['wallSeconds']:.1f} | {t['peakRssMiB']:.0f} | {t['disk'] / 1e9:.2f} | "
                    f"{g['wallSeconds']:.1f} | {g['peakRssMiB']:.0f} | {g['disk'] / 1e9:.2f} | "
                    f"**{g['wallSeconds'] / t['wallSeconds']:.2f}×** |")
    md = '\n'.join([
        f"### End-to-end build from text: {mb:.0f} MB JSONL, {a.tokenizer}, {a.cpus} CPUs ({check['tokens'][0] / 1e6:.1f} M tokens)",
        '',
        '| round | traceindex s | peak RSS MiB | disk GB | infini-gram s | peak RSS MiB | disk GB | speed-up |',
        '|---|---:|---:|---:|---:|---:|---:|---:|',
        *rows,
        '',
        f"Same tokens: {check['tokens'][0]} vs {check['tokens'][1]}, {check['documents'][0]} vs {check['documents'][1]} documents, "
        f"{check['sampled'] - check['mismatched']}/{check['sampled']} sampled documents identical.",
        '',
        f"Command: `{result['command']}`",
    ])
    with open(os.path.join(ROOT, 'bench', 'results', f'{name}.json'), 'w') as f:
        json.dump(result, f, indent=1)
    with open(os.path.join(ROOT, 'bench', 'results', f'{name}.md'), 'w') as f:
        f.write(md + '\n')
    print(md)
    if not check['equal']:
        sys.exit('the two builds did not produce the same tokens')


if __name__ == '__main__':
    main()
