#include "zstd_stream.hpp"

#include <memory>
#include <new>
#include <string>

#include "error.hpp"
#include "zstd.h"

namespace traceindex {

struct ZstdStream::State {
  ZSTD_DStream* d = nullptr;
  size_t pending = 0;  // ZSTD_decompressStream's last hint: 0 when a frame ended with the input consumed
  bool failed = false;
  std::unique_ptr<uint8_t[]> buf;  // one output step, left uninitialised (a vector's resize would zero it per call)
};

namespace {
[[noreturn]] void bad(const std::string& why) { throw Error(codes::kBadInput, why); }
}  // namespace

ZstdStream::ZstdStream() : state_(new State) {
  state_->d = ZSTD_createDStream();
  if (!state_->d) {
    delete state_;
    throw std::bad_alloc();
  }
  const size_t r = ZSTD_DCtx_setParameter(state_->d, ZSTD_d_windowLogMax, kMaxWindowLog);
  if (ZSTD_isError(r)) {
    ZSTD_freeDStream(state_->d);
    delete state_;
    throw Error(codes::kInternal, std::string("zstd: ") + ZSTD_getErrorName(r));
  }
}

ZstdStream::~ZstdStream() {
  ZSTD_freeDStream(state_->d);
  delete state_;
}

ZstdStream::Step ZstdStream::decode(const uint8_t* in, size_t n, std::vector<uint8_t>* out, size_t limit) {
  if (state_->failed) bad("the stream failed before");
  static const uint8_t kNone = 0;
  ZSTD_inBuffer input{n ? in : &kNone, n, 0};  // never a null pointer, even with nothing to read
  const size_t step = ZSTD_DStreamOutSize();
  if (!state_->buf) state_->buf.reset(new uint8_t[step]);
  const size_t start = out->size();
  // Until the input is consumed and the decoder holds nothing more to flush (a full output buffer may leave some).
  for (;;) {
    ZSTD_outBuffer output{state_->buf.get(), step, 0};
    const size_t consumed = input.pos;
    const size_t r = ZSTD_decompressStream(state_->d, &output, &input);
    out->insert(out->end(), state_->buf.get(), state_->buf.get() + output.pos);
    if (ZSTD_isError(r)) {
      state_->failed = true;
      bad(ZSTD_getErrorName(r));
    }
    // A call that moved nothing (no input left) answers with the next frame's header size: not a truncation.
    if (input.pos != consumed || output.pos != 0) state_->pending = r;
    if (input.pos == input.size && output.pos < step) return {input.pos, false};
    if (out->size() - start >= limit) return {input.pos, true};
  }
}

void ZstdStream::finish() const {
  if (state_->failed) bad("the stream failed before");
  if (state_->pending != 0) bad("truncated: the last frame is not complete");
}

}  // namespace traceindex
