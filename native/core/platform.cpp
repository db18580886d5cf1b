#include "platform.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>

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

size_t map_slots_left(size_t* limit) {
  *limit = SIZE_MAX;
  std::FILE* f = std::fopen("/proc/sys/vm/max_map_count", "r");
  if (!f) return SIZE_MAX;
  unsigned long long max = 0;
  const bool read = std::fscanf(f, "%llu", &max) == 1;
  std::fclose(f);
  if (!read || !(f = std::fopen("/proc/self/maps", "r"))) return SIZE_MAX;
  size_t held = 0;
  char buf[1 << 16];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) held += size_t(std::count(buf, buf + n, '\n'));
  std::fclose(f);
  *limit = size_t(max);
  return held < max ? size_t(max) - held : 0;
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
