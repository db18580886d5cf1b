// Shared fixtures of the core tests: temporary directories, shards written from token documents, and
// brute-force oracles over the documents.
#pragma once
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "check.hpp"
#include "index.hpp"
#include "shard_writer.hpp"

namespace fixtures {
using namespace traceindex;
namespace fs = std::filesystem;

using Doc = std::vector<uint32_t>;

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("traceindex-native-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { std::error_code ec; fs::remove_all(path, ec); }
  static int& counter() { static int c = 0; return c; }
};

template <typename Token>
inline ShardSpec write_docs(const fs::path& dir, const std::vector<Doc>& docs, int width, uint64_t vocab) {
  std::vector<Token> tokens;
  std::vector<uint64_t> starts{0}, meta_off{0};
  std::string blob;
  for (size_t d = 0; d < docs.size(); ++d) {
    for (uint32_t t : docs[d]) tokens.push_back(static_cast<Token>(t));
    tokens.push_back(static_cast<Token>(separator_of(width)));
    starts.push_back(tokens.size());
    blob += "{\"id\":\"d" + std::to_string(d) + "\"}";
    meta_off.push_back(blob.size());
  }
  ShardSource src;
  src.tokens = tokens.data();
  src.token_width = width;
  src.tokens_count = tokens.size();
  src.doc_starts = starts.data();
  src.documents = docs.size();
  src.meta_offsets = meta_off.data();
  src.meta_blob = reinterpret_cast<const uint8_t*>(blob.data());
  src.vocab_size = vocab;
  auto files = write_shard(dir.string(), src);
  CHECK_EQ(files.size(), size_t(6));
  for (auto& f : files) CHECK_EQ(checksum_file((dir / f.name).string()), f.xxh64);
  return {dir.string(), ShardShape{width, tokens.size(), docs.size(), vocab, true}};
}

inline ShardSpec write_any(const fs::path& dir, const std::vector<Doc>& docs, int width, uint64_t vocab) {
  if (width == 1) return write_docs<uint8_t>(dir, docs, width, vocab);
  if (width == 2) return write_docs<uint16_t>(dir, docs, width, vocab);
  return write_docs<uint32_t>(dir, docs, width, vocab);
}

inline std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}
inline void write_file(const fs::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}
inline std::string u64le(uint64_t v) { std::string s(8, '\0'); std::memcpy(&s[0], &v, 8); return s; }

struct IgOptions {
  std::string suffix;
  bool metadata = false;
  bool value_order = false;  // sort the table by token value instead of bytes (a wrong table, for verify)
};

// Writes one shard in infini-gram's layout (separator before every document, byte-offset table of p-byte
// entries sorted by the raw little-endian bytes, u64 document offsets, metadata + metaoff); returns its spec.
inline ShardSpec write_ig(const fs::path& dir, const std::vector<Doc>& docs, int w, const IgOptions& o = {}) {
  fs::create_directories(dir);
  const uint64_t sep = separator_of(w);
  std::string stream, offsets, meta, metaoff;
  std::vector<uint64_t> values;
  for (size_t d = 0; d < docs.size(); ++d) {
    offsets += u64le(stream.size());
    metaoff += u64le(meta.size());
    meta += "{\"path\": \"part/\\\"x\\\".jsonl\", \"linenum\": " + std::to_string(d) + ", \"metadata\": {\"n\": [1, {\"a\": \"}\"}]}}\n";
    auto put = [&](uint64_t t) { std::string b(w, '\0'); std::memcpy(&b[0], &t, w); stream += b; values.push_back(t); };
    put(sep);
    for (uint32_t t : docs[d]) put(t);
  }
  const uint64_t n = values.size(), bytes = stream.size();
  std::vector<uint64_t> sa(n);
  for (uint64_t i = 0; i < n; ++i) sa[i] = i;
  if (o.value_order)
    std::sort(sa.begin(), sa.end(), [&](uint64_t a, uint64_t b) {
      return std::lexicographical_compare(values.begin() + a, values.end(), values.begin() + b, values.end());
    });
  else
    std::sort(sa.begin(), sa.end(), [&](uint64_t a, uint64_t b) {
      return std::lexicographical_compare(stream.begin() + a * w, stream.end(), stream.begin() + b * w, stream.end(),
                                          [](char x, char y) { return uint8_t(x) < uint8_t(y); });
    });
  int p = 1;
  while (p < 8 && ((bytes - 1) >> (8 * p)) != 0) ++p;
  std::string table;
  for (uint64_t i : sa) { uint64_t off = i * w; table.append(reinterpret_cast<const char*>(&off), p); }
  write_file(dir / ("tokenized" + o.suffix), stream);
  write_file(dir / ("table" + o.suffix), table);
  write_file(dir / ("offset" + o.suffix), offsets);
  if (o.metadata) {
    write_file(dir / ("metadata" + o.suffix), meta);
    write_file(dir / ("metaoff" + o.suffix), metaoff);
  }
  ShardSpec spec;
  spec.dir = dir.string();
  spec.shape.token_width = w;
  spec.format = "infini-gram";
  spec.suffix = o.suffix;
  return spec;
}

