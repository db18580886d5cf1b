// N-API binding: a thin layer over the core (native/core). Every heavy call has an async form that runs on
// libuv's thread pool and a Sync form for tight loops; query batches travel as one Uint32Array of tokens
// plus a Uint32Array of offsets, so one round trip serves many queries. Core errors become JS Errors whose
// `code` is the core's code. The JS-facing wrapper is lib/native.ts.
#include <napi.h>

#include <atomic>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "error.hpp"
#include "index.hpp"
#include "shard_writer.hpp"
#include "token_match.hpp"

namespace ti = traceindex;

namespace {

Napi::Error make_error(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

[[noreturn]] void throw_js(Napi::Env env, const std::string& code, const std::string& message) {
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

// A batch of queries: tokens[offsets[i], offsets[i+1]).
struct QueryBatch {
  std::vector<uint32_t> tokens;
  std::vector<uint32_t> offsets;
  size_t size() const { return offsets.size() - 1; }
  const uint32_t* query(size_t i) const { return tokens.data() + offsets[i]; }
  size_t length(size_t i) const { return offsets[i + 1] - offsets[i]; }
};

QueryBatch read_batch(const Napi::CallbackInfo& info, size_t at) {
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

ti::CancelFlag* read_cancel(const Napi::Value& v) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) return nullptr;
  return reinterpret_cast<ti::CancelFlag*>(v.As<Napi::Uint8Array>().Data());
}

Napi::Float64Array to_f64(Napi::Env env, const std::vector<uint64_t>& v) {
  auto a = Napi::Float64Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); ++i) a[i] = static_cast<double>(v[i]);
  return a;
}

// ---- Results, computed off-thread and converted on the JS thread ------------------------------------

struct LocateResult {
  uint64_t total = 0;
  std::vector<ti::Occurrence> hits;
  std::vector<std::string> records;
  std::vector<uint32_t> snippet_tokens, snippet_offsets{0};
  std::vector<uint64_t> snippet_starts;  // document offset where each snippet begins
};

LocateResult run_locate(const ti::Index& idx, const QueryBatch& q, uint64_t offset, uint64_t limit, uint64_t context) {
  LocateResult r;
  idx.check_query(q.query(0), q.length(0));
  r.hits = idx.locate(q.query(0), q.length(0), offset, limit, &r.total);
  for (const auto& h : r.hits) {
    const ti::Shard& s = idx.shard(h.shard);
    uint64_t local = s.document_of(h.position);
    r.records.emplace_back(s.doc_record(local));
    uint64_t begin = h.position >= s.doc_start(local) + context ? h.position - context : s.doc_start(local);
    uint64_t end = std::min(s.doc_end(local), h.position + q.length(0) + context);
    for (uint64_t p = begin; p < end; ++p) r.snippet_tokens.push_back(s.token(p));
    r.snippet_offsets.push_back(static_cast<uint32_t>(r.snippet_tokens.size()));
    r.snippet_starts.push_back(begin - s.doc_start(local));
  }
  return r;
}

Napi::Value locate_to_js(Napi::Env env, const LocateResult& r) {
  auto o = Napi::Object::New(env);
  o.Set("total", Napi::Number::New(env, static_cast<double>(r.total)));
  size_t k = r.hits.size();
  auto docs = Napi::Float64Array::New(env, k), offs = Napi::Float64Array::New(env, k);
  auto shards = Napi::Uint32Array::New(env, k);
  auto records = Napi::Array::New(env, k);
  for (size_t i = 0; i < k; ++i) {
    docs[i] = static_cast<double>(r.hits[i].document);
    offs[i] = static_cast<double>(r.hits[i].offset);
    shards[i] = r.hits[i].shard;
    records.Set(static_cast<uint32_t>(i), Napi::String::New(env, r.records[i]));
  }
  o.Set("documents", docs);
  o.Set("offsets", offs);
  o.Set("shards", shards);
  o.Set("records", records);
  auto st = Napi::Uint32Array::New(env, r.snippet_tokens.size());
  std::copy(r.snippet_tokens.begin(), r.snippet_tokens.end(), st.Data());
  auto so = Napi::Uint32Array::New(env, r.snippet_offsets.size());
  std::copy(r.snippet_offsets.begin(), r.snippet_offsets.end(), so.Data());
  o.Set("snippetTokens", st);
  o.Set("snippetOffsets", so);
  o.Set("snippetStarts", to_f64(env, r.snippet_starts));
  return o;
}

