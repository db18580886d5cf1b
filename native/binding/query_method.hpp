// The async and Sync forms of a NativeIndex query, both produced from one description M:
//   M::kName, M::kSyncName       the two method names
//   M::Request, M::read(info)    the arguments, read and copied on the JS thread (the work may outlive them)
//   M::kCancelArg                where the async form takes its optional cancel flag
//   M::Result, M::to_js          the answer and its conversion on the JS thread
// and either one piece of work
//   M::work(index, request, cancel) -> Result
// or, for a query split by shard (native/core/batch.hpp),
//   M::check(index, request)     on the JS thread, before any part (ERR_TOKEN_RANGE and the like)
//   M::Part, M::part(shard, request, cancel), M::merge(index, request, parts, cancel) -> Result
//   M::kFanOut                   the async form runs each shard's part as its own pool item
//   M::part_of(shard, queries, cancel)  optional, with kFanOut: the part of a slice of the batch (a vector with
//                                one entry per query); a large batch then also runs as slices, one pool item per
//                                (shard, slice), so one call uses every core (split_count)
// The Sync form runs the same functions on the calling thread.
//
// Optionally M::tiny(index, request): the work is known to be a few microseconds (a count of one short query
// on few shards). The async form then runs it on the calling thread and returns the answer itself, not a promise
// (lib/query/core.ts, Call.run, awaits either): a pool round trip costs several times that work. A cancel flag (a signal or timeoutMs) does not send it to the
// pool: the inline work reads the flag as the pool's would (set already: ERR_ABORTED), and microseconds of work
// cannot outlive a deadline worth setting. Every call takes the pool when TRACEINDEX_ASYNC_INLINE=0 is in the
// environment at load time (docs/api.md, Threads).
#pragma once
#include <napi.h>

#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <memory>
#include <thread>
#include <type_traits>
#include <vector>

#include "args.hpp"
#include "batch.hpp"
#include "errors.hpp"
#include "job.hpp"

