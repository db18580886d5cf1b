// Results as JS values: typed arrays copied from vectors, arrays of strings.
#pragma once
#include <napi.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace binding {

inline Napi::Float64Array f64(Napi::Env env, const std::vector<double>& v) {
  auto a = Napi::Float64Array::New(env, v.size());
  std::copy(v.begin(), v.end(), a.Data());
  return a;
}

// Counts and offsets as doubles: exact below 2^53.
inline Napi::Float64Array f64(Napi::Env env, const std::vector<uint64_t>& v) {
  auto a = Napi::Float64Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); ++i) a[i] = static_cast<double>(v[i]);
  return a;
}

inline Napi::Uint32Array u32(Napi::Env env, const std::vector<uint32_t>& v) {
  auto a = Napi::Uint32Array::New(env, v.size());
  std::copy(v.begin(), v.end(), a.Data());
  return a;
}

inline Napi::Array strings(Napi::Env env, const std::vector<std::string>& v) {
  auto a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); ++i) a.Set(static_cast<uint32_t>(i), Napi::String::New(env, v[i]));
  return a;
}

}  // namespace binding
