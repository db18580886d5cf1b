// One fuzz input = the files of an index + what its manifest says + queries, in a small container:
//
//   u8 format (even: traceindex, odd: infini-gram)   u8 shards (1 + value % 4)
//   per shard: u8 token width, u64 tokens, u64 documents, u64 vocabulary size (the manifest's shape; for
//              infini-gram only width (2, 4, else 1) and vocabulary are read), then 5 files in the order of
//              kOwnFiles / kIgFiles, each u32 length + bytes (length 0xFFFFFFFF: the file is absent)
//   the rest: queries, each u8 length (% 17) + that many u16 token ids (reduced modulo the vocabulary)
//
// Decoding never fails: what is missing reads as zeros or empty. The structure-aware mutator changes one
// file, one shape field or the queries at a time, so mutations reach past the header checks.
#pragma once
#include <cstdint>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace fuzzcase {

inline const char* const kOwnFiles[5] = {"tokens.bin", "sa.bin", "docs.bin", "meta.bin", "unigram.bin"};
inline const char* const kIgFiles[5] = {"tokenized", "table", "offset", "metadata", "metaoff"};

struct ShardCase {
  uint8_t width = 1;
  uint64_t tokens = 0, documents = 0, vocab = 0;
  std::string files[5];
  bool present[5] = {true, true, true, true, true};
};

struct Case {
  uint8_t format = 0;  // 0 traceindex, 1 infini-gram
  std::vector<ShardCase> shards;
  std::string queries;
};

class Reader {
 public:
  Reader(const uint8_t* p, size_t n) : p_(p), n_(n) {}
  template <typename T>
  T get() {
    T v{};
    size_t k = std::min(sizeof v, n_ - at_);
    std::memcpy(&v, p_ + at_, k);
    at_ += k;
    return v;
  }
  std::string bytes(size_t len) {
    len = std::min(len, n_ - at_);
    std::string s(reinterpret_cast<const char*>(p_ + at_), len);
    at_ += len;
    return s;
  }
  std::string rest() { return bytes(n_ - at_); }

 private:
  const uint8_t* p_;
  size_t n_, at_ = 0;
};

inline Case decode(const uint8_t* data, size_t size) {
  Reader r(data, size);
  Case c;
  c.format = r.get<uint8_t>() & 1;
  const int shards = 1 + r.get<uint8_t>() % 4;
  for (int s = 0; s < shards; ++s) {
    ShardCase sc;
    sc.width = r.get<uint8_t>();
    sc.tokens = r.get<uint64_t>();
    sc.documents = r.get<uint64_t>();
    sc.vocab = r.get<uint64_t>();
    for (int f = 0; f < 5; ++f) {
      const uint32_t len = r.get<uint32_t>();
      sc.present[f] = len != 0xFFFFFFFFu;
      if (sc.present[f]) sc.files[f] = r.bytes(len);
    }
    c.shards.push_back(std::move(sc));
  }
  c.queries = r.rest();
  return c;
}

inline std::string encode(const Case& c) {
  std::string out;
  auto put = [&](const void* p, size_t n) { out.append(static_cast<const char*>(p), n); };
  out.push_back(static_cast<char>(c.format));
  out.push_back(static_cast<char>(c.shards.size() - 1));
  for (const ShardCase& sc : c.shards) {
    put(&sc.width, 1);
    put(&sc.tokens, 8);
    put(&sc.documents, 8);
    put(&sc.vocab, 8);
    for (int f = 0; f < 5; ++f) {
      const uint32_t len = sc.present[f] ? static_cast<uint32_t>(sc.files[f].size()) : 0xFFFFFFFFu;
      put(&len, 4);
      if (sc.present[f]) out += sc.files[f];
    }
  }
  return out + c.queries;
}

inline std::vector<std::vector<uint32_t>> decode_queries(const std::string& q, uint64_t vocab, size_t max_queries) {
  std::vector<std::vector<uint32_t>> out;
  Reader r(reinterpret_cast<const uint8_t*>(q.data()), q.size());
  for (size_t at = 0; at < q.size() && out.size() < max_queries && vocab > 0;) {
    const size_t len = r.get<uint8_t>() % 17;
    std::vector<uint32_t> tokens;
    for (size_t i = 0; i < len; ++i) tokens.push_back(static_cast<uint32_t>(r.get<uint16_t>() % vocab));
    out.push_back(std::move(tokens));
    at += 1 + 2 * len;
  }
  return out;
}

