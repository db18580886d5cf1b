// Exact-match search over a suffix array, shared by every shard format (shard.cpp, infinigram_shard.cpp).
// A format supplies, through CRTP, where the i-th suffix starts (position(i)) and the order its tokens sort
// in (order_key: the value for traceindex's shards, the byte-swapped value for infini-gram's byte-ordered
// tables); the binary searches, range narrowing and next-token enumeration are written once here.
//
// Reads are bounds-checked against the stream end, so a format whose last document has no separator after
// it (infini-gram) is searched correctly: a suffix that ends before the pattern sorts before it.
//
// The suffix array is file content, never trusted: every entry read is checked to be a stream position
// (one comparison next to the cache miss that fetched it), and a read past a matched prefix that a sorted
// array would never make is reported instead of made. A damaged array gives Error(ERR_INDEX_CORRUPT) or a
// wrong answer (verify() tells which), never a read outside the mapping.
#pragma once
#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sampled_keys.hpp"
#include "shard.hpp"
#include "token_match.hpp"

namespace traceindex {

template <typename Derived, typename Token>
class SearchableShard : public Shard {
 public:
  uint64_t suffix(uint64_t i) const override { return position(i); }
  uint32_t token(uint64_t pos) const override { return static_cast<uint32_t>(text_[pos]); }

  // Each search entry point ends with check_intact() (one atomic load unless a mapping ever faulted), so
  // callers that search shard by shard (the binding's fan-out) see a file truncated under them as ERR_IO.
  SaRange find(const uint32_t* pattern32, size_t m) const override {
    std::vector<Token> p(pattern32, pattern32 + m);  // queries are short: the conversion is cheap
    Plan pl;
    SaRange r;
    if (plan(p.data(), m, &pl)) {
      r = pl.answer;
    } else {
      if (keys_) warm_windows(pl, m);
      if (!pl.split) r = find_range(p.data(), m, pl.w[0].lo, pl.w[0].hi, pl.w[0].llcp, pl.w[0].rlcp);
      else r = bounds(p.data(), m, pl.w[0], pl.w[1]);
    }
    this->check_intact();
    return r;
  }

