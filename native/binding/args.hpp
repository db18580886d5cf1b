// Arguments read defensively: a missing argument, a wrong type or a number that is not an integer in range is
// ERR_INVALID_ARGUMENT naming it, never a cast of whatever was passed (no wrap above 2^32 - 1, no NaN as 0).
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "errors.hpp"
#include "batch.hpp"
#include "progress.hpp"

namespace binding {

inline constexpr uint64_t kMaxSafeInteger = (uint64_t(1) << 53) - 1;  // Number.MAX_SAFE_INTEGER

// `v` as an integer in [lo, hi] (hi at most kMaxSafeInteger).
uint64_t to_integer(Napi::Env env, const Napi::Value& v, const std::string& name, uint64_t lo, uint64_t hi);
uint64_t integer_arg(const Napi::CallbackInfo& info, size_t i, const char* name, uint64_t lo, uint64_t hi);
bool boolean_arg(const Napi::CallbackInfo& info, size_t i, const char* name);
// o[key], undefined or null giving `fallback`.
uint64_t integer_option(Napi::Env env, const Napi::Object& o, const char* key, uint64_t lo, uint64_t hi, uint64_t fallback);
// o[key] as a finite number, undefined or null giving `fallback`.
double number_option(Napi::Env env, const Napi::Object& o, const char* key, double fallback);
// o.logBase: 0 (natural log) when undefined or null, else a finite number > 0 and not 1.
double log_base_option(Napi::Env env, const Napi::Object& o);
std::string string_arg(Napi::Env env, const Napi::Value& v, const std::string& name);
Napi::Object object_arg(Napi::Env env, const Napi::Value& v, const std::string& name);

template <typename E> struct ArrayKind;
template <> struct ArrayKind<uint8_t> { static constexpr napi_typedarray_type type = napi_uint8_array; static constexpr const char* name = "a Uint8Array"; };
template <> struct ArrayKind<uint32_t> { static constexpr napi_typedarray_type type = napi_uint32_array; static constexpr const char* name = "a Uint32Array"; };
template <> struct ArrayKind<double> { static constexpr napi_typedarray_type type = napi_float64_array; static constexpr const char* name = "a Float64Array"; };

template <typename E>
Napi::TypedArrayOf<E> typed_array(Napi::Env env, const Napi::Value& v, const std::string& name) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != ArrayKind<E>::type)
    invalid_argument(env, name + " must be " + ArrayKind<E>::name);
  return v.As<Napi::TypedArrayOf<E>>();
}

template <typename E>
std::vector<E> copy_array(const Napi::TypedArrayOf<E>& a) {
  const E* p = a.Data();
  return p ? std::vector<E>(p, p + a.ElementLength()) : std::vector<E>();
}

// A Float64Array of integers in [0, hi].
std::vector<uint64_t> integer_array(Napi::Env env, const Napi::Value& v, const std::string& name, uint64_t hi = kMaxSafeInteger);

// A batch of queries, copied (the work may outlive the caller's arrays): tokens[offsets[i], offsets[i + 1]).
struct QueryBatch {
  std::vector<uint32_t> tokens;
  std::vector<uint32_t> offsets;
  size_t size() const { return offsets.size() - 1; }
  size_t length(size_t i) const { return offsets[i + 1] - offsets[i]; }
  ti::Queries view() const;
};
// Arguments at, at + 1: Uint32Array tokens and Uint32Array offsets (from 0, non-decreasing, ending at the token count).
QueryBatch read_batch(const Napi::CallbackInfo& info, size_t at);

// The optional cancel flag: a Uint8Array the JS side sets to 1 to stop the work, which reads it until it ends
// (hence `keep`, the value to hold a reference to).
struct Cancel {
  ti::CancelFlag* flag = nullptr;
  std::vector<Napi::Value> keep;
};
Cancel read_cancel(Napi::Env env, const Napi::Value& v);

// The optional progress view: a BigUint64Array of (at least) two slots [done, total] the job advances and JS
// polls on its timer (ti::WorkProgress laid over them; `keep` holds the array while the job runs).
struct Progress {
  ti::WorkProgress* progress = nullptr;
  std::vector<Napi::Value> keep;
};
Progress read_progress(Napi::Env env, const Napi::Value& v);

}  // namespace binding
