#include "checksum.hpp"

#include <cstring>

namespace traceindex {
namespace {
constexpr uint64_t P1 = 11400714785074694791ULL, P2 = 14029467366897019727ULL, P3 = 1609587929392839161ULL,
                   P4 = 9650029242287828579ULL, P5 = 2870177450012600261ULL;
inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
inline uint64_t read64(const uint8_t* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }  // little-endian host
inline uint32_t read32(const uint8_t* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
inline uint64_t round(uint64_t acc, uint64_t input) { return rotl(acc + input * P2, 31) * P1; }
inline uint64_t merge(uint64_t acc, uint64_t v) { return (acc ^ round(0, v)) * P1 + P4; }
}  // namespace

Xxh64::Xxh64(uint64_t seed) : seed_(seed) {
  v_[0] = seed + P1 + P2; v_[1] = seed + P2; v_[2] = seed; v_[3] = seed - P1;
}

void Xxh64::update(const void* data, size_t len) {
  if (len == 0) return;  // an empty chunk may come with a null pointer, which memcpy must not see
  auto p = static_cast<const uint8_t*>(data);
  total_ += len;
  if (buffered_ + len < 32) { std::memcpy(buf_ + buffered_, p, len); buffered_ += len; return; }
  if (buffered_) {
    size_t fill = 32 - buffered_;
    std::memcpy(buf_ + buffered_, p, fill);
    for (int i = 0; i < 4; ++i) v_[i] = round(v_[i], read64(buf_ + 8 * i));
    p += fill; len -= fill; buffered_ = 0;
  }
  uint64_t a = v_[0], b = v_[1], c = v_[2], d = v_[3];
  for (; len >= 32; p += 32, len -= 32) {
    a = round(a, read64(p)); b = round(b, read64(p + 8)); c = round(c, read64(p + 16)); d = round(d, read64(p + 24));
  }
  v_[0] = a; v_[1] = b; v_[2] = c; v_[3] = d;
  std::memcpy(buf_, p, len); buffered_ = len;
}

uint64_t Xxh64::digest() const {
  uint64_t h;
  if (total_ >= 32) {
    h = rotl(v_[0], 1) + rotl(v_[1], 7) + rotl(v_[2], 12) + rotl(v_[3], 18);
    for (int i = 0; i < 4; ++i) h = merge(h, v_[i]);
  } else {
    h = seed_ + P5;
  }
  h += total_;
  const uint8_t* p = buf_;
  size_t len = buffered_;
  for (; len >= 8; p += 8, len -= 8) h = rotl(h ^ round(0, read64(p)), 27) * P1 + P4;
  if (len >= 4) { h = rotl(h ^ (uint64_t(read32(p)) * P1), 23) * P2 + P3; p += 4; len -= 4; }
  for (; len > 0; ++p, --len) h = rotl(h ^ (uint64_t(*p) * P5), 11) * P1;
  h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32;
  return h;
}

uint64_t Xxh64::hash(const void* data, size_t len, uint64_t seed) {
  Xxh64 s(seed);
  s.update(data, len);
  return s.digest();
}

}  // namespace traceindex
