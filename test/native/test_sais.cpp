// Suffix-array kernel: every (Token, Index, threads) combination against independent oracles.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <numeric>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "../../native/core/error.hpp"
#include "../../native/core/sais.hpp"
#include "check.hpp"

namespace traceindex::detail {
extern uint64_t sais_flag_limit;  // levels with n >= this take the flag-free passes
extern uint64_t sais_name_limit;  // levels with n >= this name by comparing substrings after induction
extern uint64_t sais_heap_budget;  // heap bytes the reduced levels may take (all ones: the default)
extern std::atomic<uint64_t> sais_heap_peak;    // what they held at most in the last build
extern std::atomic<int64_t> sais_heap_unreturned;  // budget not given back at the end of the last build
extern uint64_t sais_split_limit;  // naming levels with an alphabet above this take the flagged named passes
extern uint64_t sais_unique_min;   // levels with at least this many LMS suffixes drop unique names (all ones: default)
extern std::atomic<uint64_t> sais_unique_dropped;  // LMS suffixes dropped that way in the last build
extern uint64_t sais_par_min;        // block-parallel final induction (2 threads): levels with n >= this
extern uint64_t sais_par_k;          // and alphabets up to this
extern uint64_t sais_par_block;      // entries per block at most
extern uint64_t sais_par_chunk;      // entries per chunk (the unit the threads share)
extern uint64_t sais_par_block_min;  // shorter blocks induced in place
extern std::atomic<uint64_t> sais_par_blocks;     // blocks induced in parallel in the last build
extern std::atomic<uint64_t> sais_split_par_blocks;  // blocks of the split stage 1's passes induced in parallel in the last build
extern std::atomic<uint64_t> sais_par_gathered;  // levels of 2-thread builds whose split stage 1 counted on one thread
extern std::atomic<uint64_t> sais_spare_levels;  // levels whose arrays or split workspace took the spare span
extern uint64_t sais_hash_max;  // level 0 names by hashing while at most this many LMS substrings are distinct (0: induced)
extern bool sais_hash_weak;     // long LMS substrings hashed by length and first token only
extern bool sais_hash_wide;     // u32 tokens hashed too (not the default)
extern std::atomic<uint64_t> sais_hashed_levels;  // levels of the last build named by hashing
}

