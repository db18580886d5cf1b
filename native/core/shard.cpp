#include "shard.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include "error.hpp"
#include "mapped_file.hpp"
#include "platform.hpp"
#include "sa_search.hpp"
#include "sampled_keys.hpp"
#include "token_match.hpp"

namespace traceindex {
namespace {

struct ShardFiles {
  MappedFile tokens, sa, docs, meta, unigram;
  MappedFile samples;  // v2 shards: the sampled keys (not open when the shape says there are none)
};

std::string path_of(const std::string& dir, FileKind k) { return dir + "/" + file_name(k); }

// The structure the search and the document accessors rely on, O(D + V): document starts from 0 to n,
// strictly increasing; record offsets from 0, non-decreasing, ending at the file's end; a separator last;
// unigram counts summing to the shard's document tokens (so no count exceeds the total and every
// -log P(t) is >= 0). Run on open and again by verify_quick().
void check_structure(const ShardFiles& f, const ShardShape& shape, const std::string& dir) {
  const uint64_t n = shape.tokens, D = shape.documents;
  auto corrupt = [&](FileKind k, const std::string& why) { throw Error(codes::kCorrupt, path_of(dir, k) + ": " + why); };
  auto starts = reinterpret_cast<const uint64_t*>(f.docs.data() + kHeaderBytes);
  if (starts[0] != 0 || starts[D] != n) corrupt(FileKind::DocStarts, "document starts do not span the tokens");
  for (uint64_t d = 0; d < D; ++d)
    if (starts[d + 1] <= starts[d]) corrupt(FileKind::DocStarts, "document starts out of order at document " + std::to_string(d));
  auto offsets = reinterpret_cast<const uint64_t*>(f.meta.data() + kHeaderBytes);
  const uint64_t blob_at = kHeaderBytes + 8 * (D + 1);
  if (offsets[0] != 0 || offsets[D] != f.meta.size() - blob_at)
    corrupt(FileKind::Meta, "record offsets do not match the file size");
  for (uint64_t d = 0; d < D; ++d)
    if (offsets[d + 1] < offsets[d]) corrupt(FileKind::Meta, "record offsets out of order at document " + std::to_string(d));
  const int w = shape.token_width;
  uint64_t last = 0;
  std::memcpy(&last, f.tokens.data() + kHeaderBytes + (n - 1) * w, w);
  if (last != separator_of(w)) corrupt(FileKind::Tokens, "does not end with a separator");
  auto unigram = reinterpret_cast<const uint64_t*>(f.unigram.data() + kHeaderBytes);
  const uint64_t total = n - D;
  uint64_t sum = 0;
  for (uint64_t t = 0; t < shape.vocab_size; ++t)
    if (unigram[t] > total || __builtin_add_overflow(sum, unigram[t], &sum) || sum > total)
      corrupt(FileKind::Unigram, "counts exceed the shard's " + std::to_string(total) + " document tokens (token " + std::to_string(t) + ")");
  if (sum != total)
    corrupt(FileKind::Unigram, "counts sum to " + std::to_string(sum) + ", the shard holds " + std::to_string(total) + " document tokens");
}

inline uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

template <typename Token, typename Index>
class ShardImpl final : public SearchableShard<ShardImpl<Token, Index>, Token> {
  using Base = SearchableShard<ShardImpl<Token, Index>, Token>;
  using Base::text_;
  using Base::n_;
  using Shard::dir_;
  using Shard::shape_;
  using Shard::files_view_;
  using Shard::kQuickCompareTokens;

 public:
  static constexpr bool kValueOrder = true;
  static uint32_t order_key(Token t) { return t; }
  uint64_t position(uint64_t i) const { return sa_idx_[i]; }
  void prefetch_entry(uint64_t i) const { __builtin_prefetch(sa_idx_ + i); }

