// Span scores from the corpus's exact unigram distribution P_train(t) = c(t) / N.
//
//   bci            BCI(s) = -Σ_{t∈s} log P(t)            (TraceAlign's Belief Conflict Index)
//   density        BCI(s) / |s|
//   max_token      max_{t∈s} -log P(t)
//   kl             KL(q_s ‖ P) = Σ_t q_s(t) log(q_s(t) / P(t)), q_s the span's own token distribution
//   count_surprisal -log(ℳ(s) / N), ℳ(s) the span's occurrence count
//
// Logs are natural unless a base is given. A token the corpus never contains (c = 0; reachable only when
// scoring arbitrary sequences) counts as `unseen_count` occurrences (default 0.5) instead.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

namespace traceindex {

struct ScoreOptions {
  double log_base = 0;         // 0 = natural log
  double unseen_count = 0.5;   // c(t) assumed for tokens with c(t) = 0; must be > 0
};

struct SpanScores {
  double bci = 0, density = 0, max_token = 0, kl = 0, count_surprisal = 0;
};

class Surprisal {
 public:
  Surprisal(const std::vector<uint64_t>& counts, uint64_t total);
  uint64_t total() const { return total_; }
  size_t size() const { return ln_.size(); }
  // -ln P(t), natural log; tokens outside the vocabulary or unseen use the floor.
  double ln(uint32_t t, const ScoreOptions& o) const {
    double v = t < ln_.size() ? ln_[t] : NAN;
    return std::isnan(v) ? std::log(double(total_) / o.unseen_count) : v;
  }
  double h(uint32_t t, const ScoreOptions& o) const { return ln(t, o) / scale(o); }
  static double scale(const ScoreOptions& o) { return o.log_base > 0 ? std::log(o.log_base) : 1.0; }
  SpanScores score(const uint32_t* tokens, size_t len, uint64_t count, const ScoreOptions& o) const;

 private:
  std::vector<double> ln_;  // -ln(c/N), NaN where c = 0
  uint64_t total_;
};

}  // namespace traceindex
