// The sampled key layer (samples.bin, docs/FORMAT.md v2): counts through it equal the brute-force oracle and
// the v1 search (the same shard opened without it), for single and batched searches, at many sampling
// intervals; a damaged or truncated samples.bin is refused on open or caught by verify, never a crash.
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "batch.hpp"
#include "fixtures.hpp"
#include "sampled_keys.hpp"
#include "shard_writer.hpp"

using namespace fixtures;

namespace {

struct IntervalScope {
  explicit IntervalScope(uint64_t k) { detail::sample_interval = k; }
  ~IntervalScope() { detail::sample_interval = kSampleInterval; }
};

ShardSpec without_samples(ShardSpec s) { s.shape.samples = false; return s; }

// A shard whose first search (made here) builds the in-memory key top however few keys it has.
void force_key_top(const Shard& s) {
  struct Scope { ~Scope() { detail::key_top_min = uint64_t(1) << 16; } } scope;
  detail::key_top_min = 0;
  const uint32_t t = 0;
  s.find(&t, 1);
}

// Patterns of every kind the layer treats differently: shorter than, as long as and longer than a key; present
// and absent; below and above every key (token 0, the largest tokens); runs of one token.
std::vector<Doc> patterns(std::mt19937& rng, const std::vector<Doc>& docs, uint32_t vocab, uint32_t top) {
  std::vector<Doc> qs{Doc{}};
  for (size_t len : {1, 2, 3, 4, 5, 7, 8, 9, 12, 17, 30})
    for (int i = 0; i < 6; ++i) {
      const Doc& d = docs[rng() % docs.size()];
      if (d.size() >= len) {
        const size_t at = rng() % (d.size() - len + 1);
        Doc q(d.begin() + at, d.begin() + at + len);
        qs.push_back(q);
        q.back() = rng() % vocab;  // often absent
        qs.push_back(q);
      }
      Doc r;
      for (size_t k = 0; k < len; ++k) r.push_back(rng() % vocab);
      qs.push_back(r);
      qs.push_back(Doc(len, 0));
      qs.push_back(Doc(len, top));          // above every key of the corpus
      qs.push_back(Doc(len, vocab - 1));
      Doc mixed(len, 0);
      mixed.back() = top;
      qs.push_back(mixed);
    }
  return qs;
}

void check_corpus(std::mt19937& rng, const std::vector<Doc>& docs, int width, uint32_t vocab, uint64_t interval) {
  TempDir tmp;
  IntervalScope scope(interval);
  const uint64_t vocab_size = width == 1 ? 255 : width == 2 ? 65535 : 100000;
  const uint32_t top = uint32_t(vocab_size - 1);
  ShardSpec spec = write_any(tmp.path / "s", docs, width, vocab_size);
  Index v2({spec}), v1({without_samples(spec)}), topped({spec});
  force_key_top(topped.shard(0));
  CHECK(v2.shard(0).files().size() == 6);
  CHECK(v1.shard(0).files().size() == 5);
  Oracle oracle{docs};
  const std::vector<Doc> qs = patterns(rng, docs, vocab, top);
  std::vector<uint32_t> flat, offs{0};
  for (const Doc& q : qs) { flat.insert(flat.end(), q.begin(), q.end()); offs.push_back(uint32_t(flat.size())); }
  const Queries batch(flat.data(), offs.data(), qs.size());
  const std::vector<uint64_t> many = count_part(v2.shard(0), batch), many_top = count_part(topped.shard(0), batch);
  for (size_t i = 0; i < qs.size(); ++i) {
    const Doc& q = qs[i];
    const uint64_t want = oracle.count(q);
    const SaRange r2 = v2.shard(0).find(q.data(), q.size()), r1 = v1.shard(0).find(q.data(), q.size());
    const SaRange rt = topped.shard(0).find(q.data(), q.size());
    if (r2.size() != want || r2.lo != r1.lo || r2.hi != r1.hi || many[i] != want || rt.lo != r1.lo || rt.hi != r1.hi ||
        many_top[i] != want) {
      std::fprintf(stderr, "  width %d interval %llu pattern of %zu tokens: oracle %llu, v2 [%llu, %llu), v1 [%llu, %llu), batch %llu\n",
                   width, (unsigned long long)interval, q.size(), (unsigned long long)want, (unsigned long long)r2.lo,
                   (unsigned long long)r2.hi, (unsigned long long)r1.lo, (unsigned long long)r1.hi, (unsigned long long)many[i]);
      CHECK(false);
    }
  }
  v2.shard(0).verify(nullptr);
  v2.shard(0).verify_quick(16, 1, nullptr);
}

}  // namespace