struct LongestResult {
  std::vector<uint32_t> lengths;
  std::vector<uint64_t> counts;
};

LongestResult run_longest(const ti::Index& idx, const QueryBatch& q) {
  LongestResult r;
  for (size_t i = 0; i < q.size(); ++i) idx.check_query(q.query(i), q.length(i));
  for (size_t i = 0; i < q.size(); ++i) {
    ti::LongestMatch m = idx.longest_match(q.query(i), q.length(i));
    r.lengths.push_back(static_cast<uint32_t>(m.length));
    r.counts.push_back(m.count);
  }
  return r;
}

Napi::Value longest_to_js(Napi::Env env, const LongestResult& r) {
  auto o = Napi::Object::New(env);
  auto l = Napi::Uint32Array::New(env, r.lengths.size());
  std::copy(r.lengths.begin(), r.lengths.end(), l.Data());
  o.Set("lengths", l);
  o.Set("counts", to_f64(env, r.counts));
  return o;
}

std::vector<ti::NextTokens> run_next(const ti::Index& idx, const QueryBatch& q) {
  std::vector<ti::NextTokens> r;
  for (size_t i = 0; i < q.size(); ++i) idx.check_query(q.query(i), q.length(i));
  for (size_t i = 0; i < q.size(); ++i) r.push_back(idx.next_tokens(q.query(i), q.length(i)));
  return r;
}

Napi::Value next_to_js(Napi::Env env, const std::vector<ti::NextTokens>& r) {
  auto arr = Napi::Array::New(env, r.size());
  for (size_t i = 0; i < r.size(); ++i) {
    auto o = Napi::Object::New(env);
    o.Set("suffixLength", Napi::Number::New(env, static_cast<double>(r[i].suffix_length)));
    o.Set("total", Napi::Number::New(env, static_cast<double>(r[i].total)));
    auto t = Napi::Uint32Array::New(env, r[i].tokens.size());
    auto c = Napi::Float64Array::New(env, r[i].tokens.size());
    for (size_t k = 0; k < r[i].tokens.size(); ++k) {
      t[k] = r[i].tokens[k].token;
      c[k] = static_cast<double>(r[i].tokens[k].count);
    }
    o.Set("tokens", t);
    o.Set("counts", c);
    arr.Set(static_cast<uint32_t>(i), o);
  }
  return arr;
}

std::vector<uint64_t> run_count(const ti::Index& idx, const QueryBatch& q) {
  for (size_t i = 0; i < q.size(); ++i) idx.check_query(q.query(i), q.length(i));
  std::vector<uint64_t> out(q.size());
  for (size_t i = 0; i < q.size(); ++i) out[i] = idx.count(q.query(i), q.length(i));
  return out;
}

// ---- NativeIndex ------------------------------------------------------------------------------------

