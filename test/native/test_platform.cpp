// The platform layer (native/core/platform.*) through the writer's directory swap: an exchange when both
// paths exist, a plain rename onto a missing target, and an error (never a silent loss) otherwise; and the
// warming calls (WILLNEED, POPULATE_READ, page reads, Shard::warm) on files evicted from the page cache
// (posix_fadvise DONTNEED, no privileges needed), residency read back with mincore.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>

#include <filesystem>
#include <fstream>
#include <string>

#include "check.hpp"
#include "error.hpp"
#include "fixtures.hpp"
#include "index.hpp"
#include "mapped_file.hpp"
#include "platform.hpp"
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

// Pages of a mapping in the page cache, and its page count.
size_t resident(const void* p, size_t bytes) {
  const size_t page = platform::page_size(), pages = (bytes + page - 1) / page;
  std::vector<unsigned char> v(pages);
  CHECK_EQ(::mincore(const_cast<void*>(p), bytes, v.data()), 0);
  return size_t(std::count_if(v.begin(), v.end(), [](unsigned char c) { return c & 1; }));
}
size_t pages(size_t bytes) { return (bytes + platform::page_size() - 1) / platform::page_size(); }

// Drops a file's clean pages from the page cache (pages mapped by a process stay).
void evict(const fs::path& p) {
  int fd = ::open(p.c_str(), O_RDONLY);
  CHECK(fd >= 0);
  ::fdatasync(fd);
  CHECK_EQ(::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
  ::close(fd);
}

// The VmFlags of the mapping holding p (/proc/self/smaps: "rr" random, "sr" sequential), "" if not found.
// Transparent huge pages compiled in and not disabled (MADV_HUGEPAGE is refused otherwise).
bool thp_available() {
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string s;
  return std::getline(f, s) && s.find("[never]") == std::string::npos;
}

std::string vm_flags(const void* p) {
  std::ifstream smaps("/proc/self/smaps");
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  bool in = false;
  for (std::string line; std::getline(smaps, line);) {
    unsigned long lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2 && line.find('-') < line.find(' ')) in = a >= lo && a < hi;
    else if (in && line.rfind("VmFlags:", 0) == 0) return line;
  }
  return "";
}

// A file of `bytes` random bytes, evicted.
fs::path cold_file(const fs::path& dir, const char* name, size_t bytes) {
  std::mt19937 rng(9);
  std::string data(bytes, '\0');
  for (char& c : data) c = char(rng());
  write(dir / name, data);
  evict(dir / name);
  return dir / name;
}
}  // namespace

TEST(exchange_or_rename_swaps_existing_directories_and_renames_onto_missing_ones) {
  fs::path root = scratch("swap");
  fs::create_directories(root / "new");
  fs::create_directories(root / "old");
  write(root / "new" / "manifest.json", "new");
  write(root / "old" / "manifest.json", "old");
  CHECK(exchange_or_rename((root / "new").string(), (root / "old").string()));
  CHECK_EQ(fixtures::read_file(root / "old" / "manifest.json"), std::string("new"));
  CHECK_EQ(fixtures::read_file(root / "new" / "manifest.json"), std::string("old"));  // the previous one, for the caller to remove

  fs::create_directories(root / "fresh");
  write(root / "fresh" / "manifest.json", "fresh");
  CHECK(!exchange_or_rename((root / "fresh").string(), (root / "absent").string()));
  CHECK_EQ(fixtures::read_file(root / "absent" / "manifest.json"), std::string("fresh"));
  CHECK(!fs::exists(root / "fresh"));

  bool threw = false;
  try {
    exchange_or_rename((root / "missing-source").string(), (root / "old").string());
  } catch (const Error& e) {
    threw = true;
    CHECK_EQ(std::string(e.code), std::string(codes::kIo));
  }
  CHECK(threw);
  CHECK_EQ(fixtures::read_file(root / "old" / "manifest.json"), std::string("new"));  // untouched by the failed call
  fs::remove_all(root);
}

