// N-API binding: a thin layer over the core (native/core), one source file per concept:
//   index_queries.cpp       NativeIndex: open, the queries (async on libuv's pool and Sync), documents, verify
//   native_match_state.cpp  NativeMatchState and scoreContinuations (generation-time checks)
//   build.cpp               buildShard, upgradeShard, checksumFile
//   fs.cpp                  exchangeOrRename, fsyncPath
//   simd.cpp                simdKernels, selectSimd
//   tokenizers.cpp          native tokenizers: load a vocabulary, encode texts (async on the pool and Sync)
// with errors.* (core exceptions -> JS errors with codes), args.* (defensive argument reading), job.* (promise
// work on the pool), query_method.hpp (a query's async and Sync forms from one description), arrays.hpp and
// occurrences.hpp (results as JS values). The JS-facing wrapper is lib/native.ts.
#include <napi.h>

#include "addon_data.hpp"
#include "errors.hpp"
#include "occurrences.hpp"
#include "shard_format.hpp"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  return binding::guarded(env, [&] {
    auto* data = new binding::AddonData();  // per env: worker threads load their own
    env.SetInstanceData(data);
    binding::export_index(env, exports, *data);
    binding::export_match_state(env, exports, *data);
    binding::export_build(env, exports);
    binding::export_fs(env, exports);
    binding::export_inputs(env, exports);
    binding::export_simd(env, exports);
    binding::export_tokenizers(env, exports);
    exports.Set("formatVersion", Napi::Number::New(env, traceindex::kFormatVersion));
    // The snippet budget's constants (occurrences.hpp), so lib/ (the server's pre-checks) does not restate them.
    Napi::Object budget = Napi::Object::New(env);
    budget.Set("occurrenceCost", Napi::Number::New(env, double(binding::kOccurrenceCost)));
    budget.Set("maxTokens", Napi::Number::New(env, double(binding::kMaxSnippetTokens)));
    exports.Set("snippetBudget", budget);
    return exports;
  });
}

}  // namespace

NODE_API_MODULE(traceindex, Init)