  ShardImpl(std::string dir, const ShardShape& shape, std::shared_ptr<ShardFiles> files) {
    dir_ = std::move(dir);
    shape_ = shape;
    tokens_ = files->tokens.data() + kHeaderBytes;
    sa_ = files->sa.data() + kHeaderBytes;
    doc_starts_ = reinterpret_cast<const uint64_t*>(files->docs.data() + kHeaderBytes);
    meta_offsets_ = reinterpret_cast<const uint64_t*>(files->meta.data() + kHeaderBytes);
    meta_blob_ = files->meta.data() + kHeaderBytes + 8 * (shape.documents + 1);
    unigram_ = reinterpret_cast<const uint64_t*>(files->unigram.data() + kHeaderBytes);
    meta_blob_bytes_ = files->meta.size() - (kHeaderBytes + 8 * (shape.documents + 1));
    files_ = std::move(files);
    files_view_ = {&files_->tokens, &files_->sa, &files_->docs, &files_->meta, &files_->unigram};
    text_ = reinterpret_cast<const Token*>(tokens_);
    n_ = shape.tokens;
    sa_idx_ = reinterpret_cast<const Index*>(sa_);
    if (files_->samples.is_open()) {
      files_view_.push_back(&files_->samples);
      FileHeader h;
      std::memcpy(&h, files_->samples.data(), sizeof h);
      this->keys_ = reinterpret_cast<const uint64_t*>(files_->samples.data() + kHeaderBytes);
      this->key_interval_ = h.interval;
      this->key_count_ = h.element_count;
    }
  }

  std::string table_path() const { return path_of(dir_, FileKind::SuffixArray); }
  std::string samples_path() const { return path_of(dir_, FileKind::Samples); }
  std::string text_path() const { return path_of(dir_, FileKind::Tokens); }

  const char* format() const override { return "traceindex"; }
  uint64_t stored_suffixes() const override { return shape_.tokens - shape_.documents; }
  // Open checked the offsets; the clamps keep every read inside the mappings even if a file changes
  // under them afterwards (check_intact then reports it).
  uint64_t doc_start(uint64_t d) const override { return std::min(doc_starts_[d], n_); }
  uint64_t doc_end(uint64_t d) const override {  // the separator sits here
    const uint64_t b = doc_start(d), e = doc_starts_[d + 1];
    return e > b ? std::min(e - 1, n_) : b;
  }
  uint64_t document_of(uint64_t pos) const override {
    const uint64_t* end = doc_starts_ + shape_.documents + 1;
    const uint64_t k = static_cast<uint64_t>(std::upper_bound(doc_starts_, end, pos) - doc_starts_);
    return k == 0 ? 0 : std::min(k - 1, shape_.documents - 1);
  }
  std::string doc_record(uint64_t d) const override {
    const auto [b, e] = record_span(d);
    return {reinterpret_cast<const char*>(meta_blob_ + b), e - b};
  }
  uint64_t doc_record_bytes(uint64_t d) const override {
    const auto [b, e] = record_span(d);
    return e - b;
  }
  std::pair<uint64_t, uint64_t> record_span(uint64_t d) const {
    const uint64_t b = std::min(meta_offsets_[d], meta_blob_bytes_);
    return {b, std::min(std::max(meta_offsets_[d + 1], b), meta_blob_bytes_)};
  }
  void add_unigram(uint64_t* into) const override {
    for (uint64_t t = 0; t < shape_.vocab_size; ++t) into[t] += unigram_[t];
  }

  void verify(CancelFlag* cancel) const override;
  void verify_quick(uint32_t samples, uint64_t seed, CancelFlag* cancel) const override;
  // A damaged key can only misdirect a search inside the suffix array (sa_search.hpp); verify finds it here.
  void check_key(uint64_t j) const {
    const uint64_t p = this->suffix(j * this->key_interval_);
    if (this->keys_[j] != pack_key(text_ + p, n_ - p))
      throw Error(codes::kCorrupt, samples_path() + ": key " + std::to_string(j) + " differs from the suffix it samples (entry " +
                                       std::to_string(j * this->key_interval_) + " of sa.bin)");
  }

