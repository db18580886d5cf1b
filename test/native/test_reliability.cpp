// Damaged and hostile index files: each case of issue 10 that crashed the process or answered wrongly,
// now an Error with a code. Plus the quick verify, and faults of files truncated under an open index.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <random>

#include "check.hpp"
#include "error.hpp"
#include "fixtures.hpp"
#include "index.hpp"
#include "match_state.hpp"
#include "trace.hpp"

using namespace traceindex;
using namespace fixtures;

namespace {

void patch(const fs::path& p, uint64_t at, const void* bytes, size_t len) {
  FILE* f = std::fopen(p.c_str(), "r+b");
  CHECK(f != nullptr);
  std::fseek(f, static_cast<long>(at), SEEK_SET);
  CHECK_EQ(std::fwrite(bytes, 1, len, f), len);
  std::fclose(f);
}
template <typename T>
void patch_value(const fs::path& p, uint64_t at, T v) { patch(p, at, &v, sizeof v); }
template <typename T>
T read_value(const fs::path& p, uint64_t at) {
  T v{};
  FILE* f = std::fopen(p.c_str(), "rb");
  std::fseek(f, static_cast<long>(at), SEEK_SET);
  CHECK_EQ(std::fread(&v, sizeof v, 1, f), size_t(1));
  std::fclose(f);
  return v;
}

const std::vector<Doc> kDocs{{1, 2, 3, 1, 2, 4}, {2, 3}, {}, {4, 1, 2, 3, 3}};

}  // namespace

TEST(sa_entry_out_of_range_is_corrupt_on_every_query) {
  TempDir tmp;
  ShardSpec spec = write_any(tmp.path / "s", kDocs, 2, 10);
  const uint64_t n = spec.shape.tokens;
  const fs::path sa = tmp.path / "s" / "sa.bin";
  const std::vector<uint32_t> q{1, 2}, out{1, 2, 3, 9, 2, 3};
  // Every entry in turn, set just past the end and far past it: whichever entry a query meets first, the
  // query reports it instead of reading outside the mapping.
  const uint64_t entries = n - spec.shape.documents;
  for (uint64_t i = 0; i < entries; ++i) {
    const uint32_t old = read_value<uint32_t>(sa, kHeaderBytes + 4 * i);
    for (uint32_t bad : {uint32_t(n), uint32_t(0xFFFFFFFF)}) {
      patch_value(sa, kHeaderBytes + 4 * i, bad);
      auto idx = std::make_shared<const Index>(std::vector<ShardSpec>{spec});  // open checks structure only
      int refused = 0;
      auto expect_corrupt_or_ok = [&](auto&& fn) {
        try { fn(); } catch (const Error& e) { CHECK_EQ(e.code, std::string(codes::kCorrupt)); ++refused; }
      };
      uint64_t total = 0;
      expect_corrupt_or_ok([&] { idx->locate(nullptr, 0, 0, 1000, &total); });  // reads every entry
      CHECK_EQ(refused, 1);
      expect_corrupt_or_ok([&] { idx->count(q.data(), q.size()); });
      expect_corrupt_or_ok([&] { idx->locate(q.data(), q.size(), 0, 100, &total); });
      expect_corrupt_or_ok([&] { idx->longest_match(out.data(), out.size()); });
      expect_corrupt_or_ok([&] { idx->next_tokens(q.data(), q.size()); });
      expect_corrupt_or_ok([&] { trace(*idx, out.data(), out.size(), TraceOptions{}); });
      expect_corrupt_or_ok([&] { occurring_windows(*idx, out.data(), out.size(), 2, TraceOptions{}); });
      expect_corrupt_or_ok([&] { MatchState st(idx, 0); for (uint32_t t : out) st.push(t); });
      CHECK_THROWS_CODE(idx->verify(VerifyLevel::Quick), codes::kCorrupt);
      CHECK_THROWS_CODE(idx->verify(VerifyLevel::Full), codes::kCorrupt);
    }
    patch_value(sa, kHeaderBytes + 4 * i, old);
  }
  Index idx({spec});
  idx.verify(VerifyLevel::Full);
}

