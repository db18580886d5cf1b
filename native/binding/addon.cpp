// N-API binding: a thin layer over the core (native/core). Every heavy call has an async form that runs on
// libuv's thread pool and a Sync form for tight loops; query batches travel as one Uint32Array of tokens
// plus a Uint32Array of offsets, so one round trip serves many queries. Core errors become JS Errors whose
// `code` is the core's code. The JS-facing wrapper is lib/native.ts.
#include <napi.h>

#include "common.hpp"
#include "match_state_binding.hpp"
#include "occurrences.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "error.hpp"
#include "index.hpp"
#include "shard_writer.hpp"
#include "token_match.hpp"
#include "trace.hpp"

namespace ti = traceindex;

namespace binding {
void RegisterTokenizer(Napi::Env env, Napi::Object exports);  // tokenizer_binding.cpp
}

namespace {
using namespace binding;

// ---- Results, computed off-thread and converted on the JS thread ------------------------------------

struct LocateResult {
  uint64_t total = 0;
  OccurrenceBlock hits;
};

LocateResult run_locate(const ti::Index& idx, const QueryBatch& q, uint64_t offset, uint64_t limit, uint64_t context,
                        ti::CancelFlag* cancel = nullptr) {
  LocateResult r;
  idx.check_query(q.query(0), q.length(0));
  for (const auto& h : idx.locate(q.query(0), q.length(0), offset, limit, &r.total, cancel)) r.hits.add(idx, h, q.length(0), context);
  return r;
}

Napi::Value locate_to_js(Napi::Env env, const LocateResult& r) {
  auto o = Napi::Object::New(env);
  o.Set("total", Napi::Number::New(env, static_cast<double>(r.total)));
  r.hits.to_js(env, o);
  return o;
}

// Spans of a batch of outputs, flattened: span i belongs to output `output[i]`; its occurrences are
// hits[occurrence_offsets[i], occurrence_offsets[i + 1]).
struct TraceResult {
  std::vector<uint32_t> output, start, end, occurrence_offsets{0};
  std::vector<double> count, bci, density, max_token, kl, count_surprisal;
  OccurrenceBlock hits;
};

struct TraceRequest {
  ti::TraceOptions options;
  uint32_t window = 0;    // > 0: TraceShield's stride-1 windows of this width instead of maximal spans
  uint64_t context = 16;  // snippet tokens on each side
};

TraceRequest read_trace_options(Napi::Env env, const Napi::Value& v) {
  TraceRequest r;
  if (!v.IsObject()) return r;
  auto o = v.As<Napi::Object>();
  auto num = [&](const char* k, double fallback) {
    Napi::Value x = o.Get(k);
    if (x.IsUndefined() || x.IsNull()) return fallback;
    if (!x.IsNumber()) throw_js(env, ti::codes::kInvalidArgument, std::string(k) + " must be a number");
    return x.As<Napi::Number>().DoubleValue();
  };
  r.options.min_length = static_cast<uint32_t>(num("minLength", 1));
  double mc = num("maxCount", -1);
  if (mc >= 0) r.options.max_count = static_cast<uint64_t>(mc);
  r.options.max_documents = static_cast<uint32_t>(num("maxDocuments", 3));
  r.options.seed = static_cast<uint64_t>(num("seed", 0));
  r.options.score.log_base = num("logBase", 0);
  r.options.score.unseen_count = num("unseenFloor", 0.5);
  r.window = static_cast<uint32_t>(num("window", 0));
  r.context = static_cast<uint64_t>(num("context", 16));
  for (const char* k : {"delimiters", "wordTokens"}) {
    Napi::Value x = o.Get(k);
    if (x.IsUndefined() || x.IsNull()) continue;
    if (!x.IsTypedArray()) throw_js(env, ti::codes::kInvalidArgument, std::string(k) + " must be a typed array");
    auto t = x.As<Napi::TypedArray>();
    if (std::string(k) == "delimiters" && t.TypedArrayType() == napi_uint32_array) {
      auto d = x.As<Napi::Uint32Array>();
      r.options.delimiters.assign(d.Data(), d.Data() + d.ElementLength());
    } else if (std::string(k) == "wordTokens" && t.TypedArrayType() == napi_uint8_array) {
      auto w = x.As<Napi::Uint8Array>();
      r.options.word_token.assign(w.Data(), w.Data() + w.ElementLength());
    } else {
      throw_js(env, ti::codes::kInvalidArgument, std::string(k) + " has the wrong typed-array type");
    }
  }
  if (r.options.score.unseen_count <= 0) throw_js(env, ti::codes::kInvalidArgument, "unseenFloor must be > 0");
  if (r.options.score.log_base < 0 || r.options.score.log_base == 1) throw_js(env, ti::codes::kInvalidArgument, "logBase must be > 0 and not 1");
  return r;
}

// Spans of every output of the batch, given the longest-prefix lengths of all outputs laid end to end
// (L[q.offsets[i] + j] for output i); lengths come from trace_lengths, per shard or for the whole index.
TraceResult spans_of_batch(const ti::Index& idx, const QueryBatch& q, const TraceRequest& req, const std::vector<uint32_t>& L,
                           ti::CancelFlag* cancel) {
  TraceResult r;
  for (size_t i = 0; i < q.size(); ++i) {
    const uint32_t* Li = L.data() + q.offsets[i];
    auto spans = req.window ? ti::windows_from_lengths(idx, q.query(i), q.length(i), Li, req.window, req.options, cancel)
                            : ti::spans_from_lengths(idx, q.query(i), q.length(i), Li, req.options, cancel);
    for (const ti::Span& sp : spans) {
      r.output.push_back(static_cast<uint32_t>(i));
      r.start.push_back(sp.start);
      r.end.push_back(sp.end);
      r.count.push_back(static_cast<double>(sp.count));
      r.bci.push_back(sp.scores.bci);
      r.density.push_back(sp.scores.density);
      r.max_token.push_back(sp.scores.max_token);
      r.kl.push_back(sp.scores.kl);
      r.count_surprisal.push_back(sp.scores.count_surprisal);
      for (const auto& o : sp.occurrences) r.hits.add(idx, o, sp.end - sp.start, req.context);
      r.occurrence_offsets.push_back(static_cast<uint32_t>(r.hits.documents.size()));
    }
  }
  return r;
}

// Longest-prefix lengths of every output in one shard (window mode ignores delimiters, as TraceShield does).
void trace_lengths(const ti::Shard& s, const QueryBatch& q, const TraceRequest& req, uint32_t* L, ti::CancelFlag* cancel) {
  static const std::vector<uint32_t> none;
  for (size_t i = 0; i < q.size(); ++i)
    ti::shard_prefix_lengths(s, q.query(i), q.length(i), req.window ? none : req.options.delimiters, L + q.offsets[i], cancel);
}

TraceResult run_trace(const ti::Index& idx, const QueryBatch& q, const TraceRequest& req, ti::CancelFlag* cancel = nullptr) {
  for (size_t i = 0; i < q.size(); ++i) idx.check_query(q.query(i), q.length(i));
  std::vector<uint32_t> L(q.tokens.size(), 0), Ls(q.tokens.size());
  for (size_t si = 0; si < idx.shard_count(); ++si) {
    trace_lengths(idx.shard(si), q, req, Ls.data(), cancel);
    for (size_t k = 0; k < L.size(); ++k) L[k] = std::max(L[k], Ls[k]);
  }
  return spans_of_batch(idx, q, req, L, cancel);
}

Napi::Value trace_to_js(Napi::Env env, const TraceResult& r) {
  auto o = Napi::Object::New(env);
  o.Set("output", u32(env, r.output));
  o.Set("start", u32(env, r.start));
  o.Set("end", u32(env, r.end));
  o.Set("count", f64(env, r.count));
  o.Set("bci", f64(env, r.bci));
  o.Set("density", f64(env, r.density));
  o.Set("maxToken", f64(env, r.max_token));
  o.Set("kl", f64(env, r.kl));
  o.Set("countSurprisal", f64(env, r.count_surprisal));
  o.Set("occurrenceOffsets", u32(env, r.occurrence_offsets));
  auto hits = Napi::Object::New(env);
  r.hits.to_js(env, hits);
  o.Set("occurrences", hits);
  return o;
}

struct LongestResult {
  std::vector<uint32_t> lengths;
  std::vector<uint64_t> counts;
};

LongestResult run_longest(const ti::Index& idx, const QueryBatch& q, ti::CancelFlag* cancel = nullptr) {
  LongestResult r;
  for (size_t i = 0; i < q.size(); ++i) idx.check_query(q.query(i), q.length(i));
  for (size_t i = 0; i < q.size(); ++i) {
    if ((i & 63) == 0) ti::check_cancel(cancel, "query");
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

std::vector<ti::NextTokens> run_next(const ti::Index& idx, const QueryBatch& q, ti::CancelFlag* cancel = nullptr) {
  std::vector<ti::NextTokens> r;
  for (size_t i = 0; i < q.size(); ++i) idx.check_query(q.query(i), q.length(i));
  for (size_t i = 0; i < q.size(); ++i) {
    ti::check_cancel(cancel, "query");
    r.push_back(idx.next_tokens(q.query(i), q.length(i)));
  }
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

// Counts of every query in one shard.
void count_in_shard(const ti::Shard& s, const QueryBatch& q, uint64_t* out, ti::CancelFlag* cancel) {
  for (size_t i = 0; i < q.size(); ++i) {
    if ((i & 1023) == 0) ti::check_cancel(cancel, "query");
    out[i] = s.find(q.query(i), q.length(i)).size();
  }
}

std::vector<uint64_t> run_count(const ti::Index& idx, const QueryBatch& q, ti::CancelFlag* cancel = nullptr) {
  for (size_t i = 0; i < q.size(); ++i) idx.check_query(q.query(i), q.length(i));
  std::vector<uint64_t> out(q.size(), 0), part(q.size());
  for (size_t si = 0; si < idx.shard_count(); ++si) {
    count_in_shard(idx.shard(si), q, part.data(), cancel);
    for (size_t i = 0; i < q.size(); ++i) out[i] += part[i];
  }
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
      InstanceMethod<&NativeIndex::Shape>("shape"),
      InstanceMethod<&NativeIndex::Trace>("trace"),
      InstanceMethod<&NativeIndex::TraceSync>("traceSync"),
      InstanceMethod<&NativeIndex::ScoreSpans>("scoreSpans"),
      InstanceMethod<&NativeIndex::MatchState>("matchState"),
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
  // open([{dir, tokenWidth, tokens, documents, vocabSize, format?, suffix?}]) -> Promise<NativeIndex>. For
  // format "infini-gram" only dir, suffix, tokenWidth and (optional, 0 = derive) vocabSize are read.
  static Napi::Value Open(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsArray()) throw_js(env, ti::codes::kInvalidArgument, "open() takes an array of shard specs");
    auto arr = info[0].As<Napi::Array>();
    std::vector<ti::ShardSpec> specs;
    for (uint32_t i = 0; i < arr.Length(); ++i) {
      auto s = arr.Get(i).As<Napi::Object>();
      ti::ShardSpec spec;
      spec.dir = s.Get("dir").As<Napi::String>().Utf8Value();
      auto num = [&](const char* k) {
        Napi::Value v = s.Get(k);
        return v.IsNumber() ? static_cast<uint64_t>(v.As<Napi::Number>().DoubleValue()) : uint64_t(0);
      };
      spec.shape.token_width = static_cast<int>(num("tokenWidth"));
      spec.shape.tokens = num("tokens");
      spec.shape.documents = num("documents");
      spec.shape.vocab_size = num("vocabSize");
      if (s.Get("format").IsString()) spec.format = s.Get("format").As<Napi::String>().Utf8Value();
      if (s.Get("suffix").IsString()) spec.suffix = s.Get("suffix").As<Napi::String>().Utf8Value();
      specs.push_back(std::move(spec));
    }
    auto opened = std::make_shared<std::shared_ptr<const ti::Index>>();
    return Task::Start(
        env, [specs, opened] { *opened = std::make_shared<const ti::Index>(specs); },
        [opened](Napi::Env env) -> Napi::Value {
          auto ext = Napi::External<std::shared_ptr<const ti::Index>>::New(env, opened.get());
          return env.GetInstanceData<AddonData>()->index_ctor.New({ext});
        });
  }

  std::shared_ptr<const ti::Index> core(Napi::Env env) const {
    if (!core_) throw_js(env, ti::codes::kClosed, "the index is closed");
    return core_;
  }

  // count(tokens, offsets, cancel?): with several shards, each shard's counts are a separate pool task.
  Napi::Value Count(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto idx = core(env);
    auto q = std::make_shared<QueryBatch>(read_batch(info, 0));
    ti::CancelFlag* cancel = read_cancel(info[2]);
    auto keep = keep_cancel(info[2]);
    auto done = [q](std::shared_ptr<std::vector<uint64_t>> out) {
      return [out](Napi::Env env) -> Napi::Value { return to_f64(env, *out); };
    };
    auto out = std::make_shared<std::vector<uint64_t>>();
    if (idx->shard_count() < 2) return Task::Start(env, [=] { *out = run_count(*idx, *q, cancel); }, done(out), keep);
    guarded(env, [&] { for (size_t i = 0; i < q->size(); ++i) idx->check_query(q->query(i), q->length(i)); return 0; });
    auto parts = std::make_shared<std::vector<std::vector<uint64_t>>>(idx->shard_count(), std::vector<uint64_t>(q->size()));
    return FanOut::Start(
        env, idx->shard_count(), [=](size_t si) { count_in_shard(idx->shard(si), *q, (*parts)[si].data(), cancel); },
        [=] {
          out->assign(q->size(), 0);
          for (auto& p : *parts)
            for (size_t i = 0; i < p.size(); ++i) (*out)[i] += p[i];
        },
        done(out), keep);
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
    ti::CancelFlag* cancel = read_cancel(info[5]);
    auto out = std::make_shared<LocateResult>();
    return Task::Start(info.Env(), [=] { *out = run_locate(*idx, *q, offset, limit, context, cancel); },
                       [out](Napi::Env env) { return locate_to_js(env, *out); }, keep_cancel(info[5]));
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
    ti::CancelFlag* cancel = read_cancel(info[2]);
    auto out = std::make_shared<LongestResult>();
    return Task::Start(info.Env(), [=] { *out = run_longest(*idx, *q, cancel); },
                       [out](Napi::Env env) { return longest_to_js(env, *out); }, keep_cancel(info[2]));
  }
  Napi::Value LongestSync(const Napi::CallbackInfo& info) {
    auto idx = core(info.Env());
    QueryBatch q = read_batch(info, 0);
    return longest_to_js(info.Env(), guarded(info.Env(), [&] { return run_longest(*idx, q); }));
  }

  Napi::Value Next(const Napi::CallbackInfo& info) {
    auto idx = core(info.Env());
    auto q = std::make_shared<QueryBatch>(read_batch(info, 0));
    ti::CancelFlag* cancel = read_cancel(info[2]);
    auto out = std::make_shared<std::vector<ti::NextTokens>>();
    return Task::Start(info.Env(), [=] { *out = run_next(*idx, *q, cancel); },
                       [out](Napi::Env env) { return next_to_js(env, *out); }, keep_cancel(info[2]));
  }
  Napi::Value NextSync(const Napi::CallbackInfo& info) {
    auto idx = core(info.Env());
    QueryBatch q = read_batch(info, 0);
    return next_to_js(info.Env(), guarded(info.Env(), [&] { return run_next(*idx, q); }));
  }

  // trace(tokens, offsets, options) -> TraceResult for a batch of outputs
  Napi::Value Trace(const Napi::CallbackInfo& info) {
    auto idx = core(info.Env());
    auto q = std::make_shared<QueryBatch>(read_batch(info, 0));
    auto req = std::make_shared<TraceRequest>(read_trace_options(info.Env(), info[2]));
    ti::CancelFlag* cancel = read_cancel(info[3]);
    auto keep = keep_cancel(info[3]);
    auto out = std::make_shared<TraceResult>();
    auto done = [out](Napi::Env env) { return trace_to_js(env, *out); };
    if (idx->shard_count() < 2) return Task::Start(info.Env(), [=] { *out = run_trace(*idx, *q, *req, cancel); }, done, keep);
    // Each shard's longest-prefix lengths are a separate pool task; spans, counts and samples follow.
    guarded(info.Env(), [&] { for (size_t i = 0; i < q->size(); ++i) idx->check_query(q->query(i), q->length(i)); return 0; });
    auto lengths = std::make_shared<std::vector<std::vector<uint32_t>>>(idx->shard_count(), std::vector<uint32_t>(q->tokens.size()));
    return FanOut::Start(
        info.Env(), idx->shard_count(), [=](size_t si) { trace_lengths(idx->shard(si), *q, *req, (*lengths)[si].data(), cancel); },
        [=] {
          std::vector<uint32_t> L(q->tokens.size(), 0);
          for (auto& Ls : *lengths)
            for (size_t k = 0; k < L.size(); ++k) L[k] = std::max(L[k], Ls[k]);
          *out = spans_of_batch(*idx, *q, *req, L, cancel);
        },
        done, keep);
  }
  Napi::Value TraceSync(const Napi::CallbackInfo& info) {
    auto idx = core(info.Env());
    QueryBatch q = read_batch(info, 0);
    TraceRequest req = read_trace_options(info.Env(), info[2]);
    return trace_to_js(info.Env(), guarded(info.Env(), [&] { return run_trace(*idx, q, req); }));
  }

  // scoreSpans(tokens, offsets, counts: Float64Array | undefined, options) -> score arrays, one entry per span.
  // Spans are arbitrary token sequences (unseen tokens use the floor); counts default to the exact counts.
  Napi::Value ScoreSpans(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto idx = core(env);
    QueryBatch q = read_batch(info, 0);
    TraceRequest req = read_trace_options(env, info[3]);
    std::vector<double> counts;
    if (info[2].IsTypedArray()) {
      auto c = info[2].As<Napi::Float64Array>();
      counts.assign(c.Data(), c.Data() + c.ElementLength());
      if (counts.size() != q.size()) throw_js(env, ti::codes::kInvalidArgument, "one count per span");
    }
    std::vector<double> bci, density, max_token, kl, cs, cnt;
    guarded(env, [&] {
      for (size_t i = 0; i < q.size(); ++i) {
        idx->check_query(q.query(i), q.length(i));
        uint64_t c = counts.empty() ? idx->count(q.query(i), q.length(i)) : static_cast<uint64_t>(counts[i]);
        ti::SpanScores s = idx->surprisal().score(q.query(i), q.length(i), c, req.options.score);
        bci.push_back(s.bci); density.push_back(s.density); max_token.push_back(s.max_token);
        kl.push_back(s.kl); cs.push_back(s.count_surprisal); cnt.push_back(static_cast<double>(c));
      }
      return 0;
    });
    auto o = Napi::Object::New(env);
    o.Set("bci", f64(env, bci));
    o.Set("density", f64(env, density));
    o.Set("maxToken", f64(env, max_token));
    o.Set("kl", f64(env, kl));
    o.Set("countSurprisal", f64(env, cs));
    o.Set("count", f64(env, cnt));
    return o;
  }

  // matchState(window) -> NativeMatchState
  Napi::Value MatchState(const Napi::CallbackInfo& info) {
    auto idx = core(info.Env());
    uint32_t window = info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : 0;
    return NativeMatchState::Wrap(info.Env(), new ti::MatchState(idx, window));
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
    std::string rec = s.doc_record(local);
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

  // shape() -> {format, tokenWidth, vocabSize, documents, tokens, shards: [{documents, tokens}]}: what the
  // files say (for infini-gram indexes, which have no manifest).
  Napi::Value Shape(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto idx = core(env);
    auto o = Napi::Object::New(env);
    o.Set("format", Napi::String::New(env, idx->shard(0).format()));
    o.Set("tokenWidth", Napi::Number::New(env, idx->token_width()));
    o.Set("vocabSize", Napi::Number::New(env, static_cast<double>(idx->vocab_size())));
    o.Set("documents", Napi::Number::New(env, static_cast<double>(idx->documents())));
    o.Set("tokens", Napi::Number::New(env, static_cast<double>(idx->tokens())));
    auto shards = Napi::Array::New(env, idx->shard_count());
    for (size_t i = 0; i < idx->shard_count(); ++i) {
      auto s = Napi::Object::New(env);
      s.Set("documents", Napi::Number::New(env, static_cast<double>(idx->shard(i).documents())));
      s.Set("tokens", Napi::Number::New(env, static_cast<double>(idx->shard(i).shape().tokens)));
      shards.Set(static_cast<uint32_t>(i), s);
    }
    o.Set("shards", shards);
    return o;
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
//             vocabSize, threads, cancel?: Uint8Array}) -> Promise<{files: [{name, bytes, xxh64}], seconds: {stage: s}}>
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
    std::vector<std::pair<std::string, double>> seconds;  // per stage of write_shard, in stage order
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
      env,
      [job, cancel] {
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
        job->files = ti::write_shard(job->dir, job->src, cancel, on_stage);
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
          char hex[17];
          snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(job->files[i].xxh64));
          f.Set("xxh64", hex);
          arr.Set(static_cast<uint32_t>(i), f);
        }
        out.Set("files", arr);
        return out;
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
  auto* data = new AddonData();  // per env: worker threads load their own
  data->index_ctor = Napi::Persistent(ctor);
  data->match_state_ctor = Napi::Persistent(NativeMatchState::Define(env));
  env.SetInstanceData(data);
  exports.Set("NativeIndex", ctor);
  exports.Set("scoreContinuations", Napi::Function::New<ScoreContinuations>(env, "scoreContinuations"));
  exports.Set("buildShard", Napi::Function::New<BuildShard>(env, "buildShard"));
  exports.Set("checksumFile", Napi::Function::New<ChecksumFile>(env, "checksumFile"));
  exports.Set("exchangeOrRename", Napi::Function::New<ExchangeOrRename>(env, "exchangeOrRename"));
  exports.Set("fsyncPath", Napi::Function::New<FsyncPath>(env, "fsyncPath"));
  exports.Set("simdKernels", Napi::Function::New<SimdKernels>(env, "simdKernels"));
  exports.Set("selectSimd", Napi::Function::New<SelectSimd>(env, "selectSimd"));
  exports.Set("formatVersion", Napi::Number::New(env, ti::kFormatVersion));
  RegisterTokenizer(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(traceindex, Init)
