#include "token_match.hpp"

#include <atomic>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TRACEINDEX_X86 1
#endif

namespace traceindex {
namespace {

// Word-at-a-time tail shared by all kernels: XOR of 8-byte words, first set bit gives the byte.
inline size_t mismatch_words(const uint8_t* a, const uint8_t* b, size_t i, size_t len) {
  for (; i + 8 <= len; i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a + i, 8);
    std::memcpy(&y, b + i, 8);
    if (x != y) return i + (__builtin_ctzll(x ^ y) >> 3);
  }
  for (; i < len; ++i)
    if (a[i] != b[i]) return i;
  return len;
}

size_t mismatch_scalar(const uint8_t* a, const uint8_t* b, size_t len) { return mismatch_words(a, b, 0, len); }

#ifdef TRACEINDEX_X86
__attribute__((target("sse4.2"))) size_t mismatch_sse42(const uint8_t* a, const uint8_t* b, size_t len) {
  size_t i = 0;
  for (; i + 16 <= len; i += 16) {
    __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i));
    __m128i y = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i));
    unsigned eq = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, y)));
    if (eq != 0xFFFFu) return i + __builtin_ctz(~eq);
  }
  return mismatch_words(a, b, i, len);
}

__attribute__((target("avx2"))) size_t mismatch_avx2(const uint8_t* a, const uint8_t* b, size_t len) {
  size_t i = 0;
  for (; i + 32 <= len; i += 32) {
    __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i));
    __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i));
    unsigned eq = static_cast<unsigned>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, y)));
    if (eq != 0xFFFFFFFFu) return i + __builtin_ctz(~eq);
  }
  return i + mismatch_sse42(a + i, b + i, len - i);  // the tail, 16 bytes at a time
}
#endif

const MatchKernel kScalar{"scalar", mismatch_scalar};
#ifdef TRACEINDEX_X86
const MatchKernel kSse42{"sse4.2", mismatch_sse42};
const MatchKernel kAvx2{"avx2", mismatch_avx2};
#endif

bool cpu_has(const std::string& name) {
  if (name == "scalar") return true;
#ifdef TRACEINDEX_X86
  __builtin_cpu_init();
  if (name == "sse4.2") return __builtin_cpu_supports("sse4.2");
  if (name == "avx2") return __builtin_cpu_supports("avx2");
#endif
  return false;
}

const MatchKernel* kernel_named(const std::string& name) {
#ifdef TRACEINDEX_X86
  if (name == "avx2") return &kAvx2;
  if (name == "sse4.2") return &kSse42;
#endif
  if (name == "scalar") return &kScalar;
  return nullptr;
}

const MatchKernel* best_kernel() {
  if (const char* forced = std::getenv("TRACEINDEX_SIMD"))
    if (cpu_has(forced) && kernel_named(forced)) return kernel_named(forced);
  for (const char* name : {"avx2", "sse4.2"})
    if (cpu_has(name) && kernel_named(name)) return kernel_named(name);
  return &kScalar;
}

std::atomic<const MatchKernel*> g_kernel{best_kernel()};

}  // namespace

const MatchKernel& match_kernel() { return *g_kernel.load(std::memory_order_relaxed); }

bool select_match_kernel(const std::string& name) {
  const MatchKernel* k = kernel_named(name);
  if (!k || !cpu_has(name)) return false;
  g_kernel = k;
  return true;
}

std::vector<std::string> available_match_kernels() {
  std::vector<std::string> out;
  for (const char* name : {"avx2", "sse4.2", "scalar"})
    if (cpu_has(name) && kernel_named(name)) out.push_back(name);
  return out;
}

}  // namespace traceindex
