#include "tokenizer/tokenizer.hpp"

#include <algorithm>
#include <exception>
#include <functional>
#include <thread>

#include "error.hpp"
#include "tokenizer/unicode.hpp"

namespace traceindex::tok {
namespace {

[[noreturn]] void invalid(const std::string& message) { throw Error(codes::kInvalidArgument, message); }

// atob: the base64 alphabet; anything else (whitespace, '=') is skipped.
std::string base64_decode(std::string_view in) {
  static const auto table = [] {
    std::vector<int8_t> t(256, -1);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) t[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
    return t;
  }();
  std::string out;
  out.reserve(in.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = table[static_cast<uint8_t>(c)];
    if (v < 0) continue;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) { bits -= 8; out.push_back(static_cast<char>((acc >> bits) & 0xFF)); }
  }
  return out;
}

// TextDecoder('utf-8').decode: a leading BOM dropped, ill-formed sequences replaced.
std::string decode_text(const std::string& raw) {
  size_t skip = raw.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
  std::string out;
  append_sanitized_utf8(out, reinterpret_cast<const uint8_t*>(raw.data()) + skip, raw.size() - skip);
  return out;
}

// String.prototype.split('\n'): empty pieces kept.
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t at = 0;
  for (;;) {
    size_t nl = text.find('\n', at);
    lines.push_back(text.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl - at));
    if (nl == std::string_view::npos) return lines;
    at = nl + 1;
  }
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) { out.push_back(static_cast<char>(cp)); return; }
  if (cp < 0x800) { out.push_back(static_cast<char>(0xC0 | (cp >> 6))); }
  else if (cp < 0x10000) { out.push_back(static_cast<char>(0xE0 | (cp >> 12))); out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F))); }
  else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
  }
  out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
}

std::vector<uint32_t> code_points(std::string_view s) {
  std::vector<uint32_t> cps;
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  for (size_t i = 0; i < s.size();) {
    CodePoint c = decode(p, s.size(), i);
    cps.push_back(c.cp);
    i += c.len;
  }
  return cps;
}

// GPT-2's byte-level alphabet (bytes_to_unicode): printable Latin-1 bytes stand for themselves, the others for
// U+0100 upwards in byte order. Returns code point -> byte, -1 where none.
std::vector<int> unicode_to_byte() {
  std::vector<int> map(0x200, -1);
  int next = 0;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    map[printable ? b : 256 + next++] = b;
  }
  return map;
}

void check_unique(const std::vector<std::string_view>& vocab, const char* name) {
  std::unordered_map<std::string_view, uint32_t> seen;
  for (uint32_t id = 0; id < vocab.size(); ++id) {
    // Merges are keyed by "left right" strings in the JS tokenizers: ids stand for them only if tokens are
    // distinct and hold no space.
    if (vocab[id].find(' ') != std::string_view::npos) invalid(std::string(name) + " vocabulary: token " + std::to_string(id) + " holds a space");
    if (!seen.emplace(vocab[id], id).second) invalid(std::string(name) + " vocabulary: token " + std::to_string(id) + " repeats another");
  }
}

