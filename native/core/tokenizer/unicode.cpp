#include "tokenizer/unicode.hpp"

#include <cstring>
#include <vector>

namespace traceindex::tok {
namespace {
#include "tokenizer/unicode_classes.inc"

// Two-stage table: block[cp >> 8] selects a 256-entry row of classes; equal rows are shared.
struct ClassTable {
  std::vector<uint16_t> block;
  std::vector<uint8_t> rows;
  ClassTable() : block(0x1100) {
    std::vector<uint8_t> flat(0x110000);
    const size_t runs = sizeof(kClassRuns) / sizeof(kClassRuns[0]);
    for (size_t r = 0; r < runs; ++r) {
      uint32_t first = kClassRuns[r] >> 4, end = r + 1 < runs ? kClassRuns[r + 1] >> 4 : 0x110000;
      std::memset(flat.data() + first, static_cast<int>(kClassRuns[r] & 0xF), end - first);
    }
    for (uint32_t b = 0; b < 0x1100; ++b) {
      const uint8_t* row = flat.data() + (b << 8);
      size_t found = rows.size();
      for (size_t at = 0; at < rows.size(); at += 256)
        if (std::memcmp(rows.data() + at, row, 256) == 0) { found = at; break; }
      if (found == rows.size()) rows.insert(rows.end(), row, row + 256);
      block[b] = static_cast<uint16_t>(found >> 8);
    }
  }
};

const ClassTable& table() {
  static const ClassTable t;
  return t;
}
}  // namespace

const uint8_t kAsciiClass[128] = {
#define O kOther
#define S kSpace
#define N kNumber
#define U kLu
#define L kLl
    O, O, O, O, O, O, O, O, O, S, S, S, S, S, O, O,  // \t \n \v \f \r
    O, O, O, O, O, O, O, O, O, O, O, O, O, O, O, O,
    S, O, O, O, O, O, O, O, O, O, O, O, O, O, O, O,  // space
    N, N, N, N, N, N, N, N, N, N, O, O, O, O, O, O,
    O, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U,
    U, U, U, U, U, U, U, U, U, U, U, O, O, O, O, O,
    O, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L,
    L, L, L, L, L, L, L, L, L, L, L, O, O, O, O, O,
#undef O
#undef S
#undef N
#undef U
#undef L
};

uint8_t char_class_slow(uint32_t cp) {
  if (cp >= 0x110000) return kOther;
  const ClassTable& t = table();
  return t.rows[(static_cast<size_t>(t.block[cp >> 8]) << 8) | (cp & 0xFF)];
}

void append_wtf8(std::string& out, const char16_t* s, size_t n) {
  size_t at = out.size();
  out.resize(at + 3 * n);  // a code unit never takes more than 3 bytes (a pair: 4 bytes for 2 units)
  auto* o = reinterpret_cast<uint8_t*>(&out[at]);
  for (size_t i = 0; i < n; ++i) {
    uint32_t c = s[i];
    if (c < 0x80) { *o++ = static_cast<uint8_t>(c); continue; }
    if (c < 0x800) { *o++ = static_cast<uint8_t>(0xC0 | (c >> 6)); *o++ = static_cast<uint8_t>(0x80 | (c & 0x3F)); continue; }
    if (c >= 0xD800 && c < 0xDC00 && i + 1 < n && s[i + 1] >= 0xDC00 && s[i + 1] < 0xE000) {
      c = 0x10000 + ((c - 0xD800) << 10) + (s[++i] - 0xDC00);
      *o++ = static_cast<uint8_t>(0xF0 | (c >> 18));
      *o++ = static_cast<uint8_t>(0x80 | ((c >> 12) & 0x3F));
      *o++ = static_cast<uint8_t>(0x80 | ((c >> 6) & 0x3F));
      *o++ = static_cast<uint8_t>(0x80 | (c & 0x3F));
      continue;
    }
    *o++ = static_cast<uint8_t>(0xE0 | (c >> 12));  // lone surrogates included (WTF-8)
    *o++ = static_cast<uint8_t>(0x80 | ((c >> 6) & 0x3F));
    *o++ = static_cast<uint8_t>(0x80 | (c & 0x3F));
  }
  out.resize(static_cast<size_t>(reinterpret_cast<char*>(o) - out.data()));
}

std::string wtf8_from_utf16(const char16_t* s, size_t n) {
  std::string out;
  append_wtf8(out, s, n);
  return out;
}

namespace {
// Length of the well-formed UTF-8 sequence at s[i], or 0 if it is ill-formed; `maximal` gets the length of
// its maximal subpart (>= 1), which TextDecoder replaces with one U+FFFD.
inline size_t utf8_sequence(const uint8_t* s, size_t n, size_t i, size_t& maximal) {
  uint8_t b = s[i];
  maximal = 1;
  if (b < 0x80) return 1;
  size_t need;
  uint8_t lo = 0x80, hi = 0xBF;
  if (b >= 0xC2 && b <= 0xDF) need = 1;
  else if (b >= 0xE0 && b <= 0xEF) { need = 2; if (b == 0xE0) lo = 0xA0; if (b == 0xED) hi = 0x9F; }
  else if (b >= 0xF0 && b <= 0xF4) { need = 3; if (b == 0xF0) lo = 0x90; if (b == 0xF4) hi = 0x8F; }
  else return 0;
  for (size_t k = 1; k <= need; ++k) {
    if (i + k >= n) return 0;
    uint8_t c = s[i + k];
    if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xBF)) return 0;
    maximal = k + 1;
  }
  return need + 1;
}
}  // namespace

bool valid_utf8(const uint8_t* s, size_t n) {
  size_t i = 0, maximal;
  while (i < n) {
    if (s[i] < 0x80) { ++i; continue; }
    size_t len = utf8_sequence(s, n, i, maximal);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

void append_sanitized_utf8(std::string& out, const uint8_t* s, size_t n) {
  size_t i = 0, maximal;
  while (i < n) {
    size_t len = utf8_sequence(s, n, i, maximal);
    if (len) { out.append(reinterpret_cast<const char*>(s + i), len); i += len; }
    else { out.append("\xEF\xBF\xBD"); i += maximal; }
  }
}

bool has_surrogates(const uint8_t* s, size_t n) {
  for (const uint8_t* p = s; (p = static_cast<const uint8_t*>(std::memchr(p, 0xED, static_cast<size_t>(s + n - p)))) != nullptr; ++p)
    if (p + 1 < s + n && p[1] >= 0xA0) return true;
  return false;
}

void replace_surrogates(uint8_t* s, size_t n) {
  for (size_t i = 0; i + 2 < n; ++i)
    if (s[i] == 0xED && s[i + 1] >= 0xA0) { s[i] = 0xEF; s[i + 1] = 0xBF; s[i + 2] = 0xBD; i += 2; }
}

size_t utf16_length(const uint8_t* s, size_t n) {
  size_t units = 0;
  for (size_t i = 0; i < n; ++i) units += (s[i] & 0xC0) != 0x80 ? (s[i] >= 0xF0 ? 2 : 1) : 0;
  return units;
}

}  // namespace traceindex::tok