TEST(sampled_keys_match_oracle_at_every_interval) {
  std::mt19937 rng(1313);
  for (int round = 0; round < check::scaled(24); ++round)
    for (int width : {1, 2, 4}) {
      const uint32_t vocab = 2 + rng() % (round % 3 == 0 ? 3 : 200);
      const std::vector<Doc> docs = random_docs(rng, round % 4, vocab);
      bool any = false;
      for (const Doc& d : docs) any = any || !d.empty();
      if (!any) continue;
      for (uint64_t k : {1, 2, 3, 5, 8, 32}) check_corpus(rng, docs, width, vocab, k);
      std::vector<Doc> more;  // enough keys at interval 1 for a top of several levels
      for (int r = 0; r < 12; ++r) for (const Doc& d : random_docs(rng, round % 4, vocab)) more.push_back(d);
      check_corpus(rng, more, width, vocab, 1);
    }
}

TEST(sampled_keys_long_repeats_and_text) {
  std::mt19937 rng(77);
  std::vector<Doc> docs;
  const std::string text = "the cat sat on the mat; the cat sat on the hat. the dog sat on the cat, the end.\n";
  for (int d = 0; d < 6; ++d) {
    Doc doc;
    for (int r = 0; r < 3 + d; ++r) for (char c : text) doc.push_back(uint8_t(c));
    docs.push_back(doc);
  }
  docs.push_back(Doc(300, 'a'));
  for (uint64_t k : {1, 4, 7, 16, 32}) check_corpus(rng, docs, 1, 128, k);
  for (uint64_t k : {1, 3, 32}) check_corpus(rng, docs, 2, 128, k);
}

TEST(samples_file_damage_is_refused_or_verified) {
  TempDir tmp;
  IntervalScope scope(4);
  std::vector<Doc> docs{{5, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9}, {3, 2, 3, 8, 4, 6}};
  ShardSpec spec = write_any(tmp.path / "s", docs, 1, 20);
  const fs::path p = tmp.path / "s" / "samples.bin", backup = tmp.path / "backup";
  fs::copy_file(p, backup);
  auto restore = [&] { fs::copy_file(backup, p, fs::copy_options::overwrite_existing); };
  auto poke = [&](long at, const void* v, size_t n) { FILE* f = fopen(p.c_str(), "r+b"); fseek(f, at, SEEK_SET); fwrite(v, n, 1, f); fclose(f); };
  { Index ok({spec}); ok.shard(0).verify(nullptr); }
  fs::resize_file(p, fs::file_size(p) - 8);  // a key short
  CHECK_THROWS_CODE(Index({spec}), codes::kCorrupt);
  fs::resize_file(p, 10);  // shorter than the header
  CHECK_THROWS_CODE(Index({spec}), codes::kCorrupt);
  restore();
  fs::remove(p);
  CHECK_THROWS_CODE(Index({spec}), codes::kCorrupt);
  restore();
  for (uint64_t k : {uint64_t(0), uint64_t(3), kMaxSampleInterval + 1, ~uint64_t(0)}) {  // the interval
    poke(56, &k, 8);
    CHECK_THROWS_CODE(Index({spec}), codes::kCorrupt);
    restore();
  }
  uint32_t v = 1;  // samples.bin did not exist in version 1
  poke(8, &v, 4);
  CHECK_THROWS_CODE(Index({spec}), codes::kVersion);
  v = 3;
  poke(8, &v, 4);
  CHECK_THROWS_CODE(Index({spec}), codes::kVersion);
  restore();
  poke(0, "TRIXSUFA", 8);
  CHECK_THROWS_CODE(Index({spec}), codes::kCorrupt);
  restore();
  // A key that disagrees with its suffix opens (open is O(D + V)), answers in bounds, and verify catches it.
  for (uint64_t bad : {uint64_t(0), ~uint64_t(0), uint64_t(0x0505050505050505)}) {
    for (long j = 0; j < 6; ++j) {
      poke(64 + 8 * j, &bad, 8);
      Index idx({spec});
      for (const Doc& q : std::vector<Doc>{{5}, {5, 3}, {9, 7, 9}, {1, 4, 1, 5, 9, 2, 6, 5, 3}, {0}, {19, 19}}) {
        const SaRange r = idx.shard(0).find(q.data(), q.size());
        CHECK(r.lo <= r.hi && r.hi <= idx.shard(0).stored_suffixes());
      }
      CHECK_THROWS_CODE(idx.shard(0).verify(nullptr), codes::kCorrupt);
      CHECK_THROWS_CODE(idx.shard(0).verify_quick(4096, 1, nullptr), codes::kCorrupt);
      restore();
    }
  }
}

