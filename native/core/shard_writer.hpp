// Builds one shard from tokens already laid out as documents + separators: validates them, counts
// unigrams, constructs the suffix array and its sampled keys and writes the six files durably (temporary name, fsync, rename,
// fsync of the directory). The caller writes the manifest last, after every shard it lists is durable.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "progress.hpp"
#include "sais.hpp"
#include "shard.hpp"

namespace traceindex {

struct ShardSource {
  void* tokens = nullptr;            // n tokens of token_width bytes; for width 4 it is remapped in place
  int token_width = 0;               // while the suffix array is built and restored before returning
  uint64_t tokens_count = 0;         // n, separators included
  const uint64_t* doc_starts = nullptr;    // D + 1 offsets, doc_starts[D] = n
  uint64_t documents = 0;                  // D >= 1
  const uint64_t* meta_offsets = nullptr;  // D + 1 offsets into meta_blob
  const uint8_t* meta_blob = nullptr;
  uint64_t vocab_size = 0;           // ids must be < vocab_size < separator
  int threads = 1;
};

struct WrittenFile {
  std::string name;
  uint64_t bytes = 0;
  uint64_t xxh64 = 0;
};

// Stages reported while building: "validate", "suffix-array", "write".
using StageCallback = std::function<void(const char* stage)>;

// Work units of a shard build reported through `progress`: one per token validated, then the suffix array's
// (suffix_array_work(n), sais.hpp). The files' writes are not counted.
constexpr uint64_t shard_build_work(uint64_t n) { return n + suffix_array_work(n); }

// Writes the shard into `dir` (created; must not exist). Throws Error: ERR_TOKEN_RANGE for a token id
// >= vocab_size or a misplaced separator, ERR_INVALID_ARGUMENT for inconsistent offsets, ERR_IO, ERR_ABORTED.
// `progress` (optional) is reset to {0, shard_build_work(n)} once the arguments are checked and reaches its
// total when the suffix array is built.
std::vector<WrittenFile> write_shard(const std::string& dir, ShardSource& src, CancelFlag* cancel = nullptr,
                                     const StageCallback& on_stage = {}, WorkProgress* progress = nullptr);

// Writes dir/samples.bin (docs/FORMAT.md v2) for the shard of `shape` whose stream and suffix array (n - D
// entries of its pointer width) are given, sampling every detail::sample_interval-th suffix. write_shard calls
// it after the suffix array; benches call it to add the layer to a shard written without it.
WrittenFile write_samples(const std::string& dir, const ShardShape& shape, const void* tokens, const void* sa);

// Upgrades one shard written without sampled keys (a format 1 shard, docs/FORMAT.md "Upgrading v1 to v2"):
// opens it as `shape` describes it (shape.samples must be false) and runs Shard::verify_quick, so a damaged shard
// is refused with the open checks' codes (ERR_INDEX_CORRUPT, ERR_INDEX_VERSION, ...) before anything is written;
// then, if `write`, writes dir/samples.bin with write_samples (temporary name, fsync, rename) and fsyncs `dir`.
// A samples.bin already there (one the manifest does not list: a killed upgrade's) is replaced by the rename.
// Checks `cancel` before writing ("upgrade aborted"). Returns the file written (empty name when !write).
WrittenFile upgrade_shard(const std::string& dir, const ShardShape& shape, bool write, CancelFlag* cancel = nullptr);

// XXH64 of a whole file, streamed.
uint64_t checksum_file(const std::string& path, CancelFlag* cancel = nullptr);

// Durability helpers shared with the index writer.
void fsync_path(const std::string& path);
// Atomically swaps two paths (platform::exchange_paths); if `to` does not exist, renames `from` onto it. Where
// the platform has no exchange, moves `to` aside, renames, and moves the old one to `from` (platform.hpp).
// Returns true if an exchange happened (the old contents of `to` are now at `from`).
bool exchange_or_rename(const std::string& from, const std::string& to);

}  // namespace traceindex
