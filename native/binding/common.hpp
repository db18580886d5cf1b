// Shared pieces of the binding: error conversion, the promise task, query batches, typed-array helpers.
#pragma once
#include <napi.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "error.hpp"
#include "shard.hpp"

namespace ti = traceindex;

namespace binding {


inline Napi::Error make_error(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

[[noreturn]] inline void throw_js(Napi::Env env, const std::string& code, const std::string& message) {
  throw make_error(env, code, message);
}

// Runs `fn`, turning core exceptions into JS errors with a code (for the Sync forms).
template <typename Fn>
auto guarded(Napi::Env env, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const ti::Error& e) {
    throw_js(env, e.code, e.what());
  } catch (const std::bad_alloc&) {
    throw_js(env, ti::codes::kNoMemory, "out of memory");
  }
}

// A promise-returning task: `work` runs off the JS thread, `done` builds the result on it.
class Task : public Napi::AsyncWorker {
 public:
  using Work = std::function<void()>;
  using Done = std::function<Napi::Value(Napi::Env)>;

  static Napi::Promise Start(Napi::Env env, Work work, Done done, std::vector<Napi::Value> keep_alive = {}) {
    auto* t = new Task(env, std::move(work), std::move(done));
    for (auto& v : keep_alive) t->keep_.push_back(Napi::Persistent(v.As<Napi::Object>()));
    Napi::Promise p = t->deferred_.Promise();
    t->Queue();
    return p;
  }