class NativeIndex : public Napi::ObjectWrap<NativeIndex> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeIndex", {
      StaticMethod<&NativeIndex::Open>("open"),
      InstanceMethod<&NativeIndex::Count>("count"),
      InstanceMethod<&NativeIndex::CountSync>("countSync"),
      InstanceMethod<&NativeIndex::Locate>("locate"),
      InstanceMethod<&NativeIndex::LocateSync>("locateSync"),
      InstanceMethod<&NativeIndex::Longest>("longestMatch"),
      InstanceMethod<&NativeIndex::LongestSync>("longestMatchSync"),
      InstanceMethod<&NativeIndex::Next>("nextTokens"),
      InstanceMethod<&NativeIndex::NextSync>("nextTokensSync"),
      InstanceMethod<&NativeIndex::Document>("document"),
      InstanceMethod<&NativeIndex::FindDocument>("findDocument"),
      InstanceMethod<&NativeIndex::Unigram>("unigram"),
      InstanceMethod<&NativeIndex::Verify>("verify"),
      InstanceMethod<&NativeIndex::Close>("close"),
    });
  }

  NativeIndex(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeIndex>(info) {
    if (info.Length() != 1 || !info[0].IsExternal())
      throw_js(info.Env(), ti::codes::kInvalidArgument, "use NativeIndex.open()");
    core_ = *info[0].As<Napi::External<std::shared_ptr<const ti::Index>>>().Data();
  }

 private:
  // open([{dir, tokenWidth, tokens, documents, vocabSize}]) -> Promise<NativeIndex>
  static Napi::Value Open(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsArray()) throw_js(env, ti::codes::kInvalidArgument, "open() takes an array of shard specs");
    auto arr = info[0].As<Napi::Array>();
    std::vector<ti::ShardSpec> specs;
    for (uint32_t i = 0; i < arr.Length(); ++i) {
      auto s = arr.Get(i).As<Napi::Object>();
      ti::ShardSpec spec;
      spec.dir = s.Get("dir").As<Napi::String>().Utf8Value();
      spec.shape.token_width = s.Get("tokenWidth").As<Napi::Number>().Int32Value();
      spec.shape.tokens = static_cast<uint64_t>(s.Get("tokens").As<Napi::Number>().DoubleValue());
      spec.shape.documents = static_cast<uint64_t>(s.Get("documents").As<Napi::Number>().DoubleValue());
      spec.shape.vocab_size = static_cast<uint64_t>(s.Get("vocabSize").As<Napi::Number>().DoubleValue());
      specs.push_back(std::move(spec));
    }
    auto opened = std::make_shared<std::shared_ptr<const ti::Index>>();
    return Task::Start(
        env, [specs, opened] { *opened = std::make_shared<const ti::Index>(specs); },
        [opened](Napi::Env env) -> Napi::Value {
          auto ext = Napi::External<std::shared_ptr<const ti::Index>>::New(env, opened.get());
          return env.GetInstanceData<Napi::FunctionReference>()->New({ext});
        });
  }

  std::shared_ptr<const ti::Index> core(Napi::Env env) const {
    if (!core_) throw_js(env, ti::codes::kClosed, "the index is closed");
    return core_;
  }

  Napi::Value Count(const Napi::CallbackInfo& info) {
    auto idx = core(info.Env());
    auto q = std::make_shared<QueryBatch>(read_batch(info, 0));
    auto out = std::make_shared<std::vector<uint64_t>>();
    return Task::Start(info.Env(), [idx, q, out] { *out = run_count(*idx, *q); },
                       [out](Napi::Env env) -> Napi::Value { return to_f64(env, *out); });
  }
  Napi::Value CountSync(const Napi::CallbackInfo& info) {
    auto idx = core(info.Env());
    QueryBatch q = read_batch(info, 0);
    return to_f64(info.Env(), guarded(info.Env(), [&] { return run_count(*idx, q); }));
  }

  // locate(tokens, offsets, offset, limit, context) for a batch holding one query.
  Napi::Value Locate(const Napi::CallbackInfo& info) {
    auto idx = core(info.Env());
    auto q = std::make_shared<QueryBatch>(read_batch(info, 0));
    uint64_t offset = info[2].As<Napi::Number>().Int64Value(), limit = info[3].As<Napi::Number>().Int64Value(),
             context = info[4].As<Napi::Number>().Int64Value();
    auto out = std::make_shared<LocateResult>();
    return Task::Start(info.Env(), [=] { *out = run_locate(*idx, *q, offset, limit, context); },
                       [out](Napi::Env env) { return locate_to_js(env, *out); });
  }
  Napi::Value LocateSync(const Napi::CallbackInfo& info) {
    auto idx = core(info.Env());
    QueryBatch q = read_batch(info, 0);
    uint64_t offset = info[2].As<Napi::Number>().Int64Value(), limit = info[3].As<Napi::Number>().Int64Value(),
             context = info[4].As<Napi::Number>().Int64Value();
    return locate_to_js(info.Env(), guarded(info.Env(), [&] { return run_locate(*idx, q, offset, limit, context); }));
  }

  Napi::Value Longest(const Napi::CallbackInfo& info) {
    auto idx = core(info.Env());
    auto q = std::make_shared<QueryBatch>(read_batch(info, 0));
    auto out = std::make_shared<LongestResult>();
    return Task::Start(info.Env(), [=] { *out = run_longest(*idx, *q); },
                       [out](Napi::Env env) { return longest_to_js(env, *out); });
  }
  Napi::Value LongestSync(const Napi::CallbackInfo& info) {
    auto idx = core(info.Env());
    QueryBatch q = read_batch(info, 0);
    return longest_to_js(info.Env(), guarded(info.Env(), [&] { return run_longest(*idx, q); }));
  }

  Napi::Value Next(const Napi::CallbackInfo& info) {
    auto idx = core(info.Env());
    auto q = std::make_shared<QueryBatch>(read_batch(info, 0));
    auto out = std::make_shared<std::vector<ti::NextTokens>>();
    return Task::Start(info.Env(), [=] { *out = run_next(*idx, *q); },
                       [out](Napi::Env env) { return next_to_js(env, *out); });
  }
  Napi::Value NextSync(const Napi::CallbackInfo& info) {
    auto idx = core(info.Env());
    QueryBatch q = read_batch(info, 0);
    return next_to_js(info.Env(), guarded(info.Env(), [&] { return run_next(*idx, q); }));
  }

  // document(n) -> {tokens: Uint32Array, record: string, shard}
  Napi::Value Document(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto idx = core(env);
    double n = info[0].As<Napi::Number>().DoubleValue();
    if (!(n >= 0) || n != static_cast<double>(static_cast<uint64_t>(n)))
      throw_js(env, ti::codes::kInvalidArgument, "a document number is a non-negative integer");
    auto [si, local] = guarded(env, [&] { return idx->locate_document(static_cast<uint64_t>(n)); });
    const ti::Shard& s = idx->shard(si);
    uint64_t begin = s.doc_start(local), end = s.doc_end(local);
    auto tokens = Napi::Uint32Array::New(env, end - begin);
    for (uint64_t p = begin; p < end; ++p) tokens[p - begin] = s.token(p);
    auto o = Napi::Object::New(env);
    o.Set("tokens", tokens);
    std::string_view rec = s.doc_record(local);
    o.Set("record", Napi::String::New(env, rec.data(), rec.size()));
    o.Set("shard", Napi::Number::New(env, si));
    return o;
  }

  // findDocument(recordPrefix) -> the first document whose record starts with the prefix, or -1. A linear
  // scan of the records: ids are looked up rarely, and an id table would cost every index its space.
  Napi::Value FindDocument(const Napi::CallbackInfo& info) {
    auto idx = core(info.Env());
    std::string prefix = info[0].As<Napi::String>().Utf8Value();
    uint64_t first = 0;
    for (size_t si = 0; si < idx->shard_count(); ++si) {
      const ti::Shard& s = idx->shard(si);
      for (uint64_t d = 0; d < s.documents(); ++d)
        if (s.doc_record(d).substr(0, prefix.size()) == prefix) return Napi::Number::New(info.Env(), static_cast<double>(first + d));
      first += s.documents();
    }
    return Napi::Number::New(info.Env(), -1);
  }

  Napi::Value Unigram(const Napi::CallbackInfo& info) {
    auto idx = core(info.Env());
    return to_f64(info.Env(), idx->unigram_counts());
  }

  // verify(cancel: Uint8Array) -> Promise<void>: suffix order and content of every shard.
  Napi::Value Verify(const Napi::CallbackInfo& info) {
    auto idx = core(info.Env());
    ti::CancelFlag* cancel = read_cancel(info[0]);
    std::vector<Napi::Value> keep;
    if (cancel) keep.push_back(info[0]);
    return Task::Start(
        info.Env(), [idx, cancel] { for (size_t i = 0; i < idx->shard_count(); ++i) idx->shard(i).verify(cancel); },
        [](Napi::Env env) { return env.Undefined(); }, keep);
  }

  // Pending tasks hold their own reference; the mappings go when the last one finishes.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    core_.reset();
    return info.Env().Undefined();
  }

  std::shared_ptr<const ti::Index> core_;
};