  // Memory-level parallelism: each lane runs find_range's search (then its two bounds) one probe per step.
  // A step is two passes over the lanes: the first reads every lane's SA entry (prefetched by the previous
  // step) and prefetches the text at that position; the second compares and prefetches the next probe's SA
  // entry. So kLanes independent misses are in flight at each stage instead of one. The probes, their order
  // and their LCP bounds are find_range's and bound's, so the answers are the same. With sampled keys, a
  // pattern longer than a key first runs the same equal_range over the samples of its equal-key run (stride
  // key_interval_: sample j is entry j * K) in its lane, then over the windows plan_windows derives from it.
  void find_many(const uint32_t* const* patterns, const size_t* lengths, size_t count, SaRange* out,
                 CancelFlag* cancel, const char* what) const override {
    struct Search { uint64_t lo, hi, mid, pos; size_t llcp, rlcp; };
    struct Lane {
      size_t query;
      const Token* p;
      size_t m;
      int phase;    // 0: find_range's loop in s[0]; 1: lower bound in s[0] and upper bound in s[1]; -1: idle;
                    // kTop: walking the key top (heap nodes in s[0].mid, s[1].mid); kBlocks: the key blocks' bounds
      uint64_t stride;  // 1: over suffix-array entries; key_interval_: over the samples of kb's run
      KeyBracket kb;
      Search s[2];
      Token small[32];  // the pattern as Tokens when it fits, else in `long_` (sized to it)
      std::vector<Token> long_;
    };
    constexpr int kTop = 2, kBlocks = 3;
    const KeyTop* top = key_top();
    const uint64_t n_suffixes = stored_suffixes();
    Lane lanes[kLanes];
    size_t next = 0, busy = 0;
    auto start = [&](Search& x, uint64_t lo, uint64_t hi, size_t llcp, size_t rlcp, uint64_t stride) {
      x = {lo, hi, lo + (hi - lo) / 2, 0, llcp, rlcp};
      if (lo < hi) self().prefetch_entry(x.mid * stride);
    };
    auto start_windows = [&](Lane& ln, const Plan& pl) {
      ln.stride = 1;
      ln.phase = pl.split ? 1 : 0;
      for (int j = 0; j <= ln.phase; ++j) start(ln.s[j], pl.w[j].lo, pl.w[j].hi, pl.w[j].llcp, pl.w[j].rlcp, 1);
    };
    // From the keys' bracket: a pattern longer than a key first searches the samples of its equal-key run.
    auto start_bracket = [&](Lane& ln) {
      if (ln.m > kKeyTokens<Token> && ln.kb.a < ln.kb.b) {
        ln.stride = key_interval_;
        ln.phase = 0;
        start(ln.s[0], ln.kb.a, ln.kb.b, ln.kb.t, ln.kb.t, ln.stride);
        return;
      }
      Plan pl;
      plan_windows(ln.m, ln.kb, ln.kb.a, ln.kb.b, &pl);
      start_windows(ln, pl);
    };
    // Fills lane l with the next pattern that needs a search (m = 0 and empty ranges are answered at once).
    auto refill = [&](size_t l) {
      Lane& ln = lanes[l];
      ln.phase = -1;
      while (next < count) {
        const size_t q = next++;
        if ((q & 1023) == 0) check_cancel(cancel, what);
        const size_t m = lengths[q];
        if (m == 0 || n_suffixes == 0) { out[q] = m == 0 ? SaRange{0, n_suffixes} : SaRange{0, 0}; continue; }
        const Token* dst = ln.small;
        if (m <= std::size(ln.small)) std::copy(patterns[q], patterns[q] + m, ln.small);
        else { ln.long_.assign(patterns[q], patterns[q] + m); dst = ln.long_.data(); }
        Plan pl;
        const Planned how = plan_keys(dst, m, &pl, &ln.kb, /*walk=*/false);
        if (how == Planned::Answer) { out[q] = pl.answer; continue; }
        ln.query = q; ln.p = dst; ln.m = m;
        ++busy;
        if (how == Planned::Top) ln.phase = kTop, ln.s[0].mid = ln.s[1].mid = 1;
        else if (how == Planned::Bracket) start_bracket(ln);
        else start_windows(ln, pl);
        return;
      }
    };
    for (size_t l = 0; l < kLanes; ++l) refill(l);
    while (busy > 0) {
      for (Lane& ln : lanes) {
        if (ln.phase < 0 || ln.phase >= kTop) continue;
        for (int j = 0; j <= ln.phase; ++j) {
          Search& x = ln.s[j];
          if (x.lo >= x.hi) continue;
          x.pos = position(x.mid * ln.stride);
          __builtin_prefetch(text_ + std::min(x.pos + std::min(std::min(x.llcp, x.rlcp), ln.m - 1), n_ - 1));
        }
      }
      for (size_t l = 0; l < kLanes; ++l) {
        Lane& ln = lanes[l];
        if (ln.phase < 0) continue;
        // The key search in steps, as the suffix-array searches: each step uses lines fetched by the last one.
        if (ln.phase == kTop) {
          uint64_t& a = ln.s[0].mid;
          uint64_t& b = ln.s[1].mid;
          if (!top->descend(&a, &b, ln.kb.low, ln.kb.high)) continue;
          const auto [ua, ub] = top->finish(a, b);
          blocks(&ln.kb, ua, ub, /*fetch=*/false);
          ln.s[0] = {ln.kb.la, ln.kb.ha, ln.kb.la + (ln.kb.ha - ln.kb.la) / 2, 0, 0, 0};
          ln.s[1] = {ln.kb.lb, ln.kb.hb, ln.kb.lb + (ln.kb.hb - ln.kb.lb) / 2, 0, 0, 0};
          for (const Search& x : ln.s) if (x.lo < x.hi) __builtin_prefetch(keys_ + x.mid);
          ln.phase = kBlocks;
          continue;
        }
        if (ln.phase == kBlocks) {
          bool more = false;
          for (int j = 0; j < 2; ++j) {
            Search& x = ln.s[j];
            if (x.lo >= x.hi) continue;
            if (j == 0 ? keys_[x.mid] < ln.kb.low : keys_[x.mid] <= ln.kb.high) x.lo = x.mid + 1; else x.hi = x.mid;
            if (x.lo < x.hi) { x.mid = x.lo + (x.hi - x.lo) / 2; __builtin_prefetch(keys_ + x.mid); more = true; }
          }
          if (more) continue;
          clamp_bracket(&ln.kb, ln.s[0].lo, ln.s[1].lo);
          start_bracket(ln);
          continue;
        }
        bool done = true;
        for (int j = 0; j <= ln.phase; ++j) {
          Search& x = ln.s[j];
          if (x.lo >= x.hi) continue;
          size_t lcp;
          const int c = compare(x.pos, ln.p, ln.m, std::min(x.llcp, x.rlcp), &lcp);
          if (ln.phase == 0 && c == 0) {  // find_range's split: the two bounds on either side of mid
            const Search whole = x;
            start(ln.s[0], whole.lo, whole.mid, whole.llcp, ln.m, ln.stride);
            start(ln.s[1], whole.mid + 1, whole.hi, ln.m, whole.rlcp, ln.stride);
            ln.phase = 1;
            done = false;
            break;
          }
          const bool right = ln.phase == 0 ? c < 0 : (j == 1 ? c <= 0 : c < 0);
          if (right) { x.lo = x.mid + 1; x.llcp = lcp; } else { x.hi = x.mid; x.rlcp = lcp; }
          if (x.lo < x.hi) { x.mid = x.lo + (x.hi - x.lo) / 2; self().prefetch_entry(x.mid * ln.stride); done = false; }
        }
        if (!done) continue;
        if (ln.stride != 1) {  // the samples' equal_range ended: [ja, jb) start with p
          const uint64_t ja = ln.s[0].lo, jb = ln.phase == 0 ? ja : ln.s[1].lo;
          Plan pl;
          plan_windows(ln.m, ln.kb, ja, jb, &pl);
          start_windows(ln, pl);
          continue;
        }
        out[ln.query] = ln.phase == 0 ? SaRange{ln.s[0].lo, ln.s[0].lo} : SaRange{ln.s[0].lo, ln.s[1].lo};
        --busy;
        refill(l);
      }
    }
    this->check_intact();
  }

