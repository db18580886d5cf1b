#include "documents.hpp"

namespace traceindex {

DocumentBatch read_documents(const Index& index, const std::vector<uint64_t>& numbers, CancelFlag* cancel) {
  for (uint64_t n : numbers) index.locate_document(n);  // every number checked before any work
  DocumentBatch out;
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
