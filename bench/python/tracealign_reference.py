#!/usr/bin/env python3
"""
A pure-Python TraceAlign / TraceShield pipeline, written for the benchmark as the reference that
`index.shieldBatch(outputs, { tau, mode: { window } })` is checked against.

Pipeline (Das et al., 2025, *Tracing the Drift*, as traceindex implements it):
  1. Index: a sorted-suffix index of the corpus token array (documents, each followed by the separator 0xFF),
     i.e. all suffix start positions sorted by the bytes that follow them. Built here in Python with numpy
     (prefix doubling) or, when pydivsufsort is installed and asked for, with divsufsort; either way every
     query below runs in Python (bisect over the sorted positions, comparing byte slices).
  2. P_train(t) = c(t) / N, c = unigram counts over document tokens (separators excluded), N = their total.
  3. Windows: every stride-1 window o[i : i + w] of the output (i = 0 .. m - w).
  4. BCI(window) = -sum over its tokens of ln P_train(t).
  5. TraceShield: refuse iff some window that OCCURS in the corpus (count > 0) has BCI > tau.
     maxBci = the largest BCI among occurring windows (0 when none occurs).

Tokens are UTF-8 bytes (the corpus.py convention); a query never contains 0xFF, so no match crosses a
document boundary.
"""
from bisect import bisect_left, bisect_right
import math
import time

import numpy as np

SEPARATOR = 0xFF


def suffix_array_numpy(text: np.ndarray) -> np.ndarray:
    """Suffix array by prefix doubling (Manber-Myers with numpy sorts): O(n log n) per round, rounds up to
    log2 of the longest repeat. Ranks are 0..255 for bytes; past the end counts as smaller than any token."""
    n = len(text)
    rank = text.astype(np.int64)
    sa = np.argsort(rank, kind='stable')
    k = 1
    while True:
        second = np.full(n, -1, dtype=np.int64)
        second[:n - k] = rank[k:] if k < n else second[:0]
        sa = np.lexsort((second, rank))
        r, s = rank[sa], second[sa]
        new = np.empty(n, dtype=np.int64)
        new[sa] = np.concatenate(([0], np.cumsum((r[1:] != r[:-1]) | (s[1:] != s[:-1]))))
        rank = new
        if rank.max() == n - 1:
            return sa.astype(np.uint32 if n < 2**32 else np.uint64)
        k *= 2


def suffix_array_divsufsort(text: np.ndarray) -> np.ndarray:
    from pydivsufsort import divsufsort
    return divsufsort(np.array(text, dtype=np.uint8, copy=True))


class SuffixIndex:
    """Sorted-suffix index over a byte token array; counts by binary search in Python."""

    def __init__(self, blob: bytes, builder: str = 'numpy', sa: np.ndarray | None = None):
        self.blob = blob
        arr = np.frombuffer(blob, dtype=np.uint8)
        t0 = time.perf_counter()
        if sa is None:
            sa = suffix_array_divsufsort(arr) if builder == 'divsufsort' else suffix_array_numpy(arr)
        self.build_seconds = time.perf_counter() - t0
        self.builder = builder
        self.sa = np.ascontiguousarray(sa)
        self._sa = self.sa.tolist() if len(self.sa) < 5_000_000 else memoryview(self.sa.astype(np.int64)).cast('B').cast('q')
        counts = np.bincount(arr, minlength=256).astype(np.float64)
        self.documents = int(counts[SEPARATOR])
        counts[SEPARATOR] = 0
        self.unigram = counts
        self.total = float(counts.sum())
        with np.errstate(divide='ignore'):
            self.surprisal = np.where(counts > 0, math.log(self.total) - np.log(np.maximum(counts, 1)), np.inf)

    def count(self, q: bytes) -> int:
        if not q:
            return int(self.total)
        L = len(q)
        blob = self.blob
        key = lambda i: blob[i:i + L]  # noqa: E731
        lo = bisect_left(self._sa, q, key=key)
        hi = bisect_right(self._sa, q, lo=lo, key=key)
        return hi - lo

    def bci(self, q: bytes) -> float:
        return float(sum(self.surprisal[b] for b in q))


def shield(index: SuffixIndex, outputs: list[bytes], tau: float, window: int) -> list[dict]:
    """TraceShield in window mode for each output: {refuse, maxBci, windows (occurring), worst [i, i + w)}."""
    results = []
    for o in outputs:
        best, worst, occurring = 0.0, None, 0
        for i in range(0, len(o) - window + 1):
            w = o[i:i + window]
            if index.count(w) == 0:
                continue
            occurring += 1
            b = index.bci(w)
            if worst is None or b > best:
                best, worst = b, i
        results.append({'refuse': worst is not None and best > tau, 'maxBci': best if worst is not None else 0.0,
                        'windows': occurring, 'worst': worst})
    return results


if __name__ == '__main__':
    import argparse
    import json
    p = argparse.ArgumentParser(description='TraceShield (window mode) over a corpus token array, in Python')
    p.add_argument('--tokens', required=True, help='tokens.u8 written by corpus.py')
    p.add_argument('--outputs', required=True, help='JSONL with a "text" field per output')
    p.add_argument('--tau', type=float, required=True)
    p.add_argument('--window', type=int, default=16)
    p.add_argument('--builder', choices=['numpy', 'divsufsort'], default='numpy')
    a = p.parse_args()
    with open(a.tokens, 'rb') as f:
        idx = SuffixIndex(f.read(), a.builder)
    with open(a.outputs, encoding='utf-8') as f:
        outs = [json.loads(line)['text'].encode('utf-8') for line in f if line.strip()]
    t0 = time.perf_counter()
    res = shield(idx, outs, a.tau, a.window)
    print(json.dumps({'indexSeconds': idx.build_seconds, 'shieldSeconds': time.perf_counter() - t0, 'results': res}))