// The JS Llama tokenizers' priority: merges.get(pair) (= 2 * rank + 1) + origPos / prompt.length, as a double;
// positive doubles order as their bit patterns.
struct FloatKey {
  double units;
  uint64_t base;
  uint64_t operator()(uint32_t rank, uint32_t pos) const {
    double p = static_cast<double>(2 * static_cast<uint64_t>(rank) + 1) + static_cast<double>(base + pos) / units;
    uint64_t bits;
    std::memcpy(&bits, &p, sizeof bits);
    return bits;
  }
};

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::tiktoken(Pattern pattern, std::string_view bpe_ranks) {
  std::unique_ptr<Tokenizer> t(new Tokenizer);
  t->kind_ = Kind::kTiktoken;
  t->pattern_ = pattern;
  std::vector<std::pair<std::string, uint32_t>> tokens;
  for (std::string_view line : split_lines(bpe_ranks)) {
    if (line.empty()) continue;
    size_t a = line.find(' ');
    size_t b = a == std::string_view::npos ? a : line.find(' ', a + 1);
    if (b == std::string_view::npos) invalid("tiktoken ranks: a line without a first rank");
    uint64_t rank = 0;
    for (size_t i = a + 1; i < b; ++i) {
      if (line[i] < '0' || line[i] > '9' || rank > (1u << 28)) invalid("tiktoken ranks: a first rank that is not a number");
      rank = rank * 10 + static_cast<uint64_t>(line[i] - '0');
    }
    for (size_t at = b + 1; at <= line.size(); ++rank) {
      size_t end = std::min(line.find(' ', at), line.size());
      if (rank >= (1u << 28)) invalid("tiktoken ranks: rank above 2^28");
      tokens.emplace_back(base64_decode(line.substr(at, end - at)), static_cast<uint32_t>(rank));
      at = end + 1;
    }
  }
  for (auto& [bytes, rank] : tokens) t->bytes_.insert(bytes, rank);
  for (int b = 0; b < 256; ++b) {
    uint8_t byte = static_cast<uint8_t>(b);
    if ((t->byte_id_[b] = t->bytes_.find(&byte, 1)) == kNone) invalid("tiktoken ranks: byte " + std::to_string(b) + " has no rank");
  }
  // Two adjacent parts merge iff their concatenation has a rank: list every split of every token into two.
  for (auto& [bytes, rank] : tokens) {
    const auto* s = reinterpret_cast<const uint8_t*>(bytes.data());
    if (bytes.size() < 2 || t->bytes_.find(s, bytes.size()) != rank) continue;
    for (size_t k = 1; k < bytes.size(); ++k) {
      uint32_t left = t->bytes_.find(s, k), right = t->bytes_.find(s + k, bytes.size() - k);
      if (left != kNone && right != kNone) t->pairs_.insert(left, right, Merge{rank, rank});
    }
  }
  t->vocabulary_ = t->bytes_.size();
  return t;
}

std::unique_ptr<Tokenizer> Tokenizer::llama3(std::string_view vocab_base64, std::string_view merges_base64) {
  std::unique_ptr<Tokenizer> t(new Tokenizer);
  t->kind_ = Kind::kLlama3;
  t->pattern_ = Pattern::kCl100k;
  const std::string text = decode_text(base64_decode(vocab_base64));
  const std::vector<std::string_view> vocab = split_lines(text);
  check_unique(vocab, "Llama-3");
  static const std::vector<int> to_byte = unicode_to_byte();
  std::vector<std::string> bytes(vocab.size());
  std::vector<bool> byte_level(vocab.size());
  for (uint32_t id = 0; id < vocab.size(); ++id) {
    bool ok = !vocab[id].empty();
    for (uint32_t cp : code_points(vocab[id])) {
      if (cp >= to_byte.size() || to_byte[cp] < 0) { ok = false; break; }
      bytes[id].push_back(static_cast<char>(to_byte[cp]));
    }
    if ((byte_level[id] = ok)) t->bytes_.insert(bytes[id], id);
  }
  for (int b = 0; b < 256; ++b) {
    uint8_t byte = static_cast<uint8_t>(b);
    if ((t->byte_id_[b] = t->bytes_.find(&byte, 1)) == kNone) invalid("Llama-3 vocabulary: byte " + std::to_string(b) + " has no token");
  }
  const std::string packed = base64_decode(merges_base64);
  const size_t ids = packed.size() * 8 / 17;
  auto id_at = [&](size_t k) {  // 17 bits, most significant first, from bit 17k
    size_t bit = 17 * k, byte = bit / 8;
    uint32_t w = 0;
    for (size_t i = 0; i < 3; ++i) w = (w << 8) | (byte + i < packed.size() ? static_cast<uint8_t>(packed[byte + i]) : 0u);
    return (w >> (24 - bit % 8 - 17)) & 0x1FFFF;
  };
  for (size_t i = 0; i + 1 < ids; i += 2) {
    uint32_t left = id_at(i), right = id_at(i + 1);
    if (left >= vocab.size() || right >= vocab.size() || !byte_level[left] || !byte_level[right]) continue;
    std::string joined = bytes[left] + bytes[right];
    uint32_t result = t->bytes_.find(reinterpret_cast<const uint8_t*>(joined.data()), joined.size());
    if (result == kNone) invalid("Llama-3 merges: merge " + std::to_string(i / 2) + " makes no token");
    t->pairs_.insert(left, right, Merge{static_cast<uint32_t>(i / 2), result});
  }
  t->vocabulary_ = vocab.size();
  return t;
}