// Mutates the bytes [data, data + size) in place within max_size; returns the new size.
using ByteMutator = std::function<size_t(uint8_t* data, size_t size, size_t max_size)>;

// A small generic byte mutator (the standalone driver's; libFuzzer passes its own).
inline size_t mutate_bytes(uint8_t* d, size_t size, size_t max_size, std::mt19937_64& rng) {
  static const uint64_t interesting[] = {0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 1ULL << 32,
                                         1ULL << 62, ~0ULL};
  switch (rng() % 7) {
    case 0:  // flip a bit
      if (size) d[rng() % size] ^= uint8_t(1 << (rng() % 8));
      return size;
    case 1:  // random byte
      if (size) d[rng() % size] = uint8_t(rng());
      return size;
    case 2: {  // an interesting value at an aligned or unaligned offset
      const int w = 1 << (rng() % 4);
      if (size < size_t(w)) return size;
      size_t at = rng() % (size - w + 1);
      if (rng() % 2) at &= ~size_t(w - 1);
      uint64_t v = interesting[rng() % (sizeof interesting / sizeof *interesting)];
      if (rng() % 4 == 0) v += rng() % 3 - 1;
      std::memcpy(d + at, &v, w);
      return size;
    }
    case 3:  // erase a range
      if (size) {
        size_t at = rng() % size, len = 1 + rng() % std::min<size_t>(16, size - at);
        std::memmove(d + at, d + at + len, size - at - len);
        return size - len;
      }
      return size;
    case 4:  // insert bytes
      if (size < max_size) {
        size_t at = rng() % (size + 1), len = 1 + rng() % std::min<size_t>(8, max_size - size);
        std::memmove(d + at + len, d + at, size - at);
        for (size_t i = 0; i < len; ++i) d[at + i] = uint8_t(rng());
        return size + len;
      }
      return size;
    case 5:  // copy a chunk over another place
      if (size >= 2) {
        size_t len = 1 + rng() % std::min<size_t>(16, size / 2), from = rng() % (size - len + 1), to = rng() % (size - len + 1);
        std::memmove(d + to, d + from, len);
      }
      return size;
    default:  // swap two aligned words (suffix-array entries, offsets)
      for (size_t w : {size_t(4), size_t(8)})
        if (size >= 2 * w && rng() % 2) {
          size_t a = (rng() % (size / w)) * w, b = (rng() % (size / w)) * w;
          uint8_t t[8];
          std::memcpy(t, d + a, w); std::memcpy(d + a, d + b, w); std::memcpy(d + b, t, w);
          return size;
        }
      return size;
  }
}

// Structure-aware: one file of one shard (most of the time), a shape field, the queries, or the raw
// container. Returns the new input (at most max_size bytes; unchanged if a mutation would not fit).
inline std::string mutate(const std::string& input, size_t max_size, std::mt19937_64& rng, const ByteMutator& bytes) {
  auto apply = [&](std::string s, size_t limit) {  // room up to `limit` bytes for insertions
    const size_t before = std::min(s.size(), limit);
    s.resize(std::max<size_t>(limit, 1));
    s.resize(std::min(bytes(reinterpret_cast<uint8_t*>(&s[0]), before, limit), limit));
    return s;
  };
  Case c = decode(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  const uint64_t pick = rng() % 16;
  if (pick == 0 || input.size() < 2) return apply(input, max_size);
  if (pick == 1) {
    c.queries = apply(c.queries, c.queries.size() + 64);
  } else {
    ShardCase& sc = c.shards[rng() % c.shards.size()];
    if (pick == 2) {  // a shape field: off by one, or the value of another field
      uint64_t* fields[] = {&sc.tokens, &sc.documents, &sc.vocab};
      uint64_t& f = *fields[rng() % 3];
      f = rng() % 2 ? f + (rng() % 3) - 1 : *fields[rng() % 3];
    } else if (pick == 3) {
      int f = rng() % 5;
      sc.present[f] = !sc.present[f];
    } else {
      int f = rng() % 5;
      if (!sc.present[f]) return input;
      const size_t room = max_size > input.size() ? max_size - input.size() : 0;
      sc.files[f] = apply(sc.files[f], sc.files[f].size() + std::min<size_t>(room, 64));
    }
  }
  std::string out = encode(c);
  return out.size() <= max_size ? out : input;
}

}  // namespace fuzzcase
