#include "platform.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

namespace traceindex::platform {

bool exchange_paths(const std::string& from, const std::string& to) {
#if defined(__linux__) && defined(RENAME_EXCHANGE)
  return ::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_EXCHANGE) == 0;
#elif defined(__APPLE__) && defined(RENAME_SWAP)
  return ::renamex_np(from.c_str(), to.c_str(), RENAME_SWAP) == 0;
#else
  (void)from;
  (void)to;
  errno = ENOSYS;
  return false;
#endif
}

void advise_sequential_read(int fd) {
#if defined(POSIX_FADV_SEQUENTIAL)
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#else
  (void)fd;
#endif
}

void advise_huge_pages(void* p, size_t bytes) {
#if defined(MADV_HUGEPAGE)
  (void)::madvise(p, bytes, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

size_t page_size() {
  static const size_t page = [] {
    const long p = ::sysconf(_SC_PAGESIZE);
    return p > 0 ? static_cast<size_t>(p) : size_t(4096);
  }();
  return page;
}

bool advise_will_need(const void* p, size_t bytes) {
#if defined(MADV_WILLNEED)
  return ::madvise(const_cast<void*>(p), bytes, MADV_WILLNEED) == 0;
#else
  (void)p;
  (void)bytes;
  return false;
#endif
}

// Linux's value, for C libraries older than the call: a kernel without it answers EINVAL.
#if defined(__linux__) && !defined(MADV_POPULATE_READ)
#define MADV_POPULATE_READ 22
#endif

bool populate_read(const void* p, size_t bytes) {
#if defined(MADV_POPULATE_READ)
  int r;
  do r = ::madvise(const_cast<void*>(p), bytes, MADV_POPULATE_READ);
  while (r != 0 && errno == EINTR);
  return r == 0;
#else
  (void)p;
  (void)bytes;
  return false;
#endif
}

void read_pages(const void* p, size_t bytes) {
  const volatile unsigned char* b = static_cast<const volatile unsigned char*>(p);
  unsigned char sink = 0;
  for (size_t o = 0; o < bytes; o += page_size()) sink ^= b[o];
  (void)sink;  // volatile reads are never dropped: reading is the point
}

}  // namespace traceindex::platform
