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
  std::vector<uint64_t> costs;  // each document's cost in max_tokens: its tokens, and its record's when counted
};

// Suffixes by rank (infini-gram's get_doc_by_rank): item i is the suffix of rank ranks[i] in shard shards[i],
// shown as the document holding it and up to max_disp tokens of that document around it, as infini-gram's
// engine cuts them: [max(start, p - max_disp / 2), min(end, p + max_disp - max_disp / 2)) for the suffix at
// stream position p of a document spanning [start, end). needle_offset = p - the window's start: -1 for a
// suffix at an infini-gram separator (their ranks follow the document suffixes; the separator precedes the
// document that is shown). Item i's window is tokens[token_offsets[i], token_offsets[i + 1]).
struct RankedDocuments {
  std::vector<uint64_t> documents;      // global document numbers
  std::vector<uint64_t> lengths;        // the documents' token counts
  std::vector<int64_t> needle_offsets;  // the suffix's start within the window
  std::vector<uint32_t> tokens;
  std::vector<uint64_t> token_offsets{0};
  std::vector<std::string> records;
};
// ERR_INVALID_ARGUMENT for a shard that is not one, a rank outside [0, rank_count()) of its shard, or
// max_disp = 0; every item is checked before any work. ERR_TOO_LARGE, also before any work, when the windows'
// tokens and the records' costs (Shard::doc_record_cost, each item's record counted) exceed max_cost.
RankedDocuments documents_by_rank(const Index& index, const std::vector<uint32_t>& shards, const std::vector<uint64_t>& ranks,
                                  uint64_t max_disp, CancelFlag* cancel = nullptr, uint64_t max_cost = UINT64_MAX);

// ERR_INVALID_ARGUMENT for a number that is not a document; ERR_TOO_LARGE when the documents hold more than
// max_tokens tokens, their records' costs included when count_records (checked before anything is read).
DocumentBatch read_documents(const Index& index, const std::vector<uint64_t>& numbers, CancelFlag* cancel = nullptr,
                             uint64_t max_tokens = UINT64_MAX, bool count_records = false);

// What each token id adds to a document's UTF-8 text: bytes[id] anywhere but at the document's start, first[id]
// there (SentencePiece drops its dummy prefix's space). Only for tokenizers whose bytes add up by token.
struct TokenBytes {
  std::vector<uint32_t> bytes, first;
};
// The UTF-8 byte offset of token offsets[i] in global document documents[i]: each document walked once from its
// start to the largest offset asked in it (the pairs taken in (document, offset) order, each sum continuing the
// last); ids outside the tables add nothing. ERR_ABORTED through `cancel`.
std::vector<uint64_t> byte_offsets(const Index& index, const TokenBytes& table, const std::vector<uint64_t>& documents,
                                   const std::vector<uint64_t>& offsets, CancelFlag* cancel = nullptr);

// The first document (global number) whose record starts with `prefix`, or -1. A linear scan of the records:
// ids are looked up rarely, and an id table would cost every index its space.
int64_t find_document(const Index& index, const std::string& prefix, CancelFlag* cancel = nullptr);

}  // namespace traceindex
