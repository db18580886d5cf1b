// Read-only reader of infini-gram's on-disk index format (bench/python/INFINIGRAM_FORMAT.md, docs/FORMAT.md
// "Reading infini-gram indexes"): one shard = tokenized{suffix}, table{suffix}, offset{suffix}, and optionally
// metadata{suffix} + metaoff{suffix}, used in place, never written.
//
// Differences from traceindex's own shards that the reader absorbs:
//   - the separator (all-ones token) comes BEFORE every document and there is none after the last one, so a
//     suffix can run into the end of the stream; every read at pos + k is checked against n, and a suffix
//     that ends sorts before any longer one;
//   - table entries are byte offsets of p bytes (p = ceil(log2(stream bytes) / 8)), one per stream token,
//     separators included (those sort last: an all-ones token is the largest in byte order);
//   - suffix order is memcmp order of the little-endian stream: tokens compare by their byte-swapped value
//     (the value itself for u8). Counts are the same as in value order; ranks and range ends are not.
// Unigram counts are computed on open by one pass over the tokens (the pass also checks that separators
// sit exactly at the documents' offsets).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "shard.hpp"

namespace traceindex {

// token_width: 1, 2 or 4 (u8, u16, u32). vocab_size: 0 = the separator for u8/u16 (every id below the
// all-ones value), the largest id + 1 for u32 (below 2^28, and below max(2^20, the shard's tokens): else
// ERR_INVALID_ARGUMENT asking for the vocabulary size); else the declared vocabulary (at most 2^28; a token at or
// above it is corrupt). first_document: the global number of the shard's first document (record ids of
// indexes without metadata). Throws Error(ERR_INDEX_CORRUPT) naming the file on any inconsistency.
std::unique_ptr<Shard> open_infinigram_shard(const std::string& dir, const std::string& suffix, int token_width,
                                             uint64_t vocab_size = 0, uint64_t first_document = 0);

}  // namespace traceindex
