// Queries over a sharded index as per-shard parts and one merge. A part reads one shard only, so the parts
// of a query may run on any threads in parallel; the merge combines them once all are done. The merges:
//   count          sum over shards
//   longest match  the longest length over shards; shards reaching it add their counts
//   next tokens    the longest context suffix over shards; the distributions of the shards reaching it add
//   locate         one page over the shards' ranges in (shard, position) order
//   ranks          each shard's SA range as it is (infini-gram's find)
//   trace          the longest-prefix lengths L[i], maximum over shards; then spans from L
// Index's own queries, trace(), the binding's Sync forms and its thread-pool fan-out all go through these
// functions: each merge exists once. Query tokens must be checked first (check_queries).
#pragma once
#include <cstdint>
#include <vector>

#include "index.hpp"
#include "trace.hpp"

namespace traceindex {

// Queries laid end to end: query i is tokens[start(i), start(i) + length(i)). A view over the caller's arrays.
class Queries {
 public:
  // offsets: count + 1 non-decreasing entries from 0 (the caller checks them).
  Queries(const uint32_t* tokens, const uint32_t* offsets, size_t count) : tokens_(tokens), offsets_(offsets), count_(count) {}
  static Queries one(const uint32_t* q, size_t m) {
    Queries b(q, nullptr, 1);
    b.one_ = m;
    return b;
  }
  size_t size() const { return count_; }
  size_t start(size_t i) const { return offsets_ ? offsets_[i] : 0; }
  size_t length(size_t i) const { return offsets_ ? offsets_[i + 1] - offsets_[i] : one_; }
  const uint32_t* query(size_t i) const { return tokens_ + start(i); }
  size_t total_tokens() const { return offsets_ ? offsets_[count_] - offsets_[0] : one_; }
  // Where query i starts among this view's own total_tokens() (start(i) counts from the caller's array, which a
  // slice does not begin).
  size_t within(size_t i) const { return offsets_ ? offsets_[i] - offsets_[0] : 0; }
  // Queries [a, b) of these (a <= b <= size()), over the same arrays.
  Queries slice(size_t a, size_t b) const {
    if (!offsets_) return b > a ? *this : Queries(tokens_, nullptr, 0);
    return Queries(tokens_, offsets_ + a, b - a);
  }

 private:
  const uint32_t* tokens_;
  const uint32_t* offsets_;  // null: one query of one_ tokens
  size_t count_;
  size_t one_ = 0;
};

// ERR_TOKEN_RANGE if a token of any query is outside the vocabulary (Index::check_query).
void check_queries(const Index& index, const Queries& queries);

// Runs a query on the calling thread: each shard's part in turn, then the merge of all parts.
template <class PartFn, class MergeFn>
auto run_sharded(const Index& index, PartFn&& part, MergeFn&& merge) {
  std::vector<decltype(part(index.shard(0)))> parts;
  parts.reserve(index.shard_count());
  for (size_t si = 0; si < index.shard_count(); ++si) parts.push_back(part(index.shard(si)));
  return merge(parts);
}

// ---- count ----
std::vector<uint64_t> count_part(const Shard& shard, const Queries& queries, CancelFlag* cancel = nullptr);
std::vector<uint64_t> merge_counts(const std::vector<std::vector<uint64_t>>& parts);
std::vector<uint64_t> count_batch(const Index& index, const Queries& queries, CancelFlag* cancel = nullptr);

// ---- longest matching prefix ----
std::vector<LongestMatch> longest_part(const Shard& shard, const Queries& queries, CancelFlag* cancel = nullptr);
// One query's merge, shard by shard (MatchState merges its per-shard suffixes with it too).
inline void merge_longest(LongestMatch& best, const LongestMatch& part) {
  if (part.length > best.length) best = part;
  else if (part.length == best.length) best.count += part.count;
}
std::vector<LongestMatch> merge_longest(const std::vector<std::vector<LongestMatch>>& parts);
std::vector<LongestMatch> longest_batch(const Index& index, const Queries& queries, CancelFlag* cancel = nullptr);

// ---- next-token distributions ----
// In one shard: the longest suffix of the context that occurs followed by a token, and its SA range.
struct ContextMatch {
  size_t length = 0;
  SaRange range;
};
std::vector<ContextMatch> next_part(const Shard& shard, const Queries& queries, CancelFlag* cancel = nullptr);
std::vector<NextTokens> merge_next(const Index& index, const Queries& queries, const std::vector<std::vector<ContextMatch>>& parts,
                                   CancelFlag* cancel = nullptr);
std::vector<NextTokens> next_batch(const Index& index, const Queries& queries, CancelFlag* cancel = nullptr);

// ---- locate: one page of one query's occurrences ----
struct LocatePage {
  uint64_t total = 0;             // all occurrences
  std::vector<Occurrence> hits;   // [offset, offset + limit) of them in (shard, position) order
};
std::vector<SaRange> range_part(const Shard& shard, const Queries& queries, CancelFlag* cancel = nullptr);
// A page skipping more than this many occurrences of a shard is selected in constant memory (a radix select of its
// first position, then a heap of `limit`), not by a heap of offset + limit positions.
inline constexpr uint64_t kLocateHeapSkip = 1 << 16;
LocatePage merge_locate(const Index& index, const std::vector<std::vector<SaRange>>& parts, size_t query, uint64_t offset,
                        uint64_t limit, CancelFlag* cancel = nullptr);
LocatePage locate_page(const Index& index, const uint32_t* q, size_t m, uint64_t offset, uint64_t limit, CancelFlag* cancel = nullptr);

// ---- ranks: each shard's suffix-array range of each query (infini-gram's find) ----
// A query's [lo, hi) in one shard: its occurrences, or for a query that does not occur the empty range where it
// would sort. The empty query's range is the whole array, [0, rank_count()) (for infini-gram's tables
// the separator suffixes too, as its engine counts them).
std::vector<SaRange> rank_part(const Shard& shard, const Queries& queries, CancelFlag* cancel = nullptr);
// Query-major: entry q * shards + s is query q's range in shard s.
std::vector<SaRange> merge_ranks(const std::vector<std::vector<SaRange>>& parts);

// ---- trace: maximal spans, or with window > 0 TraceShield's stride-1 windows of that width ----
// ERR_TOKEN_RANGE for a query token or a delimiter outside the vocabulary.
void check_trace(const Index& index, const Queries& queries, const TraceOptions& options);
// L of every query in one shard, laid out like the queries' tokens (windows ignore delimiters).
std::vector<uint32_t> trace_part(const Shard& shard, const Queries& queries, const TraceOptions& options, uint32_t window,
                                 CancelFlag* cancel = nullptr);
std::vector<std::vector<Span>> merge_trace(const Index& index, const Queries& queries, const TraceOptions& options, uint32_t window,
                                           const std::vector<std::vector<uint32_t>>& parts, CancelFlag* cancel = nullptr);
std::vector<std::vector<Span>> trace_batch(const Index& index, const Queries& queries, const TraceOptions& options, uint32_t window,
                                           CancelFlag* cancel = nullptr);

}  // namespace traceindex
