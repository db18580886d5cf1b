#include "args.hpp"

#include <cmath>

namespace binding {

uint64_t to_integer(Napi::Env env, const Napi::Value& v, const std::string& name, uint64_t lo, uint64_t hi) {
  if (!v.IsNumber()) invalid_argument(env, name + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(std::isfinite(d) && d == std::floor(d) && d >= double(lo) && d <= double(hi)))
    invalid_argument(env, name + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return static_cast<uint64_t>(d);
}

uint64_t integer_arg(const Napi::CallbackInfo& info, size_t i, const char* name, uint64_t lo, uint64_t hi) {
  return to_integer(info.Env(), info[i], name, lo, hi);
}

bool boolean_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsBoolean()) invalid_argument(info.Env(), std::string(name) + " must be a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

uint64_t integer_option(Napi::Env env, const Napi::Object& o, const char* key, uint64_t lo, uint64_t hi, uint64_t fallback) {
  Napi::Value v = o.Get(key);
  return v.IsUndefined() || v.IsNull() ? fallback : to_integer(env, v, key, lo, hi);
}

double number_option(Napi::Env env, const Napi::Object& o, const char* key, double fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsNumber() || !std::isfinite(v.As<Napi::Number>().DoubleValue())) invalid_argument(env, std::string(key) + " must be a finite number");
  return v.As<Napi::Number>().DoubleValue();
}

// Read once: a getter must not pass the check with one value and answer another.
double log_base_option(Napi::Env env, const Napi::Object& o) {
  const Napi::Value v = o.Get("logBase");
  if (v.IsUndefined() || v.IsNull()) return 0;  // e
  if (!v.IsNumber() || !std::isfinite(v.As<Napi::Number>().DoubleValue())) invalid_argument(env, "logBase must be a finite number");
  const double b = v.As<Napi::Number>().DoubleValue();
  if (b <= 0 || b == 1) invalid_argument(env, "logBase must be > 0 and not 1");
  return b;
}

std::string string_arg(Napi::Env env, const Napi::Value& v, const std::string& name) {
  if (!v.IsString()) invalid_argument(env, name + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

Napi::Object object_arg(Napi::Env env, const Napi::Value& v, const std::string& name) {
  if (!v.IsObject()) invalid_argument(env, name + " must be an object");
  return v.As<Napi::Object>();
}

std::vector<uint64_t> integer_array(Napi::Env env, const Napi::Value& v, const std::string& name, uint64_t hi) {
  std::vector<double> d = copy_array(typed_array<double>(env, v, name));
  std::vector<uint64_t> out(d.size());
  for (size_t i = 0; i < d.size(); ++i) {
    if (!(d[i] >= 0 && d[i] <= double(hi) && d[i] == std::floor(d[i])))
      invalid_argument(env, name + "[" + std::to_string(i) + "] must be an integer in [0, " + std::to_string(hi) + "]");
    out[i] = static_cast<uint64_t>(d[i]);
  }
  return out;
}

ti::Queries QueryBatch::view() const { return ti::Queries(tokens.data(), offsets.data(), size()); }

QueryBatch read_batch(const Napi::CallbackInfo& info, size_t at) {
  Napi::Env env = info.Env();
  QueryBatch b{copy_array(typed_array<uint32_t>(env, info[at], "query tokens")),
               copy_array(typed_array<uint32_t>(env, info[at + 1], "query offsets"))};
  if (b.offsets.empty() || b.offsets[0] != 0 || b.offsets.back() != b.tokens.size())
    invalid_argument(env, "query offsets must start at 0 and end at the token count");
  for (size_t i = 0; i + 1 < b.offsets.size(); ++i)
    if (b.offsets[i + 1] < b.offsets[i]) invalid_argument(env, "query offsets out of order");
  return b;
}

Cancel read_cancel(Napi::Env env, const Napi::Value& v) {
  Cancel c;
  if (v.IsUndefined() || v.IsNull()) return c;
  auto flag = typed_array<uint8_t>(env, v, "the cancel flag");
  if (flag.ElementLength() < 1 || flag.Data() == nullptr) invalid_argument(env, "the cancel flag must hold one byte");
  c.flag = reinterpret_cast<ti::CancelFlag*>(flag.Data());
  c.keep.push_back(v);
  return c;
}

Progress read_progress(Napi::Env env, const Napi::Value& v) {
  Progress p;
  if (v.IsUndefined() || v.IsNull()) return p;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_biguint64_array)
    invalid_argument(env, "progress must be a BigUint64Array");
  auto a = v.As<Napi::TypedArray>();
  void* data = static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset();
  if (a.ElementLength() < 2 || data == nullptr) invalid_argument(env, "progress must hold two slots");
  p.progress = reinterpret_cast<ti::WorkProgress*>(data);  // 8-aligned: a BigUint64Array's offset is a multiple of 8
  p.keep.push_back(v);
  return p;
}

}  // namespace binding