  // The longest prefix of a pattern that occurs is its longest common prefix with one of the two suffixes it
  // would sort between, and a binary search for that place probes both (or stops where the pattern occurs
  // whole): so the largest lcp seen on the way is the answer. Lanes as in find_many: the first pass reads every
  // lane's SA entry (prefetched a step earlier) and prefetches its text, the second compares.
  void prefix_lengths(const uint32_t* o32, const uint32_t* ends, size_t m, uint32_t* L, CancelFlag* cancel) const override {
    struct Lane { size_t i; const Token* p; size_t m; uint64_t lo, hi, mid, pos; size_t llcp, rlcp, best; bool busy; };
    const std::vector<Token> o(o32, o32 + m);  // the patterns are its suffixes: converted once
    Lane lanes[kLanes];
    size_t next = 0, busy = 0;
    auto refill = [&](Lane& ln) {
      ln.busy = false;
      while (next < m) {
        const size_t i = next++;
        if ((i & 1023) == 0) check_cancel(cancel, "trace");
        const Token* p = o.data() + i;
        const size_t len = ends[i] - i;
        SaRange r;
        size_t shared;
        if (!seed_longest(p, len, &r, &shared)) { L[i] = static_cast<uint32_t>(shared); continue; }
        ln = {i, p, len, r.lo, r.hi, r.lo + (r.hi - r.lo) / 2, 0, shared, shared, shared, true};
        self().prefetch_entry(ln.mid);
        ++busy;
        return;
      }
    };
    for (Lane& ln : lanes) refill(ln);
    while (busy > 0) {
      for (Lane& ln : lanes) {
        if (!ln.busy) continue;
        ln.pos = position(ln.mid);
        __builtin_prefetch(text_ + std::min(ln.pos + std::min(std::min(ln.llcp, ln.rlcp), ln.m - 1), n_ - 1));
      }
      for (Lane& ln : lanes) {
        if (!ln.busy) continue;
        size_t lcp;
        const int c = compare(ln.pos, ln.p, ln.m, std::min(ln.llcp, ln.rlcp), &lcp);
        ln.best = std::max(ln.best, lcp);
        if (c < 0) { ln.lo = ln.mid + 1; ln.llcp = lcp; }
        else { ln.hi = ln.mid; ln.rlcp = lcp; }
        if (c != 0 && ln.lo < ln.hi) {
          ln.mid = ln.lo + (ln.hi - ln.lo) / 2;
          self().prefetch_entry(ln.mid);
          continue;
        }
        L[ln.i] = static_cast<uint32_t>(ln.best);
        --busy;
        refill(ln);
      }
    }
    this->check_intact();
  }

  SaRange extend(SaRange r, size_t k, uint32_t token) const override {
    if (token >= separator()) return {r.lo, r.lo};
    const SaRange out = narrow(r, k, static_cast<Token>(token));
    this->check_intact();
    return out;
  }

  size_t longest_prefix(const uint32_t* q, size_t m, SaRange* range) const override {
    SaRange r{0, stored_suffixes()};
    size_t k = 0;
    for (; k < m && r.size() > 0; ++k) {
      SaRange next = extend(r, k, q[k]);
      if (next.size() == 0) break;
      r = next;
    }
    if (range) *range = r;
    return k;
  }

  // In a range of suffixes sharing m tokens, the one that ends right after them (if any) sorts first, then
  // those followed by a token in key order, then those followed by a separator (the largest key).
  bool has_continuation(SaRange r, size_t m) const override {
    uint64_t i = first_continued(r, m);
    const bool more = i < r.hi && token_after(i, m) != static_cast<Token>(separator());
    this->check_intact();
    return more;
  }

  void next_tokens(SaRange r, size_t m, std::vector<TokenCount>& out) const override {
    const Token sep = static_cast<Token>(separator());
    const size_t first = out.size();
    int64_t last_key = -1;
    for (uint64_t i = first_continued(r, m); i < r.hi;) {
      const Token t = token_after(i, m);
      if (t == sep) break;
      if (t >= shape_.vocab_size) corrupt_tokens(position(i) + m, t);
      if (int64_t(key(t)) <= last_key) corrupt_order(i);  // runs come in key order in a sorted array
      last_key = key(t);
      // Gallop for the end of t's run, then binary search inside the last step.
      uint64_t step = 1, lo = i + 1, hi = i + 1;
      while (hi < r.hi && token_after(hi, m) == t) { lo = hi + 1; hi = std::min<uint64_t>(r.hi, i + (step <<= 1)); }
      while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (token_after(mid, m) == t) lo = mid + 1; else hi = mid;
      }
      out.push_back({static_cast<uint32_t>(t), lo - i});
      i = lo;
    }
    if (!Derived::kValueOrder)  // runs came in key order; callers want token order
      std::sort(out.begin() + first, out.end(), [](const TokenCount& a, const TokenCount& b) { return a.token < b.token; });
    this->check_intact();
  }

