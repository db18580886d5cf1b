// XXH64 (Yann Collet's xxHash, 64-bit variant), streaming form. Used for the per-file checksums
// recorded in the manifest; the digest of a whole file equals XXH64(file bytes, seed 0).
#pragma once
#include <cstddef>
#include <cstdint>

namespace traceindex {

class Xxh64 {
 public:
  explicit Xxh64(uint64_t seed = 0);
  void update(const void* data, size_t len);
  uint64_t digest() const;
  static uint64_t hash(const void* data, size_t len, uint64_t seed = 0);

 private:
  uint64_t v_[4];
  uint64_t total_ = 0;
  uint8_t buf_[32];
  size_t buffered_ = 0;
  uint64_t seed_;
};

}  // namespace traceindex
