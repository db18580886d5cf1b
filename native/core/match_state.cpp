#include "match_state.hpp"

#include <algorithm>

#include "error.hpp"

namespace traceindex {

MatchState::MatchState(std::shared_ptr<const Index> index, uint32_t window)
    : index_(std::move(index)), window_(window), shards_(index_->shard_count()) {
  for (size_t s = 0; s < shards_.size(); ++s) shards_[s].range = {0, index_->shard(s).stored_suffixes()};
}

MatchState::PerShard MatchState::step(size_t si, const PerShard& cur, uint32_t token) const {
  const Shard& s = index_->shard(si);
  const SaRange all{0, s.stored_suffixes()};
  uint32_t len = cur.length;
  SaRange r = cur.range;
  if (window_ && len >= window_) {  // keep room for the new token inside the window
    len = window_ - 1;
    r = len ? s.find(tail_.data() + tail_.size() - len, len) : all;
  }
  for (;;) {
    SaRange next = s.extend(r, len, token);
    if (next.size() > 0) return {len + 1, next};
    if (len == 0) return {0, all};
    --len;  // drop the oldest token of the suffix and find the shorter one
    r = len ? s.find(tail_.data() + tail_.size() - len, len) : all;
  }
}

void MatchState::push(uint32_t token) {
  if (token >= index_->vocab_size())
    throw Error(codes::kTokenRange, "token " + std::to_string(token) + " is out of range (vocabulary size " +
                                        std::to_string(index_->vocab_size()) + ")");
  uint32_t longest = 0;
  for (size_t s = 0; s < shards_.size(); ++s) {
    shards_[s] = step(s, shards_[s], token);
    longest = std::max(longest, shards_[s].length);
  }
  tail_.push_back(token);
  ++pushed_;
  if (tail_.size() > 2 * size_t(longest) + 64) tail_.erase(tail_.begin(), tail_.end() - longest);
}

SuffixMatch MatchState::summarize(const std::vector<PerShard>& st, const uint32_t* tail_end) const {
  SuffixMatch m;
  for (const PerShard& p : st) m.length = std::max(m.length, p.length);
  for (const PerShard& p : st)
    if (p.length == m.length) m.count += p.range.size();
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
  return summarize(next, buf.data() + buf.size());
}

}  // namespace traceindex
