// The merge loop (see bpe.hpp). Included from bpe.hpp: the key function is inlined into each tokenizer's loop.
#pragma once
#include <algorithm>
#include <functional>
#include <type_traits>

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

struct NoPop {
  void operator()(uint64_t, uint32_t, uint32_t, uint32_t) const {}
};

// Many symbols: a doubly linked list over the initial positions (a merged symbol lives at its left part's
// position) and an indexed min-heap of the positions whose pair with the next symbol has a merge, ordered by
// (key, position). `sym` may be a window of a longer sequence starting at position `base` (keys take base + i);
// on_pop(key, i, end, result) sees each merge in order: the pair at i became `result`, spanning [i, end).
// `starts`, if given, receives the final tokens' positions.
template <typename KeyFn, typename OnPop = NoPop>
void merge_long(std::vector<uint32_t>& sym, const PairMap& pairs, KeyFn key, BpeScratch& sc, uint32_t base = 0,
                OnPop on_pop = {}, std::vector<uint32_t>* starts = nullptr) {
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
    k[i] = key(m->rank, base + i);
    result[i] = m->result;
    if (where[i] == kNone) { heap.push_back(i); up(heap.size() - 1); }
    else { up(where[i]); down(where[i]); }
  };
  for (uint32_t i = 0; i + 1 < n; ++i) refresh(i);
  while (!heap.empty()) {
    uint32_t i = heap[0], j = next[i];
    sym[i] = result[i];
    on_pop(k[i], i, next[j] == kNone ? n : next[j], result[i]);
    remove(j);
    next[i] = next[j];
    if (next[i] != kNone) prev[next[i]] = i;
    sym[j] = kNone;
    refresh(i);
    if (prev[i] != kNone) refresh(prev[i]);
  }
  if (starts) starts->clear();
  size_t out = 0;
  for (uint32_t i = 0; i != kNone; i = next[i]) {
    if (starts) starts->push_back(i);
    sym[out++] = sym[i];
  }
  sym.resize(out);
}

// Huge inputs, rank keys: bucket[r] is a min-heap of the positions whose pair had rank r when pushed; entries
// go stale when the pair changes and are skipped on pop (k[i] holds the current rank). The lowest non-empty
// rank is found in the `nonempty` bitset from a cursor that moves back when a lower rank is pushed, so merges
// come in exactly (rank, position) order.
inline void merge_ranked_huge(std::vector<uint32_t>& sym, const PairMap& pairs, BpeScratch& sc) {
  const uint32_t n = static_cast<uint32_t>(sym.size());
  const size_t ranks = static_cast<size_t>(pairs.max_rank()) + 1;
  struct Node { uint32_t sym, next, prev, rank, result; };  // one place per symbol: few cache misses per merge
  auto& store = sc.next;  // reused as raw storage for the nodes
  store.resize(static_cast<size_t>(n) * 5);
  Node* node = reinterpret_cast<Node*>(store.data());
  auto& buckets = sc.buckets; auto& nonempty = sc.nonempty;
  if (buckets.size() < ranks) buckets.resize(ranks);
  nonempty.assign((ranks + 63) / 64, 0);
  for (uint32_t i = 0; i < n; ++i) node[i] = Node{sym[i], i + 1 < n ? i + 1 : kNone, i - 1, kNone, 0};
  node[0].prev = kNone;
  size_t cursor = ranks;
  const auto later = std::greater<uint32_t>();
  auto refresh = [&](uint32_t i) {
    Node& x = node[i];
    const Merge* m = x.next == kNone ? nullptr : pairs.find(x.sym, node[x.next].sym);
    if (!m) { x.rank = kNone; return; }
    if (x.rank == m->rank) return;  // its entry is still in the bucket (equal rank, equal merge)
    x.rank = m->rank;
    x.result = m->result;
    auto& b = buckets[m->rank];
    b.push_back(i);
    std::push_heap(b.begin(), b.end(), later);
    nonempty[m->rank >> 6] |= 1ULL << (m->rank & 63);
    if (m->rank < cursor) cursor = m->rank;
  };
  for (uint32_t i = 0; i + 1 < n; ++i) refresh(i);
  for (;;) {
    while (cursor < ranks && !(nonempty[cursor >> 6] >> (cursor & 63) & 1)) {
      uint64_t w = nonempty[cursor >> 6] >> (cursor & 63);
      cursor = w ? cursor + static_cast<size_t>(__builtin_ctzll(w)) : (cursor | 63) + 1;
    }
    if (cursor >= ranks) break;
    auto& b = buckets[cursor];
    uint32_t i = b.front();
    std::pop_heap(b.begin(), b.end(), later);
    b.pop_back();
    if (b.empty()) nonempty[cursor >> 6] &= ~(1ULL << (cursor & 63));
    else {  // the next merge is far away in the text: start loading it while this one runs
      const Node* ahead = node + b.front();
      __builtin_prefetch(ahead);
      __builtin_prefetch(ahead + 1);
      if (ahead->prev != kNone) __builtin_prefetch(node + ahead->prev);
    }
    Node& x = node[i];
    if (x.sym == kNone || x.rank != cursor) continue;  // stale
    Node& y = node[x.next];
    x.sym = x.result;
    x.next = y.next;
    if (x.next != kNone) node[x.next].prev = i;
    y.sym = kNone;
    y.rank = kNone;
    x.rank = kNone;
    refresh(i);
    if (x.prev != kNone) refresh(x.prev);
  }
  for (auto& b : buckets) b.clear();
  size_t out = 0;
  for (uint32_t i = 0; i != kNone; i = node[i].next) sym[out++] = node[i].sym;
  sym.resize(out);
}