TEST(meta_offsets_are_all_checked_on_open) {
  TempDir tmp;
  ShardSpec spec = write_any(tmp.path / "s", kDocs, 1, 10);
  const fs::path meta = tmp.path / "s" / "meta.bin";
  const uint64_t D = spec.shape.documents;
  for (uint64_t d = 1; d < D; ++d) {  // interior offsets: only the first and last were checked
    const uint64_t at = kHeaderBytes + 8 * d, old = read_value<uint64_t>(meta, at);
    for (uint64_t bad : {read_value<uint64_t>(meta, at + 8) + 1, uint64_t(1) << 62, ~uint64_t(0)}) {
      patch_value(meta, at, bad);
      CHECK_THROWS_CODE(Index({spec}), codes::kCorrupt);
    }
    patch_value(meta, at, old);
  }
  Index ok({spec});
  CHECK_EQ(ok.shard(0).doc_record(1), std::string("{\"id\":\"d1\"}"));
}

TEST(unigram_counts_must_sum_to_the_tokens) {
  TempDir tmp;
  ShardSpec spec = write_any(tmp.path / "s", kDocs, 2, 10);
  const fs::path uni = tmp.path / "s" / "unigram.bin";
  const uint64_t total = spec.shape.tokens - spec.shape.documents;
  const uint64_t c1 = read_value<uint64_t>(uni, kHeaderBytes + 8 * 1);
  // One count raised: the BCI of a span of that token went negative (-ln(c / N) < 0 once c > N).
  for (uint64_t bad : {c1 + 1, total + 1, ~uint64_t(0), uint64_t(1) << 63}) {
    patch_value(uni, kHeaderBytes + 8 * 1, bad);
    CHECK_THROWS_CODE(Index({spec}), codes::kCorrupt);
  }
  // Sums that wrap around 2^64 to the right total.
  patch_value(uni, kHeaderBytes + 8 * 1, c1 + (uint64_t(1) << 63));
  patch_value(uni, kHeaderBytes + 8 * 2, read_value<uint64_t>(uni, kHeaderBytes + 8 * 2) + (uint64_t(1) << 63));
  CHECK_THROWS_CODE(Index({spec}), codes::kCorrupt);
  patch_value(uni, kHeaderBytes + 8 * 2, read_value<uint64_t>(uni, kHeaderBytes + 8 * 2) - (uint64_t(1) << 63));
  // A count moved from one token to another keeps the sum: open accepts it, the full verify does not.
  patch_value(uni, kHeaderBytes + 8 * 1, c1 - 1);
  patch_value(uni, kHeaderBytes + 8 * 4, read_value<uint64_t>(uni, kHeaderBytes + 8 * 4) + 1);
  Index moved({spec});
  CHECK_THROWS_CODE(moved.verify(VerifyLevel::Full), codes::kCorrupt);
}

