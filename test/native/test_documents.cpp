// Documents by number and by record prefix, and calibrate's span sampling, against the documents themselves;
// the sampling against a re-implementation of its documented generator (native/core/sampling.hpp).
#include <atomic>

#include "check.hpp"
#include "documents.hpp"
#include "error.hpp"
#include "fixtures.hpp"
#include "sampling.hpp"

using namespace traceindex;
using namespace fixtures;

namespace {

// The record fixtures.hpp writes for a shard's local document d.
std::string record_of(uint64_t local) { return "{\"id\":\"d" + std::to_string(local) + "\"}"; }

// The generator as documented, written independently: 128-bit products reduced mod 2^64.
struct DocumentedLcg {
  unsigned __int128 state;
  explicit DocumentedLcg(uint64_t seed) : state(seed ^ 0x9e3779b97f4a7c15ULL) {}
  uint64_t next(uint64_t n) {
    const unsigned __int128 mod = (unsigned __int128)1 << 64;
    state = (state * 6364136223846793005ULL + 1442695040888963407ULL) % mod;
    return uint64_t(state >> 33) % n;
  }
};

}  // namespace

TEST(documents_by_number_and_prefix) {
  std::mt19937 rng(5151);
  for (int round = 0; round < 40; ++round) {
    auto c = make_corpus(rng, round);
    const Index& idx = *c->multi;
    std::vector<uint64_t> numbers;
    for (int k = 0, n = rng() % 8; k < n; ++k) numbers.push_back(rng() % c->docs.size());
    DocumentBatch got = read_documents(idx, numbers);
    CHECK_EQ(got.token_offsets.size(), numbers.size() + 1);
    CHECK_EQ(got.records.size(), numbers.size());
    for (size_t i = 0; i < numbers.size(); ++i) {
      const Doc& d = c->docs[numbers[i]];
      CHECK_EQ(got.token_offsets[i + 1] - got.token_offsets[i], uint64_t(d.size()));
      CHECK(std::equal(d.begin(), d.end(), got.tokens.begin() + got.token_offsets[i]));
      CHECK_EQ(got.shards[i], c->place[numbers[i]].first);
      CHECK_EQ(got.records[i], record_of(c->place[numbers[i]].second));
    }
    // max_tokens: exactly the documents' total passes, one less is ERR_TOO_LARGE (checked before reading).
    uint64_t total = 0;
    for (uint64_t n : numbers) total += c->docs[n].size();
    CHECK_EQ(read_documents(idx, numbers, nullptr, total).tokens.size(), total);
    if (total > 0) CHECK_THROWS_CODE(read_documents(idx, numbers, nullptr, total - 1), codes::kTooLarge);
    // count_records: each record also a token per 4 bytes of its JSON.
    uint64_t records = 0;
    for (uint64_t n : numbers) records += record_of(c->place[n].second).size() / 4;
    const DocumentBatch counted = read_documents(idx, numbers, nullptr, total + records, true);
    CHECK_EQ(counted.tokens.size(), total);
    // Each document's cost, as counted: its tokens, plus its record's when records count.
    for (size_t i = 0; i < numbers.size(); ++i) {
      CHECK_EQ(got.costs[i], uint64_t(c->docs[numbers[i]].size()));
      CHECK_EQ(counted.costs[i], uint64_t(c->docs[numbers[i]].size() + record_of(c->place[numbers[i]].second).size() / 4));
    }
    if (total + records > 0) CHECK_THROWS_CODE(read_documents(idx, numbers, nullptr, total + records - 1, true), codes::kTooLarge);
    numbers.push_back(c->docs.size());
    CHECK_THROWS_CODE(read_documents(idx, numbers), codes::kInvalidArgument);
    CHECK_THROWS_CODE(read_documents(idx, numbers, nullptr, 0), codes::kInvalidArgument);  // the number first
    // find_document: the first document (in global order) whose record starts with the prefix.
    for (uint64_t local = 0; local < 4; ++local) {
      const std::string prefix = "{\"id\":\"d" + std::to_string(local) + "\"";
      int64_t want = -1;
      for (size_t d = 0; d < c->docs.size() && want < 0; ++d)
        if (record_of(c->place[d].second).compare(0, prefix.size(), prefix) == 0) want = int64_t(d);
      CHECK_EQ(find_document(idx, prefix), want);
    }
    CHECK_EQ(find_document(idx, "{\"id\":\"nope"), int64_t(-1));
    CHECK_EQ(find_document(idx, ""), int64_t(0));
    std::atomic<uint8_t> flag{1};
    CHECK_THROWS_CODE(find_document(idx, "x", &flag), codes::kAborted);
  }
}

