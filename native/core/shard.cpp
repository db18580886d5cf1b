#include "shard.hpp"

#include <algorithm>
#include <cstring>

#include "error.hpp"
#include "mapped_file.hpp"
#include "sa_search.hpp"

namespace traceindex {
namespace {

struct ShardFiles {
  MappedFile tokens, sa, docs, meta, unigram;
};

template <typename Token, typename Index>
class ShardImpl final : public SearchableShard<ShardImpl<Token, Index>, Token> {
  using Base = SearchableShard<ShardImpl<Token, Index>, Token>;
  using Base::text_;
  using Base::n_;
  using Shard::dir_;
  using Shard::shape_;

 public:
  static constexpr bool kValueOrder = true;
  static uint32_t order_key(Token t) { return t; }
  uint64_t position(uint64_t i) const { return sa_idx_[i]; }

  ShardImpl(std::string dir, const ShardShape& shape, std::shared_ptr<ShardFiles> files) {
    dir_ = std::move(dir);
    shape_ = shape;
    tokens_ = files->tokens.data() + kHeaderBytes;
    sa_ = files->sa.data() + kHeaderBytes;
    doc_starts_ = reinterpret_cast<const uint64_t*>(files->docs.data() + kHeaderBytes);
    meta_offsets_ = reinterpret_cast<const uint64_t*>(files->meta.data() + kHeaderBytes);
    meta_blob_ = files->meta.data() + kHeaderBytes + 8 * (shape.documents + 1);
    unigram_ = reinterpret_cast<const uint64_t*>(files->unigram.data() + kHeaderBytes);
    files_ = std::move(files);
    text_ = reinterpret_cast<const Token*>(tokens_);
    n_ = shape.tokens;
    sa_idx_ = reinterpret_cast<const Index*>(sa_);
  }

  const char* format() const override { return "traceindex"; }
  uint64_t stored_suffixes() const override { return shape_.tokens - shape_.documents; }
  uint64_t doc_start(uint64_t d) const override { return doc_starts_[d]; }
  uint64_t doc_end(uint64_t d) const override { return doc_starts_[d + 1] - 1; }  // the separator sits here
  uint64_t document_of(uint64_t pos) const override {
    const uint64_t* end = doc_starts_ + shape_.documents + 1;
    return static_cast<uint64_t>(std::upper_bound(doc_starts_, end, pos) - doc_starts_) - 1;
  }
  std::string doc_record(uint64_t d) const override {
    return {reinterpret_cast<const char*>(meta_blob_ + meta_offsets_[d]), meta_offsets_[d + 1] - meta_offsets_[d]};
  }
  const uint64_t* unigram() const override { return unigram_; }

  void verify(CancelFlag* cancel) const override;

