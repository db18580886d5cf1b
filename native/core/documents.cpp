#include "documents.hpp"

#include <algorithm>

namespace traceindex {

DocumentBatch read_documents(const Index& index, const std::vector<uint64_t>& numbers, CancelFlag* cancel, uint64_t max_tokens,
                             bool count_records) {
  uint64_t total = 0;  // every number and the size checked before any work (a document holds < 2^53 tokens)
  for (uint64_t n : numbers) {
    auto [si, local] = index.locate_document(n);
    const Shard& s = index.shard(si);
    total += s.doc_end(local) - s.doc_start(local) + (count_records ? s.doc_record_cost(local) : 0);
  }
  if (total > max_tokens)
    throw Error(codes::kTooLarge, (numbers.size() == 1 ? "document " + std::to_string(numbers[0]) + " holds " : "the documents hold ") +
                                      std::to_string(total) + " tokens" + (count_records ? " (a record counts a token per 4 bytes)" : "") +
                                      ", more than the " + std::to_string(max_tokens) + " asked for at most");
  DocumentBatch out;
  out.tokens.reserve(size_t(total));
  for (uint64_t n : numbers) {
    auto [si, local] = index.locate_document(n);
    const Shard& s = index.shard(si);
    const uint64_t begin = s.doc_start(local), end = s.doc_end(local);
    for (uint64_t p = begin; p < end; ++p) {
      if (((p - begin) & 0xFFFF) == 0) check_cancel(cancel, "documents");
      out.tokens.push_back(s.token(p));
    }
    out.token_offsets.push_back(out.tokens.size());
    out.records.push_back(s.doc_record(local));
    out.shards.push_back(si);
    out.costs.push_back(end - begin + (count_records ? s.doc_record_cost(local) : 0));
  }
  return out;
}

RankedDocuments documents_by_rank(const Index& index, const std::vector<uint32_t>& shards, const std::vector<uint64_t>& ranks,
                                  uint64_t max_disp, CancelFlag* cancel, uint64_t max_cost) {
  if (shards.size() != ranks.size()) throw Error(codes::kInvalidArgument, "documents by rank take one shard per rank");
  if (max_disp == 0) throw Error(codes::kInvalidArgument, "max_disp_len must be a positive integer");
  for (size_t i = 0; i < ranks.size(); ++i) {
    if (shards[i] >= index.shard_count())
      throw Error(codes::kInvalidArgument, "shard " + std::to_string(shards[i]) + " is not in [0, " + std::to_string(index.shard_count()) + ")");
    const uint64_t n = index.shard(shards[i]).rank_count();
    if (ranks[i] >= n)
      throw Error(codes::kInvalidArgument, "rank " + std::to_string(ranks[i]) + " is not in shard " + std::to_string(shards[i]) +
                                               "'s suffix array [0, " + std::to_string(n) + ")");
  }
  // The window of each item, [lo, hi) around its suffix at p in document d spanning [start, end).
  struct Window { uint64_t p, d, start, end, lo, hi; };
  std::vector<Window> windows(ranks.size());
  uint64_t cost = 0;  // summed while <= max_cost: windows hold < 2^53 tokens, records < 2^62 bytes, so no overflow
  for (size_t i = 0; i < ranks.size(); ++i) {
    const Shard& s = index.shard(shards[i]);
    const uint64_t p = s.suffix(ranks[i]);
    const uint64_t d = s.document_of(p), start = s.doc_start(d), end = s.doc_end(d);
    const uint64_t half = max_disp / 2;
    const uint64_t lo = std::max(start, p >= half ? p - half : 0);
    windows[i] = Window{p, d, start, end, lo, std::max(lo, std::min(end, p + (max_disp - half)))};
    if (max_cost != UINT64_MAX && cost <= max_cost) cost += (windows[i].hi - lo) + s.doc_record_cost(d);
  }
  if (max_cost != UINT64_MAX && cost > max_cost)
    throw Error(codes::kTooLarge, "the documents shown hold more than " + std::to_string(max_cost) +
                                      " tokens (a record counts a token per 4 bytes): ask for fewer or shorter windows");
  RankedDocuments out;
  for (size_t i = 0; i < ranks.size(); ++i) {
    check_cancel(cancel, "documentsByRank");
    const Shard& s = index.shard(shards[i]);
    const auto [p, d, start, end, lo, hi] = windows[i];
    for (uint64_t k = lo; k < hi; ++k) {
      if (((k - lo) & 0xFFFF) == 0xFFFF) check_cancel(cancel, "documentsByRank");
      out.tokens.push_back(s.token(k));
    }
    out.documents.push_back(index.first_document(shards[i]) + d);
    out.lengths.push_back(end - start);
    out.needle_offsets.push_back(static_cast<int64_t>(p) - static_cast<int64_t>(lo));
    out.token_offsets.push_back(out.tokens.size());
    out.records.push_back(s.doc_record(d));
  }
  return out;
}

std::vector<uint64_t> byte_offsets(const Index& index, const TokenBytes& table, const std::vector<uint64_t>& documents,
                                   const std::vector<uint64_t>& offsets, CancelFlag* cancel) {
  std::vector<uint64_t> out(documents.size());
  std::vector<size_t> order(documents.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return documents[a] != documents[b] ? documents[a] < documents[b] : offsets[a] < offsets[b];
  });
  auto add = [](const std::vector<uint32_t>& t, uint32_t id) -> uint64_t { return id < t.size() ? t[id] : 0; };
  uint64_t doc = ~uint64_t(0), at = 0, byte = 0, start = 0, end = 0;
  const Shard* s = nullptr;
  for (size_t i : order) {
    if (documents[i] != doc) {
      doc = documents[i];
      const auto [si, local] = index.locate_document(doc);
      s = &index.shard(si);
      start = s->doc_start(local), end = s->doc_end(local);
      at = 0, byte = 0;
    }
    const uint64_t to = std::min(offsets[i], end - start);
    for (; at < to; ++at) {
      if ((at & 0xFFFF) == 0) check_cancel(cancel, "byte offsets");
      byte += add(at == 0 ? table.first : table.bytes, s->token(start + at));
    }
    out[i] = byte;
  }
  return out;
}

int64_t find_document(const Index& index, const std::string& prefix, CancelFlag* cancel) {
  for (size_t si = 0; si < index.shard_count(); ++si) {
    const Shard& s = index.shard(si);
    for (uint64_t d = 0; d < s.documents(); ++d) {
      if ((d & 1023) == 0) check_cancel(cancel, "findDocument");
      if (s.doc_record(d).compare(0, prefix.size(), prefix) == 0) return static_cast<int64_t>(index.first_document(si) + d);
    }
  }
  return -1;
}

}  // namespace traceindex