struct Oracle {
  const std::vector<Doc>& docs;
  // All (doc, offset) where q occurs, in document order.
  std::vector<std::pair<uint64_t, uint64_t>> occurrences(const Doc& q) const {
    std::vector<std::pair<uint64_t, uint64_t>> out;
    for (size_t d = 0; d < docs.size(); ++d)
      for (size_t i = 0; i + q.size() <= docs[d].size(); ++i)
        if (std::equal(q.begin(), q.end(), docs[d].begin() + i)) out.push_back({d, i});
    return out;
  }
  uint64_t count(const Doc& q) const {
    if (q.empty()) { uint64_t n = 0; for (auto& d : docs) n += d.size(); return n; }
    return occurrences(q).size();
  }
  std::map<uint32_t, uint64_t> next(const Doc& q) const {
    std::map<uint32_t, uint64_t> m;
    for (size_t d = 0; d < docs.size(); ++d)
      for (size_t i = 0; i + q.size() < docs[d].size(); ++i)
        if (std::equal(q.begin(), q.end(), docs[d].begin() + i)) ++m[docs[d][i + q.size()]];
    return m;
  }
};

inline std::vector<Doc> random_docs(std::mt19937& rng, int kind, uint32_t vocab) {
  std::vector<Doc> docs(1 + rng() % 6);
  for (auto& d : docs) {
    size_t len = rng() % 120;  // empty documents too
    if (kind == 0) for (size_t i = 0; i < len; ++i) d.push_back(rng() % vocab);
    else if (kind == 1) for (size_t i = 0; i < len; ++i) d.push_back(0);             // one token
    else if (kind == 2) { uint32_t p = 1 + rng() % std::min<uint32_t>(3, vocab); for (size_t i = 0; i < len; ++i) d.push_back(i % p); }  // periodic
    else { Doc block; for (int i = 0; i < 7; ++i) block.push_back(rng() % vocab); while (d.size() < len) d.insert(d.end(), block.begin(), block.end()); }
  }
  return docs;
}

// Does q occur inside one document?
inline bool occurs(const std::vector<Doc>& docs, const uint32_t* q, size_t m) {
  for (const Doc& d : docs)
    for (size_t i = 0; i + m <= d.size(); ++i)
      if (std::equal(q, q + m, d.begin() + i)) return true;
  return false;
}

// Maximal spans by definition: o[i:j] occurs, o[i-1:j] and o[i:j+1] do not (within the piece).
inline std::vector<std::pair<uint32_t, uint32_t>> brute_maximal(const std::vector<Doc>& docs, const Doc& o, size_t a, size_t b) {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  for (size_t i = a; i < b; ++i)
    for (size_t j = i + 1; j <= b; ++j) {
      if (!occurs(docs, o.data() + i, j - i)) break;
      bool left = i > a && occurs(docs, o.data() + i - 1, j - i + 1);
      bool right = j < b && occurs(docs, o.data() + i, j - i + 1);
      if (!left && !right) out.push_back({uint32_t(i), uint32_t(j)});
    }
  return out;
}

// An output spliced from corpus pieces and fresh tokens.
inline Doc splice_output(std::mt19937& rng, const std::vector<Doc>& docs, uint32_t vocab) {
  Doc o;
  size_t pieces = 1 + rng() % 4;
  for (size_t p = 0; p < pieces; ++p) {
    const Doc& d = docs[rng() % docs.size()];
    if (!d.empty() && rng() % 3) {
      size_t a = rng() % d.size(), len = 1 + rng() % std::min<size_t>(30, d.size() - a);
      o.insert(o.end(), d.begin() + a, d.begin() + a + len);
    }
    size_t fresh = rng() % 4;
    for (size_t i = 0; i < fresh; ++i) o.push_back(rng() % vocab);
  }
  return o;
}

struct Corpus {
  TempDir tmp;
  std::vector<Doc> docs;
  std::unique_ptr<Index> single, multi;
  uint32_t vocab;
  std::vector<std::pair<uint32_t, uint64_t>> place;  // document d is local document place[d].second of multi's shard place[d].first
};

// A random corpus as one shard and as several (1 to 3 documents each), token width 1 or 2.
inline std::unique_ptr<Corpus> make_corpus(std::mt19937& rng, int round) {
  auto c = std::make_unique<Corpus>();
  const int width = round % 2 ? 1 : 2;
  c->vocab = 2 + rng() % 5;
  c->docs = random_docs(rng, round % 4, c->vocab);
  const uint64_t vocab_size = width == 1 ? 200 : 3000;
  c->single = std::make_unique<Index>(std::vector<ShardSpec>{write_any(c->tmp.path / "one", c->docs, width, vocab_size)});
  std::vector<ShardSpec> specs;
  for (size_t at = 0, s = 0; at < c->docs.size(); ++s) {
    size_t take = 1 + rng() % 3;
    std::vector<Doc> part(c->docs.begin() + at, c->docs.begin() + std::min(c->docs.size(), at + take));
    for (size_t d = 0; d < part.size(); ++d) c->place.push_back({uint32_t(s), d});
    specs.push_back(write_any(c->tmp.path / ("s" + std::to_string(s)), part, width, vocab_size));
    at += take;
  }
  c->multi = std::make_unique<Index>(specs);
  return c;
}

}  // namespace fixtures
