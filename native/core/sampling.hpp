// Corpus spans sampled for calibrating tau (lib's calibrate): per length, spans drawn uniformly from the
// documents with a documented generator, so the draws are reproducible from the seed alone.
//
// Generator: 64-bit LCG, state = seed ^ 0x9e3779b97f4a7c15, then state = state * 6364136223846793005 +
// 1442695040888963407 (mod 2^64) before each draw, and next(n) = (state >> 33) mod n. Per length len, in the
// order given, with the state carried over: up to samples * 20 tries, each drawing a document
// d = next(documents); a try with |d| < len draws nothing more, else at = next(|d| - len + 1) and the span
// is d[at, at + len). A length stops when it has `samples` spans.
#pragma once
#include <cstdint>
#include <vector>

#include "index.hpp"

namespace traceindex {

inline constexpr uint64_t kMaxSamplesPerLength = 1000000;
// Bounds checked before any draw: span lengths asked for, samples x their number (the spans, each with its
// scores) and samples x the sum of the lengths (the tokens the spans may hold: 256 MiB as u32).
inline constexpr uint64_t kMaxSampleLengths = 1024;
inline constexpr uint64_t kMaxSampledSpans = uint64_t(1) << 22;
inline constexpr uint64_t kMaxSampledTokens = uint64_t(1) << 26;

// Span i is tokens[offsets[i], offsets[i + 1]) and was drawn for lengths[length_index[i]].
struct SampledSpans {
  std::vector<uint32_t> tokens;
  std::vector<uint32_t> offsets{0};
  std::vector<uint32_t> length_index;
};

// ERR_INVALID_ARGUMENT if samples > kMaxSamplesPerLength, lengths.size() > kMaxSampleLengths,
// samples x lengths.size() > kMaxSampledSpans or samples x sum(lengths) > kMaxSampledTokens.
SampledSpans sample_spans(const Index& index, const std::vector<uint32_t>& lengths, uint64_t samples, uint64_t seed,
                          CancelFlag* cancel = nullptr);

}  // namespace traceindex
