// The benches' generated corpus (bench_search, bench_infinigram): one generator, so both measure the same text.
#pragma once
#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace bench {

// Zipf(s = 1) over a random vocabulary of 50k lowercase words, so frequent words and phrases repeat.
inline std::vector<uint8_t> generate_text(uint64_t bytes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> words(50000);
  for (auto& w : words) {
    size_t len = 2 + rng() % 9;
    for (size_t i = 0; i < len; ++i) w.push_back(char('a' + rng() % 26));
  }
  std::vector<double> cdf(words.size());
  double sum = 0;
  for (size_t i = 0; i < words.size(); ++i) cdf[i] = sum += 1.0 / double(i + 1);
  std::uniform_real_distribution<double> u(0, sum);
  std::vector<uint8_t> t;
  t.reserve(bytes + 16);
  while (t.size() < bytes) {
    const std::string& w = words[std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin()];
    t.insert(t.end(), w.begin(), w.end());
    uint64_t r = rng() % 12;
    t.push_back(r == 0 ? '\n' : r == 1 ? '.' : ' ');
  }
  t.resize(bytes);
  return t;
}

}  // namespace bench