// buildShard({dir, tokens, tokenWidth, docStarts: Float64Array, metaOffsets: Float64Array, metaBlob: Uint8Array,
//             vocabSize, threads, cancel?: Uint8Array}) -> Promise<[{name, bytes, xxh64}]>
// The tokens buffer is borrowed (and, for width 4, briefly rewritten) until the promise settles.
Napi::Value BuildShard(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto o = info[0].As<Napi::Object>();
  auto tokens = o.Get("tokens").As<Napi::TypedArray>();
  auto starts = o.Get("docStarts").As<Napi::Float64Array>();
  auto metaOffsets = o.Get("metaOffsets").As<Napi::Float64Array>();
  auto metaBlob = o.Get("metaBlob").As<Napi::Uint8Array>();
  struct Job {
    std::string dir;
    ti::ShardSource src;
    std::vector<uint64_t> starts, meta_offsets;
    std::vector<ti::WrittenFile> files;
  };
  auto job = std::make_shared<Job>();
  job->dir = o.Get("dir").As<Napi::String>().Utf8Value();
  for (size_t i = 0; i < starts.ElementLength(); ++i) job->starts.push_back(static_cast<uint64_t>(starts[i]));
  for (size_t i = 0; i < metaOffsets.ElementLength(); ++i) job->meta_offsets.push_back(static_cast<uint64_t>(metaOffsets[i]));
  ti::ShardSource& s = job->src;
  s.tokens = static_cast<uint8_t*>(tokens.ArrayBuffer().Data()) + tokens.ByteOffset();
  s.token_width = o.Get("tokenWidth").As<Napi::Number>().Int32Value();
  if (s.token_width != 1 && s.token_width != 2 && s.token_width != 4)
    throw_js(env, ti::codes::kTokenWidth, "token width must be 1, 2 or 4");
  if (tokens.ByteLength() % s.token_width != 0) throw_js(env, ti::codes::kTokenWidth, "token buffer length is not a multiple of the width");
  s.tokens_count = tokens.ByteLength() / s.token_width;
  s.documents = job->starts.empty() ? 0 : job->starts.size() - 1;
  if (job->meta_offsets.size() != job->starts.size() || job->starts.empty())
    throw_js(env, ti::codes::kInvalidArgument, "docStarts and metaOffsets need one entry per document plus one");
  if (job->meta_offsets.back() > metaBlob.ByteLength()) throw_js(env, ti::codes::kInvalidArgument, "meta blob is shorter than its offsets");
  s.doc_starts = job->starts.data();
  s.meta_offsets = job->meta_offsets.data();
  s.meta_blob = metaBlob.Data();
  s.vocab_size = static_cast<uint64_t>(o.Get("vocabSize").As<Napi::Number>().DoubleValue());
  s.threads = o.Has("threads") ? o.Get("threads").As<Napi::Number>().Int32Value() : 1;
  if (s.threads < 1) s.threads = 1;
  Napi::Value cancelValue = o.Get("cancel");
  ti::CancelFlag* cancel = read_cancel(cancelValue);
  std::vector<Napi::Value> keep{tokens, metaBlob};
  if (cancel) keep.push_back(cancelValue);
  return Task::Start(
      env, [job, cancel] { job->files = ti::write_shard(job->dir, job->src, cancel); },
      [job](Napi::Env env) -> Napi::Value {
        auto arr = Napi::Array::New(env, job->files.size());
        for (size_t i = 0; i < job->files.size(); ++i) {
          auto f = Napi::Object::New(env);
          f.Set("name", job->files[i].name);
          f.Set("bytes", Napi::Number::New(env, static_cast<double>(job->files[i].bytes)));
          char hex[17];
          snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(job->files[i].xxh64));
          f.Set("xxh64", hex);
          arr.Set(static_cast<uint32_t>(i), f);
        }
        return arr;
      },
      keep);
}

