// Native tokenizers (native/core/tokenizer): loaded from the vocabulary data of the npm packages the JS
// tokenizers use, and encoding strings or one UTF-8 buffer of many documents. The JS-facing wrapper is
// lib/tokenizers/native.ts.
//
//   loadNativeTokenizer(kind, data, data2?) -> Promise<handle>   kind: cl100k_base | o200k_base (data: the
//       ranks' bpe_ranks) | llama-3 | llama-2 (data: vocabulary base64, data2: merges base64); strings or bytes
//   loadByteLevelBpe({ pattern: 'cl100k' | 'o200k' | 'gpt2' | 'whole', unicodeSpace, prefix: 'none' | 'text' |
//       'piece', wholePieces, tokens: { bytes: Uint8Array, lengths: Uint32Array, ids: Uint32Array },
//       merges: Uint32Array (left, right, result per rank), added: { bytes, lengths, ids }, addedStrip: Uint8Array
//       (1 lstrip, 2 rstrip per added token), sentencepiece?, byteIds?: Uint32Array (256) }) -> Promise<handle>
//       (a tokenizer.json byte-level BPE, see tok::Tokenizer::ByteLevelBpe)
//   tokenizerEncode(handle, text, width) -> Uint8Array | Uint16Array | Uint32Array (width 1 | 2 | 4)
//   tokenizerEncodeBatchSync(handle, texts, width) / tokenizerEncodeBatch(handle, texts, width, threads?)
//       texts: string[], or { bytes: Uint8Array, offsets: Float64Array } (document i is
//       bytes[offsets[i], offsets[i+1]), UTF-8; ill-formed sequences read as TextDecoder reads them)
//       -> { tokens, offsets: Float64Array } (document i's tokens are tokens[offsets[i], offsets[i+1]))
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "addon_data.hpp"
#include "arrays.hpp"
#include "errors.hpp"
#include "job.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/unicode.hpp"

