// Writing shards (buildShard), adding samples.bin to a v1 shard (upgradeShard) and checksumming files
// (checksumFile), all on the thread pool.
#include <napi.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "addon_data.hpp"
#include "args.hpp"
#include "errors.hpp"
#include "job.hpp"
#include "shard_writer.hpp"

namespace binding {
namespace {

std::string hex64(uint64_t v) {
  char hex[17];
  snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(v));
  return hex;
}

int token_width_arg(Napi::Env env, const Napi::Value& v) {
  const double width = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : 0;
  if (width != 1 && width != 2 && width != 4) throw_js(env, ti::codes::kTokenWidth, "token width must be 1, 2 or 4");
  return static_cast<int>(width);
}

// buildShard({dir, tokens, tokenWidth, docStarts: Float64Array, metaOffsets: Float64Array, metaBlob: Uint8Array,
//             vocabSize, threads?, cancel?: Uint8Array, progress?: BigUint64Array [done, total]}) -> Promise<{files: [{name, bytes, xxh64}], seconds: {stage: s}}>
// The tokens buffer is borrowed (and, for width 4, briefly rewritten) until the promise settles.
Napi::Value BuildShard(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = object_arg(env, info[0], "the shard job");
  Napi::Value tokensValue = o.Get("tokens"), blobValue = o.Get("metaBlob");
  if (!tokensValue.IsTypedArray()) invalid_argument(env, "tokens must be a typed array");
  auto tokens = tokensValue.As<Napi::TypedArray>();
  auto metaBlob = typed_array<uint8_t>(env, blobValue, "metaBlob");
  struct ShardJob {
    std::string dir;
    ti::ShardSource src;
    std::vector<uint64_t> starts, meta_offsets;
    std::vector<ti::WrittenFile> files;
    std::vector<std::pair<std::string, double>> seconds;  // per stage of write_shard, in stage order
  };
  auto job = std::make_shared<ShardJob>();
  job->dir = string_arg(env, o.Get("dir"), "dir");
  job->starts = integer_array(env, o.Get("docStarts"), "docStarts");
  job->meta_offsets = integer_array(env, o.Get("metaOffsets"), "metaOffsets");
  ti::ShardSource& s = job->src;
  s.token_width = token_width_arg(env, o.Get("tokenWidth"));
  if (tokens.ByteLength() % s.token_width != 0) throw_js(env, ti::codes::kTokenWidth, "token buffer length is not a multiple of the width");
  s.tokens = static_cast<uint8_t*>(tokens.ArrayBuffer().Data()) + tokens.ByteOffset();
  s.tokens_count = tokens.ByteLength() / s.token_width;
  if (job->meta_offsets.size() != job->starts.size() || job->starts.empty())
    invalid_argument(env, "docStarts and metaOffsets need one entry per document plus one");
  s.documents = job->starts.size() - 1;
  if (job->meta_offsets.back() > metaBlob.ByteLength()) invalid_argument(env, "meta blob is shorter than its offsets");
  s.doc_starts = job->starts.data();
  s.meta_offsets = job->meta_offsets.data();
  s.meta_blob = metaBlob.Data();
  s.vocab_size = integer_option(env, o, "vocabSize", 1, kMaxSafeInteger, 0);
  if (s.vocab_size == 0) invalid_argument(env, "vocabSize is required");
  s.threads = static_cast<int>(integer_option(env, o, "threads", 1, INT_MAX, 1));
  Cancel cancel = read_cancel(env, o.Get("cancel"));
  std::vector<Napi::Value> keep{tokens, metaBlob};
  keep.insert(keep.end(), cancel.keep.begin(), cancel.keep.end());
  Progress progress = read_progress(env, o.Get("progress"));
  keep.insert(keep.end(), progress.keep.begin(), progress.keep.end());
  ti::CancelFlag* flag = cancel.flag;
  ti::WorkProgress* work = progress.progress;
  return Job::Start(
      env,
      [job, flag, work] {
        using Clock = std::chrono::steady_clock;
        auto last = Clock::now();
        std::string stage;
        auto on_stage = [&](const char* next) {
          auto now = Clock::now();
          if (!stage.empty()) {
            double dt = std::chrono::duration<double>(now - last).count();
            auto it = std::find_if(job->seconds.begin(), job->seconds.end(), [&](auto& p) { return p.first == stage; });
            if (it == job->seconds.end()) job->seconds.push_back({stage, dt}); else it->second += dt;
          }
          stage = next;
          last = now;
        };
        job->files = ti::write_shard(job->dir, job->src, flag, on_stage, work);
        on_stage("");
      },
      [job](Napi::Env env) -> Napi::Value {
        auto out = Napi::Object::New(env);
        auto seconds = Napi::Object::New(env);
        for (auto& [stage, dt] : job->seconds) seconds.Set(stage, Napi::Number::New(env, dt));
        out.Set("seconds", seconds);
        auto arr = Napi::Array::New(env, job->files.size());
        for (size_t i = 0; i < job->files.size(); ++i) {
          auto f = Napi::Object::New(env);
          f.Set("name", job->files[i].name);
          f.Set("bytes", Napi::Number::New(env, static_cast<double>(job->files[i].bytes)));
          f.Set("xxh64", hex64(job->files[i].xxh64));
          arr.Set(static_cast<uint32_t>(i), f);
        }
        out.Set("files", arr);
        return out;
      },
      keep);
}

// upgradeShard({dir, tokenWidth, tokens, documents, vocabSize, write, cancel?}) -> Promise<{name, bytes, xxh64} | null>
// (ti::upgrade_shard: quick-verify a shard without sampled keys, then, if `write`, add its samples.bin.)
Napi::Value UpgradeShard(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = object_arg(env, info[0], "the upgrade job");
  auto dir = std::make_shared<std::string>(string_arg(env, o.Get("dir"), "dir"));
  ti::ShardShape shape;
  shape.token_width = token_width_arg(env, o.Get("tokenWidth"));
  shape.tokens = integer_option(env, o, "tokens", 1, kMaxSafeInteger, 0);
  shape.documents = integer_option(env, o, "documents", 1, kMaxSafeInteger, 0);
  shape.vocab_size = integer_option(env, o, "vocabSize", 1, kMaxSafeInteger, 0);
  if (shape.tokens == 0 || shape.documents == 0 || shape.vocab_size == 0) invalid_argument(env, "tokens, documents and vocabSize are required");
  const bool write = o.Get("write").ToBoolean().Value();
  Cancel cancel = read_cancel(env, o.Get("cancel"));
  ti::CancelFlag* flag = cancel.flag;
  auto out = std::make_shared<ti::WrittenFile>();
  return Job::Start(
      env, [dir, shape, write, flag, out] { *out = ti::upgrade_shard(*dir, shape, write, flag); },
      [out](Napi::Env env) -> Napi::Value {
        if (out->name.empty()) return env.Null();
        auto f = Napi::Object::New(env);
        f.Set("name", out->name);
        f.Set("bytes", Napi::Number::New(env, static_cast<double>(out->bytes)));
        f.Set("xxh64", hex64(out->xxh64));
        return f;
      },
      cancel.keep);
}

// checksumFile(path, cancel?) -> Promise<string> (XXH64, 16 hex digits)
Napi::Value ChecksumFile(const Napi::CallbackInfo& info) {
  std::string path = string_arg(info.Env(), info[0], "path");
  Cancel cancel = read_cancel(info.Env(), info[1]);
  ti::CancelFlag* flag = cancel.flag;
  auto out = std::make_shared<uint64_t>(0);
  return Job::Start(
      info.Env(), [path, flag, out] { *out = ti::checksum_file(path, flag); },
      [out](Napi::Env env) -> Napi::Value { return Napi::String::New(env, hex64(*out)); }, cancel.keep);
}

}  // namespace

void export_build(Napi::Env env, Napi::Object exports) {
  exports.Set("buildShard", Napi::Function::New<entry<BuildShard>>(env, "buildShard"));
  exports.Set("upgradeShard", Napi::Function::New<entry<UpgradeShard>>(env, "upgradeShard"));
  exports.Set("checksumFile", Napi::Function::New<entry<ChecksumFile>>(env, "checksumFile"));
}

}  // namespace binding