// byte_offsets against a direct sum: first[t] for a document's first token, bytes[t] after it, ids past the tables
// adding nothing; pairs in any order, repeated, and past a document's end (clamped to it).
TEST(byte_offsets_sum_the_table_from_each_documents_start) {
  std::mt19937 rng(4242);
  for (int round = 0; round < 40; ++round) {
    auto c = make_corpus(rng, round);
    const Index& idx = *c->multi;
    TokenBytes table;
    const size_t covered = rng() % (c->vocab + 1);  // some rounds leave ids outside the tables
    for (size_t id = 0; id < covered; ++id) table.bytes.push_back(rng() % 5), table.first.push_back(rng() % 5);
    std::vector<uint64_t> docs, offs;
    for (int k = 0, n = rng() % 30; k < n; ++k) {
      const uint64_t d = rng() % c->docs.size();
      docs.push_back(d);
      offs.push_back(rng() % (c->docs[d].size() + 2));
    }
    const std::vector<uint64_t> got = byte_offsets(idx, table, docs, offs);
    CHECK_EQ(got.size(), docs.size());
    for (size_t i = 0; i < docs.size(); ++i) {
      const Doc& d = c->docs[docs[i]];
      uint64_t want = 0;
      for (uint64_t p = 0; p < std::min<uint64_t>(offs[i], d.size()); ++p) {
        const std::vector<uint32_t>& t = p == 0 ? table.first : table.bytes;
        want += d[p] < t.size() ? t[d[p]] : 0;
      }
      CHECK_EQ(got[i], want);
    }
    std::atomic<uint8_t> stop{1};
    if (!docs.empty() && offs[0] > 0 && !c->docs[docs[0]].empty()) CHECK_THROWS_CODE(byte_offsets(idx, table, {docs[0]}, {offs[0]}, &stop), codes::kAborted);
  }
}

TEST(sampled_spans_follow_the_documented_generator) {
  std::mt19937 rng(5252);
  for (int round = 0; round < 60; ++round) {
    auto c = make_corpus(rng, round);
    std::vector<uint32_t> lengths;
    for (int k = 0, n = rng() % 4; k < n; ++k) lengths.push_back(rng() % 3 == 0 ? 0 : 1 + rng() % (k == 2 ? 200 : 12));
    const uint64_t samples = rng() % 40, seed = (uint64_t(rng()) << 32) | rng();
    for (const Index* idx : {c->single.get(), c->multi.get()}) {
      SampledSpans got = sample_spans(*idx, lengths, samples, seed);
      // The oracle draws from the document list itself.
      DocumentedLcg lcg(seed);
      std::vector<uint32_t> tokens, offsets{0}, which;
      for (size_t li = 0; li < lengths.size(); ++li) {
        uint64_t found = 0;
        for (uint64_t tries = 0; found < samples && tries < samples * 20; ++tries) {
          const Doc& d = c->docs[lcg.next(c->docs.size())];
          if (d.size() < lengths[li]) continue;
          const uint64_t at = lcg.next(d.size() - lengths[li] + 1);
          tokens.insert(tokens.end(), d.begin() + at, d.begin() + at + lengths[li]);
          offsets.push_back(uint32_t(tokens.size()));
          which.push_back(uint32_t(li));
          ++found;
        }
      }
      CHECK(got.tokens == tokens);
      CHECK(got.offsets == offsets);
      CHECK(got.length_index == which);
    }
  }
  auto c = make_corpus(rng, 1);
  CHECK_THROWS_CODE(sample_spans(*c->multi, {4}, kMaxSamplesPerLength + 1, 0), codes::kInvalidArgument);
  std::atomic<uint8_t> flag{1};
  CHECK_THROWS_CODE(sample_spans(*c->multi, {1}, 10, 0, &flag), codes::kAborted);
}
