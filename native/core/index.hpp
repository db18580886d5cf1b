// An index = its shards in document order, queried as one: counts add, locate pages across shards in
// (shard, position) order, longest matches and next-token distributions merge exactly (the per-shard parts
// and merges: batch.hpp). Document numbers are global: shard s holds documents [first_doc(s), first_doc(s) + D_s).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "scoring.hpp"
#include "shard.hpp"

namespace traceindex {

namespace detail {
// Memory mappings an open leaves for the rest of the process (at least; an eighth of vm.max_map_count when that
// is more); tests raise it to take the refusal.
extern uint64_t map_reserve;
}  // namespace detail

struct TokenBytes;  // documents.hpp

struct ShardSpec {
  std::string dir;
  // traceindex: the manifest's shape, checked against every file. infini-gram: only token_width is read, and
  // vocab_size if non-zero (else the separator for u8/u16, the largest id + 1 for u32); the counts come
  // from the files.
  ShardShape shape;
  std::string format = "traceindex";  // or "infini-gram"
  std::string suffix;                 // infini-gram: the files' suffix, "" or ".N"
};

struct Occurrence {
  uint64_t document;   // global document number
  uint64_t offset;     // token offset within the document
  uint32_t shard;
  uint64_t position;   // token position within the shard
};

struct LongestMatch {
  size_t length = 0;   // tokens of the query's prefix that occur
  uint64_t count = 0;  // occurrences of that prefix (all documents' tokens when length = 0)
};

struct NextTokens {
  size_t suffix_length = 0;  // the longest suffix of the context that occurs followed by a token
  uint64_t total = 0;        // occurrences of that suffix followed by a token
  std::vector<TokenCount> tokens;  // ascending by token id
};

enum class VerifyLevel {
  Quick,  // per shard: Shard::verify_quick (structure, offsets, unigram sums, sampled suffix order; no extra memory)
  Full,   // per shard: Shard::verify (every token and suffix; linear time, n pointer-width words of memory)
};

class Index {
 public:
  // Opens and checks every shard; one format per index. A file that backs two shards (the same shard listed
  // twice, through another name, a symlink or a hard link) is refused with ERR_INDEX_CORRUPT.
  explicit Index(const std::vector<ShardSpec>& specs);

  int token_width() const { return token_width_; }
  uint64_t vocab_size() const { return vocab_size_; }
  uint64_t documents() const { return first_doc_.back(); }
  uint64_t tokens() const { return tokens_; }  // document tokens, separators excluded
  size_t shard_count() const { return shards_.size(); }
  const Shard& shard(size_t i) const { return *shards_[i]; }

  // Throws ERR_TOKEN_RANGE (naming the offending id) if a query token is outside the vocabulary.
  void check_query(const uint32_t* q, size_t m) const;

  uint64_t count(const uint32_t* q, size_t m) const;
  // Occurrences [offset, offset + limit) in (shard, position) order; *total gets the full count.
  std::vector<Occurrence> locate(const uint32_t* q, size_t m, uint64_t offset, uint64_t limit, uint64_t* total,
                                 CancelFlag* cancel = nullptr) const;
  LongestMatch longest_match(const uint32_t* q, size_t m) const;
  NextTokens next_tokens(const uint32_t* context, size_t m) const;
  const std::vector<uint64_t>& unigram_counts() const { return unigram_; }
  // -ln P_train over the vocabulary, from the exact unigram counts of all shards.
  const Surprisal& surprisal() const { return *surprisal_; }

  // Every shard, in order; Quick draws `samples` adjacent suffix-array pairs per shard (seeded, deterministic).
  void verify(VerifyLevel level, CancelFlag* cancel = nullptr, uint32_t samples = 4096, uint64_t seed = 0) const;
  // Shard::warm over every shard, in order (the binding runs one pool task per shard instead).
  WarmStats warm(CancelFlag* cancel = nullptr) const;
  // Throws ERR_IO if a mapped file of the index shrank or became unreadable since open (a read of it faulted
  // and was answered with zeros; see MappedFile). The core's query entry points call it before returning;
  // callers that read documents through Shard directly call it after.
  void check_intact() const {
    if (MappedFile::faults() != 0)
      for (auto& s : shards_) s->check_intact();
  }

  uint64_t first_document(size_t shard) const { return first_doc_[shard]; }
  // Global document number -> (shard, local document).
  std::pair<uint32_t, uint64_t> locate_document(uint64_t document) const;

  // The tokenizer's byte lengths (documents.hpp), given by the binding at most once, when a query first needs byte
  // offsets: occurrences then carry them, computed off the JS thread. Atomic, as queries may run meanwhile (those
  // that see none leave the offsets to the caller).
  void set_token_bytes(std::shared_ptr<const TokenBytes> table) const { std::atomic_store(&token_bytes_, std::move(table)); }
  std::shared_ptr<const TokenBytes> token_bytes() const { return std::atomic_load(&token_bytes_); }

 private:
  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<uint64_t> first_doc_;  // prefix sums of documents, size shards + 1
  int token_width_ = 0;
  uint64_t vocab_size_ = 0;
  uint64_t tokens_ = 0;
  std::vector<uint64_t> unigram_;
  std::unique_ptr<Surprisal> surprisal_;
  mutable std::shared_ptr<const TokenBytes> token_bytes_;
};

}  // namespace traceindex