namespace {

using traceindex::build_suffix_array;

// Oracle 1: sort suffix indices with a direct lexicographic compare (a proper prefix sorts first).
template <class T> std::vector<uint64_t> naive_sa(const std::vector<T>& t) {
  std::vector<uint64_t> sa(t.size());
  std::iota(sa.begin(), sa.end(), 0);
  std::sort(sa.begin(), sa.end(), [&](uint64_t a, uint64_t b) {
    return std::lexicographical_compare(t.begin() + a, t.end(), t.begin() + b, t.end());
  });
  return sa;
}

// Oracle 2 (large or highly repetitive inputs): prefix doubling, O(n log^2 n).
template <class T> std::vector<uint64_t> doubling_sa(const std::vector<T>& t) {
  const size_t n = t.size();
  std::vector<uint64_t> sa(n);
  std::vector<int64_t> rank(n), tmp(n);
  std::iota(sa.begin(), sa.end(), 0);
  for (size_t i = 0; i < n; ++i) rank[i] = int64_t(t[i]);
  for (size_t k = 1;; k <<= 1) {
    auto key2 = [&](uint64_t i) { return i + k < n ? rank[i + k] : int64_t(-1); };
    auto less = [&](uint64_t a, uint64_t b) { return rank[a] != rank[b] ? rank[a] < rank[b] : key2(a) < key2(b); };
    std::sort(sa.begin(), sa.end(), less);
    if (n) tmp[sa[0]] = 0;
    for (size_t i = 1; i < n; ++i) tmp[sa[i]] = tmp[sa[i - 1]] + (less(sa[i - 1], sa[i]) ? 1 : 0);
    rank.swap(tmp);
    if (n == 0 || uint64_t(rank[sa[n - 1]]) == n - 1 || k >= n) break;
  }
  return sa;
}

template <class T, class I> std::vector<uint64_t> run(const std::vector<T>& t, uint64_t k, int threads) {
  std::vector<I> sa(t.size() + 1, I(0x5a5a5a5a));  // one canary entry past the end
  build_suffix_array<T, I>(t.data(), sa.data(), t.size(), k, threads);
  CHECK_EQ(uint64_t(sa[t.size()]), uint64_t(I(0x5a5a5a5a)));
  return std::vector<uint64_t>(sa.begin(), sa.end() - 1);
}

int g_builds = 0;

// Every Index type and thread count must reproduce the oracle; level 0 named by hashing in two of the four runs
// and induced in the other two (each text takes both).
template <class T> void check_text(const std::vector<T>& t, uint64_t k, const std::vector<uint64_t>& want) {
  uint64_t& hash_max = traceindex::detail::sais_hash_max;
  const uint64_t keep = hash_max;
  for (int threads = 1; threads <= 2; ++threads) {
    hash_max = threads == 1 ? keep : 0;
    CHECK((run<T, uint32_t>(t, k, threads) == want));
    hash_max = threads == 2 ? keep : 0;
    CHECK((run<T, uint64_t>(t, k, threads) == want));
    g_builds += 2;
  }
  hash_max = keep;
}
template <class T> void check_naive(const std::vector<T>& t, uint64_t k) { check_text(t, k, naive_sa(t)); }
template <class T> void check_doubling(const std::vector<T>& t, uint64_t k) { check_text(t, k, doubling_sa(t)); }

// The same token sequence as u8, u16 and u32 text.
template <class F> void all_widths(const std::vector<uint32_t>& t, uint64_t k, F&& check) {
  if (k <= 256) check(std::vector<uint8_t>(t.begin(), t.end()), k);
  if (k <= 65536) check(std::vector<uint16_t>(t.begin(), t.end()), k);
  check(t, k);
}
void naive_all(const std::vector<uint32_t>& t, uint64_t k) {
  all_widths(t, k, [](const auto& v, uint64_t kk) { check_naive(v, kk); });
}
void doubling_all(const std::vector<uint32_t>& t, uint64_t k) {
  all_widths(t, k, [](const auto& v, uint64_t kk) { check_doubling(v, kk); });
}

std::vector<uint32_t> random_text(std::mt19937_64& rng, size_t n, uint32_t k) {
  std::vector<uint32_t> t(n);
  // Half the cases draw from a skewed distribution so long runs and repeats appear.
  bool skew = rng() & 1;
  for (auto& x : t) {
    uint64_t r = rng();
    x = skew ? uint32_t(std::min<uint64_t>(k - 1, __builtin_ctzll(r | (1ull << 40)))) : uint32_t(r % k);
  }
  return t;
}

std::vector<uint32_t> fibonacci(size_t n) {
  std::string a = "a", b = "ab";
  while (b.size() < n) { std::string c = b + a; a = std::move(b); b = std::move(c); }
  std::vector<uint32_t> t(n);
  for (size_t i = 0; i < n; ++i) t[i] = uint32_t(b[i] - 'a');
  return t;
}

std::vector<uint8_t> read_file(const char* path, size_t limit) {
  std::ifstream f(path, std::ios::binary);
  std::vector<uint8_t> v((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (v.size() > limit) v.resize(limit);
  return v;
}

}  // namespace

TEST(sais_empty_and_single) {
  all_widths({}, 1, [](const auto& v, uint64_t k) {
    using T = typename std::decay_t<decltype(v)>::value_type;
    build_suffix_array<T, uint32_t>(nullptr, nullptr, 0, k, 1);  // n = 0: nothing touched
    check_naive(v, k);
  });
  naive_all({0}, 1);
  naive_all({7}, 8);
  naive_all({1, 0}, 2);
  naive_all({0, 1}, 2);
  naive_all({0, 0}, 1);
}

TEST(sais_random_small_alphabets) {
  std::mt19937_64 rng(1);
  for (int iter = 0; iter < check::scaled(3000); ++iter) {
    size_t n = iter < check::scaled(1000) ? rng() % 40 : rng() % 2001;
    uint32_t k8 = 1 + uint32_t(rng() % 256), k = 1 + uint32_t(rng() % 300);
    auto t8 = random_text(rng, n, k8);
    check_naive(std::vector<uint8_t>(t8.begin(), t8.end()), k8);
    auto t = random_text(rng, n, k);
    check_naive(std::vector<uint16_t>(t.begin(), t.end()), k);
    check_naive(t, k);
  }
}

TEST(sais_random_binary_and_large_alphabet) {
  std::mt19937_64 rng(2);
  for (int iter = 0; iter < check::scaled(300); ++iter) naive_all(random_text(rng, rng() % 3000, 1 + rng() % 3), 4);
  for (int iter = 0; iter < check::scaled(20); ++iter) {
    uint32_t k = 100000 + uint32_t(rng() % 100000);
    auto t = random_text(rng, 5000, k);
    check_naive(t, k);
    check_naive(t, k + 12345);  // a loose bound is fine
  }
}

TEST(sais_alphabet_larger_than_token_range) {
  std::mt19937_64 rng(3);
  auto t = random_text(rng, 1000, 256);
  check_naive(std::vector<uint8_t>(t.begin(), t.end()), 100000);
  check_naive(std::vector<uint16_t>(t.begin(), t.end()), 1u << 20);
}

TEST(sais_runs) {
  for (size_t n : {2, 3, 17, 1000, 4099}) {
    naive_all(std::vector<uint32_t>(n, 0), 1);
    naive_all(std::vector<uint32_t>(n, 5), 6);
    auto t = std::vector<uint32_t>(n, 3);
    t[n / 2] = 1;
    naive_all(t, 4);
    t.back() = 0;
    naive_all(t, 4);
  }
  doubling_all(std::vector<uint32_t>(300000, 2), 3);
}

TEST(sais_short_periods) {
  for (uint32_t period = 1; period <= 6; ++period) {
    for (size_t n : {2, 9, 100, 2001}) {
      std::vector<uint32_t> t(n);
      for (size_t i = 0; i < n; ++i) t[i] = 1 + uint32_t(i % period);
      naive_all(t, period + 2);
      t[n - 1] = 0;  // final perturbation below everything
      naive_all(t, period + 2);
      t[n - 1] = period + 1;  // and above
      naive_all(t, period + 2);
      std::vector<uint32_t> r(t.rbegin(), t.rend());
      naive_all(r, period + 2);
    }
  }
  std::vector<uint32_t> t(200003);
  for (size_t i = 0; i < t.size(); ++i) t[i] = uint32_t(i % 3);
  t[777] = 1;
  doubling_all(t, 3);
}

TEST(sais_long_repeats) {
  std::mt19937_64 rng(4);
  for (size_t block : {1, 7, 50, 333}) {
    auto b = random_text(rng, block, 40);
    std::vector<uint32_t> t;
    while (t.size() < 2500) t.insert(t.end(), b.begin(), b.end());
    naive_all(t, 40);
    t[rng() % t.size()] = 39;
    naive_all(t, 40);
  }
  auto b = random_text(rng, 1000, 200);
  std::vector<uint32_t> t;
  while (t.size() < 250000) t.insert(t.end(), b.begin(), b.end());
  t[123456] ^= 1;
  doubling_all(t, 256);
}

TEST(sais_fibonacci) {
  for (size_t n : {1, 2, 5, 13, 100, 987, 2584}) naive_all(fibonacci(n), 2);
  doubling_all(fibonacci(196418), 2);
}

// "ba"-patterns: every other position is LMS (m = n/2), the reduced problem as large as it gets.
TEST(sais_half_lms) {
  std::mt19937_64 rng(5);
  for (size_t n : {4, 5, 100, 1001, 2000}) {
    std::vector<uint32_t> t(n);
    for (size_t i = 0; i < n; ++i) t[i] = (i & 1) ? 0 : 1;
    naive_all(t, 2);
    // High/low alternation with random values: nearly all LMS substrings distinct, the reduced alphabet
    // no longer fits in the free part of sa.
    for (size_t i = 0; i < n; ++i) t[i] = (i & 1) ? uint32_t(rng() % 60) : 100 + uint32_t(rng() % 60);
    naive_all(t, 160);
    // Few distinct LMS substrings but m = n/2: recursion on a "ba" pattern of names.
    for (size_t i = 0; i < n; ++i) t[i] = (i & 1) ? uint32_t((i / 2) % 2) : 5;
    naive_all(t, 6);
  }
  std::vector<uint32_t> t(400000);
  for (size_t i = 0; i < t.size(); ++i) t[i] = (i & 1) ? uint32_t(rng() % 4) : 10 + uint32_t(rng() % 3);
  doubling_all(t, 16);
}

// One thread: stage 1 counts with two type chains (the halves of the text, from n = 256) and gathers the LMS
// positions of each half to the end of sa before seeding from them. Around the size where the chains start, with
// the LMS suffixes as dense as they get in one half (the other constant or dense too) and with runs across the cut.
TEST(sais_gathered_seeds) {
  std::mt19937_64 rng(23);
  // 250-270: one thread's gathering count at both thread counts; 70000-70001 (n >= 2^16): with 2 threads, the
  // halves counted on two threads, LMS suffixes in one half only or across the cut
  for (size_t n : {250, 251, 252, 253, 254, 255, 256, 257, 258, 259, 260, 261, 262, 263, 264, 265, 266, 267, 268, 269,
                   270, 70000, 70001}) {
    std::vector<uint32_t> t(n);
    for (int shape = 0; shape < 6; ++shape) {
      for (size_t i = 0; i < n; ++i) {
        const bool right = i >= n / 2, odd = i & 1;
        switch (shape) {
          case 0: t[i] = right ? (odd ? 0 : 1) : 2; break;                      // dense right, constant left
          case 1: t[i] = right ? 2 : (odd ? 0 : 1); break;                      // dense left, constant right
          case 2: t[i] = odd ? 0 : 1; break;                                    // dense everywhere
          case 3: t[i] = (i + 1) & 1 ? 0 : 1; break;                            // the other parity
          case 4: t[i] = i + 3 >= n / 2 && i <= n / 2 + 3 ? 1 : uint32_t(rng() % 3); break;  // a run across the cut
          default: t[i] = uint32_t(rng() % 4); break;
        }
      }
      if (n < 1000) naive_all(t, 4);
      else doubling_all(t, 4);
    }
  }
}

TEST(sais_real_text) {
  std::vector<uint32_t> all;
  for (const char* path : {"/usr/include/stdio.h", "/usr/include/stdlib.h", "/usr/include/c++/12/bits/stl_algo.h",
                           "/usr/include/c++/12/bits/basic_string.h"}) {
    auto f = read_file(path, 1 << 20);
    CHECK(!f.empty());
    std::vector<uint32_t> t(f.begin(), f.end());
    if (t.size() < 40000) naive_all(t, 256);
    all.insert(all.end(), t.begin(), t.end());
  }
  doubling_all(all, 256);
  // Remapped byte text as a dense u16/u32 alphabet.
  std::vector<uint32_t> map(256, 0), dense(all.size());
  for (uint32_t c : all) map[c] = 1;
  uint32_t k = 0;
  for (auto& x : map) { uint32_t used = x; x = k; k += used; }
  for (size_t i = 0; i < all.size(); ++i) dense[i] = map[all[i]];
  doubling_all(dense, k);
}

TEST(sais_bad_arguments) {
  const char* kBadArgument = "ERR_INVALID_ARGUMENT";
  std::vector<uint8_t> t8 = {1, 2, 5, 0};
  std::vector<uint16_t> t16 = {1, 300, 2};
  std::vector<uint32_t> t32 = {1, 2, 1000, 0};
  std::vector<uint32_t> sa(8);
  std::vector<uint64_t> sa64(8);
  CHECK_THROWS_CODE((build_suffix_array<uint8_t, uint32_t>(t8.data(), sa.data(), 4, 5, 1)), kBadArgument);
  CHECK_THROWS_CODE((build_suffix_array<uint8_t, uint64_t>(t8.data(), sa64.data(), 4, 5, 2)), kBadArgument);
  CHECK_THROWS_CODE((build_suffix_array<uint16_t, uint32_t>(t16.data(), sa.data(), 3, 300, 1)), kBadArgument);
  CHECK_THROWS_CODE((build_suffix_array<uint32_t, uint32_t>(t32.data(), sa.data(), 4, 1000, 1)), kBadArgument);
  CHECK_THROWS_CODE((build_suffix_array<uint32_t, uint64_t>(t32.data(), sa64.data(), 4, 999, 2)), kBadArgument);
  CHECK_THROWS_CODE((build_suffix_array<uint8_t, uint32_t>(t8.data(), sa.data(), 4, 0, 1)), kBadArgument);
  CHECK_THROWS_CODE((build_suffix_array<uint8_t, uint32_t>(t8.data(), sa.data(), 4, 6, 0)), kBadArgument);
  CHECK_THROWS_CODE((build_suffix_array<uint8_t, uint32_t>(t8.data(), sa.data(), uint64_t(1) << 32, 6, 1)),
                    kBadArgument);
  // The same inputs with a sufficient alphabet are fine.
  build_suffix_array<uint8_t, uint32_t>(t8.data(), sa.data(), 4, 6, 1);
  CHECK_EQ(sa[0], 3u);
  build_suffix_array<uint32_t, uint32_t>(t32.data(), sa.data(), 4, 1001, 2);
  CHECK_EQ(sa[3], 2u);
}

// A battery (random texts, a structured one, Fibonacci, real text) with a level knob at each limit in turn:
// the knob's kernel everywhere (0), on the small reduced levels only, and mixed over the levels.
template <class Structured>
void knob_battery(uint64_t& knob, uint64_t seed, Structured&& structured) {
  struct Restore { uint64_t& v; ~Restore() { v = ~uint64_t(0); } } restore{knob};
  for (uint64_t limit : {uint64_t(0), uint64_t(400), uint64_t(100000)}) {
    knob = limit;
    std::mt19937_64 rng(seed + limit);
    for (int iter = 0; iter < check::scaled(300); ++iter) {
      uint32_t k = 1 + uint32_t(rng() % 300);
      naive_all(random_text(rng, rng() % 2001, k), k);
    }
    auto [t, k] = structured(rng);
    naive_all(t, k);
    naive_all(fibonacci(2584), 2);
    auto f = read_file("/usr/include/c++/12/bits/stl_algo.h", 1 << 20);
    doubling_all(std::vector<uint32_t>(f.begin(), f.end()), 256);
  }
}

// The flag-free passes (Index=uint32_t with n >= 2^31-1) on small inputs.
TEST(sais_flag_free_passes) {
  knob_battery(traceindex::detail::sais_flag_limit, 6, [](std::mt19937_64& rng) {
    std::vector<uint32_t> t(2000);
    for (size_t i = 0; i < t.size(); ++i) t[i] = (i & 1) ? uint32_t(rng() % 60) : 100 + uint32_t(rng() % 60);
    return std::make_pair(t, uint64_t(160));
  });
}

// The comparing namer (levels too large for a second borrowed bit, or without room for the naming ids) beside
// naming during induction.
TEST(sais_comparing_namer) {
  knob_battery(traceindex::detail::sais_name_limit, 9, [](std::mt19937_64&) {
    std::vector<uint32_t> t(2000);
    for (size_t i = 0; i < t.size(); ++i) t[i] = 1 + uint32_t(i % 3);
    return std::make_pair(t, uint64_t(5));
  });
}

// The flagged passes that name during induction (the fallback of naming levels without room for the split
// sub-buckets' 4K entries) beside the split stage 1 (alphabet knob: everywhere, small alphabets only, mixed).
TEST(sais_flagged_named_passes) {
  knob_battery(traceindex::detail::sais_split_limit, 13, [](std::mt19937_64& rng) {
    std::vector<uint32_t> t(3000);
    for (size_t i = 0; i < t.size(); ++i) t[i] = (i % 7 < 3) ? 1 + uint32_t(i % 3) : uint32_t(rng() % 500);
    return std::make_pair(t, uint64_t(500));
  });
}

// A block repeated with mutations: most reduced names occur once, some repeat, over several levels.
std::vector<uint32_t> mutated_repeats(std::mt19937_64& rng, size_t block, int copies, uint32_t k, unsigned per_mille) {
  std::vector<uint32_t> b(block), t;
  for (auto& x : b) x = uint32_t(rng() % k);
  for (int c = 0; c < copies; ++c)
    for (uint32_t x : b) t.push_back(rng() % 1000 < per_mille ? uint32_t(rng() % k) : x);
  return t;
}

// Unique-name reduction (reduced suffixes whose name occurs once leave the recursion and come back at their
// rank): on every level (0), on levels with >= 400 LMS suffixes, on none of the small ones; then inputs where
// most names are unique, where none can be dropped, and the default choice on a text large enough to take it.
TEST(sais_unique_names) {
  knob_battery(traceindex::detail::sais_unique_min, 17, [](std::mt19937_64& rng) {
    return std::make_pair(mutated_repeats(rng, 700, 4, 300, 10), uint64_t(300));
  });
  struct Restore { ~Restore() { traceindex::detail::sais_unique_min = ~uint64_t(0); } } restore;
  traceindex::detail::sais_unique_min = 0;
  std::mt19937_64 rng(18);
  for (int iter = 0; iter < check::scaled(200); ++iter) {
    const uint32_t k = 2 + uint32_t(rng() % 200);
    auto t = mutated_repeats(rng, 1 + rng() % 500, 1 + int(rng() % 6), k, unsigned(rng() % 200));
    naive_all(t, k);
  }
  std::vector<uint32_t> sa(20000);
  auto dropped = [&](const std::vector<uint32_t>& t, uint64_t k) {
    build_suffix_array<uint32_t, uint32_t>(t.data(), sa.data(), t.size(), k, 1);
    CHECK((std::vector<uint64_t>(sa.begin(), sa.begin() + t.size()) == naive_sa(t)));
    CHECK_EQ(traceindex::detail::sais_heap_unreturned.load(), int64_t(0));
    return traceindex::detail::sais_unique_dropped.load();
  };
  auto many = mutated_repeats(rng, 2000, 4, 50, 20);
  const uint64_t d = dropped(many, 50);
  std::printf("sais_unique_names: %llu of %zu LMS suffixes dropped (all levels)\n", (unsigned long long)d, many.size());
  CHECK(d > 0);
  std::vector<uint32_t> periodic(6000);  // every LMS substring repeats but the last, which follows a repeat
  for (size_t i = 0; i < periodic.size(); ++i) periodic[i] = 1 + uint32_t(i % 3);
  CHECK_EQ(dropped(periodic, 4), uint64_t(0));
  CHECK_EQ(dropped(fibonacci(10946), 2), uint64_t(0));
  traceindex::detail::sais_unique_min = ~uint64_t(0);
  CHECK_EQ(dropped(many, 50), uint64_t(0));  // the default leaves small levels alone
  auto f = read_file("/usr/include/c++/12/bits/stl_algo.h", 1 << 20);
  std::vector<uint8_t> big;
  for (int c = 0; c < 6; ++c)
    for (uint8_t x : f) big.push_back(rng() % 1000 < 20 ? uint8_t(' ' + rng() % 90) : x);
  std::vector<uint32_t> sa8(big.size());
  build_suffix_array<uint8_t, uint32_t>(big.data(), sa8.data(), big.size(), 256, 1);
  std::printf("sais_unique_names: default choice: %llu dropped on %zu tokens\n",
              (unsigned long long)traceindex::detail::sais_unique_dropped.load(), big.size());
  CHECK(traceindex::detail::sais_unique_dropped.load() > 0);
  CHECK_EQ(traceindex::detail::sais_heap_unreturned.load(), int64_t(0));
  CHECK((std::vector<uint64_t>(sa8.begin(), sa8.end()) == doubling_sa(big)));
}

// No heap for reduced levels: every reduced level whose bucket arrays miss the free part of sa is sorted by
// the in-place prefix doubling instead (random, periodic, half-LMS and real text).
TEST(sais_in_place_fallback) {
  struct Restore { ~Restore() { traceindex::detail::sais_heap_budget = ~uint64_t(0); } } restore;
  traceindex::detail::sais_heap_budget = 0;
  std::mt19937_64 rng(11);
  for (int iter = 0; iter < check::scaled(400); ++iter) {
    uint32_t k = 1 + uint32_t(rng() % 200);
    naive_all(random_text(rng, rng() % 1500, k), k);
  }
  for (size_t n : {5, 101, 2000}) {
    std::vector<uint32_t> t(n);
    for (size_t i = 0; i < n; ++i) t[i] = (i & 1) ? uint32_t(rng() % 60) : 100 + uint32_t(rng() % 60);
    naive_all(t, 160);
    for (size_t i = 0; i < n; ++i) t[i] = (i & 1) ? uint32_t((i / 2) % 2) : 5;
    naive_all(t, 6);
    for (size_t i = 0; i < n; ++i) t[i] = 1 + uint32_t(i % 3);
    naive_all(t, 4);
  }
  // A reduced string "A A" with a large alphabet: prefix doubling needs log rounds, every group a pair.
  std::vector<uint32_t> a(3000), t;
  for (auto& x : a) x = 100 + uint32_t(rng() % 900);
  for (int r = 0; r < 2; ++r)
    for (uint32_t x : a) { t.push_back(x); t.push_back(uint32_t(rng() % 50)); }
  naive_all(t, 1000);
  std::vector<uint32_t> big(300000);
  for (size_t i = 0; i < big.size(); ++i) big[i] = (i & 1) ? uint32_t(rng() % 4) : 10 + uint32_t(rng() % 3);
  doubling_all(big, 16);
  auto f = read_file("/usr/include/c++/12/bits/stl_algo.h", 1 << 20);
  doubling_all(std::vector<uint32_t>(f.begin(), f.end()), 256);
}

// Working space of the reduced levels on inputs built to need the most (more than n/3 LMS suffixes, nearly all
// LMS substrings distinct): the heap they take stays within the documented 7/8 byte per token (+ 64 KiB).
TEST(sais_working_space) {
  std::mt19937_64 rng(12);
  const size_t n = 1 << 18;
  std::vector<uint32_t> t(n);
  std::vector<uint32_t> sa(n);
  for (int pattern = 0; pattern < 3; ++pattern) {
    for (size_t i = 0; i < n; ++i)
      t[i] = pattern == 0 ? ((i & 1) ? uint32_t(rng() % 60) : 100 + uint32_t(rng() % 60))
           : pattern == 1 ? ((i & 1) ? uint32_t(rng() % 1000) : 5000 + uint32_t(rng() % 1000))
                          : ((i & 1) ? uint32_t((i / 2) % 7) : 9);
    build_suffix_array<uint32_t, uint32_t>(t.data(), sa.data(), n, 6000, 1);
    std::printf("sais_working_space: pattern %d: %llu heap bytes for %zu tokens\n", pattern,
                (unsigned long long)traceindex::detail::sais_heap_peak.load(), n);
    CHECK(traceindex::detail::sais_heap_peak.load() <= n - n / 8 + 65536);
    CHECK_EQ(traceindex::detail::sais_heap_unreturned.load(), int64_t(0));
    CHECK((std::vector<uint64_t>(sa.begin(), sa.end()) == doubling_sa(t)));
  }
  auto f = read_file("/usr/include/c++/12/bits/stl_algo.h", 1 << 20);
  std::vector<uint32_t> sa8(f.size());
  build_suffix_array<uint8_t, uint32_t>(f.data(), sa8.data(), f.size(), 256, 1);
  std::printf("sais_working_space: real text: %llu heap bytes\n", (unsigned long long)traceindex::detail::sais_heap_peak.load());
  CHECK(traceindex::detail::sais_heap_peak.load() <= f.size() - f.size() / 8 + 65536);
}

// The block-parallel final induction and split stage-1 passes (level 0, 2 threads) with blocks, chunks and the
// in-place limit shrunk, so that block and chunk ends fall inside buckets and inside runs of one symbol (where a
// block ends at the slot its own bucket is still filling), and chunk ends between the entries of one naming group;
// alphabets up to the default limit and beyond it (u16/u32, K up to 5000).
// check_text builds every text with 1 and 2 threads: the 1-thread builds take the sequential passes.
TEST(sais_parallel_induction) {
  namespace d = traceindex::detail;
  struct Restore {
    ~Restore() {
      d::sais_par_min = uint64_t(1) << 16;
      d::sais_par_k = 1024;
      d::sais_par_block = uint64_t(1) << 16;
      d::sais_par_chunk = 4096;
      d::sais_par_block_min = 256;
      d::sais_hash_max = ~uint64_t(0);
    }
  } restore;
  d::sais_par_min = 0;
  struct Shape { uint64_t block, chunk, block_min, k; };
  const Shape shapes[] = {{2, 1, 2, ~uint64_t(0)}, {7, 3, 2, ~uint64_t(0)}, {64, 5, 16, 1024}, {300, 64, 2, ~uint64_t(0)},
                          {uint64_t(1) << 16, 4096, 256, 1024}};
  for (const Shape& sh : shapes) {
    d::sais_par_block = sh.block;
    d::sais_par_chunk = sh.chunk;
    d::sais_par_block_min = sh.block_min;
    d::sais_par_k = sh.k;
    std::mt19937_64 rng(21 + sh.block);
    for (int iter = 0; iter < check::scaled(150); ++iter) {
      uint32_t k = 1 + uint32_t(rng() % 300);
      naive_all(random_text(rng, rng() % 2001, k), k);
    }
    for (int iter = 0; iter < check::scaled(20); ++iter) {  // runs of one symbol, some long
      std::vector<uint32_t> t;
      while (t.size() < 2500) t.insert(t.end(), 1 + rng() % (rng() & 1 ? 400 : 8), uint32_t(rng() % 4));
      naive_all(t, 4);
    }
    naive_all(std::vector<uint32_t>(3000, 1), 2);
    naive_all(fibonacci(2584), 2);
    auto big = random_text(rng, 3000, 5000);
    check_naive(std::vector<uint16_t>(big.begin(), big.end()), 5000);
    check_naive(big, 5000);
    auto f = read_file("/usr/include/c++/12/bits/stl_algo.h", 1 << 20);
    doubling_all(std::vector<uint32_t>(f.begin(), f.end()), 256);
  }
  // the path is taken: a 2-thread build of real text induces blocks in parallel (stage 1 too, with level 0
  // induced instead of hashed); one thread, or the default level size limit on a small text, does not
  d::sais_hash_max = 0;
  auto f = read_file("/usr/include/c++/12/bits/stl_algo.h", 1 << 20);
  CHECK(f.size() > 100000);
  std::vector<uint32_t> sa(f.size());
  for (int threads = 1; threads <= 2; ++threads) {
    build_suffix_array<uint8_t, uint32_t>(f.data(), sa.data(), f.size(), 256, threads);
    std::printf("sais_parallel_induction: %d thread(s), %llu + %llu (stage 1) blocks at the default shape\n", threads,
                (unsigned long long)d::sais_par_blocks.load(), (unsigned long long)d::sais_split_par_blocks.load());
    CHECK_EQ(d::sais_par_blocks.load() > 0, threads == 2);
    CHECK_EQ(d::sais_split_par_blocks.load() > 0, threads == 2);
  }
  d::sais_par_min = uint64_t(1) << 16;
  build_suffix_array<uint8_t, uint32_t>(f.data(), sa.data(), 60000, 256, 2);
  CHECK_EQ(d::sais_par_blocks.load(), uint64_t(0));
  CHECK_EQ(d::sais_split_par_blocks.load(), uint64_t(0));
}

// Reduced levels of 2-thread builds (n >= 2^16, K > 65536) that take the split stage 1 count on one thread
// (count_gather4; its LMS count of the upper half feeds the 2-thread namer): uniform texts over 10 and 11 symbols,
// whose first reduced level has 65762 and 77555 names over 0.51 M entries (its 4K entries on the heap, within the
// budget for 32-bit entries).
TEST(sais_reduced_two_threads) {
  namespace d = traceindex::detail;
  std::mt19937_64 rng(31);
  for (uint32_t k : {10u, 11u}) {
    std::vector<uint32_t> t(1600000);
    for (auto& x : t) x = uint32_t(rng() % k);
    check_doubling(t, k);
    std::vector<uint32_t> sa(t.size());
    build_suffix_array<uint32_t, uint32_t>(t.data(), sa.data(), t.size(), k, 2);
    CHECK(d::sais_par_gathered.load() > 0);
    build_suffix_array<uint32_t, uint32_t>(t.data(), sa.data(), t.size(), k, 1);
    CHECK_EQ(d::sais_par_gathered.load(), uint64_t(0));
  }
}

// The spare span (free at an ancestor level, beyond the running level's own part of sa): reduced levels with
// K' > 65536 take stage1_split's 4K' entries there, and levels whose bucket arrays miss their own free part take
// them there, before the heap. Texts whose reduced levels have many names (uniform over small alphabets, a large
// alphabet, long repeats, one symbol between random ones), u16 and u32 tokens, 32- and 64-bit entries, 1 and 2
// threads, with unique names dropped on every level (the dropped pairs kept below the reduced text) or not.
TEST(sais_spare_span) {
  namespace d = traceindex::detail;
  struct Restore { ~Restore() { d::sais_unique_min = ~uint64_t(0); } } restore;
  std::mt19937_64 rng(41);
  std::vector<std::pair<std::vector<uint32_t>, uint32_t>> texts;
  for (uint32_t k : {3u, 10u}) {
    std::vector<uint32_t> t(k == 3 ? 900000 : 1300000);
    for (auto& x : t) x = uint32_t(rng() % k);
    texts.push_back({t, k});
  }
  {
    std::vector<uint32_t> t(700000);
    for (auto& x : t) x = uint32_t(rng() % 60000);
    texts.push_back({t, 60000});
  }
  {  // long repeats: a random block of 150000 over 12 symbols, four times, with single changes
    std::vector<uint32_t> a(150000), t;
    for (auto& x : a) x = uint32_t(rng() % 12);
    for (int r = 0; r < 4; ++r) { t.insert(t.end(), a.begin(), a.end()); t[t.size() - 1 - rng() % 1000] = uint32_t(rng() % 12); }
    texts.push_back({t, 12});
  }
  {  // one symbol between random ones (more than n/3 LMS suffixes, nearly all substrings distinct)
    std::vector<uint32_t> t(600000);
    for (size_t i = 0; i < t.size(); ++i) t[i] = (i & 1) ? uint32_t(rng() % 7) : 9;
    texts.push_back({t, 10});
  }
  for (const auto& [t, k] : texts) {
    const auto want = doubling_sa(t);
    for (uint64_t umin : {~uint64_t(0), uint64_t(1)}) {
      d::sais_unique_min = umin;
      for (int threads = 1; threads <= 2; ++threads) {
        std::vector<uint32_t> sa(t.size());
        build_suffix_array<uint32_t, uint32_t>(t.data(), sa.data(), t.size(), k, threads);
        const uint64_t spare = d::sais_spare_levels.load();
        CHECK_EQ(d::sais_heap_unreturned.load(), int64_t(0));
        CHECK((std::vector<uint64_t>(sa.begin(), sa.end()) == want));
        std::vector<uint64_t> sa64(t.size());
        build_suffix_array<uint32_t, uint64_t>(t.data(), sa64.data(), t.size(), k, threads);
        CHECK(sa64 == want);
        if (k <= 60000) {
          std::vector<uint16_t> t16(t.begin(), t.end());
          build_suffix_array<uint16_t, uint32_t>(t16.data(), sa.data(), t16.size(), k, threads);
          CHECK((std::vector<uint64_t>(sa.begin(), sa.end()) == want));
        }
        std::printf("sais_spare_span: n=%zu k=%u unique_min=%s threads=%d: %llu spare levels, %llu heap bytes\n",
                    t.size(), k, umin == 1 ? "1" : "default", threads, (unsigned long long)spare,
                    (unsigned long long)d::sais_heap_peak.load());
      }
    }
  }
  // the path is taken: uniform text over 10 symbols (first reduced level: K' > 65536, 4K' entries in the spare)
  std::vector<uint32_t> sa(texts[1].first.size());
  d::sais_unique_min = ~uint64_t(0);
  build_suffix_array<uint32_t, uint32_t>(texts[1].first.data(), sa.data(), sa.size(), 10, 1);
  CHECK(d::sais_spare_levels.load() > 0);
}

// Level 0 named by hashing (stage1_hashed): the path taken (counter) or given up, and the suffix array exact either
// way: random texts; one token; periodic runs (one distinct LMS substring); long repeated blocks (LMS substrings
// beyond the exact 8-byte keys, found equal through the text); the sentinel's substring a prefix of others; weak
// hashes (every long substring of a length collides: probing and the text check decide); a distinct limit that
// gives up mid-scan; real text; u8/u16 tokens (u32 tokens stay induced: 4 of the 6 builds of a text hashed; with
// sais_hash_wide all 6), 32/64-bit entries, 1 and 2 threads.
TEST(sais_hashed_stage1) {
  namespace d = traceindex::detail;
  struct Restore {
    ~Restore() { d::sais_hash_max = ~uint64_t(0); d::sais_hash_weak = d::sais_hash_wide = false; }
  } restore;
  auto hashed = [](const auto& t, uint64_t k, int threads) {
    using T = typename std::decay_t<decltype(t)>::value_type;
    const auto want = naive_sa(t);
    CHECK((run<T, uint32_t>(t, k, threads) == want));
    uint64_t h = d::sais_hashed_levels.load();  // (64-bit entries make larger slots: the table's bound differs)
    CHECK_EQ(d::sais_heap_unreturned.load(), int64_t(0));
    CHECK((run<T, uint64_t>(t, k, threads) == want));
    h += d::sais_hashed_levels.load();
    CHECK_EQ(d::sais_heap_unreturned.load(), int64_t(0));
    g_builds += 2;
    return h;
  };
  auto widths = [&](const std::vector<uint32_t>& t, uint64_t k, int threads) {  // builds hashed, of all builds
    uint64_t h = 0, runs = 0;
    all_widths(t, k, [&](const auto& v, uint64_t kk) { h += hashed(v, kk, threads); runs += 2; });
    return std::make_pair(h, runs);
  };
  std::mt19937_64 rng(23);
  uint64_t taken = 0, given_up = 0;
  for (int weak = 0; weak < 2; ++weak) {
    d::sais_hash_weak = weak;
    for (int iter = 0; iter < check::scaled(150); ++iter) {
      d::sais_hash_wide = iter % 4 == 0;
      const uint32_t k = 1 + uint32_t(rng() % (iter % 3 ? 8 : 300));
      auto [h, runs] = widths(random_text(rng, 1 + rng() % 3000, k), k, 1 + iter % 2);
      taken += h;
      given_up += runs - h;
    }
  }
  d::sais_hash_weak = d::sais_hash_wide = false;
  CHECK(taken > 0);
  CHECK(given_up > 0);  // large alphabets: more distinct substrings than the table's bound
  for (int threads = 1; threads <= 2; ++threads) {
    CHECK_EQ(widths(std::vector<uint32_t>(5000, 7), 8, threads).first, uint64_t(4));  // no LMS suffix
    std::vector<uint32_t> periodic(6001);
    for (size_t i = 0; i < periodic.size(); ++i) periodic[i] = 1 + uint32_t(i % 2);
    CHECK_EQ(widths(periodic, 3, threads).first, uint64_t(4));
    // a rise and a fall of 100 tokens each (one LMS substring of ~200 tokens), in four variants of the same length
    // repeated; the text ends with the start of one (the sentinel's substring shares its prefix)
    std::vector<uint32_t> rep;
    for (int c = 0; c < 12; ++c) {
      const size_t at = rep.size();
      for (uint32_t i = 0; i < 200; ++i) rep.push_back(i < 100 ? 10 + i : 209 - i);
      if (c % 4) rep[at + 120 + 7 * size_t(c % 4)] += 1;
    }
    rep.insert(rep.end(), rep.begin(), rep.begin() + 150);
    for (int weak = 0; weak < 2; ++weak) {
      d::sais_hash_weak = weak;
      CHECK_EQ(widths(rep, 120, threads).first, uint64_t(4));
      d::sais_hash_wide = true;  // u32 tokens too: two tokens to an exact key
      CHECK_EQ(widths(rep, 120, threads).first, uint64_t(6));
      CHECK_EQ(widths(periodic, 3, threads).first, uint64_t(6));
      d::sais_hash_wide = false;
    }
    d::sais_hash_weak = false;
    // a distinct limit reached mid-scan: induced instead, same array
    d::sais_hash_max = 3;
    CHECK_EQ(widths(mutated_repeats(rng, 500, 3, 30, 50), 30, threads).first, uint64_t(0));
    d::sais_hash_max = ~uint64_t(0);
  }
  auto f = read_file("/usr/include/c++/12/bits/stl_algo.h", 1 << 20);  // ~210 KB, five copies with mutations
  std::vector<uint8_t> text;
  for (int c = 0; c < 5; ++c)
    for (uint8_t x : f) text.push_back(rng() % 1000 < 5 ? uint8_t(' ' + rng() % 90) : x);
  for (int threads = 1; threads <= 2; ++threads) {
    const auto want = doubling_sa(text);
    CHECK((run<uint8_t, uint32_t>(text, 256, threads) == want));
    CHECK_EQ(d::sais_hashed_levels.load(), uint64_t(1));
    // sa 4 bytes past an 8-byte boundary (a part of a larger buffer): the table's 8-byte slots start aligned
    std::vector<uint32_t> buf(text.size() + 2);
    uint32_t* sa4 = buf.data() + (reinterpret_cast<uintptr_t>(buf.data()) % 8 == 0 ? 1 : 0);
    build_suffix_array<uint8_t, uint32_t>(text.data(), sa4, text.size(), 256, threads);
    CHECK((std::vector<uint64_t>(sa4, sa4 + text.size()) == want));
    CHECK_EQ(d::sais_hashed_levels.load(), uint64_t(1));
  }
  std::printf("sais_hashed_stage1: %llu builds hashed at level 0, %llu gave up\n", (unsigned long long)taken,
              (unsigned long long)given_up);
}

TEST(sais_build_count) {
  std::printf("sais: %d suffix arrays checked against oracles\n", g_builds);
  CHECK(g_builds > check::scaled(10000));
}