TEST(a_shard_listed_twice_is_refused_by_file_identity) {
  TempDir tmp;
  ShardSpec a = write_any(tmp.path / "a", kDocs, 1, 10), b = write_any(tmp.path / "b", {{5, 6}}, 1, 10);
  { Index ok({a, b}); CHECK_EQ(ok.documents(), uint64_t(kDocs.size() + 1)); }
  CHECK_THROWS_CODE(Index({a, a}), codes::kCorrupt);
  CHECK_THROWS_CODE(Index({a, b, a}), codes::kCorrupt);
  // Through another name: a symlinked directory, a path with a detour.
  fs::create_directory_symlink(tmp.path / "a", tmp.path / "alias");
  ShardSpec alias = a;
  alias.dir = (tmp.path / "alias").string();
  CHECK_THROWS_CODE(Index({a, alias}), codes::kCorrupt);
  ShardSpec detour = a;
  detour.dir = (tmp.path / "b" / ".." / "a").string();
  CHECK_THROWS_CODE(Index({detour, a}), codes::kCorrupt);
  // A directory of hard links to the same files.
  fs::create_directory(tmp.path / "linked");
  for (auto& e : fs::directory_iterator(tmp.path / "a")) fs::create_hard_link(e.path(), tmp.path / "linked" / e.path().filename());
  ShardSpec linked = a;
  linked.dir = (tmp.path / "linked").string();
  CHECK_THROWS_CODE(Index({linked, b, a}), codes::kCorrupt);
  // A copy is another file: it opens (and counts twice, as two shards holding the same documents would).
  fs::copy(tmp.path / "a", tmp.path / "copy");
  ShardSpec copy = a;
  copy.dir = (tmp.path / "copy").string();
  Index both({a, copy});
  const uint32_t q[] = {1, 2};
  CHECK_EQ(both.count(q, 2), uint64_t(2 * Oracle{kDocs}.count({1, 2})));
  // infini-gram: the same files through a second name.
  write_ig(tmp.path / "ig", kDocs, 1);
  fs::create_directory_symlink(tmp.path / "ig", tmp.path / "ig-alias");
  ShardSpec ig{(tmp.path / "ig").string(), ShardShape{1, 0, 0, 0}, "infini-gram", ""}, ig2 = ig;
  ig2.dir = (tmp.path / "ig-alias").string();
  { Index ok({ig}); }
  CHECK_THROWS_CODE(Index({ig, ig2}), codes::kCorrupt);
}

TEST(a_fifo_in_place_of_a_file_is_refused_without_waiting) {
  TempDir tmp;
  ShardSpec spec = write_any(tmp.path / "s", kDocs, 1, 10);
  fs::remove(tmp.path / "s" / "meta.bin");
  CHECK_EQ(::mkfifo((tmp.path / "s" / "meta.bin").c_str(), 0644), 0);
  CHECK_THROWS_CODE(Index({spec}), codes::kCorrupt);  // opening a FIFO for reading would wait for a writer
}

TEST(verify_quick_checks_structure_and_sampled_order) {
  std::mt19937 rng(5);
  TempDir tmp;
  for (int w : {1, 2, 4}) {  // valid indexes pass, every width, one shard and several
    std::vector<Doc> docs = random_docs(rng, 0, 7);
    std::vector<ShardSpec> specs{write_any(tmp.path / ("w" + std::to_string(w)), docs, w, 100),
                                 write_any(tmp.path / ("x" + std::to_string(w)), docs, w, 100)};
    Index idx(specs);
    idx.verify(VerifyLevel::Quick);
    idx.verify(VerifyLevel::Quick, nullptr, 10, 99);
    idx.verify(VerifyLevel::Full);
    IgOptions o;
    o.metadata = w == 1;
    ShardSpec ig = write_ig(tmp.path / ("ig" + std::to_string(w)), docs, w, o);
    ig.shape.vocab_size = w == 4 ? 100 : 0;
    Index igx({ig});
    igx.verify(VerifyLevel::Quick);
    igx.verify(VerifyLevel::Full);
  }
  // Two adjacent entries swapped: every adjacent pair of a small shard is drawn.
  ShardSpec spec = write_any(tmp.path / "s", kDocs, 1, 10);
  const fs::path sa = tmp.path / "s" / "sa.bin";
  const uint32_t e3 = read_value<uint32_t>(sa, kHeaderBytes + 12), e4 = read_value<uint32_t>(sa, kHeaderBytes + 16);
  patch_value(sa, kHeaderBytes + 12, e4);
  patch_value(sa, kHeaderBytes + 16, e3);
  {
    Index idx({spec});
    CHECK_THROWS_CODE(idx.verify(VerifyLevel::Quick), codes::kCorrupt);
    idx.verify(VerifyLevel::Quick, nullptr, 0);  // no samples: structure only
  }
  patch_value(sa, kHeaderBytes + 12, e3);
  patch_value(sa, kHeaderBytes + 16, e4);
  // An entry pointing at a separator (a permutation broken without leaving the range).
  const uint32_t e0 = read_value<uint32_t>(sa, kHeaderBytes);
  patch_value(sa, kHeaderBytes, uint32_t(kDocs[0].size()));
  { Index idx({spec}); CHECK_THROWS_CODE(idx.verify(VerifyLevel::Quick), codes::kCorrupt); }
  patch_value(sa, kHeaderBytes, e0);
  // A document's separator overwritten (not the last one, which open checks).
  const fs::path tokens = tmp.path / "s" / "tokens.bin";
  patch_value(tokens, kHeaderBytes + kDocs[0].size(), uint8_t(3));
  { Index idx({spec}); CHECK_THROWS_CODE(idx.verify(VerifyLevel::Quick), codes::kCorrupt); }
  patch_value(tokens, kHeaderBytes + kDocs[0].size(), uint8_t(0xFF));
  { Index idx({spec}); idx.verify(VerifyLevel::Quick); }
  // More documents than samples: the separators of sampled documents.
  std::vector<Doc> many(50, Doc{1, 2, 3});
  ShardSpec big = write_any(tmp.path / "many", many, 1, 10);
  big.shape.samples = false;  // its few sampled keys are all checked, and one of them covers the damaged token
  { Index idx({big}); idx.verify(VerifyLevel::Quick, nullptr, 10, 1); }
  patch_value(tmp.path / "many" / "tokens.bin", kHeaderBytes + 4 * 17 + 3, uint8_t(2));  // document 17's separator
  {
    Index idx({big});
    int caught = 0;
    for (uint64_t seed = 0; seed < 20; ++seed) {
      try { idx.verify(VerifyLevel::Quick, nullptr, 10, seed); } catch (const Error& e) { CHECK_EQ(e.code, std::string(codes::kCorrupt)); ++caught; }
    }
    CHECK(caught > 0 && caught < 20);  // 10 of 50 documents a draw: some seeds see it, some do not
  }
  // Cancellation.
  std::atomic<uint8_t> cancel{1};
  Index idx({spec});
  CHECK_THROWS_CODE(idx.verify(VerifyLevel::Quick, &cancel), codes::kAborted);
}

