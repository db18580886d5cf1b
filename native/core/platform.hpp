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

// The page size (sysconf; 4096 where it cannot be read).
size_t page_size();

// Memory mappings this process may still create: vm.max_map_count less the mappings it holds (lines of
// /proc/self/maps), with *limit set to vm.max_map_count. SIZE_MAX where the platform does not say (not Linux).
size_t map_slots_left(size_t* limit);

// Warming a read-only file mapping (Shard::warm), p page-aligned:
// - advise_will_need: madvise(MADV_WILLNEED), the kernel starts reading the range into the page cache and
//   returns without waiting for the reads. False where unavailable or refused (nothing is read ahead then).
// - populate_read: madvise(MADV_POPULATE_READ, Linux 5.14+) faults the range in, page tables included, and
//   waits for the reads. False where the platform or the kernel does not know it (EINVAL) or a page cannot be
//   read (EFAULT: the file is shorter than its mapping); the caller then falls back to read_pages.
// - read_pages: reads one byte of every page, which faults in the same pages on any platform (a page whose file
//   vanished raises SIGBUS, which MappedFile's handler absorbs).
bool advise_will_need(const void* p, size_t bytes);
bool populate_read(const void* p, size_t bytes);
void read_pages(const void* p, size_t bytes);

}  // namespace traceindex::platform
