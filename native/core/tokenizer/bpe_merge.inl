// The merge loop (see bpe.hpp). Included from bpe.hpp: the key function is inlined into each tokenizer's loop.
#pragma once

namespace traceindex::tok {

namespace detail {

// Few symbols: arrays compacted on every merge, the minimum found by a scan (strict <: leftmost wins).
template <typename KeyFn>
void merge_short(std::vector<uint32_t>& sym, const PairMap& pairs, KeyFn key, BpeScratch& sc) {
  size_t n = sym.size();
  uint32_t pos[kShortMerge], result[kShortMerge];
  uint64_t k[kShortMerge];
  auto pair_key = [&](size_t i) -> uint64_t {
    const Merge* m = pairs.find(sym[i], sym[i + 1]);
    if (!m) return ~0ULL;
    result[i] = m->result;
    return key(m->rank, pos[i]);
  };
  for (size_t i = 0; i < n; ++i) pos[i] = static_cast<uint32_t>(i);
  for (size_t i = 0; i + 1 < n; ++i) k[i] = pair_key(i);
  while (n > 1) {
    size_t best = 0;
    for (size_t i = 1; i + 1 < n; ++i)
      if (k[i] < k[best]) best = i;
    if (k[best] == ~0ULL) break;
    sym[best] = result[best];
    for (size_t i = best + 1; i + 1 < n; ++i) { sym[i] = sym[i + 1]; pos[i] = pos[i + 1]; k[i] = k[i + 1]; result[i] = result[i + 1]; }
    --n;
    if (best + 1 < n) k[best] = pair_key(best);
    if (best > 0) k[best - 1] = pair_key(best - 1);
  }
  sym.resize(n);
  (void)sc;
}

// Many symbols: a doubly linked list over the initial positions (a merged symbol lives at its left part's
// position) and an indexed min-heap of the positions whose pair with the next symbol has a merge, ordered by
// (key, position).
template <typename KeyFn>
void merge_long(std::vector<uint32_t>& sym, const PairMap& pairs, KeyFn key, BpeScratch& sc) {
  const uint32_t n = static_cast<uint32_t>(sym.size());
  auto& prev = sc.prev; auto& next = sc.next; auto& heap = sc.heap; auto& where = sc.where; auto& k = sc.key;
  auto& result = sc.result;
  prev.resize(n); next.resize(n); where.assign(n, kNone); k.resize(n); result.resize(n); heap.clear();
  for (uint32_t i = 0; i < n; ++i) { prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : kNone; }
  prev[0] = kNone;
  auto less = [&](uint32_t a, uint32_t b) { return k[a] < k[b] || (k[a] == k[b] && a < b); };
  auto up = [&](size_t h) {
    uint32_t x = heap[h];
    while (h > 0 && less(x, heap[(h - 1) / 2])) { heap[h] = heap[(h - 1) / 2]; where[heap[h]] = static_cast<uint32_t>(h); h = (h - 1) / 2; }
    heap[h] = x; where[x] = static_cast<uint32_t>(h);
  };
  auto down = [&](size_t h) {
    uint32_t x = heap[h];
    for (;;) {
      size_t c = 2 * h + 1;
      if (c >= heap.size()) break;
      if (c + 1 < heap.size() && less(heap[c + 1], heap[c])) ++c;
      if (!less(heap[c], x)) break;
      heap[h] = heap[c]; where[heap[h]] = static_cast<uint32_t>(h); h = c;
    }
    heap[h] = x; where[x] = static_cast<uint32_t>(h);
  };
  auto remove = [&](uint32_t i) {
    uint32_t h = where[i];
    if (h == kNone) return;
    where[i] = kNone;
    uint32_t last = heap.back();
    heap.pop_back();
    if (last == i) return;
    heap[h] = last; where[last] = h;
    up(h); down(where[last]);
  };
  // Sets position i's pair (with next[i]) and its place in the heap.
  auto refresh = [&](uint32_t i) {
    const Merge* m = next[i] == kNone ? nullptr : pairs.find(sym[i], sym[next[i]]);
    if (!m) { remove(i); return; }
    k[i] = key(m->rank, i);
    result[i] = m->result;
    if (where[i] == kNone) { heap.push_back(i); up(heap.size() - 1); }
    else { up(where[i]); down(where[i]); }
  };
  for (uint32_t i = 0; i + 1 < n; ++i) refresh(i);
  while (!heap.empty()) {
    uint32_t i = heap[0], j = next[i];
    sym[i] = result[i];
    remove(j);
    next[i] = next[j];
    if (next[i] != kNone) prev[next[i]] = i;
    sym[j] = kNone;
    refresh(i);
    if (prev[i] != kNone) refresh(prev[i]);
  }
  size_t out = 0;
  for (uint32_t i = 0; i != kNone; i = next[i]) sym[out++] = sym[i];
  sym.resize(out);
}

}  // namespace detail

template <typename KeyFn>
void merge_pairs(std::vector<uint32_t>& symbols, const PairMap& pairs, KeyFn key, BpeScratch& scratch) {
  if (symbols.size() < 2) return;
  if (symbols.size() <= kShortMerge) detail::merge_short(symbols, pairs, key, scratch);
  else detail::merge_long(symbols, pairs, key, scratch);
}

}  // namespace traceindex::tok
