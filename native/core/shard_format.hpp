// On-disk shard format, version 2 (version 1 = the same without samples.bin). The normative description is docs/FORMAT.md; this file is its code.
//
// Every binary file of a shard = a 64-byte FileHeader followed by a little-endian payload of
// element_count elements of element_width bytes. All files of one shard carry the shard's token count n
// (separators included) and document count D, so a file from another shard or build is caught on open.
//
//   tokens.bin   n tokens; every document is followed by one separator (the largest value of the width)
//   sa.bin       n - D suffix positions (pointer width 4 while n < 2^32, else 8); the D suffixes that start
//                at a separator sort last and are not stored
//   docs.bin     D + 1 u64 document start offsets into tokens; starts[D] = n
//   meta.bin     (D + 1) u64 offsets into a blob, then the blob: one UTF-8 JSON record per document
//   unigram.bin  vocab_size u64 counts of each token id over the shard's documents
//   samples.bin  (v2) ceil((n - D) / K) u64 keys: the first 8 bytes of every K-th suffix (sampled_keys.hpp)
#pragma once
#include <cstdint>
#include <string>

namespace traceindex {

inline constexpr uint32_t kFormatVersion = 2;     // what this build writes
inline constexpr uint32_t kMinFormatVersion = 1;  // the oldest it reads (a v1 shard has no samples.bin)
inline constexpr uint32_t kEndianTag = 0x01020304;
inline constexpr uint32_t kHeaderBytes = 64;

enum class FileKind { Tokens, SuffixArray, DocStarts, Meta, Unigram, Samples };

struct FileHeader {
  char magic[8];              // "TRIX" + kind tag ("TOKN", "SUFA", "DOCS", "META", "UNIG", "SAMP")
  uint32_t format_version;    // kMinFormatVersion..kFormatVersion (samples.bin: 2 or later)
  uint32_t endian_tag;        // kEndianTag as written by a little-endian host
  uint8_t token_width;        // 1, 2 or 4
  uint8_t pointer_width;      // 4 or 8: width of suffix-array entries of this shard
  uint8_t element_width;      // bytes per payload element of this file
  uint8_t reserved0;
  uint32_t header_bytes;      // kHeaderBytes
  uint64_t element_count;     // payload elements
  uint64_t shard_tokens;      // n
  uint64_t shard_documents;   // D
  uint64_t vocab_size;        // token ids are < vocab_size; the separator is not counted
  uint64_t interval;          // samples.bin: the sampling interval K; 0 in every other file
};
static_assert(sizeof(FileHeader) == kHeaderBytes, "header layout");

const char* file_name(FileKind kind);      // "tokens.bin", ...
const char* file_magic(FileKind kind);     // "TRIXTOKN", ...

// The separator token of a width: the largest value it holds.
inline uint64_t separator_of(int token_width) { return token_width == 8 ? ~0ULL : (1ULL << (8 * token_width)) - 1; }
inline int pointer_width_for(uint64_t n) { return n < (1ULL << 32) ? 4 : 8; }

// What the manifest says a shard holds; every file is checked against it on open.
struct ShardShape {
  int token_width = 0;
  uint64_t tokens = 0;      // n
  uint64_t documents = 0;   // D
  uint64_t vocab_size = 0;
  bool samples = false;     // the manifest lists samples.bin (v2): open it and search through it
};

FileHeader make_header(FileKind kind, const ShardShape& shape, uint64_t element_count, int element_width, uint64_t interval = 0);
// Checks magic, version, endianness, widths, counts against the shape and that the file is exactly header + payload.
// Throws Error(ERR_INDEX_CORRUPT / ERR_INDEX_VERSION) naming `path`.
void check_header(const uint8_t* file, uint64_t file_size, FileKind kind, const ShardShape& shape,
                  uint64_t expected_elements, int expected_element_width, const std::string& path);

}  // namespace traceindex