TEST(v1_shard_headers_open_and_answer_the_same) {
  // A shard as a version 1 writer leaves it: headers say 1, no samples.bin, the manifest lists none.
  TempDir tmp;
  std::mt19937 rng(5);
  const std::vector<Doc> docs = random_docs(rng, 0, 9);
  ShardSpec spec = write_any(tmp.path / "s", docs, 2, 100);
  for (const char* name : {"tokens.bin", "sa.bin", "docs.bin", "meta.bin", "unigram.bin"}) {
    FILE* f = fopen((tmp.path / "s" / name).c_str(), "r+b");
    uint32_t v = 1;
    fseek(f, 8, SEEK_SET);
    fwrite(&v, 4, 1, f);
    fclose(f);
  }
  fs::remove(tmp.path / "s" / "samples.bin");
  Index v1({without_samples(spec)});
  Oracle oracle{docs};
  for (const Doc& q : patterns(rng, docs, 9, 99)) CHECK_EQ(v1.count(q.data(), q.size()), oracle.count(q));
  v1.shard(0).verify(nullptr);
}

// upgrade_shard (format 1 -> 2 in place): on a v1 shard it writes the samples.bin a v2 build writes, byte for
// byte, and the shard then answers through it as the oracle; a damaged shard is refused before anything is written.
TEST(upgrade_shard_writes_the_samples_of_a_build_and_refuses_damage) {
  TempDir tmp;
  IntervalScope scope(4);  // many keys in a small shard
  std::mt19937 rng(11);
  for (int width : {1, 2, 4}) {
    const uint32_t vocab = width == 1 ? 200 : width == 2 ? 1000 : 100000;
    std::vector<Doc> docs = random_docs(rng, 0, 7);
    docs.push_back(Doc(50, 3));
    for (uint32_t& t : docs.back()) t = rng() % 7;
    const fs::path dir = tmp.path / ("w" + std::to_string(width));
    ShardSpec spec = write_any(dir, docs, width, vocab);
    const fs::path p = dir / "samples.bin", built = tmp.path / "built.bin";
    fs::copy_file(p, built, fs::copy_options::overwrite_existing);
    fs::remove(p);
    ShardSpec v1 = without_samples(spec);
    CHECK_THROWS_CODE(upgrade_shard(dir.string(), spec.shape, true), codes::kInvalidArgument);  // already listed
    CHECK(upgrade_shard(dir.string(), v1.shape, false).name.empty());                           // verify only
    CHECK(!fs::exists(p));
    const WrittenFile f = upgrade_shard(dir.string(), v1.shape, true);
    CHECK_EQ(f.name, std::string("samples.bin"));
    CHECK_EQ(f.bytes, uint64_t(fs::file_size(p)));
    CHECK_EQ(f.xxh64, checksum_file(p.string()));
    CHECK_EQ(f.xxh64, checksum_file(built.string()));
    CHECK(!fs::exists(dir / "samples.bin.tmp"));
    Index v2({spec});
    v2.shard(0).verify(nullptr);
    Oracle oracle{docs};
    for (const Doc& q : patterns(rng, docs, 7, vocab - 1)) CHECK_EQ(v2.count(q.data(), q.size()), oracle.count(q));
  }
  // A suffix array out of order (reversed) opens, but the quick verify refuses it: no samples.bin is written.
  std::vector<Doc> docs{{5, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9}, {3, 2, 3, 8, 4, 6}};
  ShardSpec spec = write_any(tmp.path / "bad", docs, 1, 20);
  fs::remove(tmp.path / "bad" / "samples.bin");
  const fs::path sa = tmp.path / "bad" / "sa.bin";
  std::string bytes(fs::file_size(sa), '\0');
  { FILE* f = fopen(sa.c_str(), "rb"); CHECK(fread(&bytes[0], 1, bytes.size(), f) == bytes.size()); fclose(f); }
  std::vector<uint32_t> entries((bytes.size() - kHeaderBytes) / 4);
  std::memcpy(entries.data(), bytes.data() + kHeaderBytes, 4 * entries.size());
  std::reverse(entries.begin(), entries.end());
  std::memcpy(&bytes[kHeaderBytes], entries.data(), 4 * entries.size());
  write_file(sa, bytes);
  CHECK_THROWS_CODE(upgrade_shard((tmp.path / "bad").string(), without_samples(spec).shape, true), codes::kCorrupt);
  CHECK(!fs::exists(tmp.path / "bad" / "samples.bin") && !fs::exists(tmp.path / "bad" / "samples.bin.tmp"));
}

