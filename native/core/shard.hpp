// One shard opened read-only: its files memory-mapped and checked against the manifest's shape, and the
// exact-match search kernels over its suffix array. Every method is const and safe to call from many threads.
//
// Invariants the search relies on (checked on open, re-checked in full by verify()):
//   - tokens end with a separator and every document is followed by exactly one;
//   - a query never contains the separator, so a match never crosses a document boundary and a
//     comparison always resolves before the end of the text;
//   - the separator is the largest token, so suffixes that start with one sort last (and are not stored),
//     and within any SA range the suffixes followed by a separator come last.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "error.hpp"
#include "mapped_file.hpp"
#include "shard_format.hpp"

namespace traceindex {

struct SaRange {
  uint64_t lo = 0, hi = 0;  // [lo, hi) into the stored suffix array
  uint64_t size() const { return hi - lo; }
};

struct TokenCount {
  uint32_t token;
  uint64_t count;
};

// What Shard::warm did: files and bytes warmed; how many files the kernel took the WILLNEED advice for and how
// many were populated by MADV_POPULATE_READ (the others by reading one byte per page).
struct WarmStats {
  uint64_t files = 0, bytes = 0, advised = 0, populated = 0;
  WarmStats& operator+=(const WarmStats& o) {
    files += o.files; bytes += o.bytes; advised += o.advised; populated += o.populated;
    return *this;
  }
};

// Set to non-zero by another thread to stop a long operation (it then throws Error(ERR_ABORTED)).
using CancelFlag = const std::atomic<uint8_t>;

inline void check_cancel(CancelFlag* cancel, const char* what = "operation") {
  if (cancel && cancel->load(std::memory_order_relaxed)) throw Error(codes::kAborted, std::string(what) + " aborted");
}

// The interface every on-disk format implements: traceindex's own shards (Shard::open, shard.cpp) and
// infini-gram's (open_infinigram_shard, infinigram_shard.cpp). Each implementation keeps its search path
// non-virtual inside itself; a virtual call is made per query step, never per comparison.
class Shard {
 public:
  static std::unique_ptr<Shard> open(const std::string& dir, const ShardShape& shape);
  virtual ~Shard() = default;

  // shape().tokens counts the shard's stream tokens, one separator per document included, so
  // shape().tokens - shape().documents is its document tokens in both formats.
  const ShardShape& shape() const { return shape_; }
  const std::string& dir() const { return dir_; }
  uint64_t separator() const { return separator_of(shape_.token_width); }
  virtual const char* format() const = 0;  // "traceindex" or "infini-gram"
  // Suffixes the search ranges index: [0, stored_suffixes()) holds every suffix that starts at a document token.
  virtual uint64_t stored_suffixes() const = 0;
  // Entries of the on-disk suffix array, the ranks suffix(rank) accepts: [0, rank_count()). traceindex stores
  // document-token suffixes only (stored_suffixes()); infini-gram's table holds every stream position, so its
  // separator suffixes follow as [stored_suffixes(), rank_count()) (an all-ones token sorts last).
  virtual uint64_t rank_count() const { return stored_suffixes(); }

