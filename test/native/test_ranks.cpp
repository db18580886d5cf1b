// Suffix-array ranks (infini-gram's find and get_doc_by_rank): rank_part / merge_ranks and documents_by_rank on
// sharded indexes of both formats, against an oracle that sorts each shard's suffixes itself (token values for
// traceindex's shards; little-endian bytes, separators included, for infini-gram's) and cuts the display
// windows from the documents.
#include <algorithm>
#include <atomic>
#include <random>
#include <string>
#include <vector>

#include "batch.hpp"
#include "check.hpp"
#include "documents.hpp"
#include "error.hpp"
#include "fixtures.hpp"

using namespace traceindex;
using namespace fixtures;

namespace {

// One suffix of a shard's stream: its document (local) and its offset there; offset -1 is infini-gram's
// separator before the document.
struct Suffix {
  uint64_t doc;
  int64_t offset;
};

// A shard's suffixes in rank order, and each rank's token keys to compare with queries.
struct ShardOracle {
  std::vector<Doc> docs;
  std::vector<uint64_t> keys;     // the stream as sort keys
  std::vector<uint64_t> order;    // positions in rank order
  std::vector<Suffix> at;         // by position
  uint64_t key(uint32_t t) const {
    if (w == 1) return t;
    if (w == 2) return ((t & 0xFF) << 8) | (t >> 8);
    return __builtin_bswap32(t);
  }
  int w;
  bool ig;

  ShardOracle(std::vector<Doc> d, int width, bool infinigram) : docs(std::move(d)), w(width), ig(infinigram) {
    const uint64_t sep = uint64_t(1) << 40;  // larger than every token key
    for (size_t i = 0; i < docs.size(); ++i) {
      if (ig) { keys.push_back(sep); at.push_back({i, -1}); }
      for (size_t k = 0; k < docs[i].size(); ++k) {
        keys.push_back(ig ? key(docs[i][k]) : docs[i][k]);
        at.push_back({i, int64_t(k)});
      }
      if (!ig) { keys.push_back(sep); at.push_back({i, -2}); }
    }
    for (uint64_t p = 0; p < keys.size(); ++p)
      if (at[p].offset != -2) order.push_back(p);  // traceindex stores no separator suffixes
    std::sort(order.begin(), order.end(), [&](uint64_t a, uint64_t b) {
      return std::lexicographical_compare(keys.begin() + a, keys.end(), keys.begin() + b, keys.end());
    });
  }
  // <0, 0 (q is a prefix of the suffix) or >0.
  int compare(uint64_t p, const Doc& q) const {
    for (size_t k = 0; k < q.size(); ++k) {
      if (p + k >= keys.size()) return -1;
      const uint64_t a = keys[p + k], b = ig ? key(q[k]) : q[k];
      if (a != b) return a < b ? -1 : 1;
    }
    return 0;
  }
  SaRange range(const Doc& q) const {
    if (q.empty()) return {0, order.size()};
    SaRange r{0, 0};
    for (uint64_t p : order) {
      const int c = compare(p, q);
      if (c < 0) ++r.lo;
      else if (c == 0) ++r.hi;
    }
    r.hi += r.lo;
    return r;
  }
};

struct Sharded {
  TempDir tmp;
  std::vector<ShardOracle> shards;
  std::unique_ptr<Index> index;
};

std::unique_ptr<Sharded> make(std::mt19937& rng, int round, bool ig) {
  auto out = std::make_unique<Sharded>();
  const int w = 1 << (round % 3);
  const uint32_t alphabet = 2 + rng() % 4;
  std::vector<ShardSpec> specs;
  const int count = 1 + rng() % 3;
  for (int s = 0; s < count; ++s) {
    std::vector<Doc> docs = random_docs(rng, round % 4, alphabet);
    // Ids whose byte order is not their value order (u16 0x0100 sorts before 0x0001 in infini-gram's tables).
    if (w > 1) for (auto& d : docs) for (auto& t : d) t = t % 2 ? (t << 8) : t;
    if (ig) {
      IgOptions o;
      o.suffix = "." + std::to_string(s);
      o.metadata = s % 2 == 0;
      specs.push_back(write_ig(out->tmp.path / "ig", docs, w, o));
    } else {
      specs.push_back(write_any(out->tmp.path / ("s" + std::to_string(s)), docs, w, w == 1 ? 200 : 3000));
    }
    out->shards.emplace_back(docs, w, ig);
  }
  out->index = std::make_unique<Index>(specs);
  return out;
}

Doc query_of(std::mt19937& rng, const ShardOracle& o) {
  Doc q;
  const Doc& d = o.docs[rng() % o.docs.size()];
  if (!d.empty() && rng() % 4) {
    size_t a = rng() % d.size(), len = 1 + rng() % std::min<size_t>(6, d.size() - a);
    q.assign(d.begin() + a, d.begin() + a + len);
  }
  if (rng() % 5 == 0) q.push_back(rng() % 3 == 0 ? 199 : 1);  // misses, some sorting after everything
  return q;
}

}  // namespace

