// Decoding of the build's compressed inputs: ZstdDecoder over the core's ZstdStream, on libuv's thread pool so the
// JS thread parses what one call decoded while the next decodes (lib/inputs/streams.ts keeps one call ahead).
#include <napi.h>

#include <exception>
#include <memory>
#include <vector>

#include "addon_data.hpp"
#include "args.hpp"
#include "errors.hpp"
#include "job.hpp"
#include "zstd_stream.hpp"

namespace binding {
namespace {

// What the JS object and its decode in flight share: the stream lives until both have let it go, so close() during
// a decode frees the window when that decode ends, not under it.
struct Decoding {
  std::unique_ptr<ti::ZstdStream> stream;
  std::unique_ptr<ti::Error> deferred;  // damage found after some output: thrown by the next call
  bool busy = false;                    // a decode's promise has not settled (JS thread only)
};

class ZstdDecoder : public Napi::ObjectWrap<ZstdDecoder> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "ZstdDecoder", {
      InstanceMethod<&ZstdDecoder::Decode>("decode"),
      InstanceMethod<&ZstdDecoder::End>("end"),
      InstanceMethod<&ZstdDecoder::Close>("close"),
    });
  }

  ZstdDecoder(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ZstdDecoder>(info) {
    guarded(info.Env(), [&] {
      d_ = std::make_shared<Decoding>();
      d_->stream = std::make_unique<ti::ZstdStream>();
      return 0;
    });
  }

 private:
  // decode(chunk: Uint8Array, limit: number) -> Promise<{ output: Buffer, consumed: number, more: boolean }>: decodes
  // the chunk (copied) until it is read or `limit` bytes are out; `consumed` bytes of it were read, `more`: call
  // again (with the rest, or an empty chunk) for output the decoder still holds. ERR_BAD_INPUT for corrupt data: what
  // the call decoded before the damage resolves, and the next call throws. Closed, or a decode under way: throws
  // ERR_INVALID_ARGUMENT.
  Napi::Value Decode(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      Napi::Env env = info.Env();
      ready();
      auto chunk = typed_array<uint8_t>(env, info[0], "chunk");
      const size_t limit = integer_arg(info, 1, "limit", 1, uint64_t(1) << 40);
      struct Result {
        std::vector<uint8_t> input, output;
        ti::ZstdStream::Step step{0, false};
        std::exception_ptr failure;
      };
      auto r = std::make_shared<Result>();
      r->input = copy_array(chunk);
      std::shared_ptr<Decoding> d = d_;
      d->busy = true;
      // The work never throws: the call is over for JS (busy cleared) when its promise settles, failed or not.
      return Job::Start(env, [d, r, limit] {
        try {
          r->step = d->stream->decode(r->input.data(), r->input.size(), &r->output, limit);
        } catch (const ti::Error& e) {
          if (r->output.empty()) r->failure = std::current_exception();
          else d->deferred = std::make_unique<ti::Error>(e);
          r->step = {r->input.size(), false};
        } catch (...) {
          r->failure = std::current_exception();
        }
      }, [d, r](Napi::Env env) -> Napi::Value {
        d->busy = false;
        if (r->failure) std::rethrow_exception(r->failure);
        Napi::Object o = Napi::Object::New(env);
        o.Set("output", Napi::Buffer<uint8_t>::Copy(env, r->output.data(), r->output.size()));
        o.Set("consumed", Napi::Number::New(env, static_cast<double>(r->step.consumed)));
        o.Set("more", Napi::Boolean::New(env, r->step.more));
        return o;
      });
    });
  }
  // end(): ERR_BAD_INPUT when the last frame is not complete. Frees the decoder either way.
  Napi::Value End(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      ready();
      std::shared_ptr<Decoding> d = std::move(d_);
      d->stream->finish();
      return info.Env().Undefined();
    });
  }
  // close(): lets go of the decoder (its window: up to 32 MiB that V8 does not see, so a reader that stops early must
  // not leave it to the collector), at once or when the decode under way ends; idempotent. A later decode or end is
  // ERR_INVALID_ARGUMENT.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    d_.reset();
    return info.Env().Undefined();
  }

  // Throws unless a decode or end may start now.
  void ready() const {
    if (!d_) throw ti::Error(ti::codes::kInvalidArgument, "the zstd decoder is closed");
    if (d_->busy)
      throw ti::Error(ti::codes::kInvalidArgument, "a decode is under way on this zstd decoder: wait for it before the next call");
    if (d_->deferred) throw ti::Error(*d_->deferred);
  }

  std::shared_ptr<Decoding> d_;  // null once ended or closed
};

}  // namespace

void export_inputs(Napi::Env env, Napi::Object exports) { exports.Set("ZstdDecoder", ZstdDecoder::Define(env)); }

}  // namespace binding