  // Patterns are token ids < vocab_size (callers check; see Index). m may be 0 (matches every suffix).
  virtual SaRange find(const uint32_t* pattern, size_t m) const = 0;
  // find() of `count` patterns (out[i] = find(patterns[i], lengths[i])), with up to kLanes searches advanced
  // in lockstep so their cache misses overlap. Checks `cancel` every 1024 patterns ("<what> aborted").
  virtual void find_many(const uint32_t* const* patterns, const size_t* lengths, size_t count, SaRange* out,
                         CancelFlag* cancel = nullptr, const char* what = "query") const = 0;
  static constexpr size_t kLanes = 16;
  // L[i] = the length of the longest prefix of o[i, ends[i]) that occurs, for every i < m (ends[i] <= m;
  // tokens < vocab_size). Each position is one search for where its pattern would sort, the longest common
  // prefix with the suffixes probed on the way being the answer; kLanes of them advance in lockstep, like
  // find_many's. Checks `cancel` every 1024 positions ("trace aborted").
  virtual void prefix_lengths(const uint32_t* o, const uint32_t* ends, size_t m, uint32_t* L, CancelFlag* cancel = nullptr) const = 0;
  // Sub-range of `range` (whose suffixes share their first k tokens) whose token at offset k is `token`.
  virtual SaRange extend(SaRange range, size_t k, uint32_t token) const = 0;
  // Longest prefix of q that occurs: its length and SA range (the whole SA for length 0).
  virtual size_t longest_prefix(const uint32_t* q, size_t m, SaRange* range) const = 0;
  // Distinct tokens following the m-token match of `range`, ascending by token; separators excluded.
  virtual void next_tokens(SaRange range, size_t m, std::vector<TokenCount>& out) const = 0;
  // Whether some occurrence of the m-token match of `range` is followed by a token (not a separator).
  virtual bool has_continuation(SaRange range, size_t m) const = 0;
  virtual uint64_t suffix(uint64_t sa_index) const = 0;
  virtual uint32_t token(uint64_t pos) const = 0;
  // Full check: token range, separators at document ends, unigram counts, suffix order (linear time,
  // n pointer-width words of extra memory), meta offsets, and every sampled key (v2) against its suffix.
  virtual void verify(CancelFlag* cancel) const = 0;
  // Quick check, no extra memory: the open-time structure again (every document and record offset, unigram
  // sums), the separator after `samples` random documents (every one if there are no more), and `samples`
  // random adjacent suffix-array pairs in range and in order (each compared over at most kQuickCompareTokens
  // tokens), and `samples` random sampled keys (v2) against their suffixes. Deterministic for a given seed.
  virtual void verify_quick(uint32_t samples, uint64_t seed, CancelFlag* cancel) const = 0;
  static constexpr uint64_t kQuickCompareTokens = 1 << 16;

  virtual uint64_t documents() const { return shape_.documents; }
  // Document d's tokens are positions [doc_start(d), doc_end(d)) of the shard's stream.
  virtual uint64_t doc_start(uint64_t d) const = 0;
  virtual uint64_t doc_end(uint64_t d) const = 0;
  // The document holding token position pos (a position of a document token).
  virtual uint64_t document_of(uint64_t pos) const = 0;
  // The document's record: a JSON object {"id": ..., "meta": ...} (docs/FORMAT.md).
  virtual std::string doc_record(uint64_t d) const = 0;
  // doc_record(d).size(), without building it (budgets refuse a record before it is copied).
  virtual uint64_t doc_record_bytes(uint64_t d) const = 0;
  // What a record costs in a result budget counted in tokens: a token per 4 bytes (a document's metadata is
  // repeated with each of its results, and may be megabytes).
  uint64_t doc_record_cost(uint64_t d) const { return doc_record_bytes(d) / 4; }
  // Adds the counts of token ids [0, shape().vocab_size) over the shard's documents (separators excluded) to
  // into[0, shape().vocab_size).
  virtual void add_unigram(uint64_t* into) const = 0;

  // The files mapped for this shard (their identities let an index refuse a shard listed twice).
  const std::vector<const MappedFile*>& files() const { return files_view_; }
  // Warms every mapping of the shard: each marked sequential and madvise(WILLNEED) first (the kernel starts
  // reading them all), then every page faulted in (platform::populate_read: MADV_POPULATE_READ, or one read per
  // page), then each file's own hint restored; on return the pages were in the page cache and mapped in this
  // process. Checks `cancel` between chunks of 64 MiB ("advise aborted"); ERR_IO if a file shrank under its
  // mapping meanwhile.
  WarmStats warm(CancelFlag* cancel = nullptr) const;
  // Throws Error(ERR_IO) if a read of one of the shard's mappings faulted since it was opened (the file was
  // truncated or became unreadable under it): answers computed since then are not to be trusted. One atomic
  // load when no fault ever happened in the process.
  void check_intact() const {
    if (MappedFile::faults() != 0) check_files();
  }

 protected:
  Shard() = default;
  void check_files() const;
  std::string dir_;
  ShardShape shape_;
  std::vector<const MappedFile*> files_view_;
};

}  // namespace traceindex
