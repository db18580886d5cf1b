#include "infinigram_shard.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "error.hpp"
#include "mapped_file.hpp"
#include "sa_search.hpp"
#include "token_match.hpp"

namespace traceindex {
namespace {

// u32 vocabularies (pretokenized's limit), declared or derived. A derived one (no vocabSize given) must stay within
// kFreeDerivedVocab or the shard's own token count, so a few bytes holding one large id cannot cost gigabytes. A
// shard's counts are dense only up to that same bound; ids above it (a declared vocabulary) are counted sparsely,
// so a shard costs at most 8 bytes per token (or 8 MiB) whatever the declared size: only the index's own table
// has one entry per declared id, once, not once per shard.
constexpr uint64_t kMaxVocab = 1ULL << 28;
constexpr uint64_t kFreeDerivedVocab = 1ULL << 20;

// A shard's unigram counts: ids [0, dense.size()) dense, the rest (id, count) in id order.
struct UnigramCounts {
  std::vector<uint64_t> dense;
  std::vector<std::pair<uint32_t, uint64_t>> sparse;
  bool operator==(const UnigramCounts& o) const { return dense == o.dense && sparse == o.sparse; }
};

// One pass over the tokens: unigram counts and the separator count.
template <typename Token>
UnigramCounts count_tokens(const Token* text, uint64_t n, uint64_t declared_vocab, uint64_t* separators, const std::string& path) {
  const Token sep = static_cast<Token>(~Token(0));
  const uint64_t dense_max = std::max(kFreeDerivedVocab, n);
  UnigramCounts u;
  std::vector<uint64_t>& counts = u.dense;
  counts.assign(declared_vocab ? std::min(declared_vocab, dense_max) : (sizeof(Token) < 4 ? uint64_t(sep) : 0), 0);
  std::unordered_map<uint32_t, uint64_t> above;  // declared ids >= dense_max
  uint64_t seps = 0;
  for (uint64_t i = 0; i < n; ++i) {
    const Token t = text[i];
    if (t == sep) { ++seps; continue; }
    if (t >= counts.size()) {
      if (declared_vocab && t >= declared_vocab)
        throw Error(codes::kCorrupt, path + ": token " + std::to_string(t) + " at " + std::to_string(i) +
                                         " is outside the declared vocabulary (" + std::to_string(declared_vocab) + ")");
      if (declared_vocab) { ++above[uint32_t(t)]; continue; }
      if (uint64_t(t) >= kMaxVocab)
        throw Error(codes::kInvalidArgument, path + ": token id " + std::to_string(t) + " is 2^28 or more: this index cannot be read");
      if (uint64_t(t) >= dense_max)
        throw Error(codes::kInvalidArgument, path + ": token id " + std::to_string(t) + " is far above the " + std::to_string(n) +
                                                 " tokens of the shard: declare the vocabulary size (vocabSize) to read this index");
      counts.resize(uint64_t(t) + 1, 0);
    }
    ++counts[t];
  }
  if (counts.empty()) counts.resize(1, 0);
  u.sparse.assign(above.begin(), above.end());
  std::sort(u.sparse.begin(), u.sparse.end());
  *separators = seps;
  return u;
}


struct IgFiles {
  MappedFile tokenized, table, offset, metadata, metaoff;
};

// A token's rank in byte order: its little-endian bytes read as a big-endian number.
inline uint32_t byte_key(uint8_t t) { return t; }
inline uint32_t byte_key(uint16_t t) { return __builtin_bswap16(t); }
inline uint32_t byte_key(uint32_t t) { return __builtin_bswap32(t); }

bool file_exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

inline uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Document offsets (from 0, strictly increasing, token-aligned, each at a separator) and metadata offsets
// (from 0, non-decreasing, within metadata): O(D), on open and again in verify_quick. The files' sizes
// were checked by open.
void check_offsets(const IgFiles& f, uint64_t w, const std::string& dir, const std::string& suffix) {
  auto corrupt = [&](const char* name, const std::string& why) { throw Error(codes::kCorrupt, dir + "/" + name + suffix + ": " + why); };
  const uint64_t bytes = f.tokenized.size(), D = f.offset.size() / 8, sep = separator_of(static_cast<int>(w));
  const uint8_t* text = f.tokenized.data();
  const uint64_t* offsets = reinterpret_cast<const uint64_t*>(f.offset.data());
  for (uint64_t d = 0; d < D; ++d) {
    const uint64_t o = offsets[d];
    if (d == 0 ? o != 0 : o <= offsets[d - 1]) corrupt("offset", "document offsets do not start at 0 and increase (document " + std::to_string(d) + ")");
    if (o % w != 0 || o >= bytes) corrupt("offset", "offset of document " + std::to_string(d) + " is not a token of tokenized");
    uint64_t t = 0;
    std::memcpy(&t, text + o, w);
    if (t != sep) corrupt("tokenized", "no separator at the offset of document " + std::to_string(d) + " (wrong token width?)");
  }
  if (!f.metaoff.is_open()) return;
  const uint64_t* mo = reinterpret_cast<const uint64_t*>(f.metaoff.data());
  for (uint64_t d = 0; d < D; ++d)
    if ((d == 0 ? mo[0] != 0 : mo[d] < mo[d - 1]) || mo[d] > f.metadata.size())
      corrupt("metaoff", "record offsets do not start at 0, increase and stay within metadata (document " + std::to_string(d) + ")");
}

// ---- the two fields of an infini-gram metadata line that make a document id --------------------------

constexpr size_t npos = std::string_view::npos;

size_t skip_ws(std::string_view s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) ++i;
  return i;
}
size_t skip_string(std::string_view s, size_t i) {  // s[i] == '"'
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') ++i;
    else if (s[i] == '"') return i + 1;
  }
  return npos;
}
size_t skip_value(std::string_view s, size_t i) {
  if (i >= s.size()) return npos;
  if (s[i] == '"') return skip_string(s, i);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    while (i < s.size()) {
      char c = s[i];
      if (c == '"') { i = skip_string(s, i); if (i == npos) return npos; continue; }
      if (c == '{' || c == '[') ++depth;
      else if ((c == '}' || c == ']') && --depth == 0) return i + 1;
      ++i;
    }
    return npos;
  }
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ') ++i;
  return i;
}
// The raw (still escaped) body of the top-level "path" string and the digits of "linenum"; false if absent.
bool path_and_linenum(std::string_view s, std::string_view* path, std::string_view* linenum) {
  bool have_path = false, have_line = false;
  size_t i = skip_ws(s, 0);
  if (i >= s.size() || s[i] != '{') return false;
  i = skip_ws(s, i + 1);
  while (i < s.size() && s[i] == '"') {
    size_t k_end = skip_string(s, i);
    if (k_end == npos) return false;
    std::string_view key = s.substr(i + 1, k_end - i - 2);
    i = skip_ws(s, k_end);
    if (i >= s.size() || s[i] != ':') return false;
    i = skip_ws(s, i + 1);
    size_t v_end = skip_value(s, i);
    if (v_end == npos) return false;
    std::string_view v = s.substr(i, v_end - i);
    if (key == "path" && v.size() >= 2 && v[0] == '"') { *path = v.substr(1, v.size() - 2); have_path = true; }
    if (key == "linenum" && !v.empty() && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      *linenum = v;
      have_line = true;
    }
    i = skip_ws(s, v_end);
    if (i < s.size() && s[i] == ',') i = skip_ws(s, i + 1);
    else break;
  }
  return have_path && have_line;
}

