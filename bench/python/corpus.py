#!/usr/bin/env python3
"""
One corpus, both engines' input forms.

    python bench/python/corpus.py --out DIR --generate-mb 10 [--seed 1]
    python bench/python/corpus.py --out DIR --jsonl corpus.jsonl [--text-field text] [--id-field id] [--limit-mb 20]

Tokenization: UTF-8 bytes on both sides. infini-gram's indexer indexes u8 byte tokens natively
(`--token_dtype u8` without a tokenizer: the document's UTF-8 bytes are the tokens, separator 0xFF), and
traceindex's default `bytes` tokenizer uses the same ids (0-254; 0xFF never occurs in UTF-8). So both engines
read the very same JSONL file and index the same token sequence; no tokenizer or model is downloaded.

Writes into DIR:
  docs.jsonl               {"id": ..., "text": ...} per document, in order: traceindex's input
  infinigram-data/docs.jsonl   the same file (hard link, or copy): infini-gram's --data_dir
  tokens.u8                the token array both suffix arrays are built over, in traceindex's layout: each
                           document's bytes followed by the separator 0xFF (the pydivsufsort / bench_sais input)
  corpus.json              description: source, documents, tokens, bytes, sha256 of docs.jsonl, command
Documents that are empty (no tokens) are dropped on both sides.
"""
import argparse
import bisect
import hashlib
import itertools
import json
import os
import random
import shutil
import sys
import time

SEPARATOR = 0xFF


def generated_documents(mb: float, seed: int):
    """Zipf(s = 1) over 50,000 random lowercase words (a few with non-ASCII letters), in sentences and
    documents of 200 B to 16 KiB: frequent words and phrases repeat as in natural text. Deterministic for
    (mb, seed) with Python's Mersenne Twister."""
    rng = random.Random(seed)
    letters = 'abcdefghijklmnopqrstuvwxyz'
    words = []
    for i in range(50000):
        w = ''.join(rng.choice(letters) for _ in range(2 + rng.randrange(9)))
        if i % 97 == 13:  # some multi-byte UTF-8
            w = w[:1] + rng.choice('éüñøßçå') + w[1:]
        words.append(w)
    cum = list(itertools.accumulate(1.0 / (i + 1) for i in range(len(words))))
    total = cum[-1]
    budget = int(mb * 1e6)
    produced = 0
    n = 0
    while produced < budget:
        target = min(budget - produced, 200 + int(rng.paretovariate(1.2) * 800))
        target = max(1, min(target, 16384))
        parts = []
        size = 0
        while size < target:
            k = 4 + rng.randrange(16)
            picks = [words[bisect.bisect_left(cum, rng.random() * total)] for _ in range(k)]
            sentence = ' '.join(picks).capitalize() + ('.\n' if rng.random() < 0.2 else '. ')
            parts.append(sentence)
            size += len(sentence.encode('utf-8'))
        text = ''.join(parts)
        b = text.encode('utf-8')
        if len(b) > target:
            text = b[:target].decode('utf-8', 'ignore')
        yield {'id': f'gen-{n}', 'text': text}
        produced += len(text.encode('utf-8'))
        n += 1


def jsonl_documents(path: str, text_field: str, id_field: str, limit_mb: float):
    budget = int(limit_mb * 1e6) if limit_mb else None
    produced = 0
    opener = open
    if path.endswith('.gz'):
        import gzip
        opener = gzip.open
    with opener(path, 'rt', encoding='utf-8') as f:
        for n, line in enumerate(f):
            if not line.strip():
                continue
            rec = json.loads(line)
            text = rec
            for part in text_field.split('.'):
                text = text[part]
            if not isinstance(text, str):
                raise SystemExit(f'{path}:{n + 1}: field {text_field} is not a string')
            size = len(text.encode('utf-8'))
            if budget is not None and produced + size > budget:
                break
            yield {'id': str(rec.get(id_field, n)), 'text': text}
            produced += size


def write_corpus(out: str, docs, source: str) -> dict:
    os.makedirs(out, exist_ok=True)
    data_dir = os.path.join(out, 'infinigram-data')
    shutil.rmtree(data_dir, ignore_errors=True)
    os.makedirs(data_dir)
    jsonl = os.path.join(out, 'docs.jsonl')
    sha = hashlib.sha256()
    n_docs = n_tokens = 0
    with open(jsonl, 'w', encoding='utf-8', newline='\n') as fj, open(os.path.join(out, 'tokens.u8'), 'wb') as ft:
        for d in docs:
            b = d['text'].encode('utf-8')
            if not b:
                continue
            # ensure_ascii keeps every line pure ASCII JSON: both parsers read the same text back.
            line = json.dumps({'id': d['id'], 'text': d['text']}) + '\n'
            fj.write(line)
            sha.update(line.encode('ascii'))
            ft.write(b)
            ft.write(bytes([SEPARATOR]))
            n_docs += 1
            n_tokens += len(b)
    if n_docs == 0:
        raise SystemExit('no non-empty documents')
    target = os.path.join(data_dir, 'docs.jsonl')
    try:
        os.link(jsonl, target)
    except OSError:
        shutil.copyfile(jsonl, target)
    meta = {
        'source': source,
        'tokenizer': 'utf-8 bytes (traceindex "bytes"; infini-gram --token_dtype u8, no tokenizer)',
        'documents': n_docs,
        'tokens': n_tokens,
        'tokenArray': {'file': 'tokens.u8', 'bytes': n_tokens + n_docs, 'layout': 'each document then 0xFF'},
        'jsonlBytes': os.path.getsize(jsonl),
        'sha256': sha.hexdigest(),
        'command': ' '.join([os.path.basename(sys.executable)] + sys.argv),
        'written': time.strftime('%Y-%m-%dT%H:%M:%S%z'),
    }
    with open(os.path.join(out, 'corpus.json'), 'w') as f:
        json.dump(meta, f, indent=2)
    return meta


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', required=True)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument('--jsonl', help='JSONL (.jsonl or .jsonl.gz) with a text field')
    src.add_argument('--generate-mb', type=float, help='generate this many MB of Zipf text')
    p.add_argument('--text-field', default='text')
    p.add_argument('--id-field', default='id')
    p.add_argument('--limit-mb', type=float, default=0, help='stop --jsonl input after this many MB of text')
    p.add_argument('--seed', type=int, default=1)
    a = p.parse_args(argv)
    if a.jsonl:
        meta = write_corpus(a.out, jsonl_documents(a.jsonl, a.text_field, a.id_field, a.limit_mb), f'jsonl: {os.path.abspath(a.jsonl)}')
    else:
        meta = write_corpus(a.out, generated_documents(a.generate_mb, a.seed), f'generated: Zipf(s=1) over 50,000 words, {a.generate_mb} MB, seed {a.seed}')
    print(f"{meta['documents']} documents, {meta['tokens']} tokens -> {a.out}", file=sys.stderr)
    return meta


if __name__ == '__main__':
    main()
