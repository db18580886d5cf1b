// The zstd reader (native/core/zstd_stream.hpp) against the vendored library's own compressor: random and
// repetitive data round-trip whole and fed a byte at a time; several frames, skippable frames and frames with
// checksums; truncation, damage, a wrong checksum and a window above 2^25 are ERR_BAD_INPUT.
#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "check.hpp"
#include "error.hpp"
#include "zstd.h"
#include "zstd_stream.hpp"

using namespace traceindex;

namespace {

std::vector<uint8_t> compress(const std::vector<uint8_t>& data, int level, bool checksum, int window_log = 0) {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, checksum ? 1 : 0);
  if (window_log) ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, window_log);
  std::vector<uint8_t> out(ZSTD_compressBound(data.size()));
  const size_t n = ZSTD_compress2(c, out.data(), out.size(), data.data(), data.size());
  ZSTD_freeCCtx(c);
  CHECK(!ZSTD_isError(n));
  out.resize(n);
  return out;
}

// Decodes `in` fed `step` bytes at a time, at most `limit` bytes (plus one output step) out of a call.
std::vector<uint8_t> decode(const std::vector<uint8_t>& in, size_t step, size_t limit = SIZE_MAX) {
  ZstdStream z;
  std::vector<uint8_t> out;
  const size_t bound = limit == SIZE_MAX ? SIZE_MAX : limit + ZSTD_DStreamOutSize();
  for (size_t at = 0;;) {
    const size_t n = std::min(step, in.size() - at), before = out.size();
    const ZstdStream::Step s = z.decode(in.data() + at, n, &out, limit);
    CHECK(s.consumed <= n);
    CHECK(out.size() - before < bound);
    at += s.consumed;
    if (at == in.size() && !s.more) break;
  }
  z.finish();
  return out;
}

std::vector<uint8_t> letters(std::mt19937& rng, size_t n, int alphabet) {
  std::vector<uint8_t> d(n);
  for (auto& b : d) b = uint8_t('a' + rng() % alphabet);
  return d;
}

}  // namespace

TEST(zstd_stream_round_trips_what_the_library_compresses) {
  std::mt19937 rng(99);
  for (int round = 0; round < 24; ++round) {
    const size_t n = round % 4 == 0 ? 0 : rng() % (round % 3 ? 300000 : 3000);
    std::vector<uint8_t> data = letters(rng, n, round % 2 ? 4 : 200);
    if (round % 5 == 0) data.assign(n, 'x');  // one symbol: RLE blocks
    const std::vector<uint8_t> z = compress(data, 1 + round % 19, round % 2);
    CHECK(decode(z, z.size() + 1) == data);
    CHECK(decode(z, 1 + rng() % 700) == data);
    // Output bounded per call: the rest of the input (and what the decoder holds) comes out on the calls after.
    CHECK(decode(z, z.size() + 1, 1 + rng() % 5000) == data);
    CHECK(decode(z, 1 + rng() % 70000, 1) == data);
  }
  // Several frames, a skippable frame between them.
  std::mt19937 r2(7);
  const std::vector<uint8_t> a = letters(r2, 50000, 3), b = letters(r2, 70000, 26);
  std::vector<uint8_t> z = compress(a, 3, true);
  const uint8_t skippable[] = {0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3};
  z.insert(z.end(), std::begin(skippable), std::end(skippable));
  const std::vector<uint8_t> zb = compress(b, 9, false);
  z.insert(z.end(), zb.begin(), zb.end());
  std::vector<uint8_t> ab = a;
  ab.insert(ab.end(), b.begin(), b.end());
  CHECK(decode(z, 512) == ab);
  CHECK(decode({}, 1).empty());
}

TEST(zstd_stream_refuses_truncated_damaged_and_oversized_frames) {
  std::mt19937 rng(5);
  const std::vector<uint8_t> data = letters(rng, 200000, 8);
  const std::vector<uint8_t> z = compress(data, 5, true);
  // Truncated anywhere: the decode or the finish says so.
  for (size_t cut : {size_t(1), size_t(5), z.size() / 2, z.size() - 1}) {
    const std::vector<uint8_t> part(z.begin(), z.begin() + cut);
    CHECK_THROWS_CODE(decode(part, 512), codes::kBadInput);
  }
  // A flipped checksum byte.
  std::vector<uint8_t> bad = z;
  bad.back() ^= 1;
  CHECK_THROWS_CODE(decode(bad, 512), codes::kBadInput);
  // Not zstd at all.
  CHECK_THROWS_CODE(decode(std::vector<uint8_t>{'{', '"', 'a', '"', '}'}, 512), codes::kBadInput);
  // A window of 2^26 (the frame header says so) is refused; 2^25 reads.
  const std::vector<uint8_t> big = letters(rng, (1 << 25) + 1000, 200);
  CHECK_THROWS_CODE(decode(compress(big, 1, false, 26), 1 << 16), codes::kBadInput);
  CHECK(decode(compress(big, 1, false, 25), 1 << 16) == big);
  CHECK(decode(compress(big, 1, false, 25), 1 << 16, 1 << 20) == big);
  // After a failure the stream stays failed.
  ZstdStream s;
  std::vector<uint8_t> out;
  const uint8_t garbage[] = {'{', '"', 'a', '"', '}', '\n'};
  CHECK_THROWS_CODE(s.decode(garbage, sizeof garbage, &out, SIZE_MAX), codes::kBadInput);
  CHECK_THROWS_CODE(s.decode(z.data(), z.size(), &out, SIZE_MAX), codes::kBadInput);
  CHECK_THROWS_CODE(s.finish(), codes::kBadInput);
}