TEST(a_file_truncated_under_an_open_index_is_err_io_not_sigbus) {
  std::mt19937 rng(3);
  TempDir tmp;
  std::vector<Doc> docs(40);
  for (auto& d : docs) for (int i = 0; i < 1000; ++i) d.push_back(rng() % 50);  // sa.bin: ~40 pages
  ShardSpec spec = write_any(tmp.path / "s", docs, 2, 64), other = write_any(tmp.path / "o", docs, 2, 64);
  auto idx = std::make_shared<const Index>(std::vector<ShardSpec>{spec});
  Index unrelated({other});
  const std::vector<uint32_t> q{docs[7][10], docs[7][11]};
  const uint64_t want = Oracle{docs}.count({q[0], q[1]});
  CHECK_EQ(idx->count(q.data(), q.size()), want);
  // Rewriting in place, what the documented rule forbids: the pages past the new end vanish.
  CHECK_EQ(::truncate((tmp.path / "s" / "sa.bin").c_str(), kHeaderBytes), 0);
  CHECK_THROWS_CODE(idx->count(q.data(), q.size()), codes::kIo);
  CHECK_THROWS_CODE(idx->count(q.data(), q.size()), codes::kIo);  // and stays refused
  uint64_t total = 0;
  CHECK_THROWS_CODE(idx->locate(q.data(), q.size(), 0, 10, &total), codes::kIo);
  CHECK_THROWS_CODE(trace(*idx, q.data(), q.size(), TraceOptions{}), codes::kIo);
  CHECK_THROWS_CODE(MatchState(idx, 0).push(q[0]), codes::kIo);
  CHECK_THROWS_CODE(idx->verify(VerifyLevel::Quick), codes::kIo);
  try {
    idx->check_intact();
    CHECK(false);
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("sa.bin") != std::string::npos);
  }
  // Another index is untouched, and a fresh open of the damaged one is refused by its header checks.
  CHECK_EQ(unrelated.count(q.data(), q.size()), want);
  CHECK_THROWS_CODE(Index({spec}), codes::kCorrupt);
  // tokens.bin truncated under another open index.
  Index second({other});
  CHECK_EQ(::truncate((tmp.path / "o" / "tokens.bin").c_str(), kHeaderBytes + 100), 0);
  CHECK_THROWS_CODE(second.count(q.data(), q.size()), codes::kIo);
  CHECK(MappedFile::faults() >= 2);
}

