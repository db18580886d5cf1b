#include "platform.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>

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

}  // namespace traceindex::platform
