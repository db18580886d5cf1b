// A mutation corpus over small valid indexes (traceindex shards of every token width, one and two shards;
// infini-gram shards with and without metadata): bytes flipped, overwritten with boundary values, entries
// swapped, files truncated and extended, in every file. Each damaged index is opened and every query kind
// run (test/fuzz/exercise.hpp): the outcome must be a well-shaped answer or an Error with a file-damage
// code, and verify must agree with the search. No outcome may be a crash.
#include <algorithm>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "../fuzz/exercise.hpp"
#include "check.hpp"
#include "error.hpp"
#include "fixtures.hpp"
#include "index.hpp"

using namespace traceindex;
using namespace fixtures;

namespace {

struct File {
  fs::path path;
  size_t header = 0;     // bytes of format header (traceindex files: 64)
  int entry_width = 0;   // suffix-array files: bytes per entry (0 for the others)
  uint64_t limit = 0;    // suffix-array files: the first out-of-range entry value; others: the stream's size
};

struct Fixture {
  std::string name;
  std::vector<ShardSpec> specs;
  std::vector<File> files;  // every file of every shard
};

std::vector<Doc> small_docs(std::mt19937& rng, uint32_t alphabet, const std::vector<uint32_t>& ids) {
  std::vector<Doc> docs(4);
  for (size_t d = 0; d < docs.size(); ++d) {
    size_t len = d == 2 ? 0 : 5 + rng() % 20;  // one empty document
    for (size_t i = 0; i < len; ++i) docs[d].push_back(ids[rng() % alphabet]);
  }
  return docs;
}

std::vector<Fixture> make_fixtures(const fs::path& root, std::mt19937& rng) {
  std::vector<Fixture> out;
  auto own = [&](const std::string& name, int w, uint64_t vocab, int shards, std::vector<uint32_t> ids) {
    Fixture f{name, {}, {}};
    for (int s = 0; s < shards; ++s) {
      fs::path dir = root / name / ("shard-" + std::to_string(s));
      fs::create_directories(dir.parent_path());
      f.specs.push_back(write_any(dir, small_docs(rng, 4, ids), w, vocab));
      for (const char* file : {"tokens.bin", "docs.bin", "meta.bin", "unigram.bin"})
        f.files.push_back({dir / file, kHeaderBytes, 0, f.specs.back().shape.tokens});
      f.files.push_back({dir / "sa.bin", kHeaderBytes, pointer_width_for(f.specs.back().shape.tokens), f.specs.back().shape.tokens});
    }
    out.push_back(f);
  };
  own("own-w1", 1, 20, 1, {1, 2, 3, 7});
  own("own-w2x2", 2, 300, 2, {1, 256, 299, 2});
  own("own-w4", 4, 1000, 1, {0, 999, 256, 5});
  auto ig = [&](const std::string& name, int w, bool metadata, int shards, std::vector<uint32_t> ids) {
    Fixture f{name, {}, {}};
    fs::path dir = root / name;
    for (int s = 0; s < shards; ++s) {
      IgOptions o;
      o.suffix = shards > 1 ? "." + std::to_string(s) : "";
      o.metadata = metadata;
      f.specs.push_back(write_ig(dir, small_docs(rng, 4, ids), w, o));
      const uint64_t bytes = fs::file_size(dir / ("tokenized" + o.suffix));
      for (const char* file : {"tokenized", "offset", "metadata", "metaoff"})
        if (fs::exists(dir / (file + o.suffix))) f.files.push_back({dir / (file + o.suffix), 0, 0, bytes});
      // Table entries are byte offsets of ceil(log2(bytes) / 8) bytes, one per token.
      f.files.push_back({dir / ("table" + o.suffix), 0, int(fs::file_size(dir / ("table" + o.suffix)) / (bytes / w)), bytes});
    }
    out.push_back(f);
  };
  ig("ig-u8-meta", 1, true, 1, {1, 2, 3, 200});
  ig("ig-u16x2", 2, false, 2, {0x0001, 0x0100, 0x00FF, 7});
  return out;
}

struct Mutation {
  std::string what;
  std::string bytes;  // the whole damaged file
};

void put_int(std::string& s, size_t at, uint64_t v, int width) {
  if (at + width <= s.size()) std::memcpy(&s[at], &v, width);
}

// The damaged versions of one file. `header` = bytes of the format header (64 for traceindex files).
// n: the first out-of-range suffix-array entry (the file's own token count elsewhere: a plausible wrong value).
std::vector<Mutation> mutations_of(const std::string& file, size_t header, int entry_width, uint64_t n, std::mt19937& rng) {
  std::vector<Mutation> out;
  auto add = [&](std::string what, std::string bytes) { out.push_back({std::move(what), std::move(bytes)}); };
  const size_t size = file.size();
  for (size_t i = 0; i < std::min(header, size); ++i) {  // every header byte
    std::string b = file;
    b[i] = static_cast<char>(b[i] ^ 0xFF);
    add("header byte " + std::to_string(i) + " inverted", b);
  }
  for (int k = 0; k < 16 && size > header; ++k) {  // payload words set to boundary values
    const size_t at = header + (rng() % ((size - header) / 8 + 1)) * 8;
    for (uint64_t v : {uint64_t(0), ~uint64_t(0), n, n + 1, uint64_t(1) << 40}) {
      std::string b = file;
      put_int(b, at, v, 8);
      add("u64 at " + std::to_string(at) + " = " + std::to_string(v), b);
    }
    std::string b = file;
    uint64_t old = 0;
    std::memcpy(&old, &b[at], std::min<size_t>(8, size - at));
    put_int(b, at, old + 1, 8);
    add("u64 at " + std::to_string(at) + " + 1", b);
  }
  if (entry_width > 0 && size > header + 2 * entry_width) {  // suffix-array entries: out of range, swapped
    const size_t entries = (size - header) / entry_width;
    for (int k = 0; k < 12; ++k) {
      const size_t i = rng() % entries, j = rng() % entries;
      std::string b = file;
      if (k < 4) {
        put_int(b, header + i * entry_width, k % 2 ? n : ~uint64_t(0), entry_width);
        add("entry " + std::to_string(i) + " out of range", b);
      } else {
        std::swap_ranges(b.begin() + header + i * entry_width, b.begin() + header + (i + 1) * entry_width,
                         b.begin() + header + j * entry_width);
        add("entries " + std::to_string(i) + " and " + std::to_string(j) + " swapped", b);
      }
    }
  }
  for (int k = 0; k < 24 && size > 0; ++k) {  // random bits and bytes anywhere
    std::string b = file;
    const size_t at = rng() % size;
    if (k % 2) b[at] = static_cast<char>(b[at] ^ (1 << (rng() % 8)));
    else b[at] = static_cast<char>(rng());
    add("byte " + std::to_string(at) + " changed", b);
  }
  for (size_t cut : {size_t(0), size_t(7), header, header + 1, size / 2, size - 1})  // truncated
    if (cut < size) add("truncated to " + std::to_string(cut), file.substr(0, cut));
  add("extended by 1", file + '\0');
  add("extended by 8", file + std::string(8, '\x7f'));
  return out;
}

}  // namespace

