// The build's progress counter (native/core/progress.hpp): read from another thread while a suffix array or a
// whole shard is built, it never goes down, never passes its total and ends exactly at it, for every token
// width, both index widths and both thread modes, on random texts large enough to recurse.
#include <atomic>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "check.hpp"
#include "fixtures.hpp"
#include "progress.hpp"
#include "sais.hpp"
#include "shard_writer.hpp"

using namespace traceindex;

namespace {

// Polls `p` on a second thread until stopped; the samples are checked afterwards.
struct Watcher {
  WorkProgress& p;
  std::atomic<bool> stop{false};
  std::vector<std::pair<uint64_t, uint64_t>> samples;  // (done, total)
  std::thread th;
  explicit Watcher(WorkProgress& w) : p(w), th([this] {
    while (!stop.load()) {
      std::pair<uint64_t, uint64_t> s{p.done.load(), p.total.load()};
      if (samples.empty() || s != samples.back()) samples.push_back(s);
    }
  }) {}
  void finish() { stop = true; th.join(); samples.push_back({p.done.load(), p.total.load()}); }
};

void check_monotone(const std::vector<std::pair<uint64_t, uint64_t>>& samples, uint64_t total) {
  uint64_t last = 0;
  for (auto [done, t] : samples) {
    CHECK(done >= last);
    CHECK(t == 0 || t == total);
    CHECK(done <= total);
    last = done;
  }
  CHECK_EQ(samples.back().first, total);
}

template <class T, class I> void sa_progress(std::mt19937_64& rng, uint64_t n, uint64_t k, int threads) {
  std::vector<T> t(n);
  for (auto& x : t) x = T(rng() % k);
  if (rng() % 2) for (uint64_t i = n / 2; i < n; ++i) t[i] = t[i - n / 2];  // repeats: deeper recursion
  std::vector<I> sa(n);
  WorkProgress p;
  Watcher w(p);
  build_suffix_array<T, I>(t.data(), sa.data(), n, k, threads, &p);
  w.finish();
  check_monotone(w.samples, suffix_array_work(n));
}

}  // namespace

TEST(progress_suffix_array_monotone_to_total) {
  std::mt19937_64 rng(11);
  for (uint64_t n : {0, 1, 2, 3, 17, 1000, 70000, 300000}) {
    for (int threads : {1, 2}) {
      sa_progress<uint8_t, uint32_t>(rng, n, 1 + rng() % 256, threads);
      sa_progress<uint8_t, uint64_t>(rng, n, 2, threads);
      sa_progress<uint16_t, uint32_t>(rng, n, 1 + rng() % 65536, threads);
      sa_progress<uint16_t, uint64_t>(rng, n, 3, threads);
      sa_progress<uint32_t, uint32_t>(rng, n, 1 + rng() % 200000, threads);
      sa_progress<uint32_t, uint64_t>(rng, n, 4, threads);
    }
  }
}

namespace {
template <class T> void shard_progress(std::mt19937_64& rng, int width, uint64_t vocab) {
  fixtures::TempDir tmp;
  const T sep = T(separator_of(width));
  std::vector<T> tokens;
  std::vector<uint64_t> starts{0}, meta{0};
  for (int d = 0; d < 300; ++d) {
    uint64_t len = rng() % 2000;
    for (uint64_t i = 0; i < len; ++i) tokens.push_back(T(rng() % vocab));
    tokens.push_back(sep);
    starts.push_back(tokens.size());
    meta.push_back(0);
  }
  ShardSource src;
  src.tokens = tokens.data(); src.token_width = width; src.tokens_count = tokens.size(); src.doc_starts = starts.data();
  src.documents = starts.size() - 1; src.meta_offsets = meta.data(); src.meta_blob = nullptr; src.vocab_size = vocab;
  WorkProgress p;
  Watcher w(p);
  write_shard((tmp.path / "s").string(), src, nullptr, {}, &p);
  w.finish();
  CHECK_EQ(p.total.load(), shard_build_work(tokens.size()));
  check_monotone(w.samples, shard_build_work(tokens.size()));
  write_shard((tmp.path / "again").string(), src, nullptr, {}, &p);  // a reused counter starts over
  CHECK_EQ(p.done.load(), shard_build_work(tokens.size()));
}
}  // namespace

TEST(progress_shard_build_monotone_to_total) {
  std::mt19937_64 rng(12);
  for (int iter = 0; iter < 3; ++iter) {
    shard_progress<uint8_t>(rng, 1, 255);
    shard_progress<uint16_t>(rng, 2, 50000);
    shard_progress<uint32_t>(rng, 4, 1 + rng() % 300000);
  }
}
