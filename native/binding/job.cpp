#include "job.hpp"

#include <atomic>
#include <memory>
#include <mutex>

#include "errors.hpp"

namespace binding {
namespace {

struct State {
  State(Napi::Env env, size_t n, Job::Part p, Job::Work f, Job::Done d)
      : deferred(Napi::Promise::Deferred::New(env)), remaining(n), part(std::move(p)), finish(std::move(f)), done(std::move(d)) {}
  Napi::Promise::Deferred deferred;
  std::atomic<size_t> remaining;
  Job::Part part;
  Job::Work finish;
  Job::Done done;
  std::mutex mu;
  bool failed = false;
  Failure failure;  // the first one
  std::vector<Napi::ObjectReference> keep;  // released on the JS thread, with the last worker

  void fail() noexcept {
    Failure f = current_failure();
    std::lock_guard<std::mutex> lock(mu);
    if (!failed) { failed = true; failure = std::move(f); }
  }

  // On the JS thread, once every part has ended.
  void settle(Napi::Env env) noexcept {
    try {
      if (failed) { deferred.Reject(make_error(env, failure.code, failure.message).Value()); return; }
      Napi::Value value;
      try {
        value = done(env);
      } catch (const Napi::Error& e) {
        deferred.Reject(e.Value());
        return;
      } catch (...) {
        Failure f = current_failure();
        deferred.Reject(make_error(env, f.code, f.message).Value());
        return;
      }
      deferred.Resolve(value);
    } catch (...) {
      // The environment is going away: the promise goes with it, and there is no one to tell.
    }
  }
};

class Worker : public Napi::AsyncWorker {
 public:
  Worker(Napi::Env env, std::shared_ptr<State> s, size_t i) : Napi::AsyncWorker(env, "traceindex"), s_(std::move(s)), i_(i) {}

 protected:
  void Execute() override {
    try {
      s_->part(i_);
    } catch (...) {
      s_->fail();
    }
    // The last part to end (acq_rel: it sees every other part's results) finishes the job.
    if (s_->remaining.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    last_ = true;
    bool failed;
    {
      std::lock_guard<std::mutex> lock(s_->mu);
      failed = s_->failed;
    }
    if (failed || !s_->finish) return;
    try {
      s_->finish();
    } catch (...) {
      s_->fail();
    }
  }

 public:
  // Replaces node-addon-api's completion so that nothing thrown while settling can escape into Node.
  void OnWorkComplete(Napi::Env env, napi_status status) override {
    if (last_ && status != napi_cancelled) {
      try {
        Napi::HandleScope scope(env);
        s_->settle(env);
      } catch (...) {
      }
    }
    Destroy();
  }

 private:
  std::shared_ptr<State> s_;
  size_t i_;
  bool last_ = false;
};

}  // namespace

Napi::Promise Job::Start(Napi::Env env, size_t parts, Part part, Work finish, Done done, const std::vector<Napi::Value>& keep) {
  auto state = std::make_shared<State>(env, parts, std::move(part), std::move(finish), std::move(done));
  for (const Napi::Value& v : keep) state->keep.push_back(Napi::Persistent(v.As<Napi::Object>()));
  Napi::Promise promise = state->deferred.Promise();
  std::vector<std::unique_ptr<Worker>> workers;
  for (size_t i = 0; i < parts; ++i) workers.push_back(std::make_unique<Worker>(env, state, i));
  for (auto& w : workers) {
    w->Queue();
    w.release();  // a queued worker deletes itself when it completes
  }
  return promise;
}

}  // namespace binding