namespace binding {
namespace {
namespace tok = traceindex::tok;

using Handle = std::shared_ptr<const tok::Tokenizer>;
const napi_type_tag kHandleTag = {0x7a1c0e6b5d2f4e31ULL, 0x9b04c8f3a6e1d257ULL};

[[noreturn]] void invalid(Napi::Env env, const std::string& message) { invalid_argument(env, message); }

Handle handle_of(const Napi::Value& v) {
  if (!v.IsExternal() || !v.As<Napi::External<Handle>>().CheckTypeTag(&kHandleTag))
    invalid(v.Env(), "not a native tokenizer handle");
  return *v.As<Napi::External<Handle>>().Data();
}

std::string bytes_of(const Napi::Value& v, const char* what) {
  if (v.IsString()) return v.As<Napi::String>().Utf8Value();
  if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
    auto a = v.As<Napi::Uint8Array>();
    return std::string(reinterpret_cast<const char*>(a.Data()), a.ByteLength());
  }
  invalid(v.Env(), std::string(what) + " must be a string or a Uint8Array");
}

int width_of(const Napi::Value& v) {
  int w = v.IsNumber() ? v.As<Napi::Number>().Int32Value() : 0;
  if (w != 1 && w != 2 && w != 4) invalid(v.Env(), "token width must be 1, 2 or 4");
  return w;
}

// Documents as one WTF-8 text plus byte offsets, copied off the JS heap (the work may run on another thread).
struct Documents {
  std::string text;
  std::vector<uint64_t> offsets{0};
};

void append_string(Napi::Env env, const Napi::Value& v, Documents& d, std::u16string& units) {
  if (!v.IsString()) invalid(env, "texts must be strings");
  size_t n = 0;
  napi_status s = napi_get_value_string_utf16(env, v, nullptr, 0, &n);
  if (s != napi_ok) invalid(env, "texts must be strings");
  units.resize(n + 1);
  napi_get_value_string_utf16(env, v, units.data(), units.size(), &n);
  tok::append_wtf8(d.text, units.data(), n);
  d.offsets.push_back(d.text.size());
}

Documents read_documents(Napi::Env env, const Napi::Value& v) {
  Documents d;
  std::u16string units;
  if (v.IsArray()) {
    auto a = v.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) append_string(env, a.Get(i), d, units);
    return d;
  }
  if (!v.IsObject()) invalid(env, "texts must be an array of strings or { bytes: Uint8Array, offsets: Float64Array }");
  Napi::Object o = v.As<Napi::Object>();
  Napi::Value b = o.Get("bytes"), off = o.Get("offsets");
  if (!b.IsTypedArray() || b.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array || !off.IsTypedArray() ||
      off.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    invalid(env, "texts must be an array of strings or { bytes: Uint8Array, offsets: Float64Array }");
  auto bytes = b.As<Napi::Uint8Array>();
  auto offsets = off.As<Napi::Float64Array>();
  const size_t count = offsets.ElementLength();
  if (count == 0 || offsets[0] != 0 || offsets[count - 1] != static_cast<double>(bytes.ByteLength()))
    invalid(env, "offsets must start at 0 and end at the byte length");
  for (size_t i = 1; i < count; ++i)
    if (!(offsets[i] >= offsets[i - 1]) || offsets[i] != static_cast<double>(static_cast<uint64_t>(offsets[i])))
      invalid(env, "offsets must be ascending integers");
  d.text.reserve(bytes.ByteLength());
  for (size_t i = 1; i < count; ++i) {
    const uint8_t* doc = bytes.Data() + static_cast<uint64_t>(offsets[i - 1]);
    const size_t n = static_cast<size_t>(offsets[i] - offsets[i - 1]);
    if (tok::valid_utf8(doc, n)) d.text.append(reinterpret_cast<const char*>(doc), n);
    else tok::append_sanitized_utf8(d.text, doc, n);
    d.offsets.push_back(d.text.size());
  }
  return d;
}

Napi::Value typed_tokens(Napi::Env env, const uint32_t* ids, size_t n, int width) {
  auto fill = [&](auto array, uint32_t limit) {
    auto* out = array.Data();
    for (size_t i = 0; i < n; ++i) {
      if (ids[i] > limit) throw_js(env, ti::codes::kTokenWidth, "token id " + std::to_string(ids[i]) + " does not fit the token width");
      out[i] = static_cast<std::remove_reference_t<decltype(*out)>>(ids[i]);
    }
    return array;
  };
  if (width == 1) return fill(Napi::Uint8Array::New(env, n), 0xFF);
  if (width == 2) return fill(Napi::Uint16Array::New(env, n), 0xFFFF);
  auto a = Napi::Uint32Array::New(env, n);
  std::copy(ids, ids + n, a.Data());
  return a;
}

struct Encoded {
  std::vector<uint32_t> tokens;
  std::vector<uint64_t> offsets;
};

Napi::Value encoded_value(Napi::Env env, const Encoded& e, int width) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("tokens", typed_tokens(env, e.tokens.data(), e.tokens.size(), width));
  o.Set("offsets", f64(env, e.offsets));
  return o;
}

Napi::Value handle_value(Napi::Env env, const Handle& loaded) {
  auto external = Napi::External<Handle>::New(env, new Handle(loaded), [](Napi::Env, Handle* h) { delete h; });
  external.TypeTag(&kHandleTag);
  return external;
}