// checksumFile(path, cancel?) -> Promise<string> (XXH64, 16 hex digits)
Napi::Value ChecksumFile(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>().Utf8Value();
  ti::CancelFlag* cancel = read_cancel(info[1]);
  auto out = std::make_shared<uint64_t>(0);
  std::vector<Napi::Value> keep;
  if (cancel) keep.push_back(info[1]);
  return Task::Start(
      info.Env(), [path, cancel, out] { *out = ti::checksum_file(path, cancel); },
      [out](Napi::Env env) -> Napi::Value {
        char hex[17];
        snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(*out));
        return Napi::String::New(env, hex);
      },
      keep);
}

Napi::Value ExchangeOrRename(const Napi::CallbackInfo& info) {
  std::string from = info[0].As<Napi::String>().Utf8Value(), to = info[1].As<Napi::String>().Utf8Value();
  return Napi::Boolean::New(info.Env(), guarded(info.Env(), [&] { return ti::exchange_or_rename(from, to); }));
}

Napi::Value FsyncPath(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>().Utf8Value();
  guarded(info.Env(), [&] { ti::fsync_path(path); return 0; });
  return info.Env().Undefined();
}

Napi::Value SimdKernels(const Napi::CallbackInfo& info) {
  auto list = ti::available_match_kernels();
  auto arr = Napi::Array::New(info.Env(), list.size());
  for (size_t i = 0; i < list.size(); ++i) arr.Set(static_cast<uint32_t>(i), list[i]);
  return arr;
}

