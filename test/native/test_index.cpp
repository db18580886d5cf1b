// Shard writer + search against brute force: count, locate, longest match and next tokens over random,
// periodic and one-token corpora, for every token width, one shard and several.
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "check.hpp"
#include "fixtures.hpp"
#include "error.hpp"
#include "index.hpp"
#include "shard_writer.hpp"
#include "token_match.hpp"

using namespace traceindex;
namespace fs = std::filesystem;

namespace {
using namespace fixtures;

Doc random_query(std::mt19937& rng, const std::vector<Doc>& docs, uint32_t vocab) {
  Doc q;
  const Doc& d = docs[rng() % docs.size()];
  if (rng() % 3 != 0 && !d.empty()) {  // a piece of a document, sometimes mutated
    size_t a = rng() % d.size(), len = 1 + rng() % std::min<size_t>(12, d.size() - a);
    q.assign(d.begin() + a, d.begin() + a + len);
    if (rng() % 4 == 0) q[rng() % q.size()] = rng() % vocab;
  } else {
    size_t len = 1 + rng() % 5;
    for (size_t i = 0; i < len; ++i) q.push_back(rng() % vocab);
  }
  return q;
}

void check_against_oracle(const Index& index, const std::vector<Doc>& docs, std::mt19937& rng, uint32_t vocab) {
  Oracle o{docs};
  for (int k = 0; k < 60; ++k) {
    Doc q = random_query(rng, docs, vocab);
    auto occ = o.occurrences(q);
    CHECK_EQ(index.count(q.data(), q.size()), uint64_t(occ.size()));
    uint64_t offset = rng() % (occ.size() + 2), limit = rng() % 7, total = 0;
    auto hits = index.locate(q.data(), q.size(), offset, limit, &total);
    CHECK_EQ(total, uint64_t(occ.size()));
    size_t expect = offset >= occ.size() ? 0 : std::min<size_t>(limit, occ.size() - offset);
    CHECK_EQ(hits.size(), expect);
    for (size_t h = 0; h < hits.size(); ++h) {
      CHECK_EQ(hits[h].document, occ[offset + h].first);
      CHECK_EQ(hits[h].offset, occ[offset + h].second);
    }
    // Longest prefix.
    LongestMatch lm = index.longest_match(q.data(), q.size());
    size_t want = 0;
    while (want < q.size() && o.count(Doc(q.begin(), q.begin() + want + 1)) > 0) ++want;
    CHECK_EQ(lm.length, want);
    CHECK_EQ(lm.count, o.count(Doc(q.begin(), q.begin() + want)));
    // Next tokens of the longest suffix with a continuation.
    NextTokens nt = index.next_tokens(q.data(), q.size());
    size_t start = 0;
    while (start < q.size() && o.next(Doc(q.begin() + start, q.end())).empty()) ++start;
    auto dist = o.next(Doc(q.begin() + start, q.end()));
    CHECK_EQ(nt.suffix_length, q.size() - start);
    CHECK_EQ(nt.tokens.size(), dist.size());
    uint64_t total_next = 0;
    size_t i = 0;
    for (auto& [t, c] : dist) {
      CHECK_EQ(nt.tokens[i].token, t);
      CHECK_EQ(nt.tokens[i].count, c);
      total_next += c;
      ++i;
    }
    CHECK_EQ(nt.total, total_next);
  }
}

}  // namespace

TEST(index_matches_brute_force_single_and_multi_shard) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 240; ++round) {
    const int width = round % 3 == 0 ? 1 : round % 3 == 1 ? 2 : 4;
    const uint32_t vocab = width == 1 ? 1 + rng() % 254 : 1 + rng() % 1000;
    const uint32_t draw = std::min<uint32_t>(vocab, 1 + rng() % 6);  // small alphabets make many repeats
    std::vector<Doc> docs = random_docs(rng, round % 4, draw);
    // Vocab above the ids used: the unigram table still spans it.
    TempDir tmp;
    ShardSpec one = write_any(tmp.path / "one", docs, width, vocab);
    Index single({one});
    CHECK_EQ(single.documents(), uint64_t(docs.size()));
    single.shard(0).verify(nullptr);
    check_against_oracle(single, docs, rng, draw);
    // The same documents cut into shards must answer identically.
    std::vector<ShardSpec> specs;
    size_t at = 0;
    for (int s = 0; at < docs.size(); ++s) {
      size_t take = 1 + rng() % 3;
      std::vector<Doc> part(docs.begin() + at, docs.begin() + std::min(docs.size(), at + take));
      specs.push_back(write_any(tmp.path / ("s" + std::to_string(s)), part, width, vocab));
      at += take;
    }
    Index multi(specs);
    check_against_oracle(multi, docs, rng, draw);
    auto u1 = single.unigram_counts(), u2 = multi.unigram_counts();
    CHECK(u1 == u2);
    std::vector<uint64_t> brute(vocab, 0);
    for (auto& d : docs) for (auto t : d) ++brute[t];
    CHECK(u1 == brute);
  }
}

TEST(every_match_kernel_agrees) {
  std::mt19937 rng(7);
  for (const std::string& k : available_match_kernels()) {
    CHECK(select_match_kernel(k));
    for (int i = 0; i < 2000; ++i) {
      size_t len = rng() % 80;
      std::vector<uint8_t> a(len), b;
      for (auto& x : a) x = rng() % 3;
      b = a;
      size_t diff = len ? rng() % (len + 1) : 0;
      if (diff < len) b[diff] ^= 1 + rng() % 2;
      size_t want = diff < len ? diff : len;
      CHECK_EQ(match_kernel().mismatch(a.data(), b.data(), len), want);
    }
  }
  CHECK(!select_match_kernel("no-such-kernel"));
  CHECK(select_match_kernel(available_match_kernels().front()));
}