 private:
  std::shared_ptr<ShardFiles> files_;  // keeps the mappings alive
  const uint8_t* tokens_ = nullptr;
  const uint8_t* sa_ = nullptr;
  const uint64_t* doc_starts_ = nullptr;
  const uint64_t* meta_offsets_ = nullptr;
  const uint8_t* meta_blob_ = nullptr;
  const uint64_t* unigram_ = nullptr;
  const Index* sa_idx_;
};

template <typename Token, typename Index>
void ShardImpl<Token, Index>::verify(CancelFlag* cancel) const {
  const uint64_t n = shape_.tokens, D = shape_.documents, V = shape_.vocab_size;
  const Token sep = static_cast<Token>(this->separator());
  auto corrupt = [&](const char* file, const std::string& why) {
    throw Error(codes::kCorrupt, dir_ + "/" + file + ": " + why);
  };
  // Tokens, separators and unigram counts.
  std::vector<uint64_t> counts(V, 0);
  for (uint64_t d = 0; d < D; ++d) {
    if (d % 4096 == 0) check_cancel(cancel, "verify");
    if (doc_starts_[d + 1] <= doc_starts_[d]) corrupt("docs.bin", "document starts out of order");
    for (uint64_t i = doc_starts_[d]; i + 1 < doc_starts_[d + 1]; ++i) {
      uint64_t t = text_[i];
      if (t >= V) corrupt("tokens.bin", "token " + std::to_string(t) + " at " + std::to_string(i) + " is out of range");
      ++counts[t];
    }
    if (text_[doc_starts_[d + 1] - 1] != sep) corrupt("tokens.bin", "missing separator after document " + std::to_string(d));
  }
  for (uint64_t t = 0; t < V; ++t)
    if (counts[t] != unigram_[t]) corrupt("unigram.bin", "count of token " + std::to_string(t) + " differs from the tokens");
  for (uint64_t d = 0; d < D; ++d)
    if (meta_offsets_[d + 1] < meta_offsets_[d]) corrupt("meta.bin", "record offsets out of order");
  // Suffix order in linear time (Burkhardt & Kärkkäinen's check): the stored SA is a permutation of the
  // non-separator positions, and consecutive suffixes i, j have T[i] < T[j], or T[i] = T[j] and the suffix
  // after i ranks below the one after j. Runs of separators (empty documents) are stepped over directly.
  const uint64_t m = stored_suffixes();
  const Index unset = static_cast<Index>(~Index(0));
  std::vector<Index> rank(n, unset);
  for (uint64_t k = 0; k < m; ++k) {
    if (k % (1 << 22) == 0) check_cancel(cancel, "verify");
    uint64_t p = sa_idx_[k];
    if (p >= n || text_[p] == sep || rank[p] != unset) corrupt("sa.bin", "not a permutation of the document positions");
    rank[p] = static_cast<Index>(k);
  }
  // Returns true if suffix a < suffix b, given T[a-1] = T[b-1] (both non-separators, a != b).
  auto less_after = [&](uint64_t a, uint64_t b) {
    while (a < n && b < n && text_[a] == sep && text_[b] == sep) { ++a; ++b; }
    if (a == n || b == n) return a == n;  // the shorter suffix is smaller
    if (text_[a] != text_[b]) return text_[a] < text_[b];
    return rank[a] < rank[b];
  };
  for (uint64_t k = 1; k < m; ++k) {
    if (k % (1 << 22) == 0) check_cancel(cancel, "verify");
    uint64_t a = sa_idx_[k - 1], b = sa_idx_[k];
    if (text_[a] > text_[b] || (text_[a] == text_[b] && !less_after(a + 1, b + 1)))
      corrupt("sa.bin", "suffixes out of order at " + std::to_string(k));
  }
}

template <typename Token, typename Index>
std::unique_ptr<Shard> make_shard(const std::string& dir, const ShardShape& shape, std::shared_ptr<ShardFiles> files) {
  return std::unique_ptr<Shard>(new ShardImpl<Token, Index>(dir, shape, std::move(files)));
}

template <typename Token>
std::unique_ptr<Shard> make_shard_for(const std::string& dir, const ShardShape& shape, std::shared_ptr<ShardFiles> f) {
  return pointer_width_for(shape.tokens) == 4 ? make_shard<Token, uint32_t>(dir, shape, std::move(f))
                                              : make_shard<Token, uint64_t>(dir, shape, std::move(f));
}

}  // namespace

std::unique_ptr<Shard> Shard::open(const std::string& dir, const ShardShape& shape) {
  const int w = shape.token_width;
  if (w != 1 && w != 2 && w != 4) throw Error(codes::kCorrupt, dir + ": token width " + std::to_string(w) + " is not 1, 2 or 4");
  if (shape.documents == 0 || shape.tokens < shape.documents)
    throw Error(codes::kCorrupt, dir + ": a shard holds at least one document");
  if (shape.vocab_size == 0 || shape.vocab_size > separator_of(w))
    throw Error(codes::kCorrupt, dir + ": vocabulary size does not fit the token width");
  const int pw = pointer_width_for(shape.tokens);
  auto files = std::make_shared<ShardFiles>();
  auto path = [&](FileKind k) { return dir + "/" + file_name(k); };
  files->tokens = MappedFile::open(path(FileKind::Tokens));
  check_header(files->tokens.data(), files->tokens.size(), FileKind::Tokens, shape, shape.tokens, w, path(FileKind::Tokens));
  files->sa = MappedFile::open(path(FileKind::SuffixArray));
  check_header(files->sa.data(), files->sa.size(), FileKind::SuffixArray, shape, shape.tokens - shape.documents, pw,
               path(FileKind::SuffixArray));
  files->docs = MappedFile::open(path(FileKind::DocStarts), AccessPattern::WillNeed);
  check_header(files->docs.data(), files->docs.size(), FileKind::DocStarts, shape, shape.documents + 1, 8,
               path(FileKind::DocStarts));
  files->meta = MappedFile::open(path(FileKind::Meta));
  check_header(files->meta.data(), files->meta.size(), FileKind::Meta, shape, shape.documents, 8, path(FileKind::Meta));
  files->unigram = MappedFile::open(path(FileKind::Unigram), AccessPattern::WillNeed);
  check_header(files->unigram.data(), files->unigram.size(), FileKind::Unigram, shape, shape.vocab_size, 8,
               path(FileKind::Unigram));

  // Cheap structural checks (O(D)); verify() does the full ones.
  auto starts = reinterpret_cast<const uint64_t*>(files->docs.data() + kHeaderBytes);
  if (starts[0] != 0 || starts[shape.documents] != shape.tokens)
    throw Error(codes::kCorrupt, path(FileKind::DocStarts) + ": document starts do not span the tokens");
  for (uint64_t d = 0; d < shape.documents; ++d)
    if (starts[d + 1] <= starts[d]) throw Error(codes::kCorrupt, path(FileKind::DocStarts) + ": document starts out of order");
  auto offsets = reinterpret_cast<const uint64_t*>(files->meta.data() + kHeaderBytes);
  uint64_t blob_at = kHeaderBytes + 8 * (shape.documents + 1);
  if (offsets[0] != 0 || blob_at + offsets[shape.documents] != files->meta.size())
    throw Error(codes::kCorrupt, path(FileKind::Meta) + ": record offsets do not match the file size");
  uint64_t last = 0;
  const uint8_t* tok = files->tokens.data() + kHeaderBytes;
  std::memcpy(&last, tok + (shape.tokens - 1) * w, w);
  if (last != separator_of(w)) throw Error(codes::kCorrupt, path(FileKind::Tokens) + ": does not end with a separator");

  std::string d = dir;
  switch (w) {
    case 1: return make_shard_for<uint8_t>(d, shape, std::move(files));
    case 2: return make_shard_for<uint16_t>(d, shape, std::move(files));
    default: return make_shard_for<uint32_t>(d, shape, std::move(files));
  }
}

}  // namespace traceindex