// The fixtures' corpora (one token, periodic runs, long repeats) at the default interval, with whole documents,
// 130 zeros and spliced outputs as patterns: single and batched searches through the keys equal v1's ranges.
TEST(sampled_keys_agree_with_v1_and_batch_on_corpora) {
  std::mt19937 rng(3);
  for (int round = 0; round < 200; ++round) {
    const int width = round % 2 ? 1 : 2;
    const uint32_t vocab = 2 + rng() % 5;
    std::vector<Doc> docs = random_docs(rng, round % 4, vocab);
    TempDir tmp;
    ShardSpec spec = write_any(tmp.path / "s", docs, width, width == 1 ? 200 : 3000);
    Index v2({spec}), v1({without_samples(spec)});
    Oracle oracle{docs};
    for (int i = 0; i < 50; ++i) {
      Doc q;
      if (i % 3 == 0) q = docs[rng() % docs.size()];
      else if (i % 3 == 1) q.assign(130, 0);
      else q = splice_output(rng, docs, vocab);
      if (q.empty()) continue;
      const SaRange r2 = v2.shard(0).find(q.data(), q.size()), r1 = v1.shard(0).find(q.data(), q.size());
      std::vector<uint32_t> offs{0, uint32_t(q.size())};
      const SaRange r3 = range_part(v2.shard(0), Queries(q.data(), offs.data(), 1))[0];
      if (r2.lo != r1.lo || r2.hi != r1.hi || r3.lo != r1.lo || r3.hi != r1.hi || r1.size() != oracle.count(q)) {
        std::fprintf(stderr, "  round %d width %d, %zu tokens: v2 [%llu, %llu), batch [%llu, %llu), v1 [%llu, %llu), oracle %llu\n", round,
                     width, q.size(), (unsigned long long)r2.lo, (unsigned long long)r2.hi, (unsigned long long)r3.lo,
                     (unsigned long long)r3.hi, (unsigned long long)r1.lo, (unsigned long long)r1.hi, (unsigned long long)oracle.count(q));
        CHECK(false);
      }
    }
  }
}
