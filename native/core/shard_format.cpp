#include "shard_format.hpp"

#include <cstring>

#include "error.hpp"

namespace traceindex {

const char* file_name(FileKind kind) {
  switch (kind) {
    case FileKind::Tokens: return "tokens.bin";
    case FileKind::SuffixArray: return "sa.bin";
    case FileKind::DocStarts: return "docs.bin";
    case FileKind::Meta: return "meta.bin";
    case FileKind::Unigram: return "unigram.bin";
    case FileKind::Samples: return "samples.bin";
  }
  return "?";
}

const char* file_magic(FileKind kind) {
  switch (kind) {
    case FileKind::Tokens: return "TRIXTOKN";
    case FileKind::SuffixArray: return "TRIXSUFA";
    case FileKind::DocStarts: return "TRIXDOCS";
    case FileKind::Meta: return "TRIXMETA";
    case FileKind::Unigram: return "TRIXUNIG";
    case FileKind::Samples: return "TRIXSAMP";
  }
  return "????????";
}

FileHeader make_header(FileKind kind, const ShardShape& shape, uint64_t element_count, int element_width, uint64_t interval) {
  FileHeader h;
  std::memset(&h, 0, sizeof h);
  std::memcpy(h.magic, file_magic(kind), 8);
  h.format_version = kFormatVersion;
  h.endian_tag = kEndianTag;
  h.token_width = static_cast<uint8_t>(shape.token_width);
  h.pointer_width = static_cast<uint8_t>(pointer_width_for(shape.tokens));
  h.element_width = static_cast<uint8_t>(element_width);
  h.header_bytes = kHeaderBytes;
  h.element_count = element_count;
  h.shard_tokens = shape.tokens;
  h.shard_documents = shape.documents;
  h.vocab_size = shape.vocab_size;
  h.interval = interval;
  return h;
}

void check_header(const uint8_t* file, uint64_t file_size, FileKind kind, const ShardShape& shape,
                  uint64_t expected_elements, int expected_element_width, const std::string& path) {
  auto corrupt = [&](const std::string& why) { throw Error(codes::kCorrupt, path + ": " + why); };
  if (file_size < kHeaderBytes) corrupt("truncated (" + std::to_string(file_size) + " bytes, shorter than the header)");
  FileHeader h;
  std::memcpy(&h, file, sizeof h);
  if (std::memcmp(h.magic, "TRIX", 4) != 0) corrupt("not a traceindex file (bad magic)");
  if (std::memcmp(h.magic, file_magic(kind), 8) != 0)
    corrupt(std::string("holds ") + std::string(h.magic, 8) + ", expected " + file_magic(kind));
  if (h.endian_tag != kEndianTag) corrupt("written with another byte order");
  const uint32_t oldest = kind == FileKind::Samples ? 2 : kMinFormatVersion;  // samples.bin is new in v2
  if (h.format_version < oldest || h.format_version > kFormatVersion)
    throw Error(codes::kVersion, path + ": format version " + std::to_string(h.format_version) + ", this build reads versions " +
                                     std::to_string(oldest) + " to " + std::to_string(kFormatVersion));
  if (h.header_bytes != kHeaderBytes) corrupt("bad header size");
  if (h.reserved0 != 0) corrupt("reserved header byte 19 is " + std::to_string(h.reserved0) + ", not 0");
  if (kind != FileKind::Samples && h.interval != 0) corrupt("header interval is " + std::to_string(h.interval) + ", 0 in every file but samples.bin");
  if (h.token_width != shape.token_width)
    throw Error(codes::kTokenWidth, path + ": token width " + std::to_string(h.token_width) + ", the manifest says " +
                                        std::to_string(shape.token_width));
  if (h.shard_tokens != shape.tokens || h.shard_documents != shape.documents || h.vocab_size != shape.vocab_size)
    corrupt("belongs to another shard (token, document or vocabulary count differs from the manifest)");
  if (h.pointer_width != pointer_width_for(shape.tokens)) corrupt("bad pointer width");
  if (h.element_width != expected_element_width) corrupt("bad element width");
  if (h.element_count != expected_elements)
    corrupt("holds " + std::to_string(h.element_count) + " elements, expected " + std::to_string(expected_elements));
  // Sizes computed without wrapping: counts from a hostile manifest and header can agree with each other
  // and overflow 64 bits into the size of a small file.
  uint64_t payload = 0, want = 0;
  const uint64_t elements = kind == FileKind::Meta ? expected_elements + 1 : expected_elements;  // meta: D + 1 offsets
  if (elements < expected_elements || __builtin_mul_overflow(elements, uint64_t(expected_element_width), &payload) ||
      __builtin_add_overflow(payload, uint64_t(kHeaderBytes), &want))
    corrupt("element count " + std::to_string(expected_elements) + " does not fit in a file");
  if (kind == FileKind::Meta) {
    if (file_size < want) corrupt("truncated");
    return;  // the blob length is checked by the shard against the last offset
  }
  if (file_size != want)
    corrupt((file_size < want ? "truncated: " : "trailing bytes: ") + std::to_string(file_size) + " bytes, expected " +
            std::to_string(want));
}

}  // namespace traceindex