// Each warming call on its own, on a mapping of a file just evicted: the test can only fail where eviction worked
// (checked first; where it did not, the note says so and the residency checks are not made).
TEST(willneed_populate_and_page_reads_bring_an_evicted_file_in) {
  fs::path root = scratch("warm-calls");
  constexpr size_t kBytes = size_t(8) << 20;
  const char* names[] = {"willneed", "populate", "read"};
  for (int how = 0; how < 3; ++how) {
    MappedFile f = MappedFile::open(cold_file(root, names[how], kBytes).string());
    if (resident(f.data(), f.size()) == pages(f.size())) {
      std::fprintf(stderr, "  note: %s: the page cache kept an evicted file; residency not checked\n", names[how]);
      continue;
    }
    if (how == 0) {
      CHECK(platform::advise_will_need(f.data(), f.size()));
      // Asynchronous: the reads were started; wait for them (up to 10 s).
      for (int i = 0; i < 1000 && resident(f.data(), f.size()) < pages(f.size()); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    } else if (how == 1) {
      if (!platform::populate_read(f.data(), f.size())) {
        std::fprintf(stderr, "  note: MADV_POPULATE_READ unavailable (kernel < 5.14?); Shard::warm reads pages instead\n");
        continue;
      }
    } else {
      platform::read_pages(f.data(), f.size());
    }
    CHECK_EQ(resident(f.data(), f.size()), pages(f.size()));
  }
  fs::remove_all(root);
}

TEST(warm_makes_every_mapping_of_an_index_resident) {
  fixtures::TempDir tmp;
  std::mt19937 rng(31);
  std::vector<fixtures::Doc> docs(40);
  for (auto& d : docs) for (int i = 0, n = 20000 + int(rng() % 40000); i < n; ++i) d.push_back(rng() % 3000);
  ShardSpec a = fixtures::write_any(tmp.path / "a", docs, 2, 3000);
  docs.resize(10);
  ShardSpec b = fixtures::write_any(tmp.path / "b", docs, 2, 3000);
  uint64_t on_disk = 0, files = 0;
  for (const auto& dir : {tmp.path / "a", tmp.path / "b"})
    for (const auto& e : fs::directory_iterator(dir)) {
      on_disk += fs::file_size(e.path());
      ++files;
      evict(e.path());
    }
  Index idx({a, b});
  size_t cold = 0, big = 0;
  for (size_t s = 0; s < idx.shard_count(); ++s)
    for (const MappedFile* f : idx.shard(s).files()) cold += pages(f->size()) - resident(f->data(), f->size());
  std::atomic<uint8_t> stop{1};
  CHECK_THROWS_CODE(idx.warm(&stop), codes::kAborted);
  const WarmStats st = idx.warm();
  CHECK_EQ(st.files, files);
  CHECK_EQ(st.bytes, on_disk);
  CHECK_EQ(st.advised, files);
  CHECK(st.populated <= files);
  if (cold == 0) std::fprintf(stderr, "  note: the page cache kept the evicted index; the residency check cannot fail here\n");
  // Resident, and each file's own hint back (the suffix array and the tokens random, the rest not sequential).
  for (size_t s = 0; s < idx.shard_count(); ++s)
    for (const MappedFile* f : idx.shard(s).files()) {
      CHECK_EQ(resident(f->data(), f->size()), pages(f->size()));
      const std::string flags = vm_flags(f->data()) + " ";
      CHECK(flags.find(" sr ") == std::string::npos);
      if (f->pattern() == AccessPattern::Random) CHECK(flags.find(" rr ") != std::string::npos);
      // Files of 2 MiB or more: mapped 2 MiB-aligned, and warmed with huge pages advised (where the kernel has
      // transparent huge pages at all).
      if (f->size() >= (size_t(2) << 20)) {
        ++big;
        CHECK_EQ(reinterpret_cast<uintptr_t>(f->data()) % (uintptr_t(2) << 20), uintptr_t(0));
        if (thp_available()) CHECK(flags.find(" hg ") != std::string::npos);
      }
    }
  CHECK(big >= 2);  // shard a's suffix array and tokens
}

TEST(a_large_file_maps_aligned_reads_its_bytes_and_survives_truncation) {
  fixtures::TempDir tmp;
  const fs::path p = tmp.path / "big";
  const size_t bytes = (size_t(5) << 20) + 123;  // not a whole number of pages
  std::string data(bytes, '\0');
  std::mt19937 rng(5);
  for (char& c : data) c = static_cast<char>(rng());
  { std::ofstream(p, std::ios::binary).write(data.data(), std::streamsize(bytes)); }
  MappedFile f = MappedFile::open(p.string());
  CHECK_EQ(f.size(), bytes);
  CHECK_EQ(reinterpret_cast<uintptr_t>(f.data()) % (uintptr_t(2) << 20), uintptr_t(0));
  CHECK(std::memcmp(f.data(), data.data(), bytes) == 0);
  // Truncated under the mapping: a read past the new end is caught by the fault handler (zeros, the file marked
  // damaged), not a SIGBUS.
  const uint64_t faults = MappedFile::faults();
  CHECK_EQ(::truncate(p.c_str(), off_t(1) << 20), 0);
  const volatile uint8_t* far = f.data() + (size_t(3) << 20);
  CHECK_EQ(static_cast<int>(*far), 0);
  CHECK(!f.intact());
  CHECK(MappedFile::faults() > faults);
}

// An open that would leave the process too few memory mappings is refused before anything is mapped (a process
// out of mappings dies in V8); map_slots_left counts the mappings the process holds.
TEST(open_refuses_what_would_exhaust_memory_mappings) {
  size_t limit = 0;
  const size_t left = platform::map_slots_left(&limit);
  if (left == SIZE_MAX) return;  // not Linux: no count to check against
  CHECK(limit > 0 && left < limit);
  fixtures::TempDir tmp;
  ShardSpec spec = fixtures::write_any(tmp.path / "s", {{1, 2, 3}, {2, 3}}, 1, 10);
  {
    Index idx({spec});
    size_t l2 = 0;
    CHECK(platform::map_slots_left(&l2) < left);  // its files are mapped
    CHECK_EQ(l2, limit);
  }
  const uint64_t saved = detail::map_reserve;
  detail::map_reserve = left;  // one shard's mappings on top of that do not fit
  CHECK_THROWS_CODE(Index({spec}), codes::kNoMemory);
  detail::map_reserve = saved;
  Index again({spec});
  CHECK_EQ(again.count(std::vector<uint32_t>{2, 3}.data(), 2), uint64_t(2));
}
