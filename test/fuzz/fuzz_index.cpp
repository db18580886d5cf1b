// Fuzz target over the core's open and query paths: an input (test/fuzz/fuzz_case.hpp) is decoded into the
// files of an index (traceindex or infini-gram, 1 to 4 shards) plus what its manifest says, written to a
// scratch directory, opened, and every query kind run on it (test/fuzz/exercise.hpp). A finding is any
// crash or sanitizer report, an error other than the file-damage codes, or a breach of the answer checks
// (reported by abort()).
//
// Built two ways (CMakeLists.txt): with clang -fsanitize=fuzzer,address,undefined as a libFuzzer binary
// (fuzz_index, which also gets the structure-aware mutator below), and with any compiler against driver.cpp
// (fuzz_index_driver: replays files and runs random mutations for a bounded time). Seeds: fuzz_seeds.
// One command for a bounded session: npm run fuzz -- --seconds 60 (test/fuzz/run.sh).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "error.hpp"
#include "exercise.hpp"
#include "fuzz_case.hpp"
#include "index.hpp"
#include "shard_format.hpp"

using namespace traceindex;
namespace fs = std::filesystem;

// 1 if the last input opened as an index (the driver keeps those to mutate further).
extern "C" int traceindex_fuzz_opened;
int traceindex_fuzz_opened = 0;

namespace {

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "fuzz_index: FINDING: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

const fs::path& scratch() {
  static const fs::path dir = [] {
    std::error_code ec;
    fs::path base = fs::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0 ? fs::path("/dev/shm") : fs::temp_directory_path();
    fs::path d = base / ("traceindex-fuzz-" + std::to_string(::getpid()));
    std::atexit([] { std::error_code e; fs::remove_all(scratch(), e); });
    return d;
  }();
  return dir;
}

void write(const fs::path& p, const std::string& bytes) {
  FILE* f = std::fopen(p.c_str(), "wb");
  if (!f) finding("cannot write scratch file " + p.string());
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) finding("short write to " + p.string());
  std::fclose(f);
}

// The index directory of the case, and the specs its manifest (the case's shape fields) gives.
std::vector<ShardSpec> materialize(const fuzzcase::Case& c) {
  std::error_code ec;
  fs::remove_all(scratch(), ec);
  fs::create_directories(scratch());
  std::vector<ShardSpec> specs;
  for (size_t s = 0; s < c.shards.size(); ++s) {
    const fuzzcase::ShardCase& sc = c.shards[s];
    ShardSpec spec;
    if (c.format == 0) {
      spec.dir = (scratch() / ("shard-" + std::to_string(s))).string();
      spec.shape = {sc.width, sc.tokens, sc.documents, sc.vocab};
      fs::create_directories(spec.dir);
      for (int f = 0; f < 5; ++f)
        if (sc.present[f]) write(fs::path(spec.dir) / fuzzcase::kOwnFiles[f], sc.files[f]);
    } else {
      // infini-gram: one directory, a suffix per shard. The caller's options are kept valid (an invalid
      // width or vocabulary is the caller's error, not the files'); u32 always declares a vocabulary of at
      // most 2^16, so a hostile id cannot make the reader size its count table at 2^28.
      const int w = sc.width == 2 ? 2 : sc.width == 4 ? 4 : 1;
      spec.format = "infini-gram";
      spec.dir = (scratch() / "ig").string();
      spec.suffix = c.shards.size() > 1 ? "." + std::to_string(s) : "";
      spec.shape.token_width = w;
      spec.shape.vocab_size = w == 4 ? 1 + sc.vocab % 65536 : sc.vocab % (separator_of(w) + 1);
      fs::create_directories(spec.dir);
      for (int f = 0; f < 5; ++f)
        if (sc.present[f]) write(fs::path(spec.dir) / (fuzzcase::kIgFiles[f] + spec.suffix), sc.files[f]);
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  traceindex_fuzz_opened = 0;
  const fuzzcase::Case c = fuzzcase::decode(data, size);
  const std::vector<ShardSpec> specs = materialize(c);
  std::unique_ptr<Index> idx;
  try {
    idx = std::make_unique<Index>(specs);
  } catch (const Error& e) {
    if (e.code == codes::kCorrupt || e.code == codes::kVersion || e.code == codes::kTokenWidth || e.code == codes::kIo) return 0;
    finding("open threw " + e.code + ": " + e.what());
  } catch (const std::exception& e) {
    finding(std::string("open threw ") + e.what());
  }
  traceindex_fuzz_opened = 1;
  uint64_t seed = size;
  for (size_t i = 0; i < size; ++i) seed = seed * 0x100000001B3ULL ^ data[i];
  std::mt19937 rng(static_cast<uint32_t>(seed));
  auto queries = fuzzcase::decode_queries(c.queries, idx->vocab_size(), 12);
  auto derived = exercise::derived_queries(*idx, rng, 6);
  queries.insert(queries.end(), derived.begin(), derived.end());
  try {
    exercise::run(*idx, queries, seed);
  } catch (const exercise::Violation& v) {
    finding(std::string("answer check: ") + v.what());
  } catch (const Error& e) {
    finding("query threw " + e.code + ": " + e.what());
  } catch (const std::exception& e) {
    finding(std::string("query threw ") + e.what());
  }
  return 0;
}

#ifdef TRACEINDEX_LIBFUZZER
extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

// Mutations aimed at one file, one shape field or the queries (fuzz_case.hpp), with libFuzzer's own byte
// mutator inside the chosen part.
extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  std::mt19937_64 rng(seed);
  std::string in(reinterpret_cast<const char*>(data), size);
  std::string out = fuzzcase::mutate(in, max_size, rng, [](uint8_t* d, size_t n, size_t m) { return LLVMFuzzerMutate(d, n, m); });
  std::memcpy(data, out.data(), out.size());
  return out.size();
}
#endif
