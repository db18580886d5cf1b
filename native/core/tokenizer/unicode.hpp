// Text and character classes for the tokenizers.
//
// Text given to the tokenizers is WTF-8: UTF-8 in which a lone surrogate (a JS string may hold one) is kept as
// its 3-byte generalized form ED A0..BF 80..BF. The JS tokenizers see lone surrogates as code points of their
// own: in the pre-tokenizer patterns they class like U+FFFD, their UTF-8 bytes are EF BF BD (TextEncoder), but
// Llama-2 looks single characters up in its vocabulary, where U+FFFD has a token and a lone surrogate has not.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace traceindex::tok {

// Classes the patterns test, as JavaScript's \p{..} and \s see them (table: unicode_classes.inc).
// Every code point is in exactly one: kSpace is JS \s; kOther is everything else (surrogates included).
enum CharClass : uint8_t { kOther, kLu, kLl, kLt, kLm, kLo, kMark, kNumber, kSpace };

uint8_t char_class_slow(uint32_t cp);  // the full table, any code point

extern const uint8_t kAsciiClass[128];

inline uint8_t char_class(uint32_t cp) { return cp < 128 ? kAsciiClass[cp] : char_class_slow(cp); }

struct CodePoint {
  uint32_t cp;
  uint32_t len;  // bytes
};

// Decodes the code point at s[i] of well-formed WTF-8 (i < n).
inline CodePoint decode(const uint8_t* s, size_t n, size_t i) {
  uint32_t b = s[i];
  if (b < 0x80) return {b, 1};
  if (b < 0xE0) return {((b & 0x1F) << 6) | (s[i + 1] & 0x3F), 2};
  if (b < 0xF0) return {((b & 0x0F) << 12) | ((s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F), 3};
  (void)n;
  return {((b & 0x07) << 18) | ((s[i + 1] & 0x3F) << 12) | ((s[i + 2] & 0x3F) << 6) | (s[i + 3] & 0x3F), 4};
}

inline bool is_surrogate(uint32_t cp) { return cp >= 0xD800 && cp <= 0xDFFF; }

// UTF-16 code units -> WTF-8 (lone surrogates kept, see above).
std::string wtf8_from_utf16(const char16_t* s, size_t n);
void append_wtf8(std::string& out, const char16_t* s, size_t n);

// Whether `s` is well-formed UTF-8 (no surrogates, no overlongs, nothing above U+10FFFF).
bool valid_utf8(const uint8_t* s, size_t n);
// Appends `s` with every ill-formed subsequence replaced by U+FFFD, as TextDecoder does (WHATWG "maximal
// subparts"): the text a JS string decoded from these bytes would hold.
void append_sanitized_utf8(std::string& out, const uint8_t* s, size_t n);

// Lone surrogates of WTF-8 replaced in place by U+FFFD (same length): what TextEncoder makes of them.
void replace_surrogates(uint8_t* s, size_t n);
bool has_surrogates(const uint8_t* s, size_t n);

// Length of the text as a JS string (UTF-16 code units).
size_t utf16_length(const uint8_t* s, size_t n);

}  // namespace traceindex::tok
