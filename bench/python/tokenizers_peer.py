#!/usr/bin/env python3
"""Python peers of bench/tokenizers.ts: tiktoken and Hugging Face tokenizers (PyPI) on the same documents.

  python3 bench/python/tokenizers_peer.py --vocab VOCAB.json --docs DOCS.jsonl

VOCAB.json is written by bench/tokenizers.ts from the npm packages (nothing is downloaded):
  {"kind": "tiktoken", "pat_str", "bpe_ranks"}  js-tiktoken's ranks ("<label> <first rank> <base64> ...")
  {"kind": "llama-3", "vocab", "merges", "pat_str"} / {"kind": "llama-2", "vocab", "merges"}  the JS packages'
  token strings and merges ("left right", in merge order).
Each document is encoded alone on one thread (no BOS/EOS, special-token text as text). Prints one JSON line
per engine: {"engine", "cpu", "wall" (seconds), "tokens", "hash"} (hash: SHA-256 of the ids as little-endian uint32, first
16 hex digits, as bench/tokenizers.ts computes it), or {"engine", "skipped"}.
"""
import argparse
import base64
import hashlib
import json
import os
import sys
import time
from array import array

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("RAYON_NUM_THREADS", "1")


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def tiktoken_ranks(bpe_ranks):
    ranks = {}
    for line in bpe_ranks.split("\n"):
        if not line:
            continue
        fields = line.split(" ")
        first = int(fields[1])
        for i, token in enumerate(fields[2:]):
            ranks[base64.b64decode(token)] = first + i
    return ranks


def run(engine, encode, docs):
    h = hashlib.sha256()
    tokens = 0
    encode("warm up")
    t0, c0 = time.perf_counter(), time.process_time()
    out = [encode(d) for d in docs]
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    for ids in out:
        tokens += len(ids)
        h.update(array("I", ids).tobytes())
    print(json.dumps({"engine": engine, "cpu": cpu, "wall": wall, "tokens": tokens, "hash": h.hexdigest()[:16]}), flush=True)


def hf_tokenizer(spec):
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers

    if spec["kind"] == "llama-2":
        vocab = {s: i for i, s in enumerate(spec["vocab"])}
        merges = [tuple(m.split(" ", 1)) for m in spec["merges"]]
        t = Tokenizer(models.BPE(vocab=vocab, merges=merges, byte_fallback=True, unk_token="<unk>", fuse_unk=True))
        t.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
        return t
    if spec["kind"] == "llama-3":
        vocab = {s: i for i, s in enumerate(spec["vocab"])}
        merges = [tuple(m.split(" ", 1)) for m in spec["merges"]]
    else:  # tiktoken ranks -> byte-level BPE: every split of a token into two tokens is a merge, ranked by the token
        u = bytes_to_unicode()
        ranks = tiktoken_ranks(spec["bpe_ranks"])
        text = lambda b: "".join(u[x] for x in b)
        vocab = {text(b): r for b, r in ranks.items()}
        merges = []
        for b, r in ranks.items():
            local = [(b[:k], b[k:]) for k in range(1, len(b)) if b[:k] in ranks and b[k:] in ranks]
            local.sort(key=lambda p: (ranks[p[0]], ranks[p[1]]))
            merges.extend((r, text(x), text(y)) for x, y in local)
        merges.sort(key=lambda m: m[0])
        merges = [(x, y) for _, x, y in merges]
    t = Tokenizer(models.BPE(vocab=vocab, merges=merges, ignore_merges=True))
    t.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(spec["pat_str"]), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    t.decoder = decoders.ByteLevel()
    return t


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--vocab", required=True)
    p.add_argument("--docs", required=True)
    a = p.parse_args()
    spec = json.load(open(a.vocab, encoding="utf-8"))
    docs = [json.loads(line) for line in open(a.docs, encoding="utf-8", errors="surrogatepass")]
    # Lone surrogates cannot be encoded by either peer; they read them as U+FFFD, as TextEncoder does.
    docs = [d.encode("utf-8", "replace").decode("utf-8") for d in docs]
    if spec["kind"] == "tiktoken":
        try:
            import tiktoken

            enc = tiktoken.Encoding("peer", pat_str=spec["pat_str"], mergeable_ranks=tiktoken_ranks(spec["bpe_ranks"]), special_tokens={})
            run(f"Python tiktoken {tiktoken.__version__}", enc.encode_ordinary, docs)
        except ImportError as e:
            print(json.dumps({"engine": "Python tiktoken", "skipped": str(e)}), flush=True)
    try:
        import tokenizers

        t = hf_tokenizer(spec)
        run(f"Python HF tokenizers {tokenizers.__version__}", lambda d: t.encode(d, add_special_tokens=False).ids, docs)
    except ImportError as e:
        print(json.dumps({"engine": "Python HF tokenizers", "skipped": str(e)}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
