// The SIMD kernels of token comparison: which exist on this CPU, and choosing one (benchmarks and tests).
#include <napi.h>

#include "addon_data.hpp"
#include "args.hpp"
#include "errors.hpp"
#include "token_match.hpp"

namespace binding {
namespace {

// simdKernels() -> names of the kernels this CPU runs
Napi::Value SimdKernels(const Napi::CallbackInfo& info) {
  auto list = ti::available_match_kernels();
  auto arr = Napi::Array::New(info.Env(), list.size());
  for (size_t i = 0; i < list.size(); ++i) arr.Set(static_cast<uint32_t>(i), list[i]);
  return arr;
}

// selectSimd(name?) -> name of the active kernel after the call; false if `name` is not available.
Napi::Value SelectSimd(const Napi::CallbackInfo& info) {
  if (!info[0].IsUndefined() && !info[0].IsNull() && !ti::select_match_kernel(string_arg(info.Env(), info[0], "kernel name")))
    return Napi::Boolean::New(info.Env(), false);
  return Napi::String::New(info.Env(), ti::match_kernel().name);
}

}  // namespace

void export_simd(Napi::Env env, Napi::Object exports) {
  exports.Set("simdKernels", Napi::Function::New<entry<SimdKernels>>(env, "simdKernels"));
  exports.Set("selectSimd", Napi::Function::New<entry<SelectSimd>>(env, "selectSimd"));
}

}  // namespace binding