 protected:
  const Token* text_ = nullptr;
  uint64_t n_ = 0;  // tokens in the stream

 private:
  const Derived& self() const { return static_cast<const Derived&>(*this); }
  // Entry i of the suffix array, checked to be a stream position.
  uint64_t position(uint64_t i) const {
    const uint64_t p = self().position(i);
    if (p >= n_) corrupt_entry(i, p);
    return p;
  }
  // The token at offset m of suffix i, whose first m tokens matched. In a sorted array only the first suffix
  // of a range can end there (first_continued skips it); any other is a damaged array.
  Token token_after(uint64_t i, size_t m) const {
    const uint64_t p = position(i);
    if (m >= n_ - p) corrupt_order(i);
    return text_[p + m];
  }
  // Damage found while a mapping faulted is reported as the fault (ERR_IO) by check_intact.
  [[noreturn]] __attribute__((noinline, cold)) void corrupt_entry(uint64_t i, uint64_t p) const {
    this->check_intact();
    throw Error(codes::kCorrupt, self().table_path() + ": entry " + std::to_string(i) + " is " + std::to_string(p) +
                                     ", outside the " + std::to_string(n_) + " tokens");
  }
  [[noreturn]] __attribute__((noinline, cold)) void corrupt_order(uint64_t i) const {
    this->check_intact();
    throw Error(codes::kCorrupt, self().table_path() + ": suffixes out of order near entry " + std::to_string(i));
  }
  [[noreturn]] __attribute__((noinline, cold)) void corrupt_tokens(uint64_t pos, uint64_t t) const {
    this->check_intact();
    throw Error(codes::kCorrupt, self().text_path() + ": token " + std::to_string(t) + " at " + std::to_string(pos) +
                                     " is outside the vocabulary (" + std::to_string(shape_.vocab_size) + ")");
  }
  static uint32_t key(Token t) { return Derived::order_key(t); }

  // Prefix table (u8 and u16 shards of at least kPrefixTableMin suffixes): the SA range of every first token
  // (256 or 65 536 ranges) and, for u8, of every 2-token prefix (65 536 more): about 1 MiB, <= 0.25 byte per
  // token at the threshold. A search starts in its 2-token (u8) or first-token range knowing that many
  // tokens equal, and queries no longer than that are one lookup. Built in memory on first use from the
  // next-token runs (a few ms); an on-disk form is docs/FORMAT.md's v2 work. Its ranges are exactly find()'s.
  static constexpr uint64_t kPrefixTableMin = uint64_t(1) << 22;
  struct PrefixTable {
    std::vector<SaRange> first;  // [a]
    std::vector<SaRange> pair;   // [a * 256 + b], u8 only
  };
  const PrefixTable* prefix_table() const {
    if constexpr (sizeof(Token) > 2) return nullptr;
    if (stored_suffixes() < kPrefixTableMin) return nullptr;
    std::call_once(prefix_once_, [&] { prefix_ = build_prefix_table(); });
    return prefix_.get();
  }
  // Ranges for every token b after a range r of suffixes sharing k tokens: the runs of next_tokens follow each
  // other from first_continued in key order; an absent b's range is empty at the start of the next run in key
  // order, where a binary search for it ends.
  void fill_ranges(SaRange r, size_t k, const std::vector<uint32_t>& by_key, SaRange* out) const {
    std::vector<TokenCount> runs;
    if (r.size() > 0) next_tokens(r, k, runs);
    std::sort(runs.begin(), runs.end(), [](const TokenCount& a, const TokenCount& b) { return key(Token(a.token)) < key(Token(b.token)); });
    uint64_t at = first_continued(r, k);
    size_t i = 0;
    for (uint32_t b : by_key) {
      if (i < runs.size() && runs[i].token == b) { out[b] = {at, at + runs[i].count}; at += runs[i].count; ++i; }
      else out[b] = {at, at};
    }
  }
  std::unique_ptr<PrefixTable> build_prefix_table() const {
    if constexpr (sizeof(Token) > 2) return nullptr;
    auto t = std::make_unique<PrefixTable>();
    const uint32_t V = sizeof(Token) == 1 ? 256 : 65536;
    std::vector<uint32_t> by_key(V);
    for (uint32_t b = 0; b < V; ++b) by_key[b] = b;
    std::sort(by_key.begin(), by_key.end(), [](uint32_t a, uint32_t b) { return key(Token(a)) < key(Token(b)); });
    t->first.resize(V);
    fill_ranges({0, stored_suffixes()}, 0, by_key, t->first.data());
    if constexpr (sizeof(Token) == 1) {
      t->pair.resize(V * V);
      for (uint32_t a = 0; a < V; ++a)
        if (a < separator()) fill_ranges(t->first[a], 1, by_key, t->pair.data() + a * V);
    }
    return t;
  }
  // Where the search for p starts: *r and how many tokens every suffix in it shares with p. True if *r is the
  // answer already (an empty range is where find_range ends too).
  bool seed(const Token* p, size_t m, SaRange* r, size_t* shared) const {
    *r = {0, stored_suffixes()};
    *shared = 0;
    if (m == 0) return false;
    const PrefixTable* t = prefix_table();
    if (!t || p[0] >= separator()) return false;
    if (m >= 2 && !t->pair.empty() && p[1] < separator()) {
      *r = t->pair[size_t(p[0]) * 256 + p[1]];
      *shared = 2;
      return m == 2 || r->size() == 0;
    }
    *r = t->first[p[0]];
    *shared = 1;
    return m == 1 || r->size() == 0;
  }
  // prefix_lengths' start for p[0, m): the range whose suffixes share *shared tokens with p (the prefix table's
  // when there is one). False if *shared is already the answer: the table says no longer prefix occurs, or
  // all of p does.
  bool seed_longest(const Token* p, size_t m, SaRange* r, size_t* shared) const {
    *r = {0, stored_suffixes()};
    *shared = 0;
    if (m == 0 || r->size() == 0) return false;
    const PrefixTable* t = prefix_table();
    if (!t || p[0] >= separator()) return true;
    if (t->first[p[0]].size() == 0) return false;
    *r = t->first[p[0]];
    *shared = 1;
    if (m >= 2 && !t->pair.empty() && p[1] < separator()) {
      if (t->pair[size_t(p[0]) * 256 + p[1]].size() == 0) return false;
      *r = t->pair[size_t(p[0]) * 256 + p[1]];
      *shared = 2;
    }
    return *shared < m;
  }
  mutable std::once_flag prefix_once_;
  mutable std::unique_ptr<PrefixTable> prefix_;

