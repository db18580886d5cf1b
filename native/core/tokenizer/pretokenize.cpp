#include "tokenizer/pretokenize.hpp"

#include "tokenizer/unicode.hpp"

namespace traceindex::tok {
namespace {

struct Char {
  uint32_t cp;
  uint32_t len;
  uint8_t cls;
};

struct Text {
  const uint8_t* s;
  size_t n;
  Space space;
  Char at(size_t i) const {
    if (s[i] < 0x80) return {s[i], 1, kAsciiClass[s[i]]};
    CodePoint c = decode(s, n, i);
    uint8_t cls = char_class_slow(c.cp);
    if (space == Space::kUnicode && (c.cp == 0x85 || c.cp == 0xFEFF)) cls = c.cp == 0x85 ? kSpace : kOther;
    return {c.cp, c.len, cls};
  }
};

inline bool letter(uint8_t c) { return c >= kLu && c <= kLo; }
inline bool other(uint8_t c) { return c == kOther || c == kMark; }  // [^\s\p{L}\p{N}]
inline bool newline(uint32_t cp) { return cp == '\r' || cp == '\n'; }
// o200k's [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] ("upper") and [\p{Ll}\p{Lm}\p{Lo}\p{M}] ("lower"): Lm, Lo and M are both.
inline bool upper(uint8_t c) { return c == kLu || c == kLt || c == kLm || c == kLo || c == kMark; }
inline bool lower(uint8_t c) { return c == kLl || c == kLm || c == kLo || c == kMark; }
// [^\r\n\p{L}\p{N}]: the optional one-character prefix of the letter alternatives.
inline bool prefix(const Char& c) { return !newline(c.cp) && !letter(c.cls) && c.cls != kNumber; }

// 's|'t|'re|'ve|'m|'ll|'d in any letter case at `i`: its length, else 0.
inline size_t contraction(const Text& t, size_t i) {
  if (i + 1 >= t.n || t.s[i] != '\'') return 0;
  uint8_t a = t.s[i + 1] | 0x20;  // ASCII lower case (the test below only accepts letters)
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (i + 2 >= t.n) return 0;
  uint8_t b = t.s[i + 2] | 0x20;
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

template <typename Pred>
inline size_t run(const Text& t, size_t i, Pred in) {
  while (i < t.n) {
    Char c = t.at(i);
    if (!in(c)) break;
    i += c.len;
  }
  return i;
}

// \p{N}{1,3} at a number.
inline size_t numbers(const Text& t, size_t i) {
  for (int k = 0; k < 3 && i < t.n; ++k) {
    Char c = t.at(i);
    if (c.cls != kNumber) break;
    i += c.len;
  }
  return i;
}

// ' '?[^\s\p{L}\p{N}]+[\r\n]* (and [\r\n/]* for o200k), or 0 if it does not match at p.
inline size_t punctuation(const Text& t, size_t p, const Char& c0, bool slash) {
  size_t q = p;
  if (c0.cp == ' ' && p + 1 < t.n && other(t.at(p + 1).cls)) q = p + 1;
  else if (!other(c0.cls)) return 0;
  q = run(t, q, [](const Char& c) { return other(c.cls); });
  return run(t, q, [slash](const Char& c) { return newline(c.cp) || (slash && c.cp == '/'); });
}

// \s*[\r\n]+ | \s+(?!\S) | \s+ at whitespace: up to the run's last newline if it has one (`newlines`: the
// first alternative is in the pattern); else the whole run at the end of the text or when it is one character;
// else the run without its last character (which then starts the next piece, e.g. " word").
inline size_t whitespace(const Text& t, size_t p, bool newlines = true) {
  size_t i = p, after_newline = 0, last_start = p, count = 0;
  while (i < t.n) {
    Char c = t.at(i);
    if (c.cls != kSpace) break;
    last_start = i;
    i += c.len;
    ++count;
    if (newlines && newline(c.cp)) after_newline = i;
  }
  if (after_newline) return after_newline;
  if (i == t.n || count == 1) return i;
  return last_start;
}

size_t cl100k(const Text& t, size_t p) {
  Char c0 = t.at(p);
  if (size_t k = contraction(t, p)) return p + k;
  if (letter(c0.cls)) return run(t, p, [](const Char& c) { return letter(c.cls); });
  if (prefix(c0) && p + c0.len < t.n && letter(t.at(p + c0.len).cls))
    return run(t, p + c0.len, [](const Char& c) { return letter(c.cls); });
  if (c0.cls == kNumber) return numbers(t, p);
  if (size_t e = punctuation(t, p, c0, false)) return e;
  return whitespace(t, p);  // c0 is whitespace: every other class matched above
}

// o200k's first letter alternative after its prefix, at q: [upper]*[lower]+ then an optional contraction, or 0.
// Backtracking [upper]* gives back characters until [lower]+ can start: the match's lower run starts at the
// character after the upper run if that is lower (an Ll), else at the run's last character that is lower too.
inline size_t upper_lower(const Text& t, size_t q) {
  size_t i = q, last_lower = SIZE_MAX;
  while (i < t.n) {
    Char c = t.at(i);
    if (!upper(c.cls)) break;
    if (lower(c.cls)) last_lower = i;
    i += c.len;
  }
  size_t start = i < t.n && t.at(i).cls == kLl ? i : last_lower;
  if (start == SIZE_MAX) return 0;
  size_t e = run(t, start, [](const Char& c) { return lower(c.cls); });
  return e + contraction(t, e);
}

// The second: [upper]+[lower]* then an optional contraction, or 0.
inline size_t upper_then_lower(const Text& t, size_t q) {
  if (q >= t.n || !upper(t.at(q).cls)) return 0;
  size_t e = run(t, q, [](const Char& c) { return upper(c.cls); });
  e = run(t, e, [](const Char& c) { return lower(c.cls); });
  return e + contraction(t, e);
}

size_t o200k(const Text& t, size_t p) {
  Char c0 = t.at(p);
  bool prefixed = prefix(c0);  // the optional prefix is tried with one character first, then with none
  size_t e;
  if ((prefixed && (e = upper_lower(t, p + c0.len))) || (e = upper_lower(t, p))) return e;
  if ((prefixed && (e = upper_then_lower(t, p + c0.len))) || (e = upper_then_lower(t, p))) return e;
  if (c0.cls == kNumber) return numbers(t, p);
  if ((e = punctuation(t, p, c0, true))) return e;
  return whitespace(t, p);
}

size_t gpt2(const Text& t, size_t p) {
  Char c0 = t.at(p);
  if (c0.cp == '\'' && p + 1 < t.n) {  // lower case only
    uint8_t a = t.s[p + 1], b = p + 2 < t.n ? t.s[p + 2] : 0;
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return p + 2;
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return p + 3;
  }
  // ' '?\p{L}+ | ' '?\p{N}+ | ' '?[^\s\p{L}\p{N}]+: the class of the first character after the optional space.
  size_t q = p;
  Char c = c0;
  if (c0.cp == ' ' && p + 1 < t.n) {
    Char c1 = t.at(p + 1);
    if (c1.cls != kSpace) { q = p + 1; c = c1; }
  }
  if (letter(c.cls)) return run(t, q, [](const Char& x) { return letter(x.cls); });
  if (c.cls == kNumber) return run(t, q, [](const Char& x) { return x.cls == kNumber; });
  if (other(c.cls)) return run(t, q, [](const Char& x) { return other(x.cls); });
  return whitespace(t, p, false);
}

}  // namespace

size_t next_piece(Pattern pattern, const uint8_t* s, size_t n, size_t pos, Space space) {
  Text t{s, n, space};
  switch (pattern) {
    case Pattern::kCl100k: return cl100k(t, pos);
    case Pattern::kO200k: return o200k(t, pos);
    case Pattern::kGpt2: return gpt2(t, pos);
    case Pattern::kWhole: break;
  }
  return n;
}

}  // namespace traceindex::tok