std::unique_ptr<Tokenizer> Tokenizer::llama2(std::string_view vocab_base64, std::string_view merges_base64) {
  std::unique_ptr<Tokenizer> t(new Tokenizer);
  t->kind_ = Kind::kLlama2;
  const std::string text = decode_text(base64_decode(vocab_base64));
  const std::vector<std::string_view> vocab = split_lines(text);
  check_unique(vocab, "Llama-2");
  std::unordered_map<std::string_view, uint32_t> by_string;
  for (uint32_t id = 0; id < vocab.size(); ++id) by_string.emplace(vocab[id], id);
  constexpr uint32_t kSpaceToken = 29871;  // llama-tokenizer-js replaces ' ' with vocabById[29871]
  if (vocab.size() <= kSpaceToken || code_points(vocab[kSpaceToken]).size() != 1) invalid("Llama-2 vocabulary: token 29871 is not one character");
  t->space_cp_ = code_points(vocab[kSpaceToken])[0];
  std::vector<std::pair<std::string_view, uint32_t>> pieces;
  for (uint32_t id = 0; id < vocab.size(); ++id) pieces.emplace_back(vocab[id], id);
  t->index_pieces(pieces);
  for (int b = 0; b < 256; ++b) {
    static const char* hex = "0123456789ABCDEF";
    std::string name = std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">";
    auto it = by_string.find(name);
    t->byte_id_[b] = it == by_string.end() ? 0 : it->second;  // as the JS tokenizer: 0 (<unk>) if missing
  }
  const std::string packed = base64_decode(merges_base64);
  std::vector<uint32_t> ids;
  for (size_t i = 0; i < packed.size(); i += 2)
    ids.push_back(static_cast<uint8_t>(packed[i]) + (i + 1 < packed.size() ? static_cast<uint32_t>(static_cast<uint8_t>(packed[i + 1])) << 8 : 0u));
  for (size_t i = 0; i + 1 < ids.size(); i += 2) {
    if (ids[i] >= vocab.size() || ids[i + 1] >= vocab.size()) continue;
    std::string joined = std::string(vocab[ids[i]]) + std::string(vocab[ids[i + 1]]);
    auto it = by_string.find(joined);
    if (it == by_string.end()) invalid("Llama-2 merges: merge " + std::to_string(i / 2) + " makes no token");
    t->pairs_.insert(ids[i], ids[i + 1], Merge{static_cast<uint32_t>(i / 2), it->second});
  }
  t->vocabulary_ = vocab.size();
  return t;
}

std::unique_ptr<Tokenizer> Tokenizer::byte_level_bpe(const ByteLevelBpe& spec) {
  std::unique_ptr<Tokenizer> t(new Tokenizer);
  t->kind_ = Kind::kByteLevelBpe;
  t->pattern_ = spec.pattern;
  t->space_ = spec.space;
  t->prefix_ = spec.prefix;
  t->whole_pieces_ = spec.whole_pieces;
  if (spec.sentencepiece) {
    // Llama-2's encoder (encode_llama2) with the file's pieces, merges in rank order and no JS float priority.
    t->kind_ = Kind::kLlama2;
    t->float_keys_ = false;
    t->space_cp_ = 0x2581;
    std::vector<std::pair<std::string_view, uint32_t>> pieces(spec.tokens.begin(), spec.tokens.end());
    t->index_pieces(pieces);
    if (spec.byte_ids.size() != 256) invalid("tokenizer.json: 256 byte-fallback ids are required");
    std::copy(spec.byte_ids.begin(), spec.byte_ids.end(), t->byte_id_);
  } else {
    for (const auto& [bytes, id] : spec.tokens) {
      if (bytes.empty()) invalid("tokenizer.json: an empty token");
      t->bytes_.insert(bytes, id);
    }
    for (int b = 0; b < 256; ++b) {
      uint8_t byte = static_cast<uint8_t>(b);
      if ((t->byte_id_[b] = t->bytes_.find(&byte, 1)) == kNone) invalid("tokenizer.json: byte " + std::to_string(b) + " has no token");
    }
  }
  if (spec.merges.size() % 3 != 0 || spec.merges.size() / 3 >= kNone) invalid("tokenizer.json: merges must be (left, right, result) triples");
  for (size_t i = 0; i < spec.merges.size(); i += 3)
    if (spec.merges[i] != kNone) t->pairs_.insert(spec.merges[i], spec.merges[i + 1], Merge{static_cast<uint32_t>(i / 3), spec.merges[i + 2]});
  if (!spec.added_strip.empty() && spec.added_strip.size() != spec.added.size()) invalid("tokenizer.json: one strip flag per added token");
  for (size_t k = 0; k < spec.added.size(); ++k) {
    const auto& [content, id] = spec.added[k];
    if (content.empty()) continue;  // never matches
    t->added_.insert(content, static_cast<uint32_t>(t->added_info_.size()));  // a later equal content wins
    t->added_info_.push_back(Added{id, spec.added_strip.empty() ? uint8_t{0} : spec.added_strip[k]});
    t->added_first_[static_cast<uint8_t>(content[0])] = true;
  }
  t->vocabulary_ = spec.tokens.size();
  return t;
}