 protected:
  // Sampled keys (sampled_keys.hpp; traceindex v2 shards, set by the format): key j is suffix j * key_interval_'s.
  // Only for a stream that ends with a separator, so a suffix's key pads with 0 only after a separator: a key
  // that agrees with a pattern on its first t tokens then means the suffix does too.
  const uint64_t* keys_ = nullptr;
  uint64_t key_count_ = 0, key_interval_ = 0;

 private:
  struct Window { uint64_t lo, hi; size_t llcp, rlcp; };
  // Where the search for p starts. Either the answer (returns true), or one window to run find_range over
  // (split false), or, when the pattern's range spans sampled suffixes, a window holding its lower bound and
  // one holding its upper bound (split true): each at most key_interval_ - 1 entries.
  struct Plan {
    SaRange answer;
    bool split = false;
    Window w[2];
  };

  // In-memory top over the sampled keys (at least detail::key_top_min of them): every kKeyBlock-th key in
  // Eytzinger order (a heap-ordered binary tree), so a walk down it prefetches four levels ahead and its upper
  // levels stay cached; it ends in one block of kKeyBlock keys of samples.bin. The tree is perfect (2^h - 1
  // nodes, padded in order with all-ones keys), so a node's in-order rank is arithmetic, not another miss.
  // Built on first use from the keys (key_count_ / kKeyBlock reads, at most 16 bytes per top key).
  static constexpr uint64_t kKeyBlock = 64;
  struct KeyTop {
    std::vector<uint64_t> tree;  // [1, size]: heap order; [0] unused
    uint64_t size = 0, count = 0;  // nodes (2^levels - 1); top keys (key rank * kKeyBlock), the rest padding
    int levels = 0;
    // In-order rank of node k.
    uint64_t rank(uint64_t k) const {
      const int depth = 63 - __builtin_clzll(k);
      return (((k - (uint64_t(1) << depth)) * 2 + 1) << (levels - 1 - depth)) - 1;
    }
    // Walks for the first top key >= x (from node *a) and the first > y (from *b) in lockstep (one line while
    // their paths agree), up to four levels, then fetches the lines of the nodes four levels below. True once
    // both have left the tree (a perfect tree: after `levels` levels).
    bool descend(uint64_t* a, uint64_t* b, uint64_t x, uint64_t y, int steps = 4) const {
      uint64_t i = *a, j = *b;
      for (; steps > 0 && i <= size; --steps) {
        i = 2 * i + (tree[i] < x);
        j = 2 * j + (tree[j] <= y);
      }
      *a = i, *b = j;
      if (i > size) return true;
      for (const uint64_t k : {i, j}) {
        __builtin_prefetch(tree.data() + std::min(k * 16, size));
        __builtin_prefetch(tree.data() + std::min(k * 16 + 8, size));
      }
      return false;
    }
    // The ranks in [0, count] where the walks ended.
    std::pair<uint64_t, uint64_t> finish(uint64_t a, uint64_t b) const {
      auto at = [&](uint64_t k) {
        k >>= __builtin_ffsll(~k);  // back up the right turns taken after the last left one
        return k == 0 ? count : std::min(rank(k), count);
      };
      return {at(a), at(b)};
    }
    std::pair<uint64_t, uint64_t> bounds(uint64_t x, uint64_t y) const {
      uint64_t a = 1, b = 1;
      while (!descend(&a, &b, x, y)) {}
      return finish(a, b);
    }
  };
  const KeyTop* key_top() const {
    std::call_once(top_once_, [&] {
      if (!keys_ || key_count_ < std::max<uint64_t>(detail::key_top_min, 2)) return;  // decided once per shard
      auto t = std::make_unique<KeyTop>();
      t->count = (key_count_ + kKeyBlock - 1) / kKeyBlock;
      while (t->size < t->count) t->size = 2 * t->size + 1, ++t->levels;
      t->tree.assign(t->size + 1, ~uint64_t(0));
      for (uint64_t k = 1; k <= t->size; ++k)
        if (const uint64_t r = t->rank(k); r < t->count) t->tree[k] = keys_[r * kKeyBlock];
      top_ = std::move(t);
    });
    return top_.get();
  }
  mutable std::once_flag top_once_;
  mutable std::unique_ptr<KeyTop> top_;

