// Byte-pair-encoding kernels shared by the tokenizers: vocabulary lookups and the merge loop.
//
// The merge loop repeatedly merges the adjacent pair with the lowest key, the leftmost among equal keys, until
// no adjacent pair has a merge. A key is a function of the pair's merge rank and of the original position of
// its left symbol (a merged symbol keeps the position of its left part); the tokenizers choose it (rank for
// tiktoken, the JS Llama tokenizers' floating-point priority otherwise). Short sequences scan for the minimum
// (quadratic, but tiny); long ones keep their pairs in an indexed heap: O(n log n) time and 32 bytes per symbol.
// Longer ones merge window by window, each window's heap in cache, with a check that proves the cuts exact
// (merge_windowed): a 20 MB word merges at the per-byte rate of small documents, in a window's memory.
// Where a cut cannot be proved (no real text seen so far), the whole sequence merges at once: in one heap, or
// for huge ones with rank keys in a min-heap of positions per rank (a bitset finds the lowest non-empty rank),
// each merge touching a few cache lines rather than a path through a heap of millions; up to 36 bytes per symbol.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace traceindex::tok {

constexpr uint32_t kNone = 0xFFFFFFFFu;

inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33; x *= 0xff51afd7ed558ccdULL; x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL; x ^= x >> 33;
  return x;
}

uint64_t hash_bytes(const uint8_t* s, size_t n);

// Byte string -> token id (open addressing; the strings live in one pool).
class ByteMap {
 public:
  // Later insertions of an equal string replace the id (as JS Map.set does).
  void insert(std::string_view bytes, uint32_t id);
  uint32_t find(const uint8_t* s, size_t n) const;  // kNone if absent
  size_t max_length() const { return max_length_; }
  size_t size() const { return size_; }

 private:
  struct Slot { uint64_t hash; uint32_t offset, length, id; };
  void grow();
  std::vector<Slot> slots_;
  std::string pool_;
  size_t size_ = 0, max_length_ = 0;
};

struct Merge {
  uint32_t rank;    // lower merges first
  uint32_t result;  // the merged token's id
};

// (left id, right id) -> merge.
class PairMap {
 public:
  void insert(uint32_t left, uint32_t right, Merge m);  // replaces an existing entry
  const Merge* find(uint32_t left, uint32_t right) const {
    if (slots_.empty()) return nullptr;
    uint64_t key = (static_cast<uint64_t>(left) << 32) | right;
    for (size_t i = mix64(key) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key) return &s.merge;
      if (s.key == kEmpty) return nullptr;
    }
  }
  size_t size() const { return size_; }
  uint32_t max_rank() const { return max_rank_; }

 private:
  static constexpr uint64_t kEmpty = ~0ULL;
  struct Slot { uint64_t key; Merge merge; };
  void grow();
  std::vector<Slot> slots_;
  size_t mask_ = 0, size_ = 0;
  uint32_t max_rank_ = 0;
};

struct WindowPop { uint64_t key; uint32_t pos, end, result; };  // a merge of merge_windowed, in whole-sequence positions

// Reused buffers of the merge loop (one per thread).
struct BpeScratch {
  std::vector<uint32_t> prev, next, heap, where;
  std::vector<uint64_t> key;
  std::vector<uint32_t> result;
  std::vector<std::vector<uint32_t>> buckets;  // merge_ranked_huge
  std::vector<uint64_t> nonempty;
  std::vector<uint32_t> window, starts;  // merge_windowed
  std::vector<WindowPop> pops[2];
};

constexpr size_t kShortMerge = 96;       // above this many symbols the merge loop uses a heap
constexpr uint32_t kMergeWindow = 1024;        // symbols per window of merge_windowed: its arrays stay in L1/L2
constexpr size_t kWindowedMerge = 4 * kMergeWindow;  // from this many symbols, merges run window by window
constexpr size_t kHugeMerge = 1 << 16;  // ... and if a window refuses, from this many rank keys go to per-rank buckets

// Key functions whose key is the rank alone (ties: leftmost) may take the bucket queue on huge inputs.
struct RankKey {
  uint64_t operator()(uint32_t rank, uint32_t) const { return rank; }
};

// Merges `symbols` and appends the final tokens to `out` (`symbols` is left changed). key(rank, position) ->
// uint64_t, position being the index in the initial `symbols` of the pair's left symbol.
template <typename KeyFn>
void merge_pairs(std::vector<uint32_t>& symbols, const PairMap& pairs, KeyFn key, BpeScratch& scratch, std::vector<uint32_t>& out);

}  // namespace traceindex::tok

#include "tokenizer/bpe_merge.inl"
