// Per-environment state of the addon (each worker thread loads its own): the classes' constructors, and the
// core object handed to the next constructor call, so that JS cannot construct either class itself.
#pragma once
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "index.hpp"
#include "match_state.hpp"

namespace binding {

namespace ti = traceindex;

struct AddonData {
  Napi::FunctionReference index_ctor;
  Napi::FunctionReference match_state_ctor;
  std::shared_ptr<const ti::Index> next_index;
  std::unique_ptr<ti::MatchState> next_match_state;
  std::vector<std::string> locks;  // target-lock tokens this environment holds (fs.cpp), dropped with it
  ~AddonData();
};

inline AddonData& addon_data(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

// What each source file adds to the exports (addon.cpp's Init calls them in turn).
void export_index(Napi::Env env, Napi::Object exports, AddonData& data);        // index_queries.cpp
void export_match_state(Napi::Env env, Napi::Object exports, AddonData& data);  // native_match_state.cpp
void export_build(Napi::Env env, Napi::Object exports);                         // build.cpp
void export_fs(Napi::Env env, Napi::Object exports);                            // fs.cpp
void export_inputs(Napi::Env env, Napi::Object exports);                        // inputs.cpp
void export_simd(Napi::Env env, Napi::Object exports);                          // simd.cpp
void export_tokenizers(Napi::Env env, Napi::Object exports);                    // tokenizers.cpp

// A new NativeMatchState owning `state` (native_match_state.cpp).
Napi::Object wrap_match_state(Napi::Env env, std::unique_ptr<ti::MatchState> state);

}  // namespace binding
