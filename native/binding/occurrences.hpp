// Occurrences as they cross to JS (locate results and span attributions alike): parallel typed arrays for
// the numbers, the document records as strings, and snippet tokens flattened with offsets.
#pragma once
#include <napi.h>

#include <algorithm>

#include "arrays.hpp"
#include "documents.hpp"
#include "error.hpp"
#include "index.hpp"

namespace binding {

namespace ti = traceindex;

// The most one call returns, in snippet tokens, an occurrence counting kOccurrenceCost more (its JS objects weigh
// about that much: ~450 bytes): a bound on what one call can make the process hold (2^26 snippet tokens, 256 MiB
// as u32 before their text; or 2^21 occurrences of one token), far above any locate page (limit 10 000).
inline constexpr uint64_t kMaxSnippetTokens = uint64_t(1) << 26;
inline constexpr uint64_t kOccurrenceCost = 32;

struct OccurrenceBlock {
  std::vector<uint64_t> documents, offsets, snippet_starts;
  std::vector<uint32_t> shards, snippet_tokens, snippet_offsets{0};
  std::vector<std::string> records;
  uint64_t cap = kMaxSnippetTokens;  // the most cost of the block (a trace's maxSnippetTokens may lower it)
  uint64_t cost = 0;                 // snippet tokens + kOccurrenceCost per occurrence
  std::vector<uint64_t> byte_offsets;  // set by finish
  bool with_bytes = false;

  // Adds one occurrence of a `length`-token match with `context` tokens of snippet on each side.
  void add(const ti::Index& idx, const ti::Occurrence& o, uint64_t length, uint64_t context) {
    const ti::Shard& s = idx.shard(o.shard);
    const uint64_t local = o.document - idx.first_document(o.shard);
    // context <= 2^53 (read_trace_options, Locate::read): the sums below do not overflow.
    const uint64_t begin = o.position >= s.doc_start(local) + context ? o.position - context : s.doc_start(local);
    const uint64_t end = std::min(s.doc_end(local), o.position + length + context);
    cost += (end - begin) + kOccurrenceCost + s.doc_record_cost(local);
    if (cost > cap)
      throw ti::Error(ti::codes::kTooLarge, "the snippets exceed " + std::to_string(cap) + " tokens (an occurrence counts as " +
                                                       std::to_string(kOccurrenceCost) + " more, and its document's record a token per 4 bytes): ask for less context or fewer occurrences");
    documents.push_back(o.document);
    offsets.push_back(o.offset);
    shards.push_back(o.shard);
    records.push_back(s.doc_record(local));
    for (uint64_t p = begin; p < end; ++p) snippet_tokens.push_back(s.token(p));
    snippet_offsets.push_back(static_cast<uint32_t>(snippet_tokens.size()));
    snippet_starts.push_back(begin - s.doc_start(local));
  }

  // With the index's token byte lengths, each occurrence's UTF-8 byte offset in its document (core byte_offsets).
  // with_bytes false: no byte offsets (each walks its document from the start), for answers only compared.
  void finish(const ti::Index& idx, ti::CancelFlag* cancel, bool bytes = true) {
    const std::shared_ptr<const ti::TokenBytes> table = bytes ? idx.token_bytes() : nullptr;
    if (table) byte_offsets = ti::byte_offsets(idx, *table, documents, offsets, cancel);
    with_bytes = table != nullptr;
  }

  void to_js(Napi::Env env, Napi::Object o) const {
    if (with_bytes) o.Set("byteOffsets", f64(env, byte_offsets));
    o.Set("documents", f64(env, documents));
    o.Set("offsets", f64(env, offsets));
    o.Set("shards", u32(env, shards));
    o.Set("records", strings(env, records));
    o.Set("snippetTokens", u32(env, snippet_tokens));
    o.Set("snippetOffsets", u32(env, snippet_offsets));
    o.Set("snippetStarts", f64(env, snippet_starts));
  }
};

}  // namespace binding