// ---- the shard -------------------------------------------------------------------------------------

template <typename Token>
class InfinigramShard final : public SearchableShard<InfinigramShard<Token>, Token> {
  using Base = SearchableShard<InfinigramShard<Token>, Token>;
  using Base::text_;
  using Base::n_;
  using Shard::dir_;
  using Shard::shape_;
  using Shard::separator;
  using Shard::files_view_;
  using Shard::kQuickCompareTokens;
  static constexpr uint64_t w = sizeof(Token);

 public:
  static constexpr bool kValueOrder = sizeof(Token) == 1;
  static uint32_t order_key(Token t) { return byte_key(t); }
  uint64_t position(uint64_t i) const { return entry(i) / w; }
  void prefetch_entry(uint64_t i) const { __builtin_prefetch(table_ + i * p_); }

  InfinigramShard(std::string dir, std::string suffix, const ShardShape& shape, int p, std::shared_ptr<IgFiles> files,
                  uint64_t first_document, uint64_t declared_vocab, UnigramCounts unigram)
      : suffix_(std::move(suffix)), p_(p), first_document_(first_document), declared_vocab_(declared_vocab), unigram_(std::move(unigram)) {
    dir_ = std::move(dir);
    shape_ = shape;
    n_ = shape.tokens;
    D_ = shape.documents;
    text_ = reinterpret_cast<const Token*>(files->tokenized.data());
    table_ = files->table.data();
    const uint64_t table_bytes = files->table.size();
    fast_entries_ = table_bytes >= 8 ? (table_bytes - 8) / p_ + 1 : 0;
    mask_ = p_ >= 8 ? ~0ULL : (1ULL << (8 * p_)) - 1;
    offsets_ = reinterpret_cast<const uint64_t*>(files->offset.data());
    if (files->metaoff.size() > 0 || files->metadata.size() > 0) {
      meta_offsets_ = reinterpret_cast<const uint64_t*>(files->metaoff.data());
      meta_ = reinterpret_cast<const char*>(files->metadata.data());
      meta_bytes_ = files->metadata.size();
      has_meta_ = true;
    }
    files_ = std::move(files);
    for (const MappedFile* f : {&files_->tokenized, &files_->table, &files_->offset, &files_->metadata, &files_->metaoff})
      if (f->is_open()) files_view_.push_back(f);
  }