  // Fetches what the first three levels of the searches of p's windows read: their suffix-array lines for
  // every window first, then the text at each of those probes (past the tokens known equal), all in flight
  // together, before the searches start down them.
  void warm_windows(const Plan& pl, size_t m) const {
    const int nw = pl.split ? 2 : 1;
    for (int j = 0; j < nw; ++j)
      if (pl.w[j].lo < pl.w[j].hi) { self().prefetch_entry(pl.w[j].lo); self().prefetch_entry(pl.w[j].hi - 1); }
    for (int j = 0; j < nw; ++j) {
      const Window& w = pl.w[j];
      const size_t skip = std::min(std::min(w.llcp, w.rlcp), m - 1);
      auto visit = [&](auto&& self_, uint64_t lo, uint64_t hi, int depth) -> void {
        if (lo >= hi || depth == 3) return;
        const uint64_t mid = lo + (hi - lo) / 2;
        __builtin_prefetch(text_ + std::min(position(mid) + skip, n_ - 1));
        self_(self_, lo, mid, depth + 1);
        self_(self_, mid + 1, hi, depth + 1);
      };
      visit(visit, w.lo, w.hi, 0);
    }
  }
  // What the keys say about p: the samples [j0, j1) inside r (whose suffixes share `shared` tokens with p),
  // and among them [a, b), those whose keys share p's first t tokens.
  // With a top, [la, ha) and [lb, hb) are the key blocks holding a and b (blocks()).
  struct KeyBracket { SaRange r; size_t shared, t; uint64_t j0, j1, a, b, low, high, la, ha, lb, hb; };
  enum class Planned { Answer, Windows, Top, Bracket };

  bool plan(const Token* p, size_t m, Plan* out) const {
    KeyBracket kb;
    switch (plan_keys(p, m, out, &kb)) {
      case Planned::Answer: return true;
      case Planned::Windows: return false;
      case Planned::Top: break;
      case Planned::Bracket: break;
    }
    uint64_t ja = kb.a, jb = kb.b;
    if (m > kKeyTokens<Token>) sample_range(p, m, kb, &ja, &jb);
    plan_windows(m, kb, ja, jb, out);
    return false;
  }

  // With a key top and `walk` false, stops before the walk (Top): find_many runs it in its lanes.
  Planned plan_keys(const Token* p, size_t m, Plan* out, KeyBracket* kb, bool walk = true) const {
    SaRange r;
    size_t shared;
    // With a key top, a pattern longer than the prefix table's prefixes skips the table (one miss less): its
    // keys say more.
    if (m > 2 && keys_ && key_top()) r = {0, stored_suffixes()}, shared = 0;
    else if (seed(p, m, &r, &shared)) { out->answer = r; return Planned::Answer; }
    out->split = false;
    out->w[0] = {r.lo, r.hi, shared, shared};
    if (!keys_ || r.lo >= r.hi || m == 0) return Planned::Windows;
    // Samples j0..j1 - 1 are those inside r (every suffix in r shares `shared` tokens with p; those before r
    // sort before p, those after it after every string starting with p).
    constexpr size_t w = kKeyTokens<Token>;
    const uint64_t K = key_interval_;
    const uint64_t j0 = (r.lo + K - 1) / K, j1 = std::min(key_count_, (r.hi + K - 1) / K);
    if (j0 >= j1) return Planned::Windows;
    const size_t t = std::min(m, w);
    const uint64_t low = pack_key(p, t);
    const uint64_t high = t == w ? low : low | ((uint64_t(1) << (8 * sizeof(Token) * (w - t))) - 1);
    // Keys below `low` are suffixes below p; keys above `high` are above every string starting with p; keys in
    // [low, high] share p's first t tokens. Both bounds searched together while their paths agree.
    *kb = {r, shared, t, j0, j1, 0, 0, low, high, 0, 0, 0, 0};
    if (const KeyTop* top = key_top()) {
      if (!walk) return Planned::Top;
      const auto [ua, ub] = top->bounds(low, high);
      blocks(kb, ua, ub, /*fetch=*/true);
      clamp_bracket(kb, std::lower_bound(keys_ + kb->la, keys_ + kb->ha, low) - keys_,
                    std::upper_bound(keys_ + kb->lb, keys_ + kb->hb, high) - keys_);
      return Planned::Bracket;
    }
    uint64_t lo = j0, hi = j1;
    while (lo < hi) {
      const uint64_t mid = lo + (hi - lo) / 2, k = keys_[mid];
      if (k < low) lo = mid + 1;
      else if (k > high) hi = mid;
      else break;
    }
    uint64_t a = lo, b = hi;
    if (lo < hi) {
      const uint64_t mid = lo + (hi - lo) / 2;
      a = std::lower_bound(keys_ + lo, keys_ + mid, low) - keys_;
      b = std::upper_bound(keys_ + mid + 1, keys_ + hi, high) - keys_;
    }
    kb->a = a, kb->b = b;
    return Planned::Bracket;
  }
  // The top brackets each bound to one block of kKeyBlock keys: [la, ha) holds the first key >= low, [lb, hb)
  // the first > high. `fetch`: all their lines at once (one search); find_many's lanes fetch probe by probe.
  void blocks(KeyBracket* kb, uint64_t ua, uint64_t ub, bool fetch) const {
    auto block = [&](uint64_t u, uint64_t* lo, uint64_t* hi) {
      *lo = u == 0 ? 0 : (u - 1) * kKeyBlock + 1;
      *hi = std::max(*lo, std::min(u * kKeyBlock, key_count_));
      if (fetch) for (uint64_t i = *lo; i < *hi; i += 8) __builtin_prefetch(keys_ + i);
    };
    block(ua, &kb->la, &kb->ha);
    block(ub, &kb->lb, &kb->hb);
  }
  // In a sorted layer a and b lie in [j0, j1] already; the clamps keep a damaged one inside r.
  void clamp_bracket(KeyBracket* kb, uint64_t a, uint64_t b) const {
    kb->a = std::min(std::max(a, kb->j0), kb->j1);
    kb->b = std::min(std::max(b, kb->a), kb->j1);
  }