Napi::Value LoadNativeTokenizer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string kind = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  if (kind != "cl100k_base" && kind != "o200k_base" && kind != "llama-3" && kind != "llama-2")
    invalid(env, "native tokenizers: cl100k_base, o200k_base, llama-3, llama-2");
  auto data = std::make_shared<std::string>(bytes_of(info[1], "vocabulary data"));
  auto data2 = std::make_shared<std::string>(kind.rfind("llama", 0) == 0 ? bytes_of(info[2], "merges data") : "");
  auto loaded = std::make_shared<Handle>();
  return Job::Start(
      env,
      [kind, data, data2, loaded] {
        if (kind == "cl100k_base") *loaded = tok::Tokenizer::tiktoken(tok::Pattern::kCl100k, *data);
        else if (kind == "o200k_base") *loaded = tok::Tokenizer::tiktoken(tok::Pattern::kO200k, *data);
        else if (kind == "llama-3") *loaded = tok::Tokenizer::llama3(*data, *data2);
        else *loaded = tok::Tokenizer::llama2(*data, *data2);
      },
      [loaded](Napi::Env env) { return handle_value(env, *loaded); });
}

template <typename Array>
Array typed_field(Napi::Object o, const char* name, napi_typedarray_type type) {
  Napi::Value v = o.Get(name);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type)
    invalid(o.Env(), std::string("byte-level BPE: ") + name + " has the wrong type");
  return v.As<Array>();
}

std::vector<std::pair<std::string, uint32_t>> strings_field(Napi::Object o, const char* name) {
  Napi::Value v = o.Get(name);
  if (!v.IsObject()) invalid(o.Env(), std::string("byte-level BPE: ") + name + " must be { bytes, lengths, ids }");
  Napi::Object t = v.As<Napi::Object>();
  auto bytes = typed_field<Napi::Uint8Array>(t, "bytes", napi_uint8_array);
  auto lengths = typed_field<Napi::Uint32Array>(t, "lengths", napi_uint32_array);
  auto ids = typed_field<Napi::Uint32Array>(t, "ids", napi_uint32_array);
  if (lengths.ElementLength() != ids.ElementLength()) invalid(o.Env(), std::string("byte-level BPE: ") + name + ": lengths and ids differ in length");
  std::vector<std::pair<std::string, uint32_t>> out;
  out.reserve(ids.ElementLength());
  size_t at = 0;
  for (size_t i = 0; i < ids.ElementLength(); ++i) {
    if (lengths[i] > bytes.ByteLength() - at) invalid(o.Env(), std::string("byte-level BPE: ") + name + ": lengths overrun the bytes");
    out.emplace_back(std::string(reinterpret_cast<const char*>(bytes.Data()) + at, lengths[i]), ids[i]);
    at += lengths[i];
  }
  return out;
}

Napi::Value LoadByteLevelBpe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) invalid(env, "byte-level BPE: an options object is required");
  Napi::Object o = info[0].As<Napi::Object>();
  auto spec = std::make_shared<tok::Tokenizer::ByteLevelBpe>();
  const std::string pattern = o.Get("pattern").IsString() ? o.Get("pattern").As<Napi::String>().Utf8Value() : "";
  if (pattern == "cl100k") spec->pattern = tok::Pattern::kCl100k;
  else if (pattern == "o200k") spec->pattern = tok::Pattern::kO200k;
  else if (pattern == "gpt2") spec->pattern = tok::Pattern::kGpt2;
  else if (pattern == "whole") spec->pattern = tok::Pattern::kWhole;
  else invalid(env, "byte-level BPE: pattern must be cl100k, o200k, gpt2 or whole");
  const std::string prefix = o.Get("prefix").IsString() ? o.Get("prefix").As<Napi::String>().Utf8Value() : "";
  using Prefix = tok::Tokenizer::ByteLevelBpe::Prefix;
  if (prefix == "none") spec->prefix = Prefix::kNone;
  else if (prefix == "text") spec->prefix = Prefix::kText;
  else if (prefix == "piece") spec->prefix = Prefix::kPiece;
  else invalid(env, "byte-level BPE: prefix must be none, text or piece");
  spec->space = o.Get("unicodeSpace").ToBoolean() ? tok::Space::kUnicode : tok::Space::kJs;
  spec->whole_pieces = o.Get("wholePieces").ToBoolean();
  spec->tokens = strings_field(o, "tokens");
  spec->added = strings_field(o, "added");
  auto strip = typed_field<Napi::Uint8Array>(o, "addedStrip", napi_uint8_array);
  spec->added_strip.assign(strip.Data(), strip.Data() + strip.ElementLength());
  if (o.Get("sentencepiece").ToBoolean()) {
    spec->sentencepiece = true;
    auto byte_ids = typed_field<Napi::Uint32Array>(o, "byteIds", napi_uint32_array);
    spec->byte_ids.assign(byte_ids.Data(), byte_ids.Data() + byte_ids.ElementLength());
  }
  auto merges = typed_field<Napi::Uint32Array>(o, "merges", napi_uint32_array);
  spec->merges.assign(merges.Data(), merges.Data() + merges.ElementLength());
  auto loaded = std::make_shared<Handle>();
  return Job::Start(
      env, [spec, loaded] { *loaded = tok::Tokenizer::byte_level_bpe(*spec); },
      [loaded](Napi::Env env) { return handle_value(env, *loaded); });
}