  std::string table_path() const { return file("table"); }
  std::string text_path() const { return file("tokenized"); }

  const char* format() const override { return "infini-gram"; }
  uint64_t stored_suffixes() const override { return n_ - D_; }
  uint64_t rank_count() const override { return n_; }

  // Open checked the offsets; the clamps keep every read inside the mappings even if a file changes
  // under them afterwards (check_intact then reports it).
  uint64_t doc_start(uint64_t d) const override { return std::min(offsets_[d] / w + 1, n_); }
  uint64_t doc_end(uint64_t d) const override {
    const uint64_t e = d + 1 < D_ ? offsets_[d + 1] / w : n_;
    return std::min(std::max(e, doc_start(d)), n_);
  }
  uint64_t document_of(uint64_t pos) const override {
    const uint64_t k = static_cast<uint64_t>(std::upper_bound(offsets_, offsets_ + D_, pos * w) - offsets_);
    return k == 0 ? 0 : k - 1;
  }
  // Document d's metadata line without its line end (empty: none). It goes into the record as its "meta" value,
  // so it must be one value, or what follows it would add keys of its own (an "id" among them): checked here.
  std::string_view meta_line(uint64_t d) const {
    if (!has_meta_) return {};
    const uint64_t begin = std::min(meta_offsets_[d], meta_bytes_);
    const uint64_t end = std::min(std::max(d + 1 < D_ ? meta_offsets_[d + 1] : meta_bytes_, begin), meta_bytes_);
    std::string_view line(meta_ + begin, end - begin);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    const size_t value_end = line.empty() ? 0 : skip_value(line, skip_ws(line, 0));
    if (value_end == npos || skip_ws(line, value_end) != line.size())
      throw Error(codes::kCorrupt, file("metadata") + ": the line of document " + std::to_string(first_document_ + d) + " is not one JSON value");
    return line;
  }
  // {"id":"ID"} without metadata, else {"id":"ID","meta":LINE}; ID is path:linenum when the line has both.
  std::string doc_record(uint64_t d) const override {
    const std::string_view line = meta_line(d);
    const std::string id = record_id(d, line);
    if (line.empty()) return "{\"id\":\"" + id + "\"}";
    std::string rec;
    rec.reserve(line.size() + id.size() + 20);
    rec.append("{\"id\":\"").append(id).append("\",\"meta\":").append(line).append("}");
    return rec;
  }
  uint64_t doc_record_bytes(uint64_t d) const override {
    const std::string_view line = meta_line(d);
    const uint64_t id = record_id(d, line).size();
    return line.empty() ? id + 9 : id + line.size() + 17;
  }
  std::string record_id(uint64_t d, std::string_view line) const {
    std::string_view path, linenum;
    if (!line.empty() && path_and_linenum(line, &path, &linenum)) return std::string(path) + ":" + std::string(linenum);
    return std::to_string(first_document_ + d);
  }
  void add_unigram(uint64_t* into) const override {
    for (size_t t = 0; t < unigram_.dense.size(); ++t) into[t] += unigram_.dense[t];
    for (const auto& [t, c] : unigram_.sparse) into[t] += c;
  }

  void verify(CancelFlag* cancel) const override {
    if (n_ < (1ULL << 32)) verify_with<uint32_t>(cancel); else verify_with<uint64_t>(cancel);
    this->check_intact();
  }

