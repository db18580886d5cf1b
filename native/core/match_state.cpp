#include "match_state.hpp"

#include <algorithm>

#include "batch.hpp"
#include "error.hpp"

namespace traceindex {

MatchState::MatchState(std::shared_ptr<const Index> index, uint32_t window)
    : index_(std::move(index)), window_(window), shards_(index_->shard_count()) {
  for (size_t s = 0; s < shards_.size(); ++s) shards_[s].range = {0, index_->shard(s).stored_suffixes()};
}

namespace {
constexpr SaRange kUnknown{1, 0};
}

SaRange MatchState::suffix_range(size_t si, const PerShard& p, uint32_t j) const {
  if (p.suffixes.size() != size_t(p.length) + 1) {
    p.suffixes.assign(size_t(p.length) + 1, kUnknown);
    p.suffixes[0] = p.range;
    p.suffixes[p.length] = {0, index_->shard(si).stored_suffixes()};
  }
  SaRange& r = p.suffixes[j];
  if (r.lo > r.hi) r = index_->shard(si).find(tail_.data() + tail_.size() - (p.length - j), p.length - j);
  return r;
}

MatchState::PerShard MatchState::step(size_t si, const PerShard& cur, uint32_t token) const {
  const Shard& s = index_->shard(si);
  const uint32_t len = cur.length;
  // With a window, the new suffix keeps at most window tokens: drop at least len - window + 1.
  uint32_t lo = window_ && len >= window_ ? len - window_ + 1 : 0;
  if (lo == 0) {
    SaRange next = s.extend(cur.range, len, token);
    if (next.size() > 0) return {len + 1, next, {}};
    lo = 1;
  }
  // Smallest j in [lo, len] with u[j:]·token occurring; len + 1 if the token occurs nowhere.
  uint32_t hi = len + 1;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (s.extend(suffix_range(si, cur, mid), len - mid, token).size() > 0) hi = mid; else lo = mid + 1;
  }
  if (lo > len) return {0, {0, s.stored_suffixes()}, {}};
  return {len - lo + 1, s.extend(suffix_range(si, cur, lo), len - lo, token), {}};
}

void MatchState::push(uint32_t token) {
  if (token >= index_->vocab_size())
    throw Error(codes::kTokenRange, "token " + std::to_string(token) + " is out of range (vocabulary size " +
                                        std::to_string(index_->vocab_size()) + ")");
  // A step that throws (a damaged shard, a cancelled read) leaves the state as it was: each shard's suffix
  // length must stay within tail_, which summarize and suffix_range read backwards.
  next_.resize(shards_.size());
  uint32_t longest = 0;
  for (size_t s = 0; s < shards_.size(); ++s) {
    next_[s] = step(s, shards_[s], token);
    longest = std::max(longest, next_[s].length);
  }
  index_->check_intact();
  tail_.push_back(token);
  shards_.swap(next_);
  ++pushed_;
  if (tail_.size() > 2 * size_t(longest) + 64) tail_.erase(tail_.begin(), tail_.end() - longest);
}

SuffixMatch MatchState::summarize(const std::vector<PerShard>& st, const uint32_t* tail_end) const {
  LongestMatch best;
  for (const PerShard& p : st) merge_longest(best, {p.length, p.range.size()});
  SuffixMatch m;
  m.length = static_cast<uint32_t>(best.length);
  m.count = best.count;
  const Surprisal& h = index_->surprisal();
  ScoreOptions natural;
  for (uint32_t i = 1; i <= m.length; ++i) m.bci += h.ln(tail_end[-int64_t(i)], natural);
  return m;
}

SuffixMatch MatchState::longest() const { return summarize(shards_, tail_.data() + tail_.size()); }

SuffixMatch MatchState::peek(uint32_t token) const {
  if (token >= index_->vocab_size())
    throw Error(codes::kTokenRange, "token " + std::to_string(token) + " is out of range (vocabulary size " +
                                        std::to_string(index_->vocab_size()) + ")");
  std::vector<PerShard> next(shards_.size());
  for (size_t s = 0; s < shards_.size(); ++s) next[s] = step(s, shards_[s], token);
  // summarize reads the suffix backwards from its end: the candidate, then the tail.
  thread_local std::vector<uint32_t> buf;
  uint32_t longest = 0;
  for (auto& p : next) longest = std::max(longest, p.length);
  buf.assign(tail_.end() - std::min<size_t>(tail_.size(), longest), tail_.end());
  buf.push_back(token);
  index_->check_intact();
  return summarize(next, buf.data() + buf.size());
}

}  // namespace traceindex
