// Token-run comparison kernels for suffix-array search. One kernel answers "where do these two runs first
// differ"; AVX2 and SSE4.2 versions are compiled with target attributes and the best one the CPU supports
// is picked at run time (TRACEINDEX_SIMD=avx2|sse4.2|scalar overrides, for tests and benchmarks).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace traceindex {

// Index of the first byte where a and b differ within [0, len), or len if they are equal.
using MismatchFn = size_t (*)(const uint8_t* a, const uint8_t* b, size_t len);

struct MatchKernel {
  const char* name;
  MismatchFn mismatch;
};

const MatchKernel& match_kernel();
// Selects a kernel by name; false if the CPU lacks it or the name is unknown.
bool select_match_kernel(const std::string& name);
std::vector<std::string> available_match_kernels();

// Tokens are little-endian, so the first differing byte lies in the first differing token.
template <typename Token>
inline size_t mismatch_tokens(const Token* a, const Token* b, size_t len) {
  return match_kernel().mismatch(reinterpret_cast<const uint8_t*>(a), reinterpret_cast<const uint8_t*>(b),
                                 len * sizeof(Token)) / sizeof(Token);
}

}  // namespace traceindex