TEST(ranks_are_each_shards_suffix_array_range) {
  std::mt19937 rng(4242);
  for (int round = 0; round < check::scaled(48); ++round) {
    const bool ig = round % 2;
    auto c = make(rng, round / 2, ig);
    const Index& idx = *c->index;
    std::vector<Doc> qs;
    for (int k = 0; k < 12; ++k) qs.push_back(query_of(rng, c->shards[rng() % c->shards.size()]));
    qs.push_back({});
    std::vector<uint32_t> tokens, offsets{0};
    for (const Doc& q : qs) { tokens.insert(tokens.end(), q.begin(), q.end()); offsets.push_back(tokens.size()); }
    const Queries view(tokens.data(), offsets.data(), qs.size());
    std::vector<std::vector<SaRange>> parts;
    for (size_t s = 0; s < idx.shard_count(); ++s) parts.push_back(rank_part(idx.shard(s), view));
    const std::vector<SaRange> got = merge_ranks(parts);
    CHECK_EQ(got.size(), qs.size() * idx.shard_count());
    for (size_t q = 0; q < qs.size(); ++q)
      for (size_t s = 0; s < idx.shard_count(); ++s) {
        const SaRange want = c->shards[s].range(qs[q]);
        CHECK_EQ(got[q * idx.shard_count() + s].lo, want.lo);
        CHECK_EQ(got[q * idx.shard_count() + s].hi, want.hi);
        CHECK_EQ(idx.shard(s).rank_count(), uint64_t(c->shards[s].order.size()));
      }
    // One query alone takes the single-search path.
    const Doc& one = qs[0];
    for (size_t s = 0; s < idx.shard_count(); ++s) {
      const SaRange r = rank_part(idx.shard(s), Queries::one(one.data(), one.size()))[0];
      CHECK_EQ(r.lo, c->shards[s].range(one).lo);
      CHECK_EQ(r.hi, c->shards[s].range(one).hi);
    }
  }
}

TEST(documents_by_rank_cut_windows_like_infinigram) {
  std::mt19937 rng(777);
  for (int round = 0; round < check::scaled(48); ++round) {
    const bool ig = round % 2;
    auto c = make(rng, round / 2, ig);
    const Index& idx = *c->index;
    std::vector<uint32_t> shards;
    std::vector<uint64_t> ranks;
    for (size_t s = 0; s < idx.shard_count(); ++s)
      for (uint64_t r = 0; r < c->shards[s].order.size(); ++r) { shards.push_back(uint32_t(s)); ranks.push_back(r); }
    for (uint64_t m : {uint64_t(1), uint64_t(2), uint64_t(5), uint64_t(1000)}) {
      RankedDocuments got = documents_by_rank(idx, shards, ranks, m);
      CHECK_EQ(got.documents.size(), ranks.size());
      for (size_t i = 0; i < ranks.size(); ++i) {
        const ShardOracle& o = c->shards[shards[i]];
        const Suffix suf = o.at[o.order[ranks[i]]];
        const Doc& d = o.docs[suf.doc];
        const int64_t half = int64_t(m / 2), len = int64_t(d.size());
        const int64_t lo = std::max<int64_t>(0, suf.offset - half);
        const int64_t hi = std::max(lo, std::min(len, suf.offset + int64_t(m) - half));
        CHECK_EQ(got.documents[i], idx.first_document(shards[i]) + suf.doc);
        CHECK_EQ(got.lengths[i], uint64_t(len));
        CHECK_EQ(got.needle_offsets[i], suf.offset - lo);
        CHECK_EQ(got.token_offsets[i + 1] - got.token_offsets[i], uint64_t(hi - lo));
        CHECK(std::equal(d.begin() + lo, d.begin() + hi, got.tokens.begin() + got.token_offsets[i]));
        CHECK_EQ(got.records[i], idx.shard(shards[i]).doc_record(suf.doc));
        if (!ig) CHECK(suf.offset >= 0);
      }
      // max_cost: the windows' tokens and each item's record (a token per 4 bytes) exactly; one less refused.
      uint64_t cost = got.tokens.size();
      for (const std::string& rec : got.records) cost += rec.size() / 4;
      CHECK_EQ(documents_by_rank(idx, shards, ranks, m, nullptr, cost).tokens.size(), got.tokens.size());
      if (cost > 0) CHECK_THROWS_CODE(documents_by_rank(idx, shards, ranks, m, nullptr, cost - 1), codes::kTooLarge);
    }
    // Bounds: every item checked before any work.
    const uint32_t last = uint32_t(idx.shard_count() - 1);
    CHECK_THROWS_CODE(documents_by_rank(idx, {0, last + 1}, {0, 0}, 10), codes::kInvalidArgument);
    CHECK_THROWS_CODE(documents_by_rank(idx, {last}, {idx.shard(last).rank_count()}, 10), codes::kInvalidArgument);
    CHECK_THROWS_CODE(documents_by_rank(idx, {0}, {0}, 0), codes::kInvalidArgument);
    CHECK_THROWS_CODE(documents_by_rank(idx, {0, 0}, {0}, 1), codes::kInvalidArgument);
    std::atomic<uint8_t> stop{1};
    if (idx.shard(0).rank_count() > 0) CHECK_THROWS_CODE(documents_by_rank(idx, {0}, {0}, 3, &stop), codes::kAborted);
  }
}
