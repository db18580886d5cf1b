// File-system helpers of the build's commit: the atomic directory swap and fsync of a path (synchronous); and the
// process's registry of target locks.
#include <napi.h>

#include <algorithm>
#include <mutex>
#include <set>

#include "addon_data.hpp"
#include "args.hpp"
#include "errors.hpp"
#include "shard_writer.hpp"

namespace binding {
namespace {

// Target locks (lib/build/workdir.ts lockTarget) held in this process, by token. A lock file names a process
// and a token; one of this process is live while the environment that took it is: a worker terminated
// mid-build never runs its release, and its environment's teardown (~AddonData) drops its tokens.
std::mutex lock_mutex;
std::set<std::string>& live_locks() {
  static auto* live = new std::set<std::string>();  // never destroyed: environments may tear down after exit
  return *live;
}

// holdLock(token): this environment holds it until releaseLock(token) or its teardown.
Napi::Value HoldLock(const Napi::CallbackInfo& info) {
  std::string token = string_arg(info.Env(), info[0], "token");
  std::lock_guard<std::mutex> g(lock_mutex);
  if (live_locks().insert(token).second) addon_data(info.Env()).locks.push_back(token);
  return info.Env().Undefined();
}

Napi::Value ReleaseLock(const Napi::CallbackInfo& info) {
  std::string token = string_arg(info.Env(), info[0], "token");
  std::lock_guard<std::mutex> g(lock_mutex);
  auto& mine = addon_data(info.Env()).locks;
  if (auto it = std::find(mine.begin(), mine.end(), token); it != mine.end()) {
    mine.erase(it);
    live_locks().erase(token);
  }
  return info.Env().Undefined();
}

// lockHeld(token) -> whether an environment of this process holds it
Napi::Value LockHeld(const Napi::CallbackInfo& info) {
  std::string token = string_arg(info.Env(), info[0], "token");
  std::lock_guard<std::mutex> g(lock_mutex);
  return Napi::Boolean::New(info.Env(), live_locks().count(token) > 0);
}

// exchangeOrRename(from, to) -> true if the two were exchanged (the old `to` is now at `from`)
Napi::Value ExchangeOrRename(const Napi::CallbackInfo& info) {
  std::string from = string_arg(info.Env(), info[0], "from"), to = string_arg(info.Env(), info[1], "to");
  return Napi::Boolean::New(info.Env(), ti::exchange_or_rename(from, to));
}

// fsyncPath(path)
Napi::Value FsyncPath(const Napi::CallbackInfo& info) {
  ti::fsync_path(string_arg(info.Env(), info[0], "path"));
  return info.Env().Undefined();
}

}  // namespace

AddonData::~AddonData() {
  std::lock_guard<std::mutex> g(lock_mutex);
  for (const std::string& t : locks) live_locks().erase(t);
}

void export_fs(Napi::Env env, Napi::Object exports) {
  exports.Set("holdLock", Napi::Function::New<entry<HoldLock>>(env, "holdLock"));
  exports.Set("releaseLock", Napi::Function::New<entry<ReleaseLock>>(env, "releaseLock"));
  exports.Set("lockHeld", Napi::Function::New<entry<LockHeld>>(env, "lockHeld"));
  exports.Set("exchangeOrRename", Napi::Function::New<entry<ExchangeOrRename>>(env, "exchangeOrRename"));
  exports.Set("fsyncPath", Napi::Function::New<entry<FsyncPath>>(env, "fsyncPath"));
}

}  // namespace binding
