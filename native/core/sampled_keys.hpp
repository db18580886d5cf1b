// The sampled key layer of a traceindex shard (docs/FORMAT.md v2, samples.bin): key j is the first 8 bytes of
// suffix sa[j * K], its tokens packed big-endian (u8: 8 tokens, u16: 4, u32: 2), positions past the end of the
// stream as 0. Keys are non-decreasing in suffix order (a suffix that ends first sorts first and pads with 0),
// so a key strictly below a pattern's, or strictly above every key of a string starting with it, brackets the
// pattern exactly without touching the suffix array or the text.
#pragma once
#include <cstddef>
#include <cstdint>

namespace traceindex {

inline constexpr uint64_t kSampleInterval = 32;  // 8 bytes per 32 suffixes: 0.25 byte per token
inline constexpr uint64_t kMaxSampleInterval = uint64_t(1) << 20;

namespace detail {
// The interval write_shard samples with; tests set small ones (a shard of a few suffixes then still has many
// keys). Not thread-safe: set it before building.
extern uint64_t sample_interval;
// Shards with at least this many keys search them through an in-memory top (sa_search.hpp's KeyTop); tests
// lower it so small shards take that path too.
extern uint64_t key_top_min;
}  // namespace detail

template <typename Token>
inline constexpr size_t kKeyTokens = 8 / sizeof(Token);

// Key of the string t[0, avail) (tokens past avail count as 0; at most kKeyTokens are read).
template <typename Token>
inline uint64_t pack_key(const Token* t, uint64_t avail) {
  uint64_t k = 0;
  for (size_t i = 0; i < kKeyTokens<Token>; ++i) k = (k << (8 * sizeof(Token))) | (i < avail ? uint64_t(t[i]) : 0);
  return k;
}

// Tokens two keys share from the front.
template <typename Token>
inline size_t key_lcp(uint64_t a, uint64_t b) {
  return a == b ? kKeyTokens<Token> : size_t(__builtin_clzll(a ^ b)) / (8 * sizeof(Token));
}

inline uint64_t sample_count(uint64_t suffixes, uint64_t interval) { return suffixes / interval + (suffixes % interval != 0); }

}  // namespace traceindex