  // Samples [a, b) share t tokens with p: when p is no longer than a key they start with p; else they are
  // compared past the key: ja = the first not below p, jb = the first above every string starting with p.
  void sample_range(const Token* p, size_t m, const KeyBracket& kb, uint64_t* ja_out, uint64_t* jb_out) const {
    const uint64_t K = key_interval_, a = kb.a, b = kb.b;
    const size_t t = kb.t;
    auto sample_cmp = [&](uint64_t j) { size_t lcp; return compare(position(j * K), p, m, t, &lcp); };
    // An equal_range over the samples [a, b) by exact comparison: one search until a sample starts with p, then
    // its lower and upper halves in lockstep. Each step fetches the text of both possible next probes of every
    // search and the suffix-array entries of the four after them, so a probe's text is on its way a step
    // before it is compared.
    struct Part { uint64_t x, y; bool upper; };
    auto ahead = [&](const Part& q, uint64_t mid) {
      for (const auto& [lo, hi] : {std::pair<uint64_t, uint64_t>{q.x, mid}, {mid + 1, q.y}}) {
        if (lo >= hi) continue;
        const uint64_t c = lo + (hi - lo) / 2;
        __builtin_prefetch(text_ + std::min(position(c * K) + t, n_ - 1));
        self().prefetch_entry((lo + (c - lo) / 2) * K);
        self().prefetch_entry((c + 1 + (hi - c - 1) / 2) * K);
      }
    };
    Part q[2] = {{a, b, false}, {b, b, true}};
    bool found = false;
    while (q[0].x < q[0].y) {  // one search while no sample in it starts with p
      const uint64_t mid = q[0].x + (q[0].y - q[0].x) / 2;
      ahead(q[0], mid);
      const int c = sample_cmp(mid);
      if (c < 0) q[0].x = mid + 1;
      else if (c > 0) q[0].y = mid;
      else { q[1] = {mid + 1, q[0].y, true}; q[0].y = mid; found = true; break; }
    }
    if (!found) q[1] = {q[0].x, q[0].x, true};  // no sample starts with p: both bounds meet
    while (q[0].x < q[0].y || q[1].x < q[1].y) {
      uint64_t mid[2] = {0, 0};
      for (int j = 0; j < 2; ++j)
        if (q[j].x < q[j].y) { mid[j] = q[j].x + (q[j].y - q[j].x) / 2; ahead(q[j], mid[j]); }
      for (int j = 0; j < 2; ++j) {
        if (q[j].x >= q[j].y) continue;
        const int c = sample_cmp(mid[j]);
        if (q[j].upper ? c <= 0 : c < 0) q[j].x = mid[j] + 1; else q[j].y = mid[j];
      }
    }
    *ja_out = q[0].x;
    *jb_out = q[1].x;
  }

  // The windows of the suffix array between samples that hold p's bounds, given the first sample not below p
  // (ja) and the first above every string starting with p (jb).
  void plan_windows(size_t m, const KeyBracket& kb, uint64_t ja, uint64_t jb, Plan* out) const {
    const uint64_t K = key_interval_, j0 = kb.j0, j1 = kb.j1;
    const SaRange r = kb.r;
    const size_t shared = kb.shared, t = kb.t;
    const uint64_t low = kb.low;
    // Shared tokens of sample j (outside [ja, jb)) with p, by its key; samples in [ja, jb) start with p.
    auto lcp_of = [&](uint64_t j) { return std::max(shared, std::min(t, key_lcp<Token>(keys_[j], low))); };
    const Window lower{ja > j0 ? (ja - 1) * K + 1 : r.lo, ja < j1 ? ja * K : r.hi, ja > j0 ? lcp_of(ja - 1) : shared,
                       ja < jb ? m : ja < j1 ? lcp_of(ja) : shared};
    out->w[0] = lower;
    out->split = ja != jb;  // if not, no sample starts with p: its range lies in one gap between samples
    if (out->split) out->w[1] = {(jb - 1) * K + 1, jb < j1 ? jb * K : r.hi, m, jb < j1 ? lcp_of(jb) : shared};
  }

