// Promise-returning work on libuv's thread pool. A job is `parts` pieces, each its own pool work item (the
// pool's threads take them in parallel); the thread that ends the last piece runs `finish`; then `done`
// builds the value on the JS thread and the promise resolves with it. Any failure, off-thread or in `done`,
// rejects it with the failure's code (the first failure wins, and `finish` is skipped).
//
// When the environment is shutting down (worker.terminate() with work in flight), Node still completes the
// pending work but JS can no longer run: settling the promise then fails, and that failure is swallowed
// (with NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS, node-addon-api does not abort on it either).
#pragma once
#include <napi.h>

#include <functional>
#include <vector>

namespace binding {

class Job {
 public:
  using Part = std::function<void(size_t)>;
  using Work = std::function<void()>;
  using Done = std::function<Napi::Value(Napi::Env)>;

  // parts >= 1. `keep`: JS values the work reads (cancel flags, borrowed buffers), referenced until the job ends.
  static Napi::Promise Start(Napi::Env env, size_t parts, Part part, Work finish, Done done, const std::vector<Napi::Value>& keep = {});
  static Napi::Promise Start(Napi::Env env, Work work, Done done, const std::vector<Napi::Value>& keep = {}) {
    return Start(env, 1, [work = std::move(work)](size_t) { work(); }, nullptr, std::move(done), keep);
  }
};

}  // namespace binding
