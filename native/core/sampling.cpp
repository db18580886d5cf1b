#include "sampling.hpp"

#include "error.hpp"

namespace traceindex {

SampledSpans sample_spans(const Index& index, const std::vector<uint32_t>& lengths, uint64_t samples, uint64_t seed,
                          CancelFlag* cancel) {
  if (samples > kMaxSamplesPerLength)
    throw Error(codes::kInvalidArgument, "samples must be at most " + std::to_string(kMaxSamplesPerLength) + " per length");
  if (lengths.size() > kMaxSampleLengths)
    throw Error(codes::kInvalidArgument, "at most " + std::to_string(kMaxSampleLengths) + " span lengths, got " + std::to_string(lengths.size()));
  if (samples * lengths.size() > kMaxSampledSpans)
    throw Error(codes::kInvalidArgument, "samples x the number of lengths is " + std::to_string(samples * lengths.size()) +
                                             " spans, more than " + std::to_string(kMaxSampledSpans) + ": ask for fewer samples or lengths");
  uint64_t length_sum = 0;  // < 2^10 x 2^32: no overflow
  for (uint32_t l : lengths) length_sum += l;
  if (samples * length_sum > kMaxSampledTokens)
    throw Error(codes::kInvalidArgument, "samples x the sum of the lengths is " + std::to_string(samples * length_sum) +
                                             " tokens, more than " + std::to_string(kMaxSampledTokens) + ": ask for fewer or shorter spans");
  uint64_t state = seed ^ 0x9e3779b97f4a7c15ULL;
  auto next = [&](uint64_t n) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state >> 33) % n;
  };
  SampledSpans out;
  const uint64_t documents = index.documents();
  if (documents == 0) return out;
  for (size_t li = 0; li < lengths.size(); ++li) {
    const uint64_t len = lengths[li];
    uint64_t found = 0;
    for (uint64_t tries = 0; found < samples && tries < samples * 20; ++tries) {
      if ((tries & 1023) == 0) check_cancel(cancel, "sampleSpans");
      auto [si, local] = index.locate_document(next(documents));
      const Shard& s = index.shard(si);
      const uint64_t begin = s.doc_start(local), size = s.doc_end(local) - begin;
      if (size < len) continue;
      const uint64_t at = begin + next(size - len + 1);
      for (uint64_t p = at; p < at + len; ++p) out.tokens.push_back(s.token(p));
      out.offsets.push_back(static_cast<uint32_t>(out.tokens.size()));
      out.length_index.push_back(static_cast<uint32_t>(li));
      ++found;
    }
  }
  return out;
}

}  // namespace traceindex
