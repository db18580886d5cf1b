// Progress of a long native job, shared with whoever displays it: `done` rises monotonically to `total`
// (work units whose meaning the job documents). The job writes with relaxed atomics, at most once per pass
// or large block; a reader on another thread (or JS, through the binding's BigUint64Array view) polls it.
#pragma once
#include <atomic>
#include <cstdint>

namespace traceindex {

struct WorkProgress {
  std::atomic<uint64_t> done{0};
  std::atomic<uint64_t> total{0};
};
// The binding lays this over two uint64 slots of a JS BigUint64Array.
static_assert(sizeof(WorkProgress) == 16 && std::atomic<uint64_t>::is_always_lock_free, "WorkProgress must be two plain uint64 slots");

inline void advance(WorkProgress* p, uint64_t units) {
  if (p && units) p->done.fetch_add(units, std::memory_order_relaxed);
}

}  // namespace traceindex
