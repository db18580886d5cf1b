#include "index.hpp"

#include <algorithm>
#include <cstdint>
#include <map>

#include "batch.hpp"
#include "error.hpp"
#include "infinigram_shard.hpp"
#include "platform.hpp"

namespace traceindex {

namespace detail {
uint64_t map_reserve = 8192;
}  // namespace detail

Index::Index(const std::vector<ShardSpec>& specs) {
  if (specs.empty()) throw Error(codes::kCorrupt, "an index needs at least one shard");
  // Every file of a shard is its own mapping (up to kMapsPerShard with the huge-page alignment), and a process
  // that runs out of them dies in V8 (a heap it cannot grow is fatal), not here. So an open that would leave
  // fewer than detail::map_reserve (or an eighth of the limit) is refused while nothing is mapped.
  constexpr size_t kMapsPerShard = 8;
  size_t limit = 0;
  const size_t left = platform::map_slots_left(&limit);
  if (left != SIZE_MAX) {
    const size_t need = specs.size() * kMapsPerShard, reserve = std::max<size_t>(detail::map_reserve, limit / 8);
    if (need + reserve > left)
      throw Error(codes::kNoMemory, std::to_string(specs.size()) + " shards need up to " + std::to_string(need) +
                                        " memory mappings; this process may create " + std::to_string(left) +
                                        " more (vm.max_map_count " + std::to_string(limit) + "), of which " +
                                        std::to_string(reserve) + " stay for the JavaScript heap: raise " +
                                        "vm.max_map_count (sysctl) or open fewer shards at once");
  }
  first_doc_.push_back(0);
  std::map<FileId, std::string> seen;  // every mapped file of the shards opened so far
  for (const ShardSpec& s : specs) {
    std::unique_ptr<Shard> shard;
    if (s.format == "infini-gram") {
      shard = open_infinigram_shard(s.dir, s.suffix, s.shape.token_width, s.shape.vocab_size, first_doc_.back());
    } else if (s.format == "traceindex" || s.format.empty()) {
      if (!shards_.empty() && (s.shape.token_width != token_width_ || s.shape.vocab_size != vocab_size_))
        throw Error(codes::kCorrupt, s.dir + ": token width or vocabulary differs from the other shards");
      shard = Shard::open(s.dir, s.shape);
    } else {
      throw Error(codes::kInvalidArgument, s.dir + ": unknown index format \"" + s.format + "\"");
    }
    for (const MappedFile* f : shard->files()) {
      auto [it, fresh] = seen.emplace(f->id(), f->path());
      if (!fresh)
        throw Error(codes::kCorrupt, f->path() + " is the same file as " + it->second +
                                         ": a shard is listed twice (through another name or a link)");
    }
    const ShardShape& shape = shard->shape();
    if (!shards_.empty() && (std::string(shard->format()) != shards_[0]->format() || shape.token_width != token_width_))
      throw Error(codes::kCorrupt, s.dir + s.suffix + ": format or token width differs from the other shards");
    token_width_ = shape.token_width;
    vocab_size_ = std::max(vocab_size_, shape.vocab_size);  // equal for traceindex shards (checked above)
    first_doc_.push_back(first_doc_.back() + shard->documents());
    tokens_ += shape.tokens - shape.documents;
    shards_.push_back(std::move(shard));
  }
  unigram_.assign(vocab_size_, 0);
  for (auto& s : shards_) s->add_unigram(unigram_.data());
  surprisal_ = std::make_unique<Surprisal>(unigram_, tokens_);
}

void Index::check_query(const uint32_t* q, size_t m) const {
  for (size_t i = 0; i < m; ++i)
    if (q[i] >= vocab_size_)
      throw Error(codes::kTokenRange, "query token " + std::to_string(q[i]) + " at position " + std::to_string(i) +
                                          " is out of range (vocabulary size " + std::to_string(vocab_size_) + ")");
}

// The queries below are one-query forms of native/core/batch.* (which holds every merge over shards).

uint64_t Index::count(const uint32_t* q, size_t m) const { return count_batch(*this, Queries::one(q, m))[0]; }

std::vector<Occurrence> Index::locate(const uint32_t* q, size_t m, uint64_t offset, uint64_t limit, uint64_t* total,
                                     CancelFlag* cancel) const {
  LocatePage page = locate_page(*this, q, m, offset, limit, cancel);
  *total = page.total;
  return std::move(page.hits);
}

LongestMatch Index::longest_match(const uint32_t* q, size_t m) const { return longest_batch(*this, Queries::one(q, m))[0]; }

NextTokens Index::next_tokens(const uint32_t* ctx, size_t m) const { return std::move(next_batch(*this, Queries::one(ctx, m))[0]); }

WarmStats Index::warm(CancelFlag* cancel) const {
  WarmStats st;
  for (const auto& s : shards_) st += s->warm(cancel);
  return st;
}

void Index::verify(VerifyLevel level, CancelFlag* cancel, uint32_t samples, uint64_t seed) const {
  for (auto& s : shards_) {
    try {
      if (level == VerifyLevel::Full) s->verify(cancel);
      else s->verify_quick(samples, seed, cancel);
    } catch (const Error& e) {
      if (e.code == codes::kCorrupt) s->check_intact();  // damage seen through a faulted mapping is the fault
      throw;
    }
  }
  check_intact();
}

std::pair<uint32_t, uint64_t> Index::locate_document(uint64_t document) const {
  if (document >= documents())
    throw Error(codes::kInvalidArgument, "document " + std::to_string(document) + " does not exist (the index holds " +
                                         std::to_string(documents()) + ")");
  size_t si = std::upper_bound(first_doc_.begin(), first_doc_.end(), document) - first_doc_.begin() - 1;
  return {static_cast<uint32_t>(si), document - first_doc_[si]};
}

}  // namespace traceindex
