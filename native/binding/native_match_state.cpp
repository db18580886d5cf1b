// MatchState for JS: a generation-time handle (push tokens, ask for the longest matching suffix) and
// scoreContinuations, Prov-Decode's per-step check of every beam's candidates. Both are synchronous: a push
// or a step costs microseconds to a millisecond, well under an async round trip.
#include <napi.h>

#include <cmath>
#include <memory>
#include <vector>

#include "addon_data.hpp"
#include "args.hpp"
#include "errors.hpp"
#include "match_state.hpp"

namespace binding {
namespace {

class NativeMatchState : public Napi::ObjectWrap<NativeMatchState> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeMatchState", {
      InstanceMethod<&NativeMatchState::Guarded<&NativeMatchState::Push>>("push"),
      InstanceMethod<&NativeMatchState::Guarded<&NativeMatchState::Longest>>("longest"),
      InstanceMethod<&NativeMatchState::Guarded<&NativeMatchState::Peek>>("peek"),
      InstanceMethod<&NativeMatchState::Guarded<&NativeMatchState::Fork>>("fork"),
      InstanceAccessor<&NativeMatchState::Guarded<&NativeMatchState::Pushed>>("pushed"),
    });
  }

  // Only wrap_match_state constructs one: it hands over the state through the addon data.
  NativeMatchState(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeMatchState>(info) {
    guarded(info.Env(), [&] {
      AddonData& data = addon_data(info.Env());
      if (!data.next_match_state) invalid_argument(info.Env(), "use index.matchState()");
      state_ = std::move(data.next_match_state);
      return 0;
    });
  }

  const ti::MatchState& state() const { return *state_; }

 private:
  template <Napi::Value (NativeMatchState::*F)(const Napi::CallbackInfo&)>
  Napi::Value Guarded(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&] { return (this->*F)(info); });
  }

  static Napi::Object ToJs(Napi::Env env, const ti::SuffixMatch& m) {
    auto o = Napi::Object::New(env);
    o.Set("length", Napi::Number::New(env, m.length));
    o.Set("count", Napi::Number::New(env, static_cast<double>(m.count)));
    o.Set("bci", Napi::Number::New(env, m.bci));
    return o;
  }

  static uint32_t token_arg(const Napi::CallbackInfo& info, size_t i) {
    if (!info[i].IsNumber()) invalid_argument(info.Env(), "a token id is a number");
    double v = info[i].As<Napi::Number>().DoubleValue();
    if (!(v >= 0 && v <= double(UINT32_MAX) && v == std::floor(v)))
      throw_js(info.Env(), ti::codes::kTokenRange, "token " + std::to_string(v) + " is not a token id");
    return static_cast<uint32_t>(v);
  }

  // push(token) or push(Uint32Array) -> longest()
  Napi::Value Push(const Napi::CallbackInfo& info) {
    if (info[0].IsTypedArray()) {
      for (uint32_t t : copy_array(typed_array<uint32_t>(info.Env(), info[0], "tokens"))) state_->push(t);
    } else {
      state_->push(token_arg(info, 0));
    }
    return ToJs(info.Env(), state_->longest());
  }
  Napi::Value Longest(const Napi::CallbackInfo& info) { return ToJs(info.Env(), state_->longest()); }
  Napi::Value Peek(const Napi::CallbackInfo& info) { return ToJs(info.Env(), state_->peek(token_arg(info, 0))); }
  Napi::Value Fork(const Napi::CallbackInfo& info) { return wrap_match_state(info.Env(), std::make_unique<ti::MatchState>(*state_)); }
  Napi::Value Pushed(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(state_->pushed())); }

  std::unique_ptr<ti::MatchState> state_;
};

