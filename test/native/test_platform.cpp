// The platform layer (native/core/platform.*) through the writer's directory swap: an exchange when both
// paths exist, a plain rename onto a missing target, and an error (never a silent loss) otherwise.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "check.hpp"
#include "error.hpp"
#include "shard_writer.hpp"

namespace fs = std::filesystem;
using namespace traceindex;

namespace {
fs::path scratch(const char* name) {
  fs::path p = fs::temp_directory_path() / (std::string("traceindex-platform-") + name + "-" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}
void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }
std::string read(const fs::path& p) {
  std::ifstream f(p);
  return std::string(std::istreambuf_iterator<char>(f), {});
}
}  // namespace

TEST(exchange_or_rename_swaps_existing_directories_and_renames_onto_missing_ones) {
  fs::path root = scratch("swap");
  fs::create_directories(root / "new");
  fs::create_directories(root / "old");
  write(root / "new" / "manifest.json", "new");
  write(root / "old" / "manifest.json", "old");
  CHECK(exchange_or_rename((root / "new").string(), (root / "old").string()));
  CHECK_EQ(read(root / "old" / "manifest.json"), std::string("new"));
  CHECK_EQ(read(root / "new" / "manifest.json"), std::string("old"));  // the previous one, for the caller to remove

  fs::create_directories(root / "fresh");
  write(root / "fresh" / "manifest.json", "fresh");
  CHECK(!exchange_or_rename((root / "fresh").string(), (root / "absent").string()));
  CHECK_EQ(read(root / "absent" / "manifest.json"), std::string("fresh"));
  CHECK(!fs::exists(root / "fresh"));

  bool threw = false;
  try {
    exchange_or_rename((root / "missing-source").string(), (root / "old").string());
  } catch (const Error& e) {
    threw = true;
    CHECK_EQ(std::string(e.code), std::string(codes::kIo));
  }
  CHECK(threw);
  CHECK_EQ(read(root / "old" / "manifest.json"), std::string("new"));  // untouched by the failed call
  fs::remove_all(root);
}