void Tokenizer::index_pieces(const std::vector<std::pair<std::string_view, uint32_t>>& pieces) {
  bmp_char_id_.assign(0x10000, kNone);
  by_word_ = true;
  for (const auto& [piece, id] : pieces) {
    std::vector<uint32_t> cps = code_points(piece);
    if (cps.size() == 1) {
      if (cps[0] < 0x10000) bmp_char_id_[cps[0]] = id;
      else astral_char_id_[cps[0]] = id;
    }
    for (size_t i = 1; i < cps.size(); ++i)
      if (cps[i] == space_cp_ && cps[i - 1] != space_cp_) by_word_ = false;
  }
  space_id_ = char_id(space_cp_);
  if (space_id_ == kNone) by_word_ = false;
}

uint32_t Tokenizer::char_id(uint32_t cp) const {
  if (cp < 0x10000) return bmp_char_id_[cp];
  auto it = astral_char_id_.find(cp);
  return it == astral_char_id_.end() ? kNone : it->second;
}

void Tokenizer::encode(const uint8_t* text, size_t n, std::vector<uint32_t>& out, Scratch& scratch) const {
  if (n >= kNone) invalid("a document of 4 GiB or more cannot be tokenized");
  if (kind_ != Kind::kLlama2) encode_bytes(text, n, out, scratch);
  else if (added_info_.empty()) encode_llama2(text, n, out, scratch);
  else encode_with_added(text, text, n, out, scratch);  // lone surrogates stay: encode_llama2 reads them
}

void Tokenizer::encode_bytes(const uint8_t* s, size_t n, std::vector<uint32_t>& out, Scratch& scratch) const {
  const uint8_t* original = s;
  if (has_surrogates(s, n)) {
    scratch.text.assign(reinterpret_cast<const char*>(s), n);
    replace_surrogates(reinterpret_cast<uint8_t*>(&scratch.text[0]), n);
    s = reinterpret_cast<const uint8_t*>(scratch.text.data());
  }
  if (kind_ == Kind::kByteLevelBpe) {
    encode_with_added(original, s, n, out, scratch);
    return;
  }
  const size_t units = kind_ == Kind::kLlama3 ? utf16_length(s, n) : 0;
  for (size_t pos = 0; pos < n;) {
    const size_t end = next_piece(pattern_, s, n, pos);
    encode_piece(s + pos, end - pos, units, out, scratch);
    pos = end;
  }
}

void Tokenizer::encode_piece(const uint8_t* piece, size_t len, size_t units, std::vector<uint32_t>& out, Scratch& scratch) const {
  if (whole_pieces_) {
    uint32_t whole = bytes_.find(piece, len);
    if (whole != kNone) { out.push_back(whole); return; }
  }
  std::vector<uint32_t>& sym = scratch.symbols;
  sym.resize(len);
  for (size_t i = 0; i < len; ++i) sym[i] = byte_id_[piece[i]];
  if (kind_ == Kind::kLlama3 && len - 2 >= 2 * units) merge_pairs(sym, pairs_, FloatKey{static_cast<double>(units), 0}, scratch.bpe, out);
  else merge_pairs(sym, pairs_, RankKey{}, scratch.bpe, out);
}