Napi::Value TokenizerEncode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Handle t = handle_of(info[0]);
  const int width = width_of(info[2]);
  Documents d;
  std::u16string units;
  append_string(env, info[1], d, units);
  return guarded(env, [&]() -> Napi::Value {
    std::vector<uint32_t> ids;
    tok::Tokenizer::Scratch scratch;
    t->encode(reinterpret_cast<const uint8_t*>(d.text.data()), d.text.size(), ids, scratch);
    return typed_tokens(env, ids.data(), ids.size(), width);
  });
}

Napi::Value TokenizerEncodeBatchSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Handle t = handle_of(info[0]);
  Documents d = read_documents(env, info[1]);
  const int width = width_of(info[2]);
  return guarded(env, [&]() -> Napi::Value {
    Encoded e;
    t->encode_batch(reinterpret_cast<const uint8_t*>(d.text.data()), d.offsets.data(), d.offsets.size() - 1, e.tokens, e.offsets);
    return encoded_value(env, e, width);
  });
}

Napi::Value TokenizerEncodeBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Handle t = handle_of(info[0]);
  auto d = std::make_shared<Documents>(read_documents(env, info[1]));
  const int width = width_of(info[2]);
  int threads = 1;
  if (info.Length() > 3 && !info[3].IsUndefined()) {
    double v = info[3].IsNumber() ? info[3].As<Napi::Number>().DoubleValue() : 0;
    if (!(v >= 1 && v <= 256 && v == static_cast<int>(v))) invalid(env, "threads must be an integer in [1, 256]");
    threads = static_cast<int>(v);
  }
  auto e = std::make_shared<Encoded>();
  return Job::Start(
      env,
      [t, d, e, threads] {
        t->encode_batch(reinterpret_cast<const uint8_t*>(d->text.data()), d->offsets.data(), d->offsets.size() - 1, e->tokens, e->offsets, threads);
      },
      [e, width](Napi::Env env) { return encoded_value(env, *e, width); });
}

}  // namespace

void export_tokenizers(Napi::Env env, Napi::Object exports) {
  exports.Set("loadNativeTokenizer", Napi::Function::New<entry<LoadNativeTokenizer>>(env, "loadNativeTokenizer"));
  exports.Set("loadByteLevelBpe", Napi::Function::New<entry<LoadByteLevelBpe>>(env, "loadByteLevelBpe"));
  exports.Set("tokenizerEncode", Napi::Function::New<entry<TokenizerEncode>>(env, "tokenizerEncode"));
  exports.Set("tokenizerEncodeBatchSync", Napi::Function::New<entry<TokenizerEncodeBatchSync>>(env, "tokenizerEncodeBatchSync"));
  exports.Set("tokenizerEncodeBatch", Napi::Function::New<entry<TokenizerEncodeBatch>>(env, "tokenizerEncodeBatch"));
}

}  // namespace binding