TEST(mutated_indexes_give_answers_or_corrupt_never_crash) {
  std::mt19937 rng(20240611);
  TempDir tmp;
  auto fixtures = make_fixtures(tmp.path, rng);
  size_t total = 0, refused_on_open = 0, query_refused = 0, quick_refused = 0, full_refused = 0, accepted = 0;
  for (Fixture& f : fixtures) {
    std::vector<std::vector<uint32_t>> queries;
    {
      Index clean(f.specs);
      queries = exercise::derived_queries(clean, rng, 10);
      exercise::Outcome o = exercise::run(clean, queries);
      CHECK(!o.query_refused && !o.quick_refused && !o.full_refused);
    }
    for (const File& file : f.files) {
      const std::string original = read_file(file.path);
      for (const Mutation& mu : mutations_of(original, file.header, file.entry_width, file.limit, rng)) {
        write_file(file.path, mu.bytes);
        ++total;
        try {
          std::unique_ptr<Index> idx;
          try {
            idx = std::make_unique<Index>(f.specs);
          } catch (const Error& e) {
            if (e.code != codes::kCorrupt && e.code != codes::kVersion && e.code != codes::kTokenWidth && e.code != codes::kIo)
              throw;
            ++refused_on_open;
            continue;
          }
          exercise::Outcome o = exercise::run(*idx, queries, total);
          query_refused += o.query_refused;
          quick_refused += o.quick_refused;
          full_refused += o.full_refused;
          accepted += !o.full_refused;
        } catch (const std::exception& e) {
          std::fprintf(stderr, "  %s: %s: %s: %s\n", f.name.c_str(), file.path.filename().c_str(), mu.what.c_str(), e.what());
          CHECK(false);
        }
      }
      write_file(file.path, original);
    }
  }
  std::printf("mutations: %zu damaged indexes: %zu refused on open, %zu opened (%zu refused by a query, %zu by the quick verify, "
              "%zu by the full verify, %zu accepted and checked exactly)\n",
              total, refused_on_open, total - refused_on_open, query_refused, quick_refused, full_refused, accepted);
  // Every layer has work to do: a corpus where one of them never fires would not test it.
  CHECK(refused_on_open > 0 && query_refused > 0 && quick_refused > 0 && full_refused > quick_refused && accepted > 0);
}