TEST(a_sigbus_outside_index_mappings_still_ends_the_process) {
  TempDir tmp;
  const fs::path p = tmp.path / "plain";
  write_file(p, std::string(3 * 4096, 'x'));
  auto handler_installed = MappedFile::open(p.string());  // the handler is in place in the child too
  pid_t child = ::fork();
  if (child == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 2);  // a sanitizer's report of the expected fault is noise here
    int fd = ::open(p.c_str(), O_RDWR);
    auto* m = static_cast<volatile const char*>(::mmap(nullptr, 3 * 4096, PROT_READ, MAP_SHARED, fd, 0));
    if (::ftruncate(fd, 0) != 0) ::_exit(3);
    volatile char c = m[2 * 4096];  // not an index mapping: the previous (default) action applies
    (void)c;
    ::_exit(0);  // the handler swallowed a fault that was not ours
  }
  int status = 0;
  CHECK_EQ(::waitpid(child, &status, 0), child);
  // Killed by SIGBUS, or (under a sanitizer whose handler came first) its report and a failing exit.
  CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS) || (WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 3));
}

TEST(counts_whose_file_sizes_overflow_are_refused) {
  // A manifest and header agreeing on 2^62 + 5 tokens of width 4: 64 + 4 (2^62 + 5) wraps to 84 bytes.
  ShardShape shape{4, (uint64_t(1) << 62) + 5, 1, 10};
  std::string file(84, '\0');
  FileHeader h = make_header(FileKind::Tokens, shape, shape.tokens, 4);
  std::memcpy(&file[0], &h, sizeof h);
  CHECK_THROWS_CODE(check_header(reinterpret_cast<const uint8_t*>(file.data()), file.size(), FileKind::Tokens, shape,
                                 shape.tokens, 4, "tokens.bin"),
                    codes::kCorrupt);
  shape.documents = ~uint64_t(0);  // meta: D + 1 offsets wraps to 0
  h = make_header(FileKind::Meta, shape, shape.documents, 8);
  std::memcpy(&file[0], &h, sizeof h);
  CHECK_THROWS_CODE(check_header(reinterpret_cast<const uint8_t*>(file.data()), file.size(), FileKind::Meta, shape,
                                 shape.documents, 8, "meta.bin"),
                    codes::kCorrupt);
}

// A push that fails in one shard (here a damaged suffix array that open does not read) after another shard has
// stepped leaves the state exactly as it was: the shards' suffixes must stay within the kept tail, which
// longest() and peek() read backwards (they read before it and crashed).
TEST(a_failed_push_leaves_the_match_state_as_it_was) {
  TempDir tmp;
  ShardSpec a = write_any(tmp.path / "a", {Doc(3000, 1)}, 1, 10);
  std::vector<Doc> pairs(1);
  for (int i = 0; i < 500; ++i) pairs[0].insert(pairs[0].end(), {1, 2});
  ShardSpec b = write_any(tmp.path / "b", pairs, 1, 10);
  {
    const fs::path sa = tmp.path / "b" / "sa.bin";
    std::string bytes = read_file(sa);
    std::fill(bytes.begin() + kHeaderBytes, bytes.end(), char(0xF0));
    write_file(sa, bytes);
  }
  auto idx = std::make_shared<const Index>(std::vector<ShardSpec>{a, b});
  MatchState st(idx, 0);
  const SuffixMatch before = st.longest();
  for (int round = 0; round < 50; ++round) {
    CHECK_THROWS_CODE(st.push(1), codes::kCorrupt);
    const SuffixMatch now = st.longest();
    CHECK_EQ(now.length, before.length);
    CHECK_EQ(now.count, before.count);
    CHECK_EQ(st.pushed(), uint64_t(0));
    CHECK_THROWS_CODE(st.peek(1), codes::kCorrupt);
  }
}
