// The system calls that differ between platforms, each with its fallback written down once. Everything else
// in the core is POSIX (open, mmap, fsync, rename). Supported and tested: Linux (glibc). Elsewhere the
// fallbacks below apply (the package declares os: linux; a source build on another POSIX system is untested).
#pragma once
#include <cstddef>
#include <string>

namespace traceindex::platform {

// Swaps two existing paths atomically (Linux renameat2 RENAME_EXCHANGE, macOS renamex_np RENAME_SWAP). Returns
// false with errno set when the platform or file system cannot (ENOSYS, EINVAL, ENOENT...): the caller then
// renames, which is atomic for the target but leaves a moment with the old directory moved aside.
bool exchange_paths(const std::string& from, const std::string& to);

// Hints, never required: a file read once from start to end (posix_fadvise SEQUENTIAL), and an anonymous
// buffer worth backing with huge pages (madvise MADV_HUGEPAGE). No-ops where unavailable.
void advise_sequential_read(int fd);
void advise_huge_pages(void* p, size_t bytes);

}  // namespace traceindex::platform