TEST(writer_rejects_bad_tokens) {
  TempDir tmp;
  std::vector<uint16_t> tokens{1, 2, 500, 0xFFFF};
  std::vector<uint64_t> starts{0, 4}, meta{0, 0};
  ShardSource src;
  src.tokens = tokens.data(); src.token_width = 2; src.tokens_count = 4; src.doc_starts = starts.data();
  src.documents = 1; src.meta_offsets = meta.data(); src.meta_blob = nullptr; src.vocab_size = 100;
  CHECK_THROWS_CODE(write_shard((tmp.path / "x").string(), src), codes::kTokenRange);
  CHECK(!fs::exists(tmp.path / "x"));
  tokens = {1, 2, 3, 4};  // no separator at the end
  src.vocab_size = 1000;
  CHECK_THROWS_CODE(write_shard((tmp.path / "x").string(), src), codes::kInvalidArgument);
}

TEST(open_rejects_damaged_files) {
  TempDir tmp;
  std::vector<Doc> docs{{1, 2, 3, 1, 2}, {2, 3}};
  ShardSpec spec = write_any(tmp.path / "s", docs, 2, 10);
  { Index ok({spec}); CHECK_EQ(ok.count(std::vector<uint32_t>{2, 3}.data(), 2), uint64_t(2)); }
  auto damage = [&](const char* file, auto&& fn, const char* code) {
    fs::path p = tmp.path / "s" / file, backup = tmp.path / "backup";
    fs::copy_file(p, backup, fs::copy_options::overwrite_existing);
    fn(p);
    CHECK_THROWS_CODE(Index({spec}), code);
    fs::copy_file(backup, p, fs::copy_options::overwrite_existing);
  };
  damage("sa.bin", [](const fs::path& p) { fs::resize_file(p, fs::file_size(p) - 2); }, codes::kCorrupt);
  damage("tokens.bin", [](const fs::path& p) { fs::resize_file(p, 10); }, codes::kCorrupt);
  damage("docs.bin", [](const fs::path& p) { fs::remove(p); }, codes::kCorrupt);
  damage("unigram.bin", [](const fs::path& p) { FILE* f = fopen(p.c_str(), "r+b"); fputs("XXXX", f); fclose(f); }, codes::kCorrupt);
  // The header's reserved byte and, outside samples.bin, its interval must be 0.
  auto poke = [](const fs::path& p, long at, uint8_t v) { FILE* f = fopen(p.c_str(), "r+b"); fseek(f, at, SEEK_SET); fputc(v, f); fclose(f); };
  damage("docs.bin", [&](const fs::path& p) { poke(p, 19, 1); }, codes::kCorrupt);
  damage("sa.bin", [&](const fs::path& p) { poke(p, 56, 32); }, codes::kCorrupt);
  damage("unigram.bin", [&](const fs::path& p) { poke(p, 63, 1); }, codes::kCorrupt);
  damage("meta.bin", [](const fs::path& p) { FILE* f = fopen(p.c_str(), "r+b"); fseek(f, 8, SEEK_SET); uint32_t v = 99; fwrite(&v, 4, 1, f); fclose(f); }, codes::kVersion);
  // A file from another shard: a different token count.
  ShardSpec other = write_any(tmp.path / "o", {{1, 2, 3}}, 2, 10);
  damage("tokens.bin", [&](const fs::path& p) { fs::copy_file(tmp.path / "o" / "tokens.bin", p, fs::copy_options::overwrite_existing); }, codes::kCorrupt);
  // Wrong token width in the manifest's shape.
  ShardSpec wrong = spec;
  wrong.shape.token_width = 4;
  CHECK_THROWS_CODE(Index({wrong}), codes::kTokenWidth);
  (void)other;
}

TEST(verify_catches_a_swapped_suffix) {
  TempDir tmp;
  std::vector<Doc> docs{{3, 1, 4, 1, 5, 9, 2, 6}, {5, 3, 5}};
  ShardSpec spec = write_any(tmp.path / "s", docs, 1, 20);
  fs::path sa = tmp.path / "s" / "sa.bin";
  FILE* f = fopen(sa.c_str(), "r+b");
  uint32_t a, b;
  fseek(f, 64, SEEK_SET); CHECK_EQ(fread(&a, 4, 1, f), size_t(1)); CHECK_EQ(fread(&b, 4, 1, f), size_t(1));
  fseek(f, 64, SEEK_SET); fwrite(&b, 4, 1, f); fwrite(&a, 4, 1, f);
  fclose(f);
  Index idx({spec});  // opening only checks structure
  CHECK_THROWS_CODE(idx.shard(0).verify(nullptr), codes::kCorrupt);
}

TEST(query_tokens_out_of_range) {
  TempDir tmp;
  ShardSpec spec = write_any(tmp.path / "s", {{1, 2}}, 2, 10);
  Index idx({spec});
  std::vector<uint32_t> q{1, 10};
  CHECK_THROWS_CODE(idx.check_query(q.data(), q.size()), codes::kTokenRange);
  CHECK_THROWS_CODE(idx.locate_document(1), codes::kInvalidArgument);
}
