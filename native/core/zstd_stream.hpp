// Streaming zstd decompression for .jsonl.zst inputs (the reference decoder, native/third_party/zstd): any
// number of frames, skippable frames included, content checksums verified. Memory is bounded: windows above
// 2^kMaxWindowLog bytes are refused (the JS reader refuses them first, naming the frame), and each call's output
// is what its input decodes to (a slice of the input at a time keeps it bounded).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace traceindex {

class ZstdStream {
 public:
  static constexpr int kMaxWindowLog = 25;

  ZstdStream();
  ~ZstdStream();
  ZstdStream(const ZstdStream&) = delete;
  ZstdStream& operator=(const ZstdStream&) = delete;

  // Decodes in[0, n) and appends what it decodes to *out. Corrupt data: Error(ERR_BAD_INPUT), and the stream is
  // then unusable.
  void decode(const uint8_t* in, size_t n, std::vector<uint8_t>* out);
  // After the last input: Error(ERR_BAD_INPUT) if a frame is unfinished (truncated data).
  void finish() const;

 private:
  struct State;
  State* state_;
};

}  // namespace traceindex