 private:
  Task(Napi::Env env, Work work, Done done)
      : Napi::AsyncWorker(env, "traceindex"), deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)), done_(std::move(done)) {}

  void Execute() override {
    try {
      work_();
    } catch (const ti::Error& e) {
      code_ = e.code;
      SetError(e.what());
    } catch (const std::bad_alloc&) {
      code_ = ti::codes::kNoMemory;
      SetError("out of memory");
    } catch (const std::exception& e) {
      code_ = "ERR_INTERNAL";
      SetError(e.what());
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    try {
      deferred_.Resolve(done_(env));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }
  void OnError(const Napi::Error& e) override {
    deferred_.Reject(make_error(Env(), code_, e.Message()).Value());
  }

  Napi::Promise::Deferred deferred_;
  Work work_;
  Done done_;
  std::string code_;
  std::vector<Napi::ObjectReference> keep_;
};

// One piece of work spread over the thread pool: `part(i)` for i in [0, parts) runs as separate work
// items (the pool's fixed threads pick them up in parallel), then `finish` runs off-thread once all are
// done, then `done` builds the result on the JS thread. The first failure rejects the promise.
class FanOut {
 public:
  static Napi::Promise Start(Napi::Env env, size_t parts, std::function<void(size_t)> part, Task::Work finish, Task::Done done,
                             std::vector<Napi::Value> keep_alive = {}) {
    auto state = std::make_shared<State>(env, parts, std::move(part), std::move(finish), std::move(done));
    for (auto& v : keep_alive) state->keep.push_back(Napi::Persistent(v.As<Napi::Object>()));
    Napi::Promise p = state->deferred.Promise();
    for (size_t i = 0; i < parts; ++i) (new Part(env, state, i))->Queue();
    return p;
  }

 private:
  struct State {
    State(Napi::Env env, size_t n, std::function<void(size_t)> p, Task::Work f, Task::Done d)
        : deferred(Napi::Promise::Deferred::New(env)), remaining(n), part(std::move(p)), finish(std::move(f)), done(std::move(d)) {}
    Napi::Promise::Deferred deferred;
    size_t remaining;  // touched on the JS thread only
    std::function<void(size_t)> part;
    Task::Work finish;
    Task::Done done;
    std::mutex mu;
    std::string code, message;  // the first failure
    std::vector<Napi::ObjectReference> keep;
  };

  class Part : public Napi::AsyncWorker {
   public:
    Part(Napi::Env env, std::shared_ptr<State> s, size_t i) : Napi::AsyncWorker(env, "traceindex"), s_(std::move(s)), i_(i) {}
    void Execute() override {
      std::string code, message;
      try {
        s_->part(i_);
        return;
      } catch (const ti::Error& e) {
        code = e.code; message = e.what();
      } catch (const std::bad_alloc&) {
        code = ti::codes::kNoMemory; message = "out of memory";
      } catch (const std::exception& e) {
        code = "ERR_INTERNAL"; message = e.what();
      }
      std::lock_guard<std::mutex> lock(s_->mu);
      if (s_->code.empty()) { s_->code = code; s_->message = message; }
    }
    void OnOK() override {
      if (--s_->remaining > 0) return;
      Napi::Env env = Env();
      if (!s_->code.empty()) { s_->deferred.Reject(make_error(env, s_->code, s_->message).Value()); return; }
      // Resolving with the finishing task's promise adopts its outcome; the kept values stay alive through it.
      std::vector<Napi::Value> keep;
      for (auto& r : s_->keep) keep.push_back(r.Value());
      s_->deferred.Resolve(Task::Start(env, s_->finish, s_->done, keep));
    }
   private:
    std::shared_ptr<State> s_;
    size_t i_;
  };
};

// A batch of queries: tokens[offsets[i], offsets[i+1]).
struct QueryBatch {
  std::vector<uint32_t> tokens;
  std::vector<uint32_t> offsets;
  size_t size() const { return offsets.size() - 1; }
  const uint32_t* query(size_t i) const { return tokens.data() + offsets[i]; }
  size_t length(size_t i) const { return offsets[i + 1] - offsets[i]; }
};

inline QueryBatch read_batch(const Napi::CallbackInfo& info, size_t at) {
  if (!info[at].IsTypedArray() || info[at].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array ||
      !info[at + 1].IsTypedArray() || info[at + 1].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
    throw_js(info.Env(), ti::codes::kInvalidArgument, "queries must be passed as Uint32Array tokens and offsets");
  auto t = info[at].As<Napi::Uint32Array>();
  auto o = info[at + 1].As<Napi::Uint32Array>();
  QueryBatch b{std::vector<uint32_t>(t.Data(), t.Data() + t.ElementLength()),
               std::vector<uint32_t>(o.Data(), o.Data() + o.ElementLength())};
  if (b.offsets.empty() || b.offsets[0] != 0 || b.offsets.back() != b.tokens.size())
    throw_js(info.Env(), ti::codes::kInvalidArgument, "query offsets must start at 0 and end at the token count");
  for (size_t i = 0; i + 1 < b.offsets.size(); ++i)
    if (b.offsets[i + 1] < b.offsets[i]) throw_js(info.Env(), ti::codes::kInvalidArgument, "query offsets out of order");
  return b;
}

// The cancel flag, if `v` is one, as a value for keep_alive (the task reads it until it ends).
inline std::vector<Napi::Value> keep_cancel(const Napi::Value& v) {
  if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) return {v};
  return {};
}

inline ti::CancelFlag* read_cancel(const Napi::Value& v) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) return nullptr;
  return reinterpret_cast<ti::CancelFlag*>(v.As<Napi::Uint8Array>().Data());
}

inline Napi::Float64Array f64(Napi::Env env, const std::vector<double>& v) {
  auto a = Napi::Float64Array::New(env, v.size());
  std::copy(v.begin(), v.end(), a.Data());
  return a;
}

inline Napi::Uint32Array u32(Napi::Env env, const std::vector<uint32_t>& v) {
  auto a = Napi::Uint32Array::New(env, v.size());
  std::copy(v.begin(), v.end(), a.Data());
  return a;
}

inline Napi::Float64Array to_f64(Napi::Env env, const std::vector<uint64_t>& v) {
  auto a = Napi::Float64Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); ++i) a[i] = static_cast<double>(v[i]);
  return a;
}

}  // namespace binding
