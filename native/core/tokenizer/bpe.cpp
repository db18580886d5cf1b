#include "tokenizer/bpe.hpp"

namespace traceindex::tok {

uint64_t hash_bytes(const uint8_t* s, size_t n) {
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, s + i, 8);
    h = mix64(h ^ w);
  }
  uint64_t tail = 0;
  std::memcpy(&tail, s + i, n - i);
  return mix64(h ^ tail ^ (static_cast<uint64_t>(n - i) << 56));
}

void ByteMap::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.empty() ? 1024 : 2 * old.size(), Slot{0, 0, 0, kNone});
  const size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.id == kNone) continue;
    size_t i = s.hash & mask;
    while (slots_[i].id != kNone) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void ByteMap::insert(std::string_view bytes, uint32_t id) {
  if (2 * (size_ + 1) > slots_.size()) grow();
  const auto* s = reinterpret_cast<const uint8_t*>(bytes.data());
  uint64_t h = hash_bytes(s, bytes.size());
  const size_t mask = slots_.size() - 1;
  size_t i = h & mask;
  for (; slots_[i].id != kNone; i = (i + 1) & mask) {
    Slot& t = slots_[i];
    if (t.hash == h && t.length == bytes.size() && pool_.compare(t.offset, t.length, bytes) == 0) { t.id = id; return; }
  }
  slots_[i] = Slot{h, static_cast<uint32_t>(pool_.size()), static_cast<uint32_t>(bytes.size()), id};
  pool_.append(bytes);
  ++size_;
  if (bytes.size() > max_length_) max_length_ = bytes.size();
}

uint32_t ByteMap::find(const uint8_t* s, size_t n) const {
  if (n > max_length_ || slots_.empty()) return kNone;
  uint64_t h = hash_bytes(s, n);
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const Slot& t = slots_[i];
    if (t.id == kNone) return kNone;
    if (t.hash == h && t.length == n && std::memcmp(pool_.data() + t.offset, s, n) == 0) return t.id;
  }
}

void PairMap::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.empty() ? 1024 : 2 * old.size(), Slot{kEmpty, {0, 0}});
  mask_ = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.key == kEmpty) continue;
    size_t i = mix64(s.key) & mask_;
    while (slots_[i].key != kEmpty) i = (i + 1) & mask_;
    slots_[i] = s;
  }
}

void PairMap::insert(uint32_t left, uint32_t right, Merge m) {
  if (2 * (size_ + 1) > slots_.size()) grow();
  uint64_t key = (static_cast<uint64_t>(left) << 32) | right;
  size_t i = mix64(key) & mask_;
  for (; slots_[i].key != kEmpty; i = (i + 1) & mask_)
    if (slots_[i].key == key) { slots_[i].merge = m; return; }
  slots_[i] = Slot{key, m};
  ++size_;
  if (m.rank > max_rank_) max_rank_ = m.rank;
}

}  // namespace traceindex::tok
