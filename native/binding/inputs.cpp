// Decoding of the build's compressed inputs: ZstdDecoder over the core's ZstdStream. Synchronous on the JS
// thread, as the reader hands it one slice of a file at a time (lib/inputs/streams.ts).
#include <napi.h>

#include <memory>
#include <vector>

#include "addon_data.hpp"
#include "args.hpp"
#include "errors.hpp"
#include "zstd_stream.hpp"

namespace binding {
namespace {

class ZstdDecoder : public Napi::ObjectWrap<ZstdDecoder> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "ZstdDecoder", {
      InstanceMethod<&ZstdDecoder::Push>("push"),
      InstanceMethod<&ZstdDecoder::End>("end"),
      InstanceMethod<&ZstdDecoder::Close>("close"),
    });
  }

  ZstdDecoder(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ZstdDecoder>(info) {
    guarded(info.Env(), [&] {
      stream_ = std::make_unique<ti::ZstdStream>();
      return 0;
    });
  }

 private:
  // push(chunk: Uint8Array) -> Buffer: what the chunk decodes to (possibly empty). ERR_BAD_INPUT for corrupt data;
  // what the chunk decoded before the damage is returned first and the error thrown by the next call.
  Napi::Value Push(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      Napi::Env env = info.Env();
      rethrow_deferred();
      open_stream();
      auto chunk = typed_array<uint8_t>(env, info[0], "chunk");
      std::vector<uint8_t> out;
      try {
        stream_->decode(chunk.Data(), chunk.ElementLength(), &out);
      } catch (const ti::Error& e) {
        if (out.empty()) throw;
        deferred_ = std::make_unique<ti::Error>(e);
      }
      return Napi::Buffer<uint8_t>::Copy(env, out.data(), out.size());
    });
  }
  // end(): ERR_BAD_INPUT when the last frame is not complete. Frees the decoder either way.
  Napi::Value End(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      rethrow_deferred();
      open_stream();
      std::unique_ptr<ti::ZstdStream> s = std::move(stream_);
      s->finish();
      return info.Env().Undefined();
    });
  }
  // close(): frees the decoder (its window: up to 32 MiB that V8 does not see, so a reader that stops early must
  // not leave it to the collector); idempotent. A later push or end is ERR_INVALID_ARGUMENT.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    stream_.reset();
    return info.Env().Undefined();
  }

  void rethrow_deferred() {
    if (deferred_) throw ti::Error(*deferred_);
  }
  void open_stream() const {
    if (!stream_) throw ti::Error(ti::codes::kInvalidArgument, "the zstd decoder is closed");
  }

  std::unique_ptr<ti::ZstdStream> stream_;  // null once ended or closed
  std::unique_ptr<ti::Error> deferred_;
};

}  // namespace

void export_inputs(Napi::Env env, Napi::Object exports) { exports.Set("ZstdDecoder", ZstdDecoder::Define(env)); }

}  // namespace binding