namespace binding {

template <class M, class = void>
struct is_sharded : std::false_type {};
template <class M>
struct is_sharded<M, std::void_t<typename M::Part>> : std::true_type {};

template <class M>
typename M::Result merged(const ti::Index& idx, const typename M::Request& req, const std::vector<typename M::Part>& parts,
                          ti::CancelFlag* cancel) {
  typename M::Result r = M::merge(idx, req, parts, cancel);
  idx.check_intact();
  return r;
}

// The answer on the calling thread (a sharded query's tokens are checked already). Every answer ends with
// check_intact: what was read through a mapping whose file was truncated under it is ERR_IO, not an answer.
template <class M>
typename M::Result compute(const ti::Index& idx, const typename M::Request& req, ti::CancelFlag* cancel) {
  if constexpr (is_sharded<M>::value) {
    return ti::run_sharded(idx, [&](const ti::Shard& s) { return M::part(s, req, cancel); },
                           [&](const std::vector<typename M::Part>& parts) { return merged<M>(idx, req, parts, cancel); });
  } else {
    typename M::Result r = M::work(idx, req, cancel);
    idx.check_intact();
    return r;
  }
}

template <class M, class = void>
struct has_tiny : std::false_type {};
template <class M>
struct has_tiny<M, std::void_t<decltype(M::tiny(std::declval<const ti::Index&>(), std::declval<const typename M::Request&>()))>>
    : std::true_type {};

inline bool inline_enabled() {
  static const bool on = [] {
    const char* v = std::getenv("TRACEINDEX_ASYNC_INLINE");
    return !(v && (std::strcmp(v, "0") == 0 || std::strcmp(v, "off") == 0 || std::strcmp(v, "false") == 0));
  }();
  return on;
}

template <class M, class = void>
struct has_part_of : std::false_type {};
template <class M>
struct has_part_of<M, std::void_t<decltype(M::part_of(std::declval<const ti::Shard&>(), std::declval<const ti::Queries&>(),
                                                      std::declval<ti::CancelFlag*>()))>> : std::true_type {};

// Positive integer value of an environment variable, or 0 (unset, empty or not a number).
inline size_t env_count(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return 0;
  char* end = nullptr;
  const unsigned long long n = std::strtoull(v, &end, 10);
  return *end == '\0' && n > 0 && n <= 1024 ? size_t(n) : 0;
}

// Slices an async batch of `queries` runs as: one per core the pool can use (the CPU count, at most libuv's
// UV_THREADPOOL_SIZE threads, 4 by default; TRACEINDEX_BATCH_CORES overrides it, e.g. under a container's CPU
// quota), each of at least kMinSlice queries (hundreds of microseconds of work against a pool hop of tens), so
// small batches stay one item. Read on the first large batch. The calling thread's Sync form never splits.
inline size_t split_count(size_t queries) {
  constexpr size_t kMinSlice = 256;
  static const size_t cores = [] {
    if (const size_t forced = env_count("TRACEINDEX_BATCH_CORES")) return forced;
    const size_t pool = env_count("UV_THREADPOOL_SIZE");
    return std::max<size_t>(1, std::min<size_t>(std::thread::hardware_concurrency(), pool ? pool : 4));
  }();
  return std::max<size_t>(1, std::min(cores, queries / kMinSlice));
}

template <class M>
Napi::Value run_sync(Napi::Env env, const ti::Index& idx, const Napi::CallbackInfo& info) {
  const typename M::Request req = M::read(info);
  if constexpr (is_sharded<M>::value) M::check(idx, req);
  return M::to_js(env, compute<M>(idx, req, nullptr));
}

template <class M>
Napi::Value run_async(Napi::Env env, std::shared_ptr<const ti::Index> idx, const Napi::CallbackInfo& info) {
  auto req = std::make_shared<const typename M::Request>(M::read(info));
  Cancel cancel = read_cancel(env, info[M::kCancelArg]);
  ti::CancelFlag* flag = cancel.flag;
  auto out = std::make_shared<typename M::Result>();
  Job::Done done = [out](Napi::Env env) { return M::to_js(env, *out); };
  if constexpr (is_sharded<M>::value) M::check(*idx, *req);
  if constexpr (has_tiny<M>::value) {
    // The answer itself, not a promise: the caller sees that nothing is left to wait for or to cancel (no timer
    // to arm, no listener on its signal). Errors are thrown, as the Sync form's are.
    if (inline_enabled() && M::tiny(*idx, *req)) return M::to_js(env, compute<M>(*idx, *req, flag));
  }
  if constexpr (is_sharded<M>::value) {
    // One pool item per (shard, slice): item k is shard k / slices, queries [n j / slices, n (j + 1) / slices) with
    // j = k % slices; a shard's part is its slices' parts end to end. Unsliced (slices == 1) each item is a
    // shard's whole part, taken when M::kFanOut and there is more than one shard.
    size_t slices = 1;
    if constexpr (has_part_of<M>::value) slices = split_count(req->view().size());
    const size_t shards = idx->shard_count();
    if (slices > 1 || (M::kFanOut && shards > 1)) {
      auto pieces = std::make_shared<std::vector<typename M::Part>>(shards * slices);
      return Job::Start(
          env, shards * slices,
          [=](size_t k) {
            const ti::Shard& shard = idx->shard(k / slices);
            if constexpr (has_part_of<M>::value) {
              if (slices > 1) {
                const size_t n = req->view().size(), j = k % slices;
                (*pieces)[k] = M::part_of(shard, req->view().slice(n * j / slices, n * (j + 1) / slices), flag);
                return;
              }
            }
            (*pieces)[k] = M::part(shard, *req, flag);
          },
          [=] {
            if constexpr (has_part_of<M>::value) {
              if (slices > 1) {
                std::vector<typename M::Part> parts(shards);
                for (size_t si = 0; si < shards; ++si)
                  for (size_t j = 0; j < slices; ++j) {
                    auto& piece = (*pieces)[si * slices + j];
                    parts[si].insert(parts[si].end(), piece.begin(), piece.end());
                  }
                *out = merged<M>(*idx, *req, parts, flag);
                return;
              }
            }
            *out = merged<M>(*idx, *req, *pieces, flag);
          },
          done, cancel.keep);
    }
  }
  return Job::Start(env, [=] { *out = compute<M>(*idx, *req, flag); }, done, cancel.keep);
}

}  // namespace binding