// Added tokens are found in the text as the JS tokenizer finds them (in the text before lone surrogates become
// U+FFFD: `original`); the text between them is encoded from `s`, the same bytes with U+FFFD, less the JS
// whitespace (class kSpace) an lstrip token drops before it or an rstrip token after it.
void Tokenizer::encode_with_added(const uint8_t* original, const uint8_t* s, size_t n, std::vector<uint32_t>& out, Scratch& scratch) const {
  auto space_at = [&](size_t i) { return char_class(decode(s, n, i).cp) == kSpace; };
  auto section = [&](size_t a, size_t b, bool trim_start, bool trim_end) {
    if (trim_start)
      while (a < b && space_at(a)) a += decode(s, n, a).len;
    if (trim_end)
      for (size_t c = b; a < b;) {
        do --c; while (c > a && (s[c] & 0xC0) == 0x80);  // back to the last code point's first byte
        if (!space_at(c)) break;
        b = c;
      }
    if (a < b) encode_section(s + a, b - a, out, scratch);
  };
  size_t start = 0;
  bool strip_next = false;  // the previous added token drops the whitespace after it
  for (size_t i = 0; i < n && !added_info_.empty();) {
    auto [k, len] = added_first_[original[i]] ? added_.longest(original + i, n - i) : std::pair<uint32_t, size_t>{kNone, 0};
    if (k == kNone) { ++i; continue; }
    const Added& a = added_info_[k];
    section(start, i, strip_next, a.strip & 1);
    out.push_back(a.id);
    strip_next = a.strip & 2;
    i += len;
    start = i;
  }
  section(start, n, strip_next, false);
}

void Tokenizer::AddedTrie::insert(std::string_view content, uint32_t k) {
  uint32_t node = 0;
  for (unsigned char c : content) {
    auto [it, fresh] = child.try_emplace(uint64_t(node) << 8 | c, static_cast<uint32_t>(ends.size()));
    if (fresh) ends.push_back(kNone);
    node = it->second;
  }
  ends[node] = k;
}

std::pair<uint32_t, size_t> Tokenizer::AddedTrie::longest(const uint8_t* s, size_t n) const {
  std::pair<uint32_t, size_t> best{kNone, 0};
  uint32_t node = 0;
  for (size_t i = 0; i < n; ++i) {
    auto it = child.find(uint64_t(node) << 8 | s[i]);
    if (it == child.end()) break;
    node = it->second;
    if (ends[node] != kNone) best = {ends[node], i + 1};
  }
  return best;
}

void Tokenizer::encode_section(const uint8_t* s, size_t n, std::vector<uint32_t>& out, Scratch& scratch) const {
  if (kind_ == Kind::kLlama2) {  // a SentencePiece BPE tokenizer.json: the section is one text
    encode_llama2(s, n, out, scratch);
    return;
  }
  using Prefix = ByteLevelBpe::Prefix;
  if (prefix_ == Prefix::kText && s[0] != ' ') {
    scratch.section.assign(1, ' ');
    scratch.section.append(reinterpret_cast<const char*>(s), n);
    s = reinterpret_cast<const uint8_t*>(scratch.section.data());
    ++n;
  }
  for (size_t pos = 0; pos < n;) {
    const size_t end = next_piece(pattern_, s, n, pos, space_);
    if (prefix_ == Prefix::kPiece && s[pos] != ' ') {
      scratch.piece.assign(1, ' ');
      scratch.piece.append(reinterpret_cast<const char*>(s + pos), end - pos);
      encode_piece(reinterpret_cast<const uint8_t*>(scratch.piece.data()), scratch.piece.size(), 0, out, scratch);
    } else {
      encode_piece(s + pos, end - pos, 0, out, scratch);
    }
    pos = end;
  }
}

void Tokenizer::merge_llama2_word(size_t first, size_t units, std::vector<uint32_t>& out, Scratch& scratch) const {
  std::vector<uint32_t>& sym = scratch.symbols;
  if (float_keys_ && sym.size() >= 2 && first + sym.size() - 2 >= 2 * units) merge_pairs(sym, pairs_, FloatKey{static_cast<double>(units), first}, scratch.bpe, out);
  else merge_pairs(sym, pairs_, RankKey{}, scratch.bpe, out);
}

