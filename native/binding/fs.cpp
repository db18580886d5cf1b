// File-system helpers of the build's commit: the atomic directory swap and fsync of a path (synchronous).
#include <napi.h>

#include "addon_data.hpp"
#include "args.hpp"
#include "errors.hpp"
#include "shard_writer.hpp"

namespace binding {
namespace {

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

void export_fs(Napi::Env env, Napi::Object exports) {
  exports.Set("exchangeOrRename", Napi::Function::New<entry<ExchangeOrRename>>(env, "exchangeOrRename"));
  exports.Set("fsyncPath", Napi::Function::New<entry<FsyncPath>>(env, "fsyncPath"));
}

}  // namespace binding
