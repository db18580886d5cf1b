#include "mapped_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "error.hpp"
#include "platform.hpp"

namespace traceindex {

std::atomic<uint64_t> detail::mapping_faults{0};

namespace {

// ---- the fault table ----------------------------------------------------------------------------------
// Chunks of slots, appended and never freed, read by the signal handler with lock-free atomics only. A slot's
// range is published under a sequence lock, so the handler never acts on a half-written range (it would
// otherwise map zeros over memory that is not ours).

struct Slot {
  std::atomic<uint32_t> used{0};
  std::atomic<uint64_t> seq{0};  // odd while the range is being written
  std::atomic<uintptr_t> begin{0}, end{0};  // [begin, end), whole pages
  std::atomic<uint8_t> damaged{0};
};
constexpr int kSlotsPerChunk = 256;
struct Chunk {
  Slot slots[kSlotsPerChunk];
  std::atomic<Chunk*> next{nullptr};
};

Chunk g_table;
struct sigaction g_previous;
uintptr_t g_page = 4096;
std::once_flag g_install_once;

void write_range(Slot& s, uintptr_t b, uintptr_t e) {
  const uint64_t q = s.seq.load(std::memory_order_relaxed);
  s.seq.store(q + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  s.begin.store(b, std::memory_order_relaxed);
  s.end.store(e, std::memory_order_relaxed);
  s.seq.store(q + 2, std::memory_order_release);
}

// Previous handler, or the default action: for a real fault, returning re-executes the access, which then
// kills the process exactly as if no handler had been installed.
void chain(int sig, siginfo_t* info, void* ctx) {
  if (g_previous.sa_flags & SA_SIGINFO) {
    if (g_previous.sa_sigaction) { g_previous.sa_sigaction(sig, info, ctx); return; }
  } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
    g_previous.sa_handler(sig);
    return;
  }
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, nullptr);
  if (!info || info->si_code <= 0) raise(sig);  // sent, not a fault: deliver it again on return
}

void on_sigbus(int sig, siginfo_t* info, void* ctx) {
  const int saved_errno = errno;
  if (info && info->si_code > 0) {  // raised by the kernel for an access at si_addr
    const uintptr_t a = reinterpret_cast<uintptr_t>(info->si_addr);
    for (Chunk* c = &g_table; c; c = c->next.load(std::memory_order_acquire)) {
      for (Slot& s : c->slots) {
        if (s.used.load(std::memory_order_acquire) != 1) continue;
        const uint64_t q = s.seq.load(std::memory_order_acquire);
        if (q & 1) continue;  // being written: not a mapping in use by a reader
        const uintptr_t b = s.begin.load(std::memory_order_relaxed), e = s.end.load(std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_acquire);
        if (s.seq.load(std::memory_order_relaxed) != q || a < b || a >= e) continue;
        const uintptr_t page = a & ~(g_page - 1);
        void* r = mmap(reinterpret_cast<void*>(page), e - page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (r == MAP_FAILED) break;
        s.damaged.store(1, std::memory_order_release);
        detail::mapping_faults.fetch_add(1, std::memory_order_acq_rel);
        errno = saved_errno;
        return;
      }
    }
  }
  errno = saved_errno;
  chain(sig, info, ctx);
}

void install_handler() {
  const char* off = std::getenv("TRACEINDEX_NO_SIGBUS_HANDLER");
  if (off && *off && std::strcmp(off, "0") != 0) return;
  long page = sysconf(_SC_PAGESIZE);
  if (page > 0) g_page = static_cast<uintptr_t>(page);
  sigaction(SIGBUS, nullptr, &g_previous);  // known before the handler can run
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_sigbus;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGBUS, &sa, &g_previous);
}

int register_range(const void* p, size_t size) {
  std::call_once(g_install_once, install_handler);
  const uintptr_t b = reinterpret_cast<uintptr_t>(p), e = b + ((size + g_page - 1) & ~(g_page - 1));
  int base = 0;
  for (Chunk* c = &g_table;;) {
    for (int i = 0; i < kSlotsPerChunk; ++i) {
      Slot& s = c->slots[i];
      uint32_t expected = 0;
      if (s.used.load(std::memory_order_relaxed) == 0 && s.used.compare_exchange_strong(expected, 2, std::memory_order_acq_rel)) {
        s.damaged.store(0, std::memory_order_relaxed);
        write_range(s, b, e);
        s.used.store(1, std::memory_order_release);
        return base + i;
      }
    }
    Chunk* next = c->next.load(std::memory_order_acquire);
    if (!next) {
      Chunk* fresh = new Chunk();
      if (c->next.compare_exchange_strong(next, fresh, std::memory_order_acq_rel)) next = fresh;
      else delete fresh;  // another thread appended first: `next` is its chunk
    }
    c = next;
    base += kSlotsPerChunk;
  }
}

Slot& slot_at(int index) {
  Chunk* c = &g_table;
  for (; index >= kSlotsPerChunk; index -= kSlotsPerChunk) c = c->next.load(std::memory_order_acquire);
  return c->slots[index];
}

void unregister_range(int index) {
  Slot& s = slot_at(index);
  s.used.store(2, std::memory_order_release);
  write_range(s, 0, 0);
  s.damaged.store(0, std::memory_order_relaxed);
  s.used.store(0, std::memory_order_release);
}

// A read-only mapping of fd at a 2 MiB-aligned address when the file is at least that large: file offsets and
// addresses then agree modulo 2 MiB, so the kernel can map the page cache's 2 MiB folios (what sequential
// reads, readahead and our own writes leave there) with one page-table entry each instead of 512. Random probes
// of a suffix array then miss the TLB far less (bench: 33 -> 20 ns per random byte of a 4 GB file).
void* map_aligned(int fd, size_t size) {
  constexpr size_t kHuge = size_t(2) << 20;
  if (size < kHuge) return mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  // Reserve size + 2 MiB of address space, map the file over its aligned part, give back the rest.
  void* r = mmap(nullptr, size + kHuge, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (r == MAP_FAILED) return mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  uint8_t* const base = static_cast<uint8_t*>(r);
  uint8_t* const at = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(base) + kHuge - 1) & ~(kHuge - 1));
  void* p = mmap(at, size, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
  if (p == MAP_FAILED) {
    munmap(r, size + kHuge);
    return MAP_FAILED;
  }
  const uintptr_t page = platform::page_size();
  uint8_t* const end = at + ((size + page - 1) & ~(page - 1));  // the mapping covers whole pages
  if (at > base) munmap(base, static_cast<size_t>(at - base));
  if (base + size + kHuge > end) munmap(end, static_cast<size_t>(base + size + kHuge - end));
  return p;
}

}  // namespace