void Tokenizer::encode_llama2(const uint8_t* s, size_t n, std::vector<uint32_t>& out, Scratch& scratch) const {
  const size_t units = utf16_length(s, n);
  if (units == 0) return;
  std::vector<uint32_t>& sym = scratch.symbols;
  sym.clear();
  // At most a symbol per byte, and the dummy prefix: no copies as a long word grows (pages never written are
  // never backed).
  sym.reserve(n + 1);
  size_t first = 0, word = 0;  // position of the word's first symbol among the text's, and its symbol count
  auto push = [&](uint32_t id) {
    if (by_word_ && id == space_id_ && word > 0 && sym.back() != space_id_) {
      merge_llama2_word(first, units, out, scratch);
      first += word;
      word = 0;
      sym.clear();
    }
    sym.push_back(id);
    ++word;
  };
  auto push_char = [&](uint32_t cp, const uint8_t* bytes, size_t len) {
    if (cp == ' ') { cp = space_cp_; bytes = nullptr; }  // the JS tokenizer looks spaces up as U+2581
    if (is_surrogate(cp)) {  // TextEncoder's bytes of a lone surrogate
      for (uint32_t b : {0xEFu, 0xBFu, 0xBDu}) push(byte_id_[b]);
      return;
    }
    uint32_t id = char_id(cp);
    if (id != kNone) { push(id); return; }
    std::string own;
    if (!bytes) { append_utf8(own, cp); bytes = reinterpret_cast<const uint8_t*>(own.data()); len = own.size(); }
    for (size_t k = 0; k < len; ++k) push(byte_id_[bytes[k]]);
  };
  static const uint8_t kSpace = ' ';
  push_char(' ', &kSpace, 1);  // SentencePiece's dummy prefix
  for (size_t i = 0; i < n;) {
    CodePoint c = decode(s, n, i);
    push_char(c.cp, s + i, c.len);
    i += c.len;
  }
  merge_llama2_word(first, units, out, scratch);
}

void Tokenizer::encode_batch(const uint8_t* text, const uint64_t* offsets, size_t count, std::vector<uint32_t>& tokens,
                             std::vector<uint64_t>& token_offsets, int threads) const {
  tokens.clear();
  token_offsets.assign(count + 1, 0);
  auto run = [&](size_t lo, size_t hi, std::vector<uint32_t>& out, uint64_t* ends) {
    Scratch scratch;
    for (size_t i = lo; i < hi; ++i) {
      encode(text + offsets[i], offsets[i + 1] - offsets[i], out, scratch);
      ends[i] = out.size();
    }
  };
  const size_t parts = std::min<size_t>(threads < 1 ? 1 : static_cast<size_t>(threads), count);
  if (parts <= 1) {
    run(0, count, tokens, token_offsets.data() + 1);
    return;
  }
  // Contiguous runs of about equal bytes.
  std::vector<size_t> cut(parts + 1, count);
  cut[0] = 0;
  const uint64_t total = offsets[count] - offsets[0];
  for (size_t p = 1, i = 0; p < parts; ++p) {
    while (i < count && offsets[i] - offsets[0] < total * p / parts) ++i;
    cut[p] = std::max(i, cut[p - 1]);
  }
  std::vector<std::vector<uint32_t>> outs(parts);
  std::vector<std::exception_ptr> errors(parts);
  std::vector<std::thread> pool;
  for (size_t p = 1; p < parts; ++p)
    pool.emplace_back([&, p] {
      try { run(cut[p], cut[p + 1], outs[p], token_offsets.data() + 1); } catch (...) { errors[p] = std::current_exception(); }
    });
  try { run(cut[0], cut[1], outs[0], token_offsets.data() + 1); } catch (...) { errors[0] = std::current_exception(); }
  for (auto& th : pool) th.join();
  for (auto& e : errors) if (e) std::rethrow_exception(e);
  uint64_t base = 0;
  for (size_t p = 0; p < parts; ++p) {
    for (size_t i = cut[p]; i < cut[p + 1]; ++i) token_offsets[i + 1] += base;
    base += outs[p].size();
    tokens.insert(tokens.end(), outs[p].begin(), outs[p].end());
  }
}

}  // namespace traceindex::tok