// o[key] as a number (undefined or null: `fallback`); `count`: a non-negative integer or +Infinity. NaN, which
// would silently disable the veto, is refused.
double number_or(Napi::Env env, const Napi::Object& o, const char* key, double fallback, bool count) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  const double x = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (std::isnan(x)) invalid_argument(env, std::string(key) + " must be a number");
  if (count && !(x >= 0 && (x == std::floor(x) || x == INFINITY))) invalid_argument(env, std::string(key) + " must be a non-negative integer");
  return x;
}

// scoreContinuations(states: NativeMatchState[], candidates: Uint32Array (B × k, row-major), k,
//                    {tau, maxCount, minLength, logBase}) -> {risk: Float32Array, veto: Uint8Array,
//                    length: Uint32Array, count: Float64Array}
// risk[b·k + j] = BCI of the longest corpus-matching suffix that candidate j would complete on beam b
// (the SA interval of the beam's window extended by one token, not a search per vocabulary entry);
// veto when that suffix has at least minLength tokens, BCI > tau and occurs at most maxCount times.
Napi::Value ScoreContinuations(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) invalid_argument(env, "scoreContinuations(states[], candidates: Uint32Array, k, options)");
  auto arr = info[0].As<Napi::Array>();
  auto cand = typed_array<uint32_t>(env, info[1], "candidates");
  const size_t B = arr.Length(), k = integer_arg(info, 2, "k", 0, UINT32_MAX);
  if (cand.ElementLength() != B * k) invalid_argument(env, "candidates must hold states.length × k ids");
  double tau = INFINITY, max_count = INFINITY, min_length = 1, log_base = 0;
  if (!info[3].IsUndefined() && !info[3].IsNull()) {
    Napi::Object o = object_arg(env, info[3], "options");
    tau = number_or(env, o, "tau", tau, false);
    max_count = number_or(env, o, "maxCount", max_count, true);
    min_length = number_or(env, o, "minLength", min_length, true);
    log_base = log_base_option(env, o);
  }
  const double scale = log_base > 0 ? std::log(log_base) : 1.0;
  Napi::Function ctor = addon_data(env).match_state_ctor.Value();
  std::vector<const ti::MatchState*> states(B);
  for (uint32_t b = 0; b < B; ++b) {
    Napi::Value v = arr.Get(b);
    if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(ctor)) invalid_argument(env, "states must be match states");
    states[b] = &NativeMatchState::Unwrap(v.As<Napi::Object>())->state();
  }
  const std::vector<uint32_t> c = copy_array(cand);
  auto risk = Napi::Float32Array::New(env, B * k);
  auto veto = Napi::Uint8Array::New(env, B * k);
  auto length = Napi::Uint32Array::New(env, B * k);
  auto count = Napi::Float64Array::New(env, B * k);
  for (size_t b = 0; b < B; ++b)
    for (size_t j = 0; j < k; ++j) {
      const size_t i = b * k + j;
      ti::SuffixMatch m = states[b]->peek(c[i]);
      const double bci = m.bci / scale;
      risk[i] = static_cast<float>(bci);
      length[i] = m.length;
      count[i] = static_cast<double>(m.count);
      veto[i] = m.length >= min_length && m.length > 0 && bci > tau && double(m.count) <= max_count;
    }
  auto o = Napi::Object::New(env);
  o.Set("risk", risk);
  o.Set("veto", veto);
  o.Set("length", length);
  o.Set("count", count);
  return o;
}

}  // namespace

Napi::Object wrap_match_state(Napi::Env env, std::unique_ptr<ti::MatchState> state) {
  AddonData& data = addon_data(env);
  data.next_match_state = std::move(state);
  struct Clear { AddonData& d; ~Clear() { d.next_match_state.reset(); } } clear{data};
  return data.match_state_ctor.New({});
}

void export_match_state(Napi::Env env, Napi::Object exports, AddonData& data) {
  data.match_state_ctor = Napi::Persistent(NativeMatchState::Define(env));
  exports.Set("scoreContinuations", Napi::Function::New<entry<ScoreContinuations>>(env, "scoreContinuations"));
}

}  // namespace binding
