// Maximal matching spans of an output, with counts, sampled attributions and scores.
//
// Definition: with L[i] the length of the longest prefix of o[i:] that occurs in some document, the maximal
// spans are [i, i + L[i]) with L[i] > 0 and (i = 0 or L[i] >= L[i-1]): spans that occur while neither their
// one-token extension to the left nor to the right does. Per shard, each L_s[i] is one search (independent of
// the others, so an output's positions are searched interleaved: Shard::prefix_lengths); L is the maximum
// over shards.
//
// Options, applied in this order: delimiters cut the output into pieces after each delimiter token (a span
// never continues past one) and spans are maximal within their piece; word alignment trims each span to
// whole words and drops spans then covered by another; min_length and max_count filter.
#pragma once
#include <cstdint>
#include <vector>

#include "index.hpp"

namespace traceindex {

struct TraceOptions {
  uint32_t min_length = 1;
  uint64_t max_count = UINT64_MAX;        // keep spans occurring at most this often
  std::vector<uint32_t> delimiters;       // token ids that end a piece
  std::vector<uint8_t> word_token;        // per token id, 1 if it is part of a word; empty = no alignment
  uint32_t max_documents = 3;             // occurrences sampled per span
  uint64_t seed = 0;                      // for the sampling (deterministic)
  ScoreOptions score;
};

struct Span {
  uint32_t start = 0, end = 0;  // [start, end) in the output's tokens
  uint64_t count = 0;
  SpanScores scores;
  std::vector<Occurrence> occurrences;  // up to max_documents, in (shard, position) order
};

// L[i] in one shard: the longest prefix of o[i:] occurring there, never past the end of i's piece. L over
// the index is the maximum over shards (merge_trace in batch.hpp).
void shard_prefix_lengths(const Shard& shard, const uint32_t* o, size_t m, const std::vector<uint32_t>& delimiters, uint32_t* L,
                          CancelFlag* cancel = nullptr);
// The spans (or TraceShield windows) given L; the two phases are separate so each shard's lengths can be
// computed in parallel (batch.hpp: trace_part per shard, merge_trace).
std::vector<Span> spans_from_lengths(const Index& index, const uint32_t* o, size_t m, const uint32_t* L, const TraceOptions& options,
                                     CancelFlag* cancel = nullptr);
std::vector<Span> windows_from_lengths(const Index& index, const uint32_t* o, size_t m, const uint32_t* L, uint32_t width,
                                       const TraceOptions& options, CancelFlag* cancel = nullptr);

// One output (trace_batch of one query).
std::vector<Span> trace(const Index& index, const uint32_t* o, size_t m, const TraceOptions& options, CancelFlag* cancel = nullptr);
// TraceShield's window mode: every stride-1 window o[i, i + width) that occurs, filtered by max_count, scored
// and attributed like spans (delimiters, word alignment and min_length do not apply).
std::vector<Span> occurring_windows(const Index& index, const uint32_t* o, size_t m, uint32_t width, const TraceOptions& options,
                                    CancelFlag* cancel = nullptr);

}  // namespace traceindex
