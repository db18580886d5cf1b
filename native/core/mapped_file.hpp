// Read-only memory mapping of a whole file (the shard files are never written through a mapping that a
// reader holds). Move-only; unmaps on destruction.
//
// A file truncated (or unreadable) under a live mapping makes the next read of a vanished page fault with
// SIGBUS. Every mapping is registered in a process-wide table; a SIGBUS handler (installed once, on the
// first open, chaining to whatever handler was there before) maps zero pages over the rest of a faulting
// registered mapping, marks it damaged and lets the read resume. Readers then finish on zeros (the core is
// memory-safe on any file content) and the caller's check (Index::check_intact) turns the damage into
// Error(ERR_IO). Faults outside registered mappings go to the previous handler (by default: the process dies
// as it would have). No longjmp: no C++ frame is ever skipped.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

namespace traceindex {

namespace detail {
extern std::atomic<uint64_t> mapping_faults;  // faults absorbed by the SIGBUS handler, process-wide
}

enum class AccessPattern { Random, Sequential, WillNeed };

// Identity of a file on its file system (st_dev, st_ino): equal for aliases, symlinks and hard links.
struct FileId {
  uint64_t dev = 0, ino = 0;
  bool operator==(const FileId& o) const { return dev == o.dev && ino == o.ino; }
  bool operator<(const FileId& o) const { return dev != o.dev ? dev < o.dev : ino < o.ino; }
};

class MappedFile {
 public:
  MappedFile() = default;
  // Throws Error(ERR_INDEX_CORRUPT) if the file is missing (an index file that should be there) and ERR_IO otherwise.
  static MappedFile open(const std::string& path, AccessPattern pattern = AccessPattern::Random);
  MappedFile(MappedFile&& o) noexcept { *this = std::move(o); }
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  const FileId& id() const { return id_; }
  bool is_open() const { return !path_.empty(); }
  void advise(AccessPattern pattern) const;
  // The pattern the file was opened with (advise(pattern()) restores its hint after a temporary one).
  AccessPattern pattern() const { return pattern_; }
  // False once a read of this mapping faulted (the file shrank or became unreadable since it was mapped).
  bool intact() const;

  // Faults absorbed so far in this process, over all mappings (0 on the fast path of every check).
  static uint64_t faults() { return detail::mapping_faults.load(std::memory_order_acquire); }

 private:
  void release() noexcept;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
  FileId id_;
  int slot_ = -1;  // registration in the fault table, -1 when not mapped
  AccessPattern pattern_ = AccessPattern::Random;
};

}  // namespace traceindex
