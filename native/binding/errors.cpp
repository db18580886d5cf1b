#include "errors.hpp"

#include <new>

namespace binding {

Failure current_failure() noexcept {
  try {
    try {
      throw;
    } catch (const ti::Error& e) {
      return {e.code, e.what()};
    } catch (const std::bad_alloc&) {
      return {ti::codes::kNoMemory, "out of memory"};
    } catch (const std::exception& e) {
      return {ti::codes::kInternal, e.what()};
    } catch (...) {
      return {ti::codes::kInternal, "unknown native exception"};
    }
  } catch (...) {  // building the strings failed: no memory left
    return {};
  }
}

Napi::Error make_error(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code.empty() ? ti::codes::kNoMemory : code));
  return e;
}

void throw_js(Napi::Env env, const std::string& code, const std::string& message) { throw make_error(env, code, message); }

}  // namespace binding
