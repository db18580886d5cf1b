// MatchState for JS: a generation-time handle (push tokens, ask for the longest matching suffix) and
// scoreContinuations, Prov-Decode's per-step check of every beam's candidates. Both are synchronous: a push
// or a step costs microseconds to a millisecond, well under an async round trip.
#pragma once
#include "common.hpp"
#include "match_state.hpp"

namespace binding {

struct AddonData {
  Napi::FunctionReference index_ctor;
  Napi::FunctionReference match_state_ctor;
};

class NativeMatchState : public Napi::ObjectWrap<NativeMatchState> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeMatchState", {
      InstanceMethod<&NativeMatchState::Push>("push"),
      InstanceMethod<&NativeMatchState::Longest>("longest"),
      InstanceMethod<&NativeMatchState::Peek>("peek"),
      InstanceMethod<&NativeMatchState::Fork>("fork"),
      InstanceAccessor<&NativeMatchState::Pushed>("pushed"),
    });
  }

  // Wraps a heap MatchState (ownership passes to the new object).
  static Napi::Object Wrap(Napi::Env env, ti::MatchState* state) {
    auto ext = Napi::External<ti::MatchState>::New(env, state);
    return env.GetInstanceData<AddonData>()->match_state_ctor.New({ext});
  }

  NativeMatchState(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeMatchState>(info) {
    if (info.Length() != 1 || !info[0].IsExternal())
      throw_js(info.Env(), ti::codes::kInvalidArgument, "use index.matchState()");
    state_.reset(info[0].As<Napi::External<ti::MatchState>>().Data());
  }

  const ti::MatchState& state() const { return *state_; }

 private:
  static Napi::Object ToJs(Napi::Env env, const ti::SuffixMatch& m) {
    auto o = Napi::Object::New(env);
    o.Set("length", Napi::Number::New(env, m.length));
    o.Set("count", Napi::Number::New(env, static_cast<double>(m.count)));
    o.Set("bci", Napi::Number::New(env, m.bci));
    return o;
  }

  static uint32_t token_arg(const Napi::CallbackInfo& info, size_t i) {
    if (!info[i].IsNumber()) throw_js(info.Env(), ti::codes::kInvalidArgument, "a token id is a number");
    double v = info[i].As<Napi::Number>().DoubleValue();
    if (!(v >= 0) || v != static_cast<double>(static_cast<uint32_t>(v)))
      throw_js(info.Env(), ti::codes::kTokenRange, "token " + std::to_string(v) + " is not a token id");
    return static_cast<uint32_t>(v);
  }

  // push(token) or push(Uint32Array) -> longest()
  Napi::Value Push(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info[0].IsTypedArray() && info[0].As<Napi::TypedArray>().TypedArrayType() == napi_uint32_array) {
      auto a = info[0].As<Napi::Uint32Array>();
      guarded(env, [&] { for (size_t i = 0; i < a.ElementLength(); ++i) state_->push(a[i]); return 0; });
    } else {
      uint32_t t = token_arg(info, 0);
      guarded(env, [&] { state_->push(t); return 0; });
    }
    return ToJs(env, state_->longest());
  }
  Napi::Value Longest(const Napi::CallbackInfo& info) { return ToJs(info.Env(), state_->longest()); }
  Napi::Value Peek(const Napi::CallbackInfo& info) {
    uint32_t t = token_arg(info, 0);
    return ToJs(info.Env(), guarded(info.Env(), [&] { return state_->peek(t); }));
  }
  Napi::Value Fork(const Napi::CallbackInfo& info) { return Wrap(info.Env(), new ti::MatchState(*state_)); }
  Napi::Value Pushed(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(state_->pushed()));
  }

  std::unique_ptr<ti::MatchState> state_;
};

// scoreContinuations(states: NativeMatchState[], candidates: Uint32Array (B × k, row-major), k,
//                    {tau, maxCount, minLength, logBase}) -> {risk: Float32Array, veto: Uint8Array,
//                    length: Uint32Array, count: Float64Array}
// risk[b·k + j] = BCI of the longest corpus-matching suffix that candidate j would complete on beam b
// (the SA interval of the beam's window extended by one token, not a search per vocabulary entry);
// veto when that suffix has at least minLength tokens, BCI > tau and occurs at most maxCount times.
inline Napi::Value ScoreContinuations(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray() || !info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
    throw_js(env, ti::codes::kInvalidArgument, "scoreContinuations(states[], candidates: Uint32Array, k, options)");
  auto arr = info[0].As<Napi::Array>();
  auto cand = info[1].As<Napi::Uint32Array>();
  const size_t B = arr.Length(), k = info[2].As<Napi::Number>().Uint32Value();
  if (cand.ElementLength() != B * k) throw_js(env, ti::codes::kInvalidArgument, "candidates must hold states.length × k ids");
  double tau = INFINITY, max_count = INFINITY, min_length = 1, log_base = 0;
  if (info[3].IsObject()) {
    auto o = info[3].As<Napi::Object>();
    if (o.Get("tau").IsNumber()) tau = o.Get("tau").As<Napi::Number>().DoubleValue();
    if (o.Get("maxCount").IsNumber()) max_count = o.Get("maxCount").As<Napi::Number>().DoubleValue();
    if (o.Get("minLength").IsNumber()) min_length = o.Get("minLength").As<Napi::Number>().DoubleValue();
    if (o.Get("logBase").IsNumber()) log_base = o.Get("logBase").As<Napi::Number>().DoubleValue();
  }
  const double scale = log_base > 0 ? std::log(log_base) : 1.0;
  std::vector<const ti::MatchState*> states(B);
  for (uint32_t b = 0; b < B; ++b) {
    Napi::Value v = arr.Get(b);
    if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(env.GetInstanceData<AddonData>()->match_state_ctor.Value()))
      throw_js(env, ti::codes::kInvalidArgument, "states must be match states");
    states[b] = &NativeMatchState::Unwrap(v.As<Napi::Object>())->state();
  }
  auto risk = Napi::Float32Array::New(env, B * k);
  auto veto = Napi::Uint8Array::New(env, B * k);
  auto length = Napi::Uint32Array::New(env, B * k);
  auto count = Napi::Float64Array::New(env, B * k);
  guarded(env, [&] {
    for (size_t b = 0; b < B; ++b)
      for (size_t j = 0; j < k; ++j) {
        ti::SuffixMatch m = states[b]->peek(cand[b * k + j]);
        const double bci = m.bci / scale;
        const size_t i = b * k + j;
        risk[i] = static_cast<float>(bci);
        length[i] = m.length;
        count[i] = static_cast<double>(m.count);
        veto[i] = m.length >= min_length && m.length > 0 && bci > tau && double(m.count) <= max_count;
      }
    return 0;
  });
  auto o = Napi::Object::New(env);
  o.Set("risk", risk);
  o.Set("veto", veto);
  o.Set("length", length);
  o.Set("count", count);
  return o;
}

}  // namespace binding
