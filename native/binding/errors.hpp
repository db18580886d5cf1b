// Core exceptions as JS errors: one mapping (current_failure) for the Sync forms, the entry points and the
// thread-pool work alike. Every exception becomes an Error with a `code`; nothing reaches std::terminate.
#pragma once
#include <napi.h>

#include <string>

#include "error.hpp"

namespace ti = traceindex;

namespace binding {

struct Failure {
  std::string code, message;
};

// The exception being handled, as a code and a message: a core Error keeps its code, an allocation failure is
// ERR_NO_MEMORY, anything else ERR_INTERNAL. Call it only inside a catch block.
Failure current_failure() noexcept;

Napi::Error make_error(Napi::Env env, const std::string& code, const std::string& message);
[[noreturn]] void throw_js(Napi::Env env, const std::string& code, const std::string& message);
[[noreturn]] inline void invalid_argument(Napi::Env env, const std::string& message) {
  throw_js(env, ti::codes::kInvalidArgument, message);
}

// Runs `fn` on the JS thread: JS errors pass through, every other exception becomes a JS error with its code.
template <typename Fn>
auto guarded(Napi::Env env, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    Failure f = current_failure();
    throw make_error(env, f.code, f.message);
  }
}

// An exported function with every exception mapped: Napi::Function::New<entry<F>>(env, name).
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value entry(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] { return F(info); });
}

}  // namespace binding
