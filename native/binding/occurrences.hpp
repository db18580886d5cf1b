// Occurrences as they cross to JS (locate results and span attributions alike): parallel typed arrays for
// the numbers, the document records as strings, and snippet tokens flattened with offsets.
#pragma once
#include "common.hpp"
#include "index.hpp"

namespace binding {

struct OccurrenceBlock {
  std::vector<double> documents, offsets, positions, snippet_starts;
  std::vector<uint32_t> shards, snippet_tokens, snippet_offsets{0};
  std::vector<std::string> records;

  // Adds one occurrence of a `length`-token match with `context` tokens of snippet on each side.
  void add(const ti::Index& idx, const ti::Occurrence& o, uint64_t length, uint64_t context) {
    const ti::Shard& s = idx.shard(o.shard);
    const uint64_t local = o.document - idx.first_document(o.shard);
    documents.push_back(static_cast<double>(o.document));
    offsets.push_back(static_cast<double>(o.offset));
    positions.push_back(static_cast<double>(o.position));
    shards.push_back(o.shard);
    records.emplace_back(s.doc_record(local));
    const uint64_t begin = o.position >= s.doc_start(local) + context ? o.position - context : s.doc_start(local);
    const uint64_t end = std::min(s.doc_end(local), o.position + length + context);
    for (uint64_t p = begin; p < end; ++p) snippet_tokens.push_back(s.token(p));
    snippet_offsets.push_back(static_cast<uint32_t>(snippet_tokens.size()));
    snippet_starts.push_back(static_cast<double>(begin - s.doc_start(local)));
  }

  void to_js(Napi::Env env, Napi::Object o) const {
    o.Set("documents", f64(env, documents));
    o.Set("offsets", f64(env, offsets));
    o.Set("shards", u32(env, shards));
    auto recs = Napi::Array::New(env, records.size());
    for (size_t i = 0; i < records.size(); ++i) recs.Set(static_cast<uint32_t>(i), Napi::String::New(env, records[i]));
    o.Set("records", recs);
    o.Set("snippetTokens", u32(env, snippet_tokens));
    o.Set("snippetOffsets", u32(env, snippet_offsets));
    o.Set("snippetStarts", f64(env, snippet_starts));
  }
};

}  // namespace binding
