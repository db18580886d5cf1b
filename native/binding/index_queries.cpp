// NativeIndex: an opened index and its queries (the JS-facing wrapper is lib/native.ts). Each query is a
// description below, turned into its async and Sync methods by query_method.hpp; batches travel as one
// Uint32Array of tokens plus a Uint32Array of offsets, so one round trip serves many queries.
#include <napi.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "addon_data.hpp"
#include "args.hpp"
#include "arrays.hpp"
#include "batch.hpp"
#include "documents.hpp"
#include "errors.hpp"
#include "job.hpp"
#include "occurrences.hpp"
#include "query_method.hpp"
#include "sampling.hpp"

namespace binding {
namespace {

inline constexpr uint64_t kMaxLocateLimit = 10000;  // lib: MAX_LOCATE_LIMIT

// ---- options ----------------------------------------------------------------------------------------

// lib/native.ts NativeTraceOptions; undefined or null = every default.
struct TraceSettings {
  ti::TraceOptions options;
  uint32_t window = 0;    // > 0: TraceShield's stride-1 windows of this width instead of maximal spans
  uint64_t context = 16;  // snippet tokens on each side
  uint64_t max_snippet_tokens = kMaxSnippetTokens;  // of all attributions of the call (lib: the server's budget)
};

TraceSettings read_trace_options(Napi::Env env, const Napi::Value& v) {
  TraceSettings r;
  if (v.IsUndefined() || v.IsNull()) return r;
  Napi::Object o = object_arg(env, v, "trace options");
  r.options.min_length = static_cast<uint32_t>(integer_option(env, o, "minLength", 0, UINT32_MAX, 1));
  r.options.max_count = integer_option(env, o, "maxCount", 0, kMaxSafeInteger, UINT64_MAX);
  r.options.max_documents = static_cast<uint32_t>(integer_option(env, o, "maxDocuments", 0, UINT32_MAX, 3));
  r.options.seed = integer_option(env, o, "seed", 0, kMaxSafeInteger, 0);
  r.options.score.log_base = log_base_option(env, o);
  r.options.score.unseen_count = number_option(env, o, "unseenFloor", 0.5);
  r.window = static_cast<uint32_t>(integer_option(env, o, "window", 0, UINT32_MAX, 0));
  r.context = integer_option(env, o, "context", 0, kMaxSafeInteger, 16);
  r.max_snippet_tokens = integer_option(env, o, "maxSnippetTokens", 0, kMaxSnippetTokens, kMaxSnippetTokens);
  Napi::Value d = o.Get("delimiters"), w = o.Get("wordTokens");
  if (!d.IsUndefined() && !d.IsNull()) r.options.delimiters = copy_array(typed_array<uint32_t>(env, d, "delimiters"));
  if (!w.IsUndefined() && !w.IsNull()) r.options.word_token = copy_array(typed_array<uint8_t>(env, w, "wordTokens"));
  if (r.options.score.unseen_count <= 0) invalid_argument(env, "unseenFloor must be > 0");
  return r;
}

Napi::Value scores_to_js(Napi::Env env, Napi::Object o, const std::vector<ti::SpanScores>& s) {
  std::vector<double> bci, density, max_token, kl, cs;
  for (const ti::SpanScores& x : s) {
    bci.push_back(x.bci); density.push_back(x.density); max_token.push_back(x.max_token);
    kl.push_back(x.kl); cs.push_back(x.count_surprisal);
  }
  o.Set("bci", f64(env, bci));
  o.Set("density", f64(env, density));
  o.Set("maxToken", f64(env, max_token));
  o.Set("kl", f64(env, kl));
  o.Set("countSurprisal", f64(env, cs));
  return o;
}

// ---- queries ----------------------------------------------------------------------------------------

// A query over a batch: (tokens, offsets, cancel?).
struct OverBatch {
  using Request = QueryBatch;
  static constexpr size_t kCancelArg = 2;
  static constexpr bool kFanOut = false;
  static Request read(const Napi::CallbackInfo& info) { return read_batch(info, 0); }
  static void check(const ti::Index& idx, const Request& q) { ti::check_queries(idx, q.view()); }
};

// count(tokens, offsets, cancel?) -> Float64Array of counts
struct Count : OverBatch {
  static constexpr const char* kName = "count";
  static constexpr const char* kSyncName = "countSync";
  static constexpr bool kFanOut = true;
  using Part = std::vector<uint64_t>;
  using Result = std::vector<uint64_t>;
  static Part part_of(const ti::Shard& s, const ti::Queries& q, ti::CancelFlag* c) { return ti::count_part(s, q, c); }
  static Part part(const ti::Shard& s, const Request& q, ti::CancelFlag* c) { return part_of(s, q.view(), c); }
  static Result merge(const ti::Index&, const Request&, const std::vector<Part>& parts, ti::CancelFlag*) { return ti::merge_counts(parts); }
  static Napi::Value to_js(Napi::Env env, const Result& r) { return f64(env, r); }
  // Inline (query_method.hpp): at most kTinySearches binary searches (queries x shards) of short queries, a
  // few microseconds on a warm index, less than one pool round trip.
  static constexpr size_t kTinySearches = 4, kTinyTokens = 64;
  static bool tiny(const ti::Index& idx, const Request& q) {
    const ti::Queries v = q.view();
    return v.size() * idx.shard_count() <= kTinySearches && v.total_tokens() <= kTinyTokens;
  }
};

// suffixRanges(tokens, offsets, cancel?) -> Float64Array: query q's suffix-array range [lo, hi) in shard s at
// [2 * (q * shards + s), + 2) (core/batch.hpp, ranks)
struct SuffixRanges : OverBatch {
  static constexpr const char* kName = "suffixRanges";
  static constexpr const char* kSyncName = "suffixRangesSync";
  static constexpr bool kFanOut = true;
  using Part = std::vector<ti::SaRange>;
  using Result = std::vector<ti::SaRange>;
  static Part part_of(const ti::Shard& s, const ti::Queries& q, ti::CancelFlag* c) { return ti::rank_part(s, q, c); }
  static Part part(const ti::Shard& s, const Request& q, ti::CancelFlag* c) { return part_of(s, q.view(), c); }
  static Result merge(const ti::Index&, const Request&, const std::vector<Part>& parts, ti::CancelFlag*) { return ti::merge_ranks(parts); }
  static Napi::Value to_js(Napi::Env env, const Result& r) {
    auto a = Napi::Float64Array::New(env, 2 * r.size());
    for (size_t i = 0; i < r.size(); ++i) {
      a[2 * i] = static_cast<double>(r[i].lo);
      a[2 * i + 1] = static_cast<double>(r[i].hi);
    }
    return a;
  }
};

// longestMatch(tokens, offsets, cancel?) -> {lengths: Uint32Array, counts: Float64Array}
struct Longest : OverBatch {
  static constexpr const char* kName = "longestMatch";
  static constexpr const char* kSyncName = "longestMatchSync";
  using Part = std::vector<ti::LongestMatch>;
  using Result = std::vector<ti::LongestMatch>;
  static Part part(const ti::Shard& s, const Request& q, ti::CancelFlag* c) { return ti::longest_part(s, q.view(), c); }
  static Result merge(const ti::Index&, const Request&, const std::vector<Part>& parts, ti::CancelFlag*) { return ti::merge_longest(parts); }
  static Napi::Value to_js(Napi::Env env, const Result& r) {
    std::vector<uint32_t> lengths;
    std::vector<uint64_t> counts;
    for (const ti::LongestMatch& m : r) {
      lengths.push_back(static_cast<uint32_t>(m.length));
      counts.push_back(m.count);
    }
    auto o = Napi::Object::New(env);
    o.Set("lengths", u32(env, lengths));
    o.Set("counts", f64(env, counts));
    return o;
  }
};

// nextTokens(tokens, offsets, cancel?) -> [{suffixLength, total, tokens: Uint32Array, counts: Float64Array}]
struct Next : OverBatch {
  static constexpr const char* kName = "nextTokens";
  static constexpr const char* kSyncName = "nextTokensSync";
  using Part = std::vector<ti::ContextMatch>;
  using Result = std::vector<ti::NextTokens>;
  static Part part(const ti::Shard& s, const Request& q, ti::CancelFlag* c) { return ti::next_part(s, q.view(), c); }
  static Result merge(const ti::Index& idx, const Request& q, const std::vector<Part>& parts, ti::CancelFlag* c) {
    return ti::merge_next(idx, q.view(), parts, c);
  }
  static Napi::Value to_js(Napi::Env env, const Result& r) {
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
};

// locate(tokens, offsets, offset, limit, context, maxTokens, withBytes, cancel?) for a batch of one query -> {total, cost,
// ...occurrences}; ERR_TOO_LARGE when the page's cost (occurrences.hpp) exceeds maxTokens, else that cost (a
// wordStart page of two forms gives the second fetch what the first left).
struct Locate {
  static constexpr const char* kName = "locate";
  static constexpr const char* kSyncName = "locateSync";
  static constexpr size_t kCancelArg = 7;
  static constexpr bool kFanOut = false;
  struct Request {
    QueryBatch q;
    uint64_t offset, limit, context, max_tokens;
    bool bytes;  // the byte offsets too (a page shown); false for a probe whose occurrences are only compared
  };
  using Part = std::vector<ti::SaRange>;
  struct Result {
    uint64_t total = 0;
    OccurrenceBlock hits;
  };
  static Request read(const Napi::CallbackInfo& info) {
    Request r{read_batch(info, 0), integer_arg(info, 2, "offset", 0, kMaxSafeInteger),
              integer_arg(info, 3, "limit", 0, kMaxLocateLimit), integer_arg(info, 4, "context", 0, kMaxSafeInteger),
              integer_arg(info, 5, "maxTokens", 0, kMaxSnippetTokens), boolean_arg(info, 6, "withBytes")};
    if (r.q.size() != 1) invalid_argument(info.Env(), "locate takes a batch of one query");
    return r;
  }
  static void check(const ti::Index& idx, const Request& r) { ti::check_queries(idx, r.q.view()); }
  static Part part(const ti::Shard& s, const Request& r, ti::CancelFlag* c) { return ti::range_part(s, r.q.view(), c); }
  static Result merge(const ti::Index& idx, const Request& r, const std::vector<Part>& parts, ti::CancelFlag* c) {
    Result out;
    out.hits.cap = r.max_tokens;
    ti::LocatePage page = ti::merge_locate(idx, parts, 0, r.offset, r.limit, c);
    out.total = page.total;
    for (const ti::Occurrence& h : page.hits) out.hits.add(idx, h, r.q.length(0), r.context);
    out.hits.finish(idx, c, r.bytes);
    return out;
  }
  static Napi::Value to_js(Napi::Env env, const Result& r) {
    auto o = Napi::Object::New(env);
    o.Set("total", Napi::Number::New(env, static_cast<double>(r.total)));
    o.Set("cost", Napi::Number::New(env, static_cast<double>(r.hits.cost)));
    r.hits.to_js(env, o);
    return o;
  }
};

// trace(tokens, offsets, options, cancel?) -> the spans of every output, flattened: span i belongs to output
// output[i]; its occurrences are occurrences[occurrenceOffsets[i], occurrenceOffsets[i + 1]).
struct Trace {
  static constexpr const char* kName = "trace";
  static constexpr const char* kSyncName = "traceSync";
  static constexpr size_t kCancelArg = 3;
  static constexpr bool kFanOut = true;
  struct Request {
    QueryBatch q;
    TraceSettings t;
  };
  using Part = std::vector<uint32_t>;
  struct Result {
    std::vector<uint32_t> output, start, end, occurrence_offsets{0};
    std::vector<uint64_t> count;
    std::vector<ti::SpanScores> scores;
    OccurrenceBlock hits;
  };
  static Request read(const Napi::CallbackInfo& info) { return {read_batch(info, 0), read_trace_options(info.Env(), info[2])}; }
  static void check(const ti::Index& idx, const Request& r) { ti::check_trace(idx, r.q.view(), r.t.options); }
  static Part part(const ti::Shard& s, const Request& r, ti::CancelFlag* c) { return ti::trace_part(s, r.q.view(), r.t.options, r.t.window, c); }
  static Result merge(const ti::Index& idx, const Request& r, const std::vector<Part>& parts, ti::CancelFlag* c) {
    Result out;
    auto spans = ti::merge_trace(idx, r.q.view(), r.t.options, r.t.window, parts, c);
    out.hits.cap = r.t.max_snippet_tokens;
    for (size_t i = 0; i < spans.size(); ++i)
      for (const ti::Span& sp : spans[i]) {
        out.output.push_back(static_cast<uint32_t>(i));
        out.start.push_back(sp.start);
        out.end.push_back(sp.end);
        out.count.push_back(sp.count);
        out.scores.push_back(sp.scores);
        for (const ti::Occurrence& o : sp.occurrences) out.hits.add(idx, o, sp.end - sp.start, r.t.context);
        out.occurrence_offsets.push_back(static_cast<uint32_t>(out.hits.documents.size()));
      }
    out.hits.finish(idx, c);
    return out;
  }
  static Napi::Value to_js(Napi::Env env, const Result& r) {
    auto o = Napi::Object::New(env);
    o.Set("output", u32(env, r.output));
    o.Set("start", u32(env, r.start));
    o.Set("end", u32(env, r.end));
    o.Set("count", f64(env, r.count));
    scores_to_js(env, o, r.scores);
    o.Set("occurrenceOffsets", u32(env, r.occurrence_offsets));
    auto hits = Napi::Object::New(env);
    r.hits.to_js(env, hits);
    o.Set("occurrences", hits);
    return o;
  }
};

// scoreSpans(tokens, offsets, counts: Float64Array | undefined, options, cancel?) -> score arrays and counts,
// one entry per span. Spans are arbitrary token sequences (unseen tokens use the floor); counts default to
// the exact counts (then each shard's counts are a part).
struct ScoreSpans {
  static constexpr const char* kName = "scoreSpans";
  static constexpr const char* kSyncName = "scoreSpansSync";
  static constexpr size_t kCancelArg = 4;
  static constexpr bool kFanOut = false;
  struct Request {
    QueryBatch q;
    bool given = false;
    std::vector<uint64_t> counts;
    ti::ScoreOptions score;
  };
  using Part = std::vector<uint64_t>;
  struct Result {
    std::vector<ti::SpanScores> scores;
    std::vector<uint64_t> counts;
  };
  static Request read(const Napi::CallbackInfo& info) {
    Request r;
    r.q = read_batch(info, 0);
    if (!info[2].IsUndefined() && !info[2].IsNull()) {
      r.given = true;
      r.counts = integer_array(info.Env(), info[2], "counts");
      if (r.counts.size() != r.q.size()) invalid_argument(info.Env(), "scoreSpans takes one count per span");
    }
    r.score = read_trace_options(info.Env(), info[3]).options.score;
    return r;
  }
  static void check(const ti::Index& idx, const Request& r) { ti::check_queries(idx, r.q.view()); }
  static Part part(const ti::Shard& s, const Request& r, ti::CancelFlag* c) { return r.given ? Part() : ti::count_part(s, r.q.view(), c); }
  static Result merge(const ti::Index& idx, const Request& r, const std::vector<Part>& parts, ti::CancelFlag* c) {
    Result out;
    out.counts = r.given ? r.counts : ti::merge_counts(parts);
    const ti::Surprisal& h = idx.surprisal();
    for (size_t i = 0; i < r.q.size(); ++i) {
      if ((i & 1023) == 0) ti::check_cancel(c, "scoreSpans");
      out.scores.push_back(h.score(r.q.view().query(i), r.q.length(i), out.counts[i], r.score));
    }
    return out;
  }
  static Napi::Value to_js(Napi::Env env, const Result& r) {
    auto o = Napi::Object::New(env);
    scores_to_js(env, o, r.scores);
    o.Set("count", f64(env, r.counts));
    return o;
  }
};

// documents(numbers: Float64Array, maxTokens, countRecords: boolean, cancel?) -> {tokens, tokenOffsets, records,
// shards}; ERR_TOO_LARGE above maxTokens (records counted when countRecords: core/documents.hpp).
struct Documents {
  static constexpr const char* kName = "documents";
  static constexpr const char* kSyncName = "documentsSync";
  static constexpr size_t kCancelArg = 3;
  struct Request {
    std::vector<uint64_t> numbers;
    uint64_t max_tokens;
    bool count_records;
  };
  using Result = ti::DocumentBatch;
  static Request read(const Napi::CallbackInfo& info) {
    return {integer_array(info.Env(), info[0], "document numbers"), integer_arg(info, 1, "maxTokens", 0, kMaxSafeInteger),
            boolean_arg(info, 2, "countRecords")};
  }
  static Result work(const ti::Index& idx, const Request& r, ti::CancelFlag* c) {
    return ti::read_documents(idx, r.numbers, c, r.max_tokens, r.count_records);
  }
  static Napi::Value to_js(Napi::Env env, const Result& r) {
    auto o = Napi::Object::New(env);
    o.Set("tokens", u32(env, r.tokens));
    o.Set("tokenOffsets", f64(env, r.token_offsets));
    o.Set("records", strings(env, r.records));
    o.Set("shards", u32(env, r.shards));
    o.Set("costs", f64(env, r.costs));
    return o;
  }
};

// documentsByRank(shards: Uint32Array, ranks: Float64Array, maxDispLen, maxTokens, cancel?) -> {documents, lengths,
// needleOffsets: Float64Array, tokens: Uint32Array, tokenOffsets: Float64Array, records} (core/documents.hpp:
// ERR_TOO_LARGE when the windows and records cost more than maxTokens)
struct DocumentsByRank {
  static constexpr const char* kName = "documentsByRank";
  static constexpr const char* kSyncName = "documentsByRankSync";
  static constexpr size_t kCancelArg = 4;
  struct Request {
    std::vector<uint32_t> shards;
    std::vector<uint64_t> ranks;
    uint64_t max_disp, max_tokens;
  };
  using Result = ti::RankedDocuments;
  static Request read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Request r{copy_array(typed_array<uint32_t>(env, info[0], "shards")), integer_array(env, info[1], "ranks"),
              integer_arg(info, 2, "maxDispLen", 1, kMaxSafeInteger), integer_arg(info, 3, "maxTokens", 0, kMaxSafeInteger)};
    if (r.shards.size() != r.ranks.size()) invalid_argument(env, "documentsByRank takes one shard per rank");
    return r;
  }
  static Result work(const ti::Index& idx, const Request& r, ti::CancelFlag* c) {
    return ti::documents_by_rank(idx, r.shards, r.ranks, r.max_disp, c, r.max_tokens);
  }
  static Napi::Value to_js(Napi::Env env, const Result& r) {
    auto o = Napi::Object::New(env);
    o.Set("documents", f64(env, r.documents));
    o.Set("lengths", f64(env, r.lengths));
    o.Set("needleOffsets", f64(env, std::vector<double>(r.needle_offsets.begin(), r.needle_offsets.end())));
    o.Set("tokens", u32(env, r.tokens));
    o.Set("tokenOffsets", f64(env, r.token_offsets));
    o.Set("records", strings(env, r.records));
    return o;
  }
};

// advise(kind, cancel?) -> Promise<{files, bytes, advised, populated}>: kind 'willneed' warms every mapping
// (core Shard::warm: madvise WILLNEED, then every page faulted in), one pool task per shard. Async only.
struct Advise {
  static constexpr const char* kName = "advise";
  static constexpr size_t kCancelArg = 1;
  static constexpr bool kFanOut = true;
  struct Request {};
  using Part = ti::WarmStats;
  using Result = ti::WarmStats;
  static Request read(const Napi::CallbackInfo& info) {
    if (string_arg(info.Env(), info[0], "advice") != "willneed") invalid_argument(info.Env(), "advise takes 'willneed'");
    return {};
  }
  static void check(const ti::Index&, const Request&) {}
  static Part part(const ti::Shard& s, const Request&, ti::CancelFlag* c) { return s.warm(c); }
  static Result merge(const ti::Index&, const Request&, const std::vector<Part>& parts, ti::CancelFlag*) {
    ti::WarmStats st;
    for (const ti::WarmStats& p : parts) st += p;
    return st;
  }
  static Napi::Value to_js(Napi::Env env, const Result& r) {
    auto o = Napi::Object::New(env);
    o.Set("files", Napi::Number::New(env, static_cast<double>(r.files)));
    o.Set("bytes", Napi::Number::New(env, static_cast<double>(r.bytes)));
    o.Set("advised", Napi::Number::New(env, static_cast<double>(r.advised)));
    o.Set("populated", Napi::Number::New(env, static_cast<double>(r.populated)));
    return o;
  }
};

// findDocument(recordPrefix, cancel?) -> the first document whose record starts with the prefix, or -1
struct FindDocument {
  static constexpr const char* kName = "findDocument";
  static constexpr const char* kSyncName = "findDocumentSync";
  static constexpr size_t kCancelArg = 1;
  using Request = std::string;
  using Result = int64_t;
  static Request read(const Napi::CallbackInfo& info) { return string_arg(info.Env(), info[0], "recordPrefix"); }
  static Result work(const ti::Index& idx, const Request& prefix, ti::CancelFlag* c) { return ti::find_document(idx, prefix, c); }
  static Napi::Value to_js(Napi::Env env, Result r) { return Napi::Number::New(env, static_cast<double>(r)); }
};

// sampleSpans(lengths: Uint32Array, samples, seed, cancel?) -> {tokens, offsets, lengthIndex} (core/sampling.hpp)
struct SampleSpans {
  static constexpr const char* kName = "sampleSpans";
  static constexpr const char* kSyncName = "sampleSpansSync";
  static constexpr size_t kCancelArg = 3;
  struct Request {
    std::vector<uint32_t> lengths;
    uint64_t samples, seed;
  };
  using Result = ti::SampledSpans;
  static Request read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Request r{copy_array(typed_array<uint32_t>(env, info[0], "lengths")), integer_arg(info, 1, "samples", 0, ti::kMaxSamplesPerLength), 0};
    // Any safe integer, negative ones taken modulo 2^64 (as lib's BigInt seeding does).
    if (!info[2].IsNumber()) invalid_argument(env, "seed must be a number");
    const double s = info[2].As<Napi::Number>().DoubleValue();
    if (!(std::isfinite(s) && s == std::floor(s) && std::fabs(s) <= double(kMaxSafeInteger)))
      invalid_argument(env, "seed must be a safe integer");
    r.seed = static_cast<uint64_t>(static_cast<int64_t>(s));
    return r;
  }
  static Result work(const ti::Index& idx, const Request& r, ti::CancelFlag* c) { return ti::sample_spans(idx, r.lengths, r.samples, r.seed, c); }
  static Napi::Value to_js(Napi::Env env, const Result& r) {
    auto o = Napi::Object::New(env);
    o.Set("tokens", u32(env, r.tokens));
    o.Set("offsets", u32(env, r.offsets));
    o.Set("lengthIndex", u32(env, r.length_index));
    return o;
  }
};

// verify(cancel?, quick?) -> Promise<void>: content and suffix order of every shard (async only); quick: the
// structure, offsets, unigram sums and sampled suffix order (native/core/index.hpp, VerifyLevel).
struct Verify {
  static constexpr const char* kName = "verify";
  static constexpr size_t kCancelArg = 0;
  struct Request {
    bool quick = false;
  };
  struct Result {};
  static Request read(const Napi::CallbackInfo& info) {
    if (!info[1].IsUndefined() && !info[1].IsBoolean()) invalid_argument(info.Env(), "verify's quick flag is a boolean");
    return {info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value()};
  }
  static Result work(const ti::Index& idx, const Request& r, ti::CancelFlag* c) {
    idx.verify(r.quick ? ti::VerifyLevel::Quick : ti::VerifyLevel::Full, c);
    return {};
  }
  static Napi::Value to_js(Napi::Env env, const Result&) { return env.Undefined(); }
};

// ---- NativeIndex ------------------------------------------------------------------------------------

class NativeIndex : public Napi::ObjectWrap<NativeIndex> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeIndex", {
      StaticMethod<&entry<&NativeIndex::Open>>("open"),
      InstanceMethod<&NativeIndex::Async<Count>>(Count::kName),
      InstanceMethod<&NativeIndex::Sync<Count>>(Count::kSyncName),
      InstanceMethod<&NativeIndex::Async<Locate>>(Locate::kName),
      InstanceMethod<&NativeIndex::Sync<Locate>>(Locate::kSyncName),
      InstanceMethod<&NativeIndex::Async<SuffixRanges>>(SuffixRanges::kName),
      InstanceMethod<&NativeIndex::Sync<SuffixRanges>>(SuffixRanges::kSyncName),
      InstanceMethod<&NativeIndex::Async<DocumentsByRank>>(DocumentsByRank::kName),
      InstanceMethod<&NativeIndex::Sync<DocumentsByRank>>(DocumentsByRank::kSyncName),
      InstanceMethod<&NativeIndex::Async<Advise>>(Advise::kName),
      InstanceMethod<&NativeIndex::Async<Longest>>(Longest::kName),
      InstanceMethod<&NativeIndex::Sync<Longest>>(Longest::kSyncName),
      InstanceMethod<&NativeIndex::Async<Next>>(Next::kName),
      InstanceMethod<&NativeIndex::Sync<Next>>(Next::kSyncName),
      InstanceMethod<&NativeIndex::Async<Trace>>(Trace::kName),
      InstanceMethod<&NativeIndex::Sync<Trace>>(Trace::kSyncName),
      InstanceMethod<&NativeIndex::Async<ScoreSpans>>(ScoreSpans::kName),
      InstanceMethod<&NativeIndex::Sync<ScoreSpans>>(ScoreSpans::kSyncName),
      InstanceMethod<&NativeIndex::Async<Documents>>(Documents::kName),
      InstanceMethod<&NativeIndex::Sync<Documents>>(Documents::kSyncName),
      InstanceMethod<&NativeIndex::Async<FindDocument>>(FindDocument::kName),
      InstanceMethod<&NativeIndex::Sync<FindDocument>>(FindDocument::kSyncName),
      InstanceMethod<&NativeIndex::Async<SampleSpans>>(SampleSpans::kName),
      InstanceMethod<&NativeIndex::Sync<SampleSpans>>(SampleSpans::kSyncName),
      InstanceMethod<&NativeIndex::Async<Verify>>(Verify::kName),
      InstanceMethod<&NativeIndex::Guarded<&NativeIndex::Unigram>>("unigram"),
      InstanceMethod<&NativeIndex::Guarded<&NativeIndex::Shape>>("shape"),
      InstanceMethod<&NativeIndex::Guarded<&NativeIndex::MatchState>>("matchState"),
      InstanceMethod<&NativeIndex::Guarded<&NativeIndex::SetTokenBytes>>("setTokenBytes"),
      InstanceMethod<&NativeIndex::Guarded<&NativeIndex::Close>>("close"),
    });
  }

  // Only open() constructs one: it hands over the opened core through the addon data.
  NativeIndex(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeIndex>(info) {
    guarded(info.Env(), [&] {
      AddonData& data = addon_data(info.Env());
      if (!data.next_index) invalid_argument(info.Env(), "use NativeIndex.open()");
      core_ = std::move(data.next_index);
      data.next_index.reset();
      return 0;
    });
  }

 private:
  template <class M>
  Napi::Value Async(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&] { return run_async<M>(info.Env(), core(info.Env()), info); });
  }
  template <class M>
  Napi::Value Sync(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&] { return run_sync<M>(info.Env(), *core(info.Env()), info); });
  }
  template <Napi::Value (NativeIndex::*F)(const Napi::CallbackInfo&)>
  Napi::Value Guarded(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&] { return (this->*F)(info); });
  }

  std::shared_ptr<const ti::Index> core(Napi::Env env) const {
    if (!core_) throw_js(env, ti::codes::kClosed, "the index is closed");
    return core_;
  }

  // open([{dir, tokenWidth, tokens, documents, vocabSize, samples?, format?, suffix?}]) -> Promise<NativeIndex>. For
  // format "infini-gram" only dir, suffix, tokenWidth and (optional, 0 = derive) vocabSize are read.
  static Napi::Value Open(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsArray()) invalid_argument(env, "open() takes an array of shard specs");
    auto arr = info[0].As<Napi::Array>();
    std::vector<ti::ShardSpec> specs;
    for (uint32_t i = 0; i < arr.Length(); ++i) {
      const std::string name = "shard spec " + std::to_string(i);
      Napi::Object s = object_arg(env, arr.Get(i), name);
      ti::ShardSpec spec;
      spec.dir = string_arg(env, s.Get("dir"), name + ".dir");
      spec.shape.token_width = static_cast<int>(integer_option(env, s, "tokenWidth", 0, 8, 0));
      spec.shape.tokens = integer_option(env, s, "tokens", 0, kMaxSafeInteger, 0);
      spec.shape.documents = integer_option(env, s, "documents", 0, kMaxSafeInteger, 0);
      spec.shape.vocab_size = integer_option(env, s, "vocabSize", 0, kMaxSafeInteger, 0);
      Napi::Value format = s.Get("format"), suffix = s.Get("suffix"), samples = s.Get("samples");
      if (!samples.IsUndefined()) {
        if (!samples.IsBoolean()) invalid_argument(env, name + ".samples must be a boolean");
        spec.shape.samples = samples.As<Napi::Boolean>().Value();
      }
      if (!format.IsUndefined()) spec.format = string_arg(env, format, name + ".format");
      if (!suffix.IsUndefined()) spec.suffix = string_arg(env, suffix, name + ".suffix");
      specs.push_back(std::move(spec));
    }
    auto opened = std::make_shared<std::shared_ptr<const ti::Index>>();
    return Job::Start(
        env, [specs, opened] { *opened = std::make_shared<const ti::Index>(specs); },
        [opened](Napi::Env env) -> Napi::Value {
          AddonData& data = addon_data(env);
          data.next_index = *opened;
          struct Clear { AddonData& d; ~Clear() { d.next_index.reset(); } } clear{data};
          return data.index_ctor.New({});
        });
  }

  Napi::Value Unigram(const Napi::CallbackInfo& info) { return f64(info.Env(), core(info.Env())->unigram_counts()); }

  // shape() -> {format, tokenWidth, vocabSize, documents, tokens, shards: [{documents, tokens, ranks}]}: what the
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
      s.Set("ranks", Napi::Number::New(env, static_cast<double>(idx->shard(i).rank_count())));
      shards.Set(static_cast<uint32_t>(i), s);
    }
    o.Set("shards", shards);
    return o;
  }

  // matchState(window?) -> NativeMatchState (window 0 or undefined: unbounded)
  Napi::Value MatchState(const Napi::CallbackInfo& info) {
    auto idx = core(info.Env());
    const uint32_t window = info[0].IsUndefined() ? 0 : static_cast<uint32_t>(integer_arg(info, 0, "window", 0, UINT32_MAX));
    return wrap_match_state(info.Env(), std::make_unique<ti::MatchState>(idx, window));
  }

  // setTokenBytes(bytes: Uint32Array, first: Uint32Array): the tokenizer's byte lengths (core TokenBytes), once.
  Napi::Value SetTokenBytes(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto idx = core(env);
    if (idx->token_bytes()) invalid_argument(env, "setTokenBytes: the index has its table already");
    auto table = std::make_shared<ti::TokenBytes>();
    table->bytes = copy_array(typed_array<uint32_t>(env, info[0], "bytes"));
    table->first = copy_array(typed_array<uint32_t>(env, info[1], "first"));
    if (table->bytes.size() != table->first.size()) invalid_argument(env, "setTokenBytes: bytes and first differ in length");
    // A traceindex index's vocabulary is its tokenizer's: ids past a shorter table would add 0 bytes (wrong offsets,
    // silently). An infini-gram index's may be larger than its tokenizer's, whose table covers the ids text has.
    if (table->bytes.size() < idx->vocab_size() && idx->shard_count() > 0 && std::string(idx->shard(0).format()) == "traceindex")
      invalid_argument(env, "setTokenBytes: the table has " + std::to_string(table->bytes.size()) +
                                " entries, fewer than the vocabulary's " + std::to_string(idx->vocab_size()));
    idx->set_token_bytes(std::move(table));
    return env.Undefined();
  }

  // Pending work holds its own reference; the mappings go when the last one finishes.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    core_.reset();
    return info.Env().Undefined();
  }

  std::shared_ptr<const ti::Index> core_;
};

}  // namespace

void export_index(Napi::Env env, Napi::Object exports, AddonData& data) {
  Napi::Function ctor = NativeIndex::Define(env);
  data.index_ctor = Napi::Persistent(ctor);
  exports.Set("NativeIndex", ctor);
}

}  // namespace binding
