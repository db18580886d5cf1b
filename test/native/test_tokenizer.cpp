// The tokenizer kernels: the pre-tokenizer scanners on hand-written cases (expected pieces are what
// JavaScript's matchAll returns with js-tiktoken's patterns), the class table, WTF-8 handling, and the BPE merge
// loop's two paths against a naive merge.
#include <random>
#include <string>
#include <vector>

#include "check.hpp"
#include "tokenizer/bpe.hpp"
#include "tokenizer/pretokenize.hpp"
#include "tokenizer/unicode.hpp"

namespace tok = traceindex::tok;

namespace {
std::vector<std::string> split(tok::Pattern p, const std::string& s, tok::Space space = tok::Space::kJs) {
  std::vector<std::string> out;
  const auto* b = reinterpret_cast<const uint8_t*>(s.data());
  for (size_t pos = 0; pos < s.size();) {
    size_t end = tok::next_piece(p, b, s.size(), pos, space);
    if (end <= pos || end > s.size()) { out.push_back("<stuck>"); break; }
    out.push_back(s.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (auto& x : v) s += "[" + x + "]";
  return s;
}

struct SplitCase { const char* text; std::vector<std::string> cl100k, o200k; };

const std::vector<SplitCase> kSplits = {
  {"Hello world", {"Hello", " world"}, {"Hello", " world"}},
  {"don't", {"don", "'t"}, {"don't"}},
  {"DON'T", {"DON", "'T"}, {"DON'T"}},
  {"I'll've", {"I", "'ll", "'ve"}, {"I'll", "'ve"}},
  {"'sam", {"'s", "am"}, {"'sam"}},
  {"  x", {" ", " x"}, {" ", " x"}},
  {"a  \n\n  b", {"a", "  \n\n", " ", " b"}, {"a", "  \n\n", " ", " b"}},
  {"x   ", {"x", "   "}, {"x", "   "}},
  {"12345", {"123", "45"}, {"123", "45"}},
  {"(hello)", {"(hello", ")"}, {"(hello", ")"}},
  {" !!\n\nx", {" !!\n\n", "x"}, {" !!\n\n", "x"}},
  {"\r\n", {"\r\n"}, {"\r\n"}},
  {"\t\tword", {"\t", "\tword"}, {"\t", "\tword"}},
  {"e\xCC\x81", {"e", "\xCC\x81"}, {"e\xCC\x81"}},                        // e + U+0301 (a mark)
  {"\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E", {"\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E"}, {"\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E"}},
  {"\xF0\x9F\x99\x82\xF0\x9F\x99\x82", {"\xF0\x9F\x99\x82\xF0\x9F\x99\x82"}, {"\xF0\x9F\x99\x82\xF0\x9F\x99\x82"}},
  {"HelloWorld", {"HelloWorld"}, {"Hello", "World"}},
  {"HELLO world", {"HELLO", " world"}, {"HELLO", " world"}},
  {"JSONParser", {"JSONParser"}, {"JSONParser"}},
  {"!\n/", {"!\n", "/"}, {"!\n/"}},
  {"\xCC\x81" "a", {"\xCC\x81" "a"}, {"\xCC\x81" "a"}},
  {"a\xE3\x80\x80\xE3\x80\x80" "b", {"a", "\xE3\x80\x80", "\xE3\x80\x80" "b"}, {"a", "\xE3\x80\x80", "\xE3\x80\x80" "b"}},  // U+3000
  {" 123", {" ", "123"}, {" ", "123"}},
  {" \xED\xA0\x80x", {" \xED\xA0\x80", "x"}, {" \xED\xA0\x80", "x"}},  // a lone surrogate (WTF-8)
  {"x\xC2\xA0\xC2\xA0", {"x", "\xC2\xA0\xC2\xA0"}, {"x", "\xC2\xA0\xC2\xA0"}},  // NBSP is \s in JS
  {"\xC7\x85ungla", {"\xC7\x85ungla"}, {"\xC7\x85ungla"}},                // U+01C5, a title-case letter
};
// GPT-2's pattern (JS \s, as @huggingface/tokenizers' ByteLevel runs it) and, where it differs, with \s read as
// White_Space (as that package runs it from a tokenizer.json Split); expected pieces from JS matchAll.
struct Gpt2Case { const char* text; std::vector<std::string> js, unicode; };
const std::vector<Gpt2Case> kGpt2Splits = {
  {"Hello world", {"Hello", " world"}, {}},
  {"don't", {"don", "'t"}, {}},
  {"DON'T", {"DON", "'", "T"}, {}},
  {"I'll've", {"I", "'ll", "'ve"}, {}},
  {"'sam", {"'s", "am"}, {}},
  {"''s", {"''", "s"}, {}},
  {"  x", {" ", " x"}, {}},
  {"a  \n\n  b", {"a", "  \n\n ", " b"}, {}},
  {"x   ", {"x", "   "}, {}},
  {"12345", {"12345"}, {}},
  {" 123", {" 123"}, {}},
  {"(hello)", {"(", "hello", ")"}, {}},
  {" !!\n\nx", {" !!", "\n", "\n", "x"}, {}},
  {"\t\tword", {"\t", "\t", "word"}, {}},
  {"e\xCC\x81", {"e", "\xCC\x81"}, {}},
  {" \xCC\x81x", {" \xCC\x81", "x"}, {}},
  {" \xED\xA0\x80x", {" \xED\xA0\x80", "x"}, {}},
  {"x \xC2\x85y", {"x", " \xC2\x85", "y"}, {"x", " ", "\xC2\x85", "y"}},         // U+0085: White_Space, not JS \s
  {"x \xEF\xBB\xBFy", {"x", " ", "\xEF\xBB\xBF", "y"}, {"x", " \xEF\xBB\xBF", "y"}},  // U+FEFF: JS \s only
};
}  // namespace

TEST(tokenizer_pretokenize_gpt2) {
  for (const Gpt2Case& c : kGpt2Splits) {
    CHECK_EQ(join(split(tok::Pattern::kGpt2, c.text)), join(c.js));
    CHECK_EQ(join(split(tok::Pattern::kGpt2, c.text, tok::Space::kUnicode)), join(c.unicode.empty() ? c.js : c.unicode));
  }
  CHECK_EQ(join(split(tok::Pattern::kWhole, "a b\n c")), join({"a b\n c"}));
  // White_Space also changes the cl100k pattern's pieces.
  CHECK_EQ(join(split(tok::Pattern::kCl100k, "x \xC2\x85y")), join({"x", " \xC2\x85", "y"}));
  CHECK_EQ(join(split(tok::Pattern::kCl100k, "x \xC2\x85y", tok::Space::kUnicode)), join({"x", " ", "\xC2\x85y"}));
}

TEST(tokenizer_pretokenize_hand_written) {
  for (const SplitCase& c : kSplits) {
    CHECK_EQ(join(split(tok::Pattern::kCl100k, c.text)), join(c.cl100k));
    CHECK_EQ(join(split(tok::Pattern::kO200k, c.text)), join(c.o200k));
  }
}

TEST(tokenizer_pretokenize_tiles_any_text) {
  // Every byte string of well-formed WTF-8 splits into pieces that tile it (no gap, no empty piece).
  std::mt19937 rng(7);
  const uint32_t pool[] = {'a', 'Z', '1', ' ', '\n', '\r', '\t', '\'', 's', '/', '!', 0x301, 0xA0, 0x3000, 0x65E5, 0x1F642, 0xD800, 0x1C5, 0x2581, 0x85, 0xFEFF};
  for (int round = 0; round < 2000; ++round) {
    std::string s;
    int len = static_cast<int>(rng() % 24);
    for (int i = 0; i < len; ++i) {
      uint32_t cp = pool[rng() % (sizeof pool / sizeof pool[0])];
      char16_t units[2];
      size_t n = 1;
      if (cp >= 0x10000) { units[0] = static_cast<char16_t>(0xD800 + ((cp - 0x10000) >> 10)); units[1] = static_cast<char16_t>(0xDC00 + ((cp - 0x10000) & 0x3FF)); n = 2; }
      else units[0] = static_cast<char16_t>(cp);
      tok::append_wtf8(s, units, n);
    }
    for (auto p : {tok::Pattern::kCl100k, tok::Pattern::kO200k, tok::Pattern::kGpt2})
      for (auto space : {tok::Space::kJs, tok::Space::kUnicode}) {
        std::string joined;
        for (auto& piece : split(p, s, space)) { CHECK(piece != "<stuck>"); joined += piece; }
        CHECK_EQ(joined, s);
      }
  }
}

TEST(tokenizer_class_table) {
  for (uint32_t cp = 0; cp < 128; ++cp) CHECK_EQ(int(tok::kAsciiClass[cp]), int(tok::char_class_slow(cp)));
  CHECK_EQ(int(tok::char_class(0x301)), int(tok::kMark));
  CHECK_EQ(int(tok::char_class(0x65E5)), int(tok::kLo));
  CHECK_EQ(int(tok::char_class(0x1C5)), int(tok::kLt));
  CHECK_EQ(int(tok::char_class(0x2B0)), int(tok::kLm));
  CHECK_EQ(int(tok::char_class(0x663)), int(tok::kNumber));   // ARABIC-INDIC DIGIT THREE
  CHECK_EQ(int(tok::char_class(0xFEFF)), int(tok::kSpace));   // JS \s has the BOM,
  CHECK_EQ(int(tok::char_class(0x85)), int(tok::kOther));     // not NEL
  CHECK_EQ(int(tok::char_class(0xD800)), int(tok::kOther));
  CHECK_EQ(int(tok::char_class(0x1F642)), int(tok::kOther));
  CHECK_EQ(int(tok::char_class(0x10FFFF)), int(tok::kOther));
}

TEST(tokenizer_wtf8_and_sanitizing) {
  const char16_t units[] = {u'a', 0xD83D, 0xDE42, 0xD800, u'b', 0xDC00};
  std::string s = tok::wtf8_from_utf16(units, 6);
  CHECK_EQ(s, std::string("a\xF0\x9F\x99\x82\xED\xA0\x80" "b\xED\xB0\x80"));
  CHECK_EQ(tok::utf16_length(reinterpret_cast<const uint8_t*>(s.data()), s.size()), size_t(6));
  CHECK(tok::has_surrogates(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  tok::replace_surrogates(reinterpret_cast<uint8_t*>(&s[0]), s.size());
  CHECK_EQ(s, std::string("a\xF0\x9F\x99\x82\xEF\xBF\xBD" "b\xEF\xBF\xBD"));
  CHECK(!tok::has_surrogates(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  CHECK(tok::valid_utf8(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  // TextDecoder's replacement: one U+FFFD per maximal subpart.
  const std::string bad = "a\xC3" "b\xED\xA0\x80\xF0\x9F\x99" "c\xFF";
  CHECK(!tok::valid_utf8(reinterpret_cast<const uint8_t*>(bad.data()), bad.size()));
  std::string fixed;
  tok::append_sanitized_utf8(fixed, reinterpret_cast<const uint8_t*>(bad.data()), bad.size());
  const std::string r = "\xEF\xBF\xBD";
  CHECK_EQ(fixed, "a" + r + "b" + r + r + r + r + "c" + r);
}

namespace {
// Reference merge: lowest key, then leftmost, by scanning everything after every merge.
std::vector<uint32_t> naive_merge(std::vector<uint32_t> sym, const tok::PairMap& pairs) {
  if (sym.size() > 5000) {  // quadratic: check huge inputs against the heap path (itself checked below)
    tok::BpeScratch sc;
    tok::detail::merge_long(sym, pairs, [](uint32_t rank, uint32_t) { return static_cast<uint64_t>(rank); }, sc);
    return sym;
  }
  std::vector<uint32_t> pos(sym.size());
  for (size_t i = 0; i < pos.size(); ++i) pos[i] = static_cast<uint32_t>(i);
  for (;;) {
    size_t best = SIZE_MAX;
    uint32_t best_rank = 0;
    for (size_t i = 0; i + 1 < sym.size(); ++i) {
      const tok::Merge* m = pairs.find(sym[i], sym[i + 1]);
      if (m && (best == SIZE_MAX || m->rank < best_rank)) { best = i; best_rank = m->rank; }
    }
    if (best == SIZE_MAX) return sym;
    sym[best] = pairs.find(sym[best], sym[best + 1])->result;
    sym.erase(sym.begin() + static_cast<long>(best) + 1);
  }
}
}  // namespace

TEST(tokenizer_merge_paths_agree_with_naive) {
  std::mt19937 rng(11);
  size_t windowed[4] = {};  // windowed merges that succeeded, that refused, with a positional key, wrong unchecked
  for (int round = 0; round < 40; ++round) {
    // Alphabet 0..3; 40 merged tokens 4..43, each from two earlier tokens, ranks shuffled (ties impossible).
    tok::PairMap pairs;
    std::vector<uint32_t> ranks(40);
    for (uint32_t i = 0; i < 40; ++i) ranks[i] = i;
    std::shuffle(ranks.begin(), ranks.end(), rng);
    for (uint32_t t = 4; t < 44; ++t) pairs.insert(rng() % t, rng() % t, tok::Merge{ranks[t - 4], t});
    for (size_t n : {2, 5, 50, 96, 97, 300, 2000, 70000}) {
      std::vector<uint32_t> sym(n);
      for (auto& s : sym) s = rng() % 4;
      std::vector<uint32_t> expected = naive_merge(sym, pairs), a = sym, b = sym;
      tok::BpeScratch sc;
      auto key = [](uint32_t rank, uint32_t) { return static_cast<uint64_t>(rank); };
      if (n <= tok::kShortMerge) { tok::detail::merge_short(a, pairs, key, sc); CHECK(a == expected); }
      tok::detail::merge_long(b, pairs, key, sc);
      CHECK(b == expected);
      std::vector<uint32_t> c = sym;
      tok::detail::merge_ranked_huge(c, pairs, sc);
      CHECK(c == expected);
      // Windows: exact whenever they succeed; small ones often fail (a merge across a cut), and must say so.
      for (uint32_t size : {16u, 64u, 1000u, tok::kMergeWindow}) {
        std::vector<uint32_t> w{7};  // appended to
        const bool ok = tok::detail::merge_windowed(sym, pairs, key, sc, w, size);
        if (ok) {
          CHECK(w.size() == expected.size() + 1 && w[0] == 7 && std::equal(expected.begin(), expected.end(), w.begin() + 1));
          ++windowed[0];
        } else {
          CHECK(w == std::vector<uint32_t>{7});
          ++windowed[1];
        }
        // Without hard_cut's check the windows are sometimes wrong: exactly where it refused.
        std::vector<uint32_t> unchecked;
        if (tok::detail::merge_windowed(sym, pairs, key, sc, unchecked, size, false) && unchecked != expected) {
          CHECK(!ok);
          ++windowed[3];
        }
      }
      // A key that depends on the position too (as the Llama tokenizers' float priority): against merge_long.
      auto mixed = [](uint32_t rank, uint32_t pos) { return static_cast<uint64_t>(rank) * 64 + (pos * 2654435761u >> 26); };
      std::vector<uint32_t> d = sym, e = sym;
      tok::detail::merge_long(d, pairs, mixed, sc);
      for (uint32_t size : {16u, 64u, 1000u}) {
        e.clear();
        if (tok::detail::merge_windowed(sym, pairs, mixed, sc, e, size)) { CHECK(e == d); ++windowed[2]; }
      }
    }
  }
  CHECK(windowed[0] > 100);
  CHECK(windowed[1] > 10);
  CHECK(windowed[2] > 100);
  CHECK(windowed[3] > 10);
}

TEST(tokenizer_windowed_merge_refuses_a_window_without_a_boundary) {
  tok::BpeScratch sc;
  auto key = [](uint32_t rank, uint32_t) { return static_cast<uint64_t>(rank); };
  // "a" then many "b": (a b) -> A, (A b) -> A: one token in the end, no window has a boundary.
  tok::PairMap chain;
  chain.insert(0, 1, tok::Merge{0, 2});
  chain.insert(2, 1, tok::Merge{1, 2});
  std::vector<uint32_t> sym(100, 1), out;
  sym[0] = 0;
  CHECK(!tok::detail::merge_windowed(sym, chain, key, sc, out, 16));
  CHECK(out.empty());
  // merge_pairs then merges the whole
  tok::merge_pairs(sym, chain, key, sc, out);
  CHECK(out == std::vector<uint32_t>{2});
}
