#include "scoring.hpp"

#include <algorithm>

namespace traceindex {

Surprisal::Surprisal(const std::vector<uint64_t>& counts, uint64_t total) : ln_(counts.size()), total_(total) {
  const double lnN = std::log(double(total));
  for (size_t t = 0; t < counts.size(); ++t) ln_[t] = counts[t] ? lnN - std::log(double(counts[t])) : NAN;
}

SpanScores Surprisal::score(const uint32_t* tokens, size_t len, uint64_t count, const ScoreOptions& o) const {
  SpanScores s;
  if (len == 0) return s;
  const double k = scale(o);
  s.max_token = -INFINITY;  // terms are negative when unseen_count exceeds N
  for (size_t i = 0; i < len; ++i) {
    double h = ln(tokens[i], o);
    s.bci += h;
    s.max_token = std::max(s.max_token, h);
  }
  // KL(q ‖ P) = Σ_t q(t) (ln q(t) + h(t)) over the span's distinct tokens.
  std::vector<uint32_t> sorted(tokens, tokens + len);
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < len;) {
    size_t j = i;
    while (j < len && sorted[j] == sorted[i]) ++j;
    double q = double(j - i) / double(len);
    s.kl += q * (std::log(q) + ln(sorted[i], o));
    i = j;
  }
  s.bci /= k;
  s.max_token /= k;
  s.kl /= k;
  s.density = s.bci / double(len);
  s.count_surprisal = count ? (std::log(double(total_)) - std::log(double(count))) / k : INFINITY;
  return s;
}

}  // namespace traceindex