// selectSimd(name?) -> name of the active kernel after the call; false if `name` is not available.
Napi::Value SelectSimd(const Napi::CallbackInfo& info) {
  if (info.Length() > 0 && info[0].IsString() && !ti::select_match_kernel(info[0].As<Napi::String>().Utf8Value()))
    return Napi::Boolean::New(info.Env(), false);
  return Napi::String::New(info.Env(), ti::match_kernel().name);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = NativeIndex::Define(env);
  env.SetInstanceData(new Napi::FunctionReference(Napi::Persistent(ctor)));  // per env: worker threads load their own
  exports.Set("NativeIndex", ctor);
  exports.Set("buildShard", Napi::Function::New<BuildShard>(env, "buildShard"));
  exports.Set("checksumFile", Napi::Function::New<ChecksumFile>(env, "checksumFile"));
  exports.Set("exchangeOrRename", Napi::Function::New<ExchangeOrRename>(env, "exchangeOrRename"));
  exports.Set("fsyncPath", Napi::Function::New<FsyncPath>(env, "fsyncPath"));
  exports.Set("simdKernels", Napi::Function::New<SimdKernels>(env, "simdKernels"));
  exports.Set("selectSimd", Napi::Function::New<SelectSimd>(env, "selectSimd"));
  exports.Set("formatVersion", Napi::Number::New(env, ti::kFormatVersion));
  return exports;
}

}  // namespace

NODE_API_MODULE(traceindex, Init)