  // Offsets again (separators at every document offset), then sampled adjacent table entries: token-aligned
  // stream positions whose suffixes are in byte order (a suffix that ends first sorts first).
  void verify_quick(uint32_t samples, uint64_t seed, CancelFlag* cancel) const override {
    check_cancel(cancel, "verify");
    check_offsets(*files_, w, dir_, suffix_);
    const uint8_t* bytes = reinterpret_cast<const uint8_t*>(text_);
    uint64_t state = seed;
    for (uint32_t s = 0; n_ >= 2 && s < samples; ++s) {
      if (s % 256 == 0) check_cancel(cancel, "verify");
      const uint64_t k = 1 + splitmix64(state) % (n_ - 1);
      if (entry(k - 1) % w != 0 || entry(k) % w != 0)
        throw Error(codes::kCorrupt, file("table") + ": entry near " + std::to_string(k) + " is not a token offset");
      const uint64_t a = this->suffix(k - 1) * w, b = this->suffix(k) * w, total = n_ * w;
      const uint64_t len = std::min({total - a, total - b, kQuickCompareTokens * w});
      const uint64_t i = match_kernel().mismatch(bytes + a, bytes + b, len);
      const bool ordered = i < len ? bytes[a + i] < bytes[b + i] : (len == kQuickCompareTokens * w || total - a < total - b);
      if (a == b || !ordered) throw Error(codes::kCorrupt, file("table") + ": suffixes out of byte order at entry " + std::to_string(k));
    }
    this->check_intact();
  }

 private:
  std::string file(const char* name) const { return dir_ + "/" + name + suffix_; }

  // Table entry i: a byte offset into tokenized, p_ bytes little-endian.
  uint64_t entry(uint64_t i) const {
    const uint8_t* at = table_ + i * p_;
    uint64_t v = 0;
    if (i < fast_entries_) { std::memcpy(&v, at, 8); return v & mask_; }
    std::memcpy(&v, at, p_);
    return v;
  }

  // Separators exactly at the documents' offsets, token range, unigram counts, metadata offsets, and the
  // table: a permutation of every stream position (separators included) in byte order, checked in linear
  // time like traceindex's own shards (ranks of the following suffixes; a suffix that ends ranks lowest).
  template <typename Rank>
  void verify_with(CancelFlag* cancel) const {
    const Token sep = static_cast<Token>(separator());
    const uint64_t V = shape_.vocab_size;
    auto corrupt = [&](const char* name, const std::string& why) { throw Error(codes::kCorrupt, file(name) + ": " + why); };
    uint64_t d = 0;
    for (uint64_t i = 0; i < n_; ++i) {
      if (i % (1 << 22) == 0) check_cancel(cancel, "verify");
      if (text_[i] == sep) {
        if (d >= D_ || offsets_[d] != i * w) corrupt("tokenized", "separator at token " + std::to_string(i) + " is not at a document offset");
        ++d;
      } else if (text_[i] >= V) {
        corrupt("tokenized", "token " + std::to_string(text_[i]) + " at " + std::to_string(i) + " is out of range");
      }
    }
    if (d != D_) corrupt("offset", "documents without a separator at their offset");
    uint64_t seps = 0;
    if (!(count_tokens(text_, n_, declared_vocab_, &seps, file("tokenized")) == unigram_))
      corrupt("tokenized", "unigram counts changed since open");
    if (has_meta_) {
      for (uint64_t k = 1; k < D_; ++k)
        if (meta_offsets_[k] < meta_offsets_[k - 1]) corrupt("metaoff", "offsets out of order");
      for (uint64_t k = 0; k < D_; ++k) meta_line(k);
    }
    const Rank unset = static_cast<Rank>(~Rank(0));
    std::vector<Rank> rank(n_, unset);
    for (uint64_t k = 0; k < n_; ++k) {
      if (k % (1 << 22) == 0) check_cancel(cancel, "verify");
      uint64_t e = entry(k);
      if (e % w != 0 || e / w >= n_ || rank[e / w] != unset) corrupt("table", "not a permutation of the token offsets (entry " + std::to_string(k) + ")");
      rank[e / w] = static_cast<Rank>(k);
    }
    for (uint64_t k = 1; k < n_; ++k) {
      if (k % (1 << 22) == 0) check_cancel(cancel, "verify");
      uint64_t a = position(k - 1), b = position(k);
      uint32_t ka = byte_key(text_[a]), kb = byte_key(text_[b]);
      bool ordered = ka < kb || (ka == kb && (a + 1 == n_ || (b + 1 < n_ && rank[a + 1] < rank[b + 1])));
      if (!ordered) corrupt("table", "suffixes out of byte order at entry " + std::to_string(k));
    }
  }

  std::string suffix_;
  int p_;
  uint64_t first_document_;
  uint64_t declared_vocab_;  // 0: derived from the tokens
  UnigramCounts unigram_;
  std::shared_ptr<IgFiles> files_;
  uint64_t D_ = 0;
  const uint8_t* table_ = nullptr;
  uint64_t fast_entries_ = 0, mask_ = 0;
  const uint64_t* offsets_ = nullptr;
  const uint64_t* meta_offsets_ = nullptr;
  const char* meta_ = nullptr;
  uint64_t meta_bytes_ = 0;
  bool has_meta_ = false;
};

