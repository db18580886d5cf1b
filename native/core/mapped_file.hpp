// Read-only memory mapping of a whole file (the shard files are never written through a mapping that a
// reader holds). Move-only; unmaps on destruction.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace traceindex {

enum class AccessPattern { Random, Sequential, WillNeed };

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
  void advise(AccessPattern pattern) const;

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

}  // namespace traceindex
