// Streaming match state for generation-time checks: tokens are pushed one at a time and the state keeps,
// per shard, the longest suffix u of what was pushed that occurs there and its suffix-array range.
// push(c) extends u's range by one binary search (O(log n)). When u·c does not occur, the answer is the
// longest u[j:]·c that does; "u[j:]·c occurs" is monotone in j, so j is found by binary search over the
// ranges of u's suffixes, each found once and cached until the next push: O(log |u|) searches instead of
// one per dropped token, and peek() of many candidates on one state shares the cache. A window caps |u|.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "index.hpp"

namespace traceindex {

struct SuffixMatch {
  uint32_t length = 0;   // tokens of the longest occurring suffix
  uint64_t count = 0;    // its occurrences over all shards (all document tokens when length = 0)
  double bci = 0;        // its BCI, natural log
};

class MatchState {
 public:
  MatchState(std::shared_ptr<const Index> index, uint32_t window);  // window 0 = unbounded
  void push(uint32_t token);
  SuffixMatch longest() const;
  // What longest() would be after push(token), without changing the state.
  SuffixMatch peek(uint32_t token) const;
  uint64_t pushed() const { return pushed_; }
  const Index& index() const { return *index_; }

 private:
  struct PerShard {
    uint32_t length = 0;
    SaRange range;
    // Ranges of u[j:] for j in [0, length], found on demand (unknown = lo > hi); reset by push.
    mutable std::vector<SaRange> suffixes;
  };
  SaRange suffix_range(size_t shard, const PerShard& p, uint32_t j) const;
  // The new per-shard state after appending `token` to the suffix held in `tail_`.
  PerShard step(size_t shard, const PerShard& cur, uint32_t token) const;
  SuffixMatch summarize(const std::vector<PerShard>& st, const uint32_t* tail_end) const;

  std::shared_ptr<const Index> index_;
  uint32_t window_;
  std::vector<PerShard> shards_;
  std::vector<PerShard> next_;  // push's new states, committed only once every shard has stepped
  std::vector<uint32_t> tail_;  // the last tokens pushed: at least the longest suffix of any shard
  uint64_t pushed_ = 0;
};

}  // namespace traceindex
