// Writes the fuzz harness's seed corpus (fuzz_case.hpp containers) into a directory: small valid indexes
// built by the core's own shard writer (traceindex, widths 1, 2, 4, one to four shards) and by the test
// fixtures' infini-gram writer (u8 with metadata, u16 over two shards, u32), each with a few queries taken
// from its documents. Generated, not committed: fuzz_seeds DIR.
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "../native/fixtures.hpp"
#include "fuzz_case.hpp"

using namespace fixtures;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::vector<Doc> docs_from(std::mt19937& rng, const std::vector<uint32_t>& ids) {
  std::vector<Doc> docs(2 + rng() % 4);
  for (auto& d : docs) {
    size_t len = rng() % 5 == 0 ? 0 : 1 + rng() % 24;  // empty documents too
    for (size_t i = 0; i < len; ++i) d.push_back(ids[rng() % ids.size()]);
  }
  return docs;
}

// u8 length + u16 ids per query: pieces of the documents and a few fresh ids.
std::string queries_for(std::mt19937& rng, const std::vector<Doc>& docs, const std::vector<uint32_t>& ids) {
  std::string out;
  for (int k = 0; k < 6; ++k) {
    Doc q;
    const Doc& d = docs[rng() % docs.size()];
    if (!d.empty() && k % 3 != 2) {
      size_t at = rng() % d.size(), len = 1 + rng() % std::min<size_t>(8, d.size() - at);
      q.assign(d.begin() + at, d.begin() + at + len);
    } else {
      for (size_t i = 0, len = 1 + rng() % 4; i < len; ++i) q.push_back(ids[rng() % ids.size()]);
    }
    out.push_back(static_cast<char>(q.size()));
    for (uint32_t t : q) { uint16_t v = static_cast<uint16_t>(t); out.append(reinterpret_cast<const char*>(&v), 2); }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) { std::fprintf(stderr, "usage: fuzz_seeds DIR\n"); return 2; }
  const fs::path out = argv[1];
  fs::create_directories(out);
  TempDir tmp;
  std::mt19937 rng(1);
  int written = 0;
  auto save = [&](const std::string& name, const fuzzcase::Case& c) {
    std::ofstream f(out / (name + ".bin"), std::ios::binary);
    std::string bytes = fuzzcase::encode(c);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    ++written;
  };
  struct Own { const char* name; int width; uint64_t vocab; int shards; std::vector<uint32_t> ids; };
  for (const Own& o : {Own{"own-w1", 1, 20, 1, {1, 2, 3, 7}}, Own{"own-w2x2", 2, 300, 2, {1, 256, 299, 2}},
                       Own{"own-w4", 4, 1000, 1, {0, 999, 256, 5}}, Own{"own-w1x4", 1, 9, 4, {0, 1, 8}}}) {
    for (int variant = 0; variant < 3; ++variant) {
      fuzzcase::Case c;
      c.format = 0;
      std::vector<Doc> all;
      for (int s = 0; s < o.shards; ++s) {
        std::vector<Doc> docs = docs_from(rng, o.ids);
        all.insert(all.end(), docs.begin(), docs.end());
        const fs::path dir = tmp.path / (std::string(o.name) + "-" + std::to_string(variant) + "-" + std::to_string(s));
        ShardSpec spec = write_any(dir, docs, o.width, o.vocab);
        fuzzcase::ShardCase sc;
        sc.width = static_cast<uint8_t>(o.width);
        sc.tokens = spec.shape.tokens;
        sc.documents = spec.shape.documents;
        sc.vocab = spec.shape.vocab_size;
        for (int f = 0; f < 5; ++f) sc.files[f] = slurp(dir / fuzzcase::kOwnFiles[f]);
        c.shards.push_back(std::move(sc));
      }
      c.queries = queries_for(rng, all, o.ids);
      save(std::string(o.name) + "-" + std::to_string(variant), c);
    }
  }
  struct Ig { const char* name; int width; bool metadata; int shards; uint64_t vocab; std::vector<uint32_t> ids; };
  for (const Ig& o : {Ig{"ig-u8-meta", 1, true, 1, 0, {1, 2, 3, 200}}, Ig{"ig-u16x2", 2, false, 2, 0, {0x0001, 0x0100, 0x00FF, 7}},
                      Ig{"ig-u32", 4, true, 1, 999, {0x00000100, 0x000000FF, 7, 0x0000010A}}}) {
    for (int variant = 0; variant < 3; ++variant) {
      fuzzcase::Case c;
      c.format = 1;
      std::vector<Doc> all;
      const fs::path dir = tmp.path / (std::string(o.name) + "-" + std::to_string(variant));
      for (int s = 0; s < o.shards; ++s) {
        std::vector<Doc> docs = docs_from(rng, o.ids);
        all.insert(all.end(), docs.begin(), docs.end());
        IgOptions io;
        io.suffix = o.shards > 1 ? "." + std::to_string(s) : "";
        io.metadata = o.metadata;
        write_ig(dir, docs, o.width, io);
        fuzzcase::ShardCase sc;
        sc.width = static_cast<uint8_t>(o.width);
        sc.vocab = o.vocab;  // u32: 1 + vocab % 65536 ids (fuzz_index.cpp)
        for (int f = 0; f < 5; ++f) {
          const fs::path p = dir / (fuzzcase::kIgFiles[f] + io.suffix);
          sc.present[f] = fs::exists(p);
          if (sc.present[f]) sc.files[f] = slurp(p);
        }
        c.shards.push_back(std::move(sc));
      }
      c.queries = queries_for(rng, all, o.ids);
      save(std::string(o.name) + "-" + std::to_string(variant), c);
    }
  }
  std::printf("fuzz_seeds: %d seed inputs in %s\n", written, out.c_str());
  return 0;
}
