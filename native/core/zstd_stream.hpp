// Streaming zstd decompression for .jsonl.zst inputs (the reference decoder, native/third_party/zstd): any
// number of frames, skippable frames included, content checksums verified. Memory is bounded: windows above
// 2^kMaxWindowLog bytes are refused (the JS reader refuses them first, naming the frame), and each call's output
// is bounded by its limit.
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

  struct Step {
    size_t consumed;  // bytes of the input read
    bool more;        // stopped at the limit: call again (with the rest of the input, or none) for more output
  };
  // Decodes in[0, n), appending to *out, until the input is read and nothing is left to flush, or until *out has
  // grown by `limit` bytes or more (by less than limit + ZSTD_DStreamOutSize()). Corrupt data: Error(ERR_BAD_INPUT),
  // and the stream is then unusable (what was decoded before the damage is in *out).
  Step decode(const uint8_t* in, size_t n, std::vector<uint8_t>* out, size_t limit);
  // After the last input: Error(ERR_BAD_INPUT) if a frame is unfinished (truncated data).
  void finish() const;

 private:
  struct State;
  State* state_;
};

}  // namespace traceindex
