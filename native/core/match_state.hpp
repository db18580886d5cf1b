// Streaming match state for generation-time checks: tokens are pushed one at a time and the state keeps,
// per shard, the longest suffix of what was pushed that occurs there and its suffix-array range.
// push() extends the range by one binary search (O(log n)); when the extension fails, leading tokens are
// dropped and the shorter suffix re-found. Every push adds at most one token to a suffix and every drop
// removes one, so drops are amortised O(1) per push. A window caps the suffix length (Prov-Decode's w).
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
  };
  // The new per-shard state after appending `token` to the suffix held in `tail_`.
  PerShard step(size_t shard, const PerShard& cur, uint32_t token) const;
  SuffixMatch summarize(const std::vector<PerShard>& st, const uint32_t* tail_end) const;

  std::shared_ptr<const Index> index_;
  uint32_t window_;
  std::vector<PerShard> shards_;
  std::vector<uint32_t> tail_;  // the last tokens pushed: at least the longest suffix of any shard
  uint64_t pushed_ = 0;
};

}  // namespace traceindex