MappedFile MappedFile::open(const std::string& path, AccessPattern pattern) {
  MappedFile f;
  f.path_ = path;
  // O_NONBLOCK: opening a FIFO planted in place of a file must not wait for a writer.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
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
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(codes::kCorrupt, path + ": not a regular file");
  }
  f.id_ = {static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
  f.size_ = static_cast<size_t>(st.st_size);
  if (f.size_ > 0) {
    void* p = map_aligned(fd, f.size_);
    if (p == MAP_FAILED) {
      int e = errno;
      ::close(fd);
      throw Error(codes::kIo, "cannot map " + path + ": " + std::strerror(e));
    }
    f.data_ = static_cast<const uint8_t*>(p);
    f.slot_ = register_range(p, f.size_);
  }
  ::close(fd);  // the mapping keeps the file alive
  f.pattern_ = pattern;
  f.advise(pattern);
  return f;
}

void MappedFile::advise(AccessPattern pattern) const {
  if (!data_) return;
  void* p = const_cast<uint8_t*>(data_);
  // Hints, failures harmless. WillNeed is not a mode of the mapping: it clears one set before (Shard::warm's).
  if (pattern == AccessPattern::WillNeed) madvise(p, size_, MADV_NORMAL);
  int advice = pattern == AccessPattern::Random ? MADV_RANDOM
             : pattern == AccessPattern::Sequential ? MADV_SEQUENTIAL : MADV_WILLNEED;
  madvise(p, size_, advice);
}

bool MappedFile::intact() const {
  return slot_ < 0 || slot_at(slot_).damaged.load(std::memory_order_acquire) == 0;
}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    release();
    data_ = o.data_; size_ = o.size_; path_ = std::move(o.path_); id_ = o.id_; slot_ = o.slot_; pattern_ = o.pattern_;
    o.data_ = nullptr; o.size_ = 0; o.slot_ = -1; o.path_.clear();
  }
  return *this;
}

void MappedFile::release() noexcept {
  if (slot_ >= 0) unregister_range(slot_);  // before unmapping: the range may be reused at once
  if (data_) munmap(const_cast<uint8_t*>(data_), size_);
  data_ = nullptr;
  size_ = 0;
  slot_ = -1;
}

MappedFile::~MappedFile() { release(); }

}  // namespace traceindex