  uint64_t first_continued(SaRange r, size_t m) const {
    return r.lo < r.hi && position(r.lo) + m >= n_ ? r.lo + 1 : r.lo;
  }

  // Compares the suffix at pos with p[0, m) knowing their first `skip` tokens agree. Returns <0, 0 (p is a
  // prefix of the suffix) or >0, and the common prefix length in *lcp.
  int compare(uint64_t pos, const Token* p, size_t m, size_t skip, size_t* lcp) const {
    const size_t avail = n_ - pos, len = std::min(m, avail);
    skip = std::min(skip, len);
    const size_t k = skip + mismatch_tokens(text_ + pos + skip, p + skip, len - skip);
    *lcp = k;
    if (k == m) return 0;
    if (k == avail) return -1;  // the suffix ends first: it sorts before every longer string
    return key(text_[pos + k]) < key(p[k]) ? -1 : 1;
  }

  // equal_range over [lo, hi) with the Manber-Myers trick: suffixes between two bounds share at least
  // min(lcp(lo side), lcp(hi side)) tokens with p, so each comparison starts there.
  SaRange find_range(const Token* p, size_t m, uint64_t lo, uint64_t hi, size_t llcp, size_t rlcp) const {
    while (lo < hi) {
      const uint64_t mid = lo + (hi - lo) / 2;
      size_t lcp;
      const int c = compare(position(mid), p, m, std::min(llcp, rlcp), &lcp);
      if (c < 0) { lo = mid + 1; llcp = lcp; }
      else if (c > 0) { hi = mid; rlcp = lcp; }
      else return {bound(p, m, lo, mid, llcp, m, false), bound(p, m, mid + 1, hi, m, rlcp, true)};
    }
    return {lo, lo};
  }
  // First index in [lo, hi) whose suffix is >= p (upper = false) or > every string with prefix p (upper = true).
  uint64_t bound(const Token* p, size_t m, uint64_t lo, uint64_t hi, size_t llcp, size_t rlcp, bool upper) const {
    while (lo < hi) {
      const uint64_t mid = lo + (hi - lo) / 2;
      size_t lcp;
      const int c = compare(position(mid), p, m, std::min(llcp, rlcp), &lcp);
      if (upper ? c <= 0 : c < 0) { lo = mid + 1; llcp = lcp; }
      else { hi = mid; rlcp = lcp; }
    }
    return lo;
  }

  // bound() of the lower window (lower bound) and of the upper one (upper bound) in lockstep: each step reads
  // both probes' entries and fetches both texts before comparing either, so their misses overlap.
  SaRange bounds(const Token* p, size_t m, Window a, Window b) const {
    while (a.lo < a.hi || b.lo < b.hi) {
      uint64_t pos[2] = {0, 0};
      Window* w[2] = {&a, &b};
      for (int j = 0; j < 2; ++j) {
        Window& x = *w[j];
        if (x.lo >= x.hi) continue;
        pos[j] = position(x.lo + (x.hi - x.lo) / 2);
        __builtin_prefetch(text_ + std::min(pos[j] + std::min(std::min(x.llcp, x.rlcp), m - 1), n_ - 1));
      }
      for (int j = 0; j < 2; ++j) {
        Window& x = *w[j];
        if (x.lo >= x.hi) continue;
        const uint64_t mid = x.lo + (x.hi - x.lo) / 2;
        size_t lcp;
        const int c = compare(pos[j], p, m, std::min(x.llcp, x.rlcp), &lcp);
        if (j == 1 ? c <= 0 : c < 0) { x.lo = mid + 1; x.llcp = lcp; }
        else { x.hi = mid; x.rlcp = lcp; }
      }
    }
    return {a.lo, b.lo};
  }

  // Key of the token at offset k of suffix i; -1 where the suffix ends before it.
  int64_t key_at(uint64_t i, size_t k) const {
    const uint64_t pos = position(i) + k;
    return pos < n_ ? static_cast<int64_t>(key(text_[pos])) : -1;
  }
  // Sub-range of r (whose suffixes share their first k tokens) with token t at offset k.
  SaRange narrow(SaRange r, size_t k, Token t) const {
    const int64_t kt = key(t);
    uint64_t lo = r.lo, hi = r.hi;
    while (lo < hi) {
      const uint64_t mid = lo + (hi - lo) / 2;
      if (key_at(mid, k) < kt) lo = mid + 1; else hi = mid;
    }
    const uint64_t first = lo;
    hi = r.hi;
    while (lo < hi) {
      const uint64_t mid = lo + (hi - lo) / 2;
      if (key_at(mid, k) <= kt) lo = mid + 1; else hi = mid;
    }
    return {first, lo};
  }
};

}  // namespace traceindex