template <typename Token>
std::unique_ptr<Shard> make(const std::string& dir, const std::string& suffix, ShardShape shape, int p,
                            std::shared_ptr<IgFiles> files, uint64_t first_document, const std::string& tok_path) {
  uint64_t seps = 0;
  auto counts = count_tokens(reinterpret_cast<const Token*>(files->tokenized.data()), shape.tokens, shape.vocab_size, &seps, tok_path);
  if (seps != shape.documents)
    throw Error(codes::kCorrupt, tok_path + ": " + std::to_string(seps) + " separators for " + std::to_string(shape.documents) +
                                     " documents (a separator inside a document, or a document without one)");
  const uint64_t declared = shape.vocab_size;
  if (!declared) shape.vocab_size = counts.dense.size();
  return std::unique_ptr<Shard>(new InfinigramShard<Token>(dir, suffix, shape, p, std::move(files), first_document, declared, std::move(counts)));
}

}  // namespace

std::unique_ptr<Shard> open_infinigram_shard(const std::string& dir, const std::string& suffix, int w, uint64_t vocab_size,
                                             uint64_t first_document) {
  if (w != 1 && w != 2 && w != 4)
    throw Error(codes::kInvalidArgument, dir + ": token width " + std::to_string(w) + " is not 1, 2 or 4 (infini-gram's u8, u16, u32)");
  const uint64_t sep = separator_of(w);
  if (vocab_size > sep)
    throw Error(codes::kInvalidArgument, dir + ": vocabulary size " + std::to_string(vocab_size) + " does not fit token width " + std::to_string(w));
  if (vocab_size > kMaxVocab)
    throw Error(codes::kInvalidArgument, dir + ": vocabulary size " + std::to_string(vocab_size) + " is above 2^28");
  auto path = [&](const char* name) { return dir + "/" + name + suffix; };
  auto corrupt = [&](const char* name, const std::string& why) { throw Error(codes::kCorrupt, path(name) + ": " + why); };
  auto files = std::make_shared<IgFiles>();

  files->tokenized = MappedFile::open(path("tokenized"));
  const uint64_t bytes = files->tokenized.size();
  if (bytes == 0 || bytes % w != 0)
    corrupt("tokenized", std::to_string(bytes) + " bytes is not a positive multiple of the token width " + std::to_string(w));
  const uint64_t n = bytes / w;

  files->offset = MappedFile::open(path("offset"), AccessPattern::WillNeed);
  const uint64_t obytes = files->offset.size();
  if (obytes == 0 || obytes % 8 != 0) corrupt("offset", std::to_string(obytes) + " bytes is not a positive multiple of 8");
  const uint64_t D = obytes / 8;
  if (D > n) corrupt("offset", std::to_string(D) + " documents for " + std::to_string(n) + " tokens");

  files->table = MappedFile::open(path("table"));
  const uint64_t tbytes = files->table.size();
  int p_expected = 1;  // the indexer's ceil(log2(bytes) / 8): the fewest bytes that hold every byte offset
  while (p_expected < 8 && (bytes - 1) >> (8 * p_expected) != 0) ++p_expected;
  if (tbytes != n * p_expected)
    corrupt("table", std::to_string(tbytes) + " bytes, expected " + std::to_string(n) + " entries (one per token, separators included) of " +
                         std::to_string(p_expected) + " bytes");

  const bool has_metadata = file_exists(path("metadata")), has_metaoff = file_exists(path("metaoff"));
  if (has_metadata != has_metaoff) corrupt(has_metadata ? "metaoff" : "metadata", "missing (metadata and metaoff come together)");
  if (has_metadata) {
    files->metadata = MappedFile::open(path("metadata"));
    files->metaoff = MappedFile::open(path("metaoff"), AccessPattern::WillNeed);
    if (files->metaoff.size() != 8 * D)
      corrupt("metaoff", std::to_string(files->metaoff.size()) + " bytes, expected 8 per document (" + std::to_string(D) + ")");
  }
  check_offsets(*files, w, dir, suffix);

  ShardShape shape{w, n, D, vocab_size};
  const std::string tok_path = path("tokenized");
  switch (w) {
    case 1: return make<uint8_t>(dir, suffix, shape, p_expected, std::move(files), first_document, tok_path);
    case 2: return make<uint16_t>(dir, suffix, shape, p_expected, std::move(files), first_document, tok_path);
    default: return make<uint32_t>(dir, suffix, shape, p_expected, std::move(files), first_document, tok_path);
  }
}

}  // namespace traceindex
