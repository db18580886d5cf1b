#include "mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error.hpp"

namespace traceindex {

MappedFile MappedFile::open(const std::string& path, AccessPattern pattern) {
  MappedFile f;
  f.path_ = path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    throw Error(e == ENOENT ? codes::kCorrupt : codes::kIo,
                (e == ENOENT ? "missing index file " : "cannot open ") + path + ": " + std::strerror(e));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    throw Error(codes::kIo, "cannot stat " + path + ": " + std::strerror(e));
  }
  f.size_ = static_cast<size_t>(st.st_size);
  if (f.size_ > 0) {
    void* p = mmap(nullptr, f.size_, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
      int e = errno;
      ::close(fd);
      throw Error(codes::kIo, "cannot map " + path + ": " + std::strerror(e));
    }
    f.data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);  // the mapping keeps the file alive
  f.advise(pattern);
  return f;
}

void MappedFile::advise(AccessPattern pattern) const {
  if (!data_) return;
  int advice = pattern == AccessPattern::Random ? MADV_RANDOM
             : pattern == AccessPattern::Sequential ? MADV_SEQUENTIAL : MADV_WILLNEED;
  madvise(const_cast<uint8_t*>(data_), size_, advice);  // a hint: failure is harmless
}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    if (data_) munmap(const_cast<uint8_t*>(data_), size_);
    data_ = o.data_; size_ = o.size_; path_ = std::move(o.path_);
    o.data_ = nullptr; o.size_ = 0;
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (data_) munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace traceindex