 private:
  std::shared_ptr<ShardFiles> files_;  // keeps the mappings alive
  const uint8_t* tokens_ = nullptr;
  const uint8_t* sa_ = nullptr;
  const uint64_t* doc_starts_ = nullptr;
  const uint64_t* meta_offsets_ = nullptr;
  const uint8_t* meta_blob_ = nullptr;
  uint64_t meta_blob_bytes_ = 0;
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
  check_structure(*files_, shape_, dir_);
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
  for (uint64_t j = 0; j < this->key_count_; ++j) {
    if (j % (1 << 20) == 0) check_cancel(cancel, "verify");
    check_key(j);
  }
  this->check_intact();
}

template <typename Token, typename Index>
void ShardImpl<Token, Index>::verify_quick(uint32_t samples, uint64_t seed, CancelFlag* cancel) const {
  const uint64_t n = shape_.tokens, D = shape_.documents, V = shape_.vocab_size;
  const Token sep = static_cast<Token>(this->separator());
  auto corrupt = [&](FileKind k, const std::string& why) { throw Error(codes::kCorrupt, path_of(dir_, k) + ": " + why); };
  check_structure(*files_, shape_, dir_);
  // Separators after every document, or after `samples` random ones: checking all of them would touch every
  // page of tokens.bin when documents are short.
  uint64_t state = seed;
  for (uint64_t s = 0, all = D <= samples; s < (all ? D : samples); ++s) {
    if (s % 65536 == 0) check_cancel(cancel, "verify");
    const uint64_t d = all ? s : splitmix64(state) % D;
    if (text_[doc_starts_[d + 1] - 1] != sep) corrupt(FileKind::Tokens, "missing separator after document " + std::to_string(d));
  }
  // Adjacent entries k - 1, k: document positions (not separators, ids in range), suffix k - 1 < suffix k.
  const uint64_t m = stored_suffixes();
  for (uint32_t s = 0; m >= 2 && s < samples; ++s) {
    if (s % 256 == 0) check_cancel(cancel, "verify");
    const uint64_t k = 1 + splitmix64(state) % (m - 1);
    const uint64_t a = this->suffix(k - 1), b = this->suffix(k);
    for (uint64_t p : {a, b})
      if (text_[p] >= V) corrupt(text_[p] == sep ? FileKind::SuffixArray : FileKind::Tokens,
                                 "position " + std::to_string(p) + " (entry near " + std::to_string(k) + ") holds " +
                                     (text_[p] == sep ? "a separator" : "a token outside the vocabulary"));
    const uint64_t len = std::min({n - a, n - b, kQuickCompareTokens});
    const uint64_t i = mismatch_tokens(text_ + a, text_ + b, len);
    const bool ordered = i < len ? text_[a + i] < text_[b + i] : (len == kQuickCompareTokens || n - a < n - b);
    if (a == b || !ordered) corrupt(FileKind::SuffixArray, "suffixes out of order at " + std::to_string(k));
  }
  // Sampled keys: `samples` random ones (every one if there are no more) against the suffixes they sample.
  for (uint64_t s = 0, all = this->key_count_ <= samples; this->key_count_ > 0 && s < (all ? this->key_count_ : samples); ++s) {
    if (s % 4096 == 0) check_cancel(cancel, "verify");
    check_key(all ? s : splitmix64(state) % this->key_count_);
  }
  this->check_intact();
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

void Shard::check_files() const {
  for (const MappedFile* f : files_view_)
    if (!f->intact())
      throw Error(codes::kIo, "index file changed under us: " + f->path() +
                                  " shrank or became unreadable while the index was open (an index is replaced by rename, never rewritten in place)");
}

WarmStats Shard::warm(CancelFlag* cancel) const {
  constexpr size_t kChunk = size_t(64) << 20;  // a multiple of any page size: chunks stay page-aligned
  // The files' own hints come back however this ends. While warming, a mapping is marked sequential: under
  // MADV_RANDOM (the suffix array's and the tokens' hint) every fault reads one page, and WILLNEED alone reads
  // only a readahead window ahead (measured: 20 MB cold, 1 s random against 14 ms sequential).
  struct Restore {
    const std::vector<const MappedFile*>& files;
    ~Restore() { for (const MappedFile* f : files) f->advise(f->pattern()); }
  } restore{files_view_};
  WarmStats st;
  // Every file's advice first, so the kernel starts reading all of them while the pass below waits on the first.
  for (const MappedFile* f : files_view_) {
    check_cancel(cancel, "advise");
    ++st.files;
    st.bytes += f->size();
    f->advise(AccessPattern::Sequential);
    // What is read from here on comes in 2 MiB folios, mapped whole (MappedFile's aligned mappings): a warmed
    // index is meant to stay resident, so its later faults may read 2 MiB too.
    if (f->size() >= (size_t(2) << 20)) platform::advise_huge_pages(const_cast<uint8_t*>(f->data()), f->size());
    if (f->size() > 0 && platform::advise_will_need(f->data(), f->size())) ++st.advised;
  }
  for (const MappedFile* f : files_view_) {
    bool populated = f->size() > 0;
    for (size_t at = 0; at < f->size(); at += kChunk) {
      check_cancel(cancel, "advise");
      const size_t len = std::min(kChunk, f->size() - at);
      if (populated && platform::populate_read(f->data() + at, len)) continue;
      populated = false;
      platform::read_pages(f->data() + at, len);
    }
    if (populated) ++st.populated;
  }
  check_intact();
  return st;
}

std::unique_ptr<Shard> Shard::open(const std::string& dir, const ShardShape& shape) {
  const int w = shape.token_width;
  if (w != 1 && w != 2 && w != 4) throw Error(codes::kCorrupt, dir + ": token width " + std::to_string(w) + " is not 1, 2 or 4");
  if (shape.documents == 0 || shape.tokens < shape.documents)
    throw Error(codes::kCorrupt, dir + ": a shard holds at least one document");
  if (shape.vocab_size == 0 || shape.vocab_size > separator_of(w))
    throw Error(codes::kCorrupt, dir + ": vocabulary size does not fit the token width");
  const int pw = pointer_width_for(shape.tokens);
  auto files = std::make_shared<ShardFiles>();
  auto path = [&](FileKind k) { return path_of(dir, k); };
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

  if (shape.samples) {
    // The interval comes from the header itself (checked like every other field before it is used).
    files->samples = MappedFile::open(path(FileKind::Samples), AccessPattern::WillNeed);
    FileHeader h{};
    if (files->samples.size() >= kHeaderBytes) std::memcpy(&h, files->samples.data(), sizeof h);
    const uint64_t k = std::memcmp(h.magic, file_magic(FileKind::Samples), 8) == 0 ? h.interval : 1;
    if (k == 0 || k > kMaxSampleInterval)
      throw Error(codes::kCorrupt, path(FileKind::Samples) + ": sample interval " + std::to_string(k) + " is not in 1.." +
                                       std::to_string(kMaxSampleInterval));
    check_header(files->samples.data(), files->samples.size(), FileKind::Samples, shape,
                 sample_count(shape.tokens - shape.documents, k), 8, path(FileKind::Samples));
  }

  // Cheap structural checks (O(D + V)); verify() does the full ones.
  check_structure(*files, shape, dir);

  std::string d = dir;
  switch (w) {
    case 1: return make_shard_for<uint8_t>(d, shape, std::move(files));
    case 2: return make_shard_for<uint16_t>(d, shape, std::move(files));
    default: return make_shard_for<uint32_t>(d, shape, std::move(files));
  }
}

}  // namespace traceindex
