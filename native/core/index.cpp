#include "index.hpp"

#include <algorithm>
#include <map>
#include <queue>

#include "error.hpp"
#include "infinigram_shard.hpp"

namespace traceindex {

Index::Index(const std::vector<ShardSpec>& specs) {
  if (specs.empty()) throw Error(codes::kCorrupt, "an index needs at least one shard");
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
  for (auto& s : shards_) {
    const uint64_t* u = s->unigram();
    for (uint64_t t = 0, v = s->shape().vocab_size; t < v; ++t) unigram_[t] += u[t];
  }
  surprisal_ = std::make_unique<Surprisal>(unigram_, tokens_);
}

void Index::check_query(const uint32_t* q, size_t m) const {
  for (size_t i = 0; i < m; ++i)
    if (q[i] >= vocab_size_)
      throw Error(codes::kTokenRange, "query token " + std::to_string(q[i]) + " at position " + std::to_string(i) +
                                          " is out of range (vocabulary size " + std::to_string(vocab_size_) + ")");
}

uint64_t Index::count(const uint32_t* q, size_t m) const {
  uint64_t c = 0;
  for (auto& s : shards_) c += s->find(q, m).size();
  check_intact();
  return c;
}

std::vector<Occurrence> Index::locate(const uint32_t* q, size_t m, uint64_t offset, uint64_t limit, uint64_t* total,
                                     CancelFlag* cancel) const {
  std::vector<Occurrence> out;
  uint64_t skip = offset;
  *total = 0;
  for (uint32_t si = 0; si < shards_.size(); ++si) {
    const Shard& s = *shards_[si];
    SaRange r = s.find(q, m);
    *total += r.size();
    if (out.size() >= limit || r.size() == 0) continue;
    if (skip >= r.size()) { skip -= r.size(); continue; }
    // The smallest skip + want positions of the range, by a bounded max-heap over one sequential SA scan.
    const uint64_t want = std::min<uint64_t>(limit - out.size(), r.size() - skip), keep = skip + want;
    std::vector<uint64_t> pos;
    if (keep >= r.size()) {
      for (uint64_t i = r.lo; i < r.hi; ++i) pos.push_back(s.suffix(i));
      std::sort(pos.begin(), pos.end());
    } else {
      std::priority_queue<uint64_t> heap;
      for (uint64_t i = r.lo; i < r.hi; ++i) {
        if (((i - r.lo) & 0xFFFF) == 0) check_cancel(cancel, "locate");
        uint64_t p = s.suffix(i);
        if (heap.size() < keep) heap.push(p);
        else if (p < heap.top()) { heap.pop(); heap.push(p); }
      }
      pos.resize(heap.size());
      for (size_t k = pos.size(); k-- > 0;) { pos[k] = heap.top(); heap.pop(); }
    }
    for (uint64_t k = skip; k < keep; ++k) {
      uint64_t d = s.document_of(pos[k]);
      out.push_back({first_doc_[si] + d, pos[k] - s.doc_start(d), si, pos[k]});
    }
    skip = 0;
  }
  check_intact();
  return out;
}

LongestMatch Index::longest_match(const uint32_t* q, size_t m) const {
  LongestMatch best;
  for (auto& s : shards_) {
    SaRange r;
    size_t len = s->longest_prefix(q, m, &r);
    if (len > best.length) best = {len, r.size()};
    else if (len == best.length) best.count += r.size();
  }
  check_intact();
  return best;
}

NextTokens Index::next_tokens(const uint32_t* ctx, size_t m) const {
  // Per shard, the longest suffix ctx[i:] that occurs followed by a token; "occurs followed by a token" is
  // monotone in i, so binary search on i. The index-wide answer is the longest over shards, and only shards
  // reaching that length contribute (a shorter shard's longest would otherwise be longer).
  struct Best { size_t len; SaRange range; };
  std::vector<Best> per(shards_.size());
  size_t longest = 0;
  for (size_t si = 0; si < shards_.size(); ++si) {
    const Shard& s = *shards_[si];
    size_t lo = 0, hi = m;  // answer: smallest start i in [0, m] with a continuation (i = m: empty suffix)
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      SaRange r = s.find(ctx + mid, m - mid);
      if (s.has_continuation(r, m - mid)) hi = mid; else lo = mid + 1;
    }
    per[si] = {m - lo, s.find(ctx + lo, m - lo)};
    longest = std::max(longest, m - lo);
  }
  NextTokens out;
  out.suffix_length = longest;
  std::vector<TokenCount> part;
  for (size_t si = 0; si < shards_.size(); ++si) {
    if (per[si].len != longest) continue;
    part.clear();
    shards_[si]->next_tokens(per[si].range, longest, part);
    std::vector<TokenCount> merged;
    merged.reserve(out.tokens.size() + part.size());
    size_t a = 0, b = 0;
    while (a < out.tokens.size() || b < part.size()) {
      if (b == part.size() || (a < out.tokens.size() && out.tokens[a].token < part[b].token)) merged.push_back(out.tokens[a++]);
      else if (a == out.tokens.size() || part[b].token < out.tokens[a].token) merged.push_back(part[b++]);
      else { merged.push_back({part[b].token, part[b].count + out.tokens[a].count}); ++a; ++b; }
    }
    out.tokens.swap(merged);
  }
  for (auto& tc : out.tokens) out.total += tc.count;
  check_intact();
  return out;
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