// Long inputs, any key, window by window: each window of `size` symbols is merged alone, in cache, and cut
// at its last final token boundary at least `size / 32` symbols before its end; the next window starts at the
// cut. Exact when no pair across a cut would ever merge in the whole sequence's merge order: then the regions
// between cuts evolve independently, the whole order being the interleaving of theirs by smallest next key.
// A region merged inside a longer window is the region merged alone (nothing crossed the cut there), so its
// merges (the window's below the cut, in order) are its own; hard_cut replays two neighbours' merges in that
// interleaving and checks that the pair across the cut never has a key below both regions' next merges (nor
// a merge once both are done). Appends the tokens to `out`; returns false, `out` as it was, when a check fails
// or a window has no boundary: the caller merges the whole sequence instead.

template <typename KeyFn>
bool hard_cut(const std::vector<WindowPop>& left, const std::vector<WindowPop>& right, uint32_t cut,
              const std::vector<uint32_t>& sym, const PairMap& pairs, KeyFn key) {
  using Stamp = std::pair<uint64_t, uint32_t>;  // (key, position): the heap's order
  const Stamp done{~0ULL, kNone};
  uint32_t last = sym[cut - 1], last_pos = cut - 1, first = sym[cut];  // the symbols on either side of the cut
  auto across = [&]() -> Stamp {
    const Merge* m = pairs.find(last, first);
    return m ? Stamp{key(m->rank, last_pos), last_pos} : done;
  };
  Stamp pair = across();
  for (size_t i = 0, j = 0;;) {
    const Stamp l = i < left.size() ? Stamp{left[i].key, left[i].pos} : done;
    const Stamp r = j < right.size() ? Stamp{right[j].key, right[j].pos} : done;
    if (pair < std::min(l, r)) return false;  // it would merge next (or at the end: `done` is above any key)
    if (l == done && r == done) return true;
    if (l < r) {
      const WindowPop& p = left[i++];
      if (p.end != cut) continue;
      last = p.result;
      last_pos = p.pos;
    } else {
      const WindowPop& p = right[j++];
      if (p.pos != cut) continue;
      first = p.result;
    }
    pair = across();
  }
}

template <typename KeyFn>
bool merge_windowed(const std::vector<uint32_t>& sym, const PairMap& pairs, KeyFn key, BpeScratch& sc, std::vector<uint32_t>& out,
                    uint32_t size = kMergeWindow, bool check = true /* tests show that the check is needed */) {
  const uint32_t n = static_cast<uint32_t>(sym.size());
  auto& win = sc.window; auto& starts = sc.starts;
  auto* left = &sc.pops[0]; auto* right = &sc.pops[1];
  const size_t had = out.size();
  if (out.capacity() - had < n) out.reserve(std::max(had + n, 2 * out.capacity()));  // untouched pages cost nothing
  left->clear();
  for (uint32_t at = 0; at < n;) {
    const uint32_t end = n - at <= size ? n : at + size;
    win.assign(sym.begin() + at, sym.begin() + end);
    right->clear();
    merge_long(win, pairs, key, sc, at,
               [&](uint64_t k, uint32_t i, uint32_t e, uint32_t result) { right->push_back(WindowPop{k, at + i, at + e, result}); },
               &starts);
    size_t keep = win.size();
    uint32_t cut = n;
    if (end < n) {  // the last token start at most end - size / 32 (no real text measured has had a cut refused)
      keep = static_cast<size_t>(std::upper_bound(starts.begin(), starts.end(), size - size / 32) - starts.begin()) - 1;
      if (keep == 0) { out.resize(had); return false; }
      cut = at + starts[keep];
      right->erase(std::remove_if(right->begin(), right->end(), [&](const WindowPop& p) { return p.pos >= cut; }), right->end());
    }
    if (at > 0 && check && !hard_cut(*left, *right, at, sym, pairs, key)) { out.resize(had); return false; }
    out.insert(out.end(), win.begin(), win.begin() + static_cast<long>(keep));
    std::swap(left, right);
    at = cut;
  }
  return true;
}

}  // namespace detail

template <typename KeyFn>
void merge_pairs(std::vector<uint32_t>& symbols, const PairMap& pairs, KeyFn key, BpeScratch& scratch, std::vector<uint32_t>& out) {
  if (symbols.size() >= kWindowedMerge && detail::merge_windowed(symbols, pairs, key, scratch, out)) return;
  if (std::is_same_v<KeyFn, RankKey> && symbols.size() >= kHugeMerge) detail::merge_ranked_huge(symbols, pairs, scratch);
  else if (symbols.size() > kShortMerge) detail::merge_long(symbols, pairs, key, scratch);
  else if (symbols.size() >= 2) detail::merge_short(symbols, pairs, key, scratch);
  out.insert(out.end(), symbols.begin(), symbols.end());
}

}  // namespace traceindex::tok
