// Documents by global number (a batch) and by record prefix.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "index.hpp"

namespace traceindex {

// Document i of the batch: tokens[token_offsets[i], token_offsets[i + 1]), its record and its shard.
struct DocumentBatch {
  std::vector<uint32_t> tokens;
  std::vector<uint64_t> token_offsets{0};
  std::vector<std::string> records;
  std::vector<uint32_t> shards;
};

// ERR_INVALID_ARGUMENT for a number that is not a document.
DocumentBatch read_documents(const Index& index, const std::vector<uint64_t>& numbers, CancelFlag* cancel = nullptr);

// The first document (global number) whose record starts with `prefix`, or -1. A linear scan of the records:
// ids are looked up rarely, and an id table would cost every index its space.
int64_t find_document(const Index& index, const std::string& prefix, CancelFlag* cancel = nullptr);

}  // namespace traceindex
