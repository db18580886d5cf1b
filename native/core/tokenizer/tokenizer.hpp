// Native encoders of the named tokenizers, exact against the JS tokenizers traceindex used before them
// (lib/tokenizers/named.ts; test/native-tokenizers.test.ts compares them on a randomized corpus):
//
//   cl100k_base, o200k_base  js-tiktoken: pre-tokenizer pattern, then each piece is its own token if it has a
//                            rank, else BPE over its bytes merging the lowest-ranked pair first.
//   llama-3                  llama3-tokenizer-js: the cl100k pattern, byte-level BPE over the package's merge
//                            list (a piece that is a token is taken whole: ignore_merges).
//   llama-2                  llama-tokenizer-js: SentencePiece BPE without pre-tokenization: a space is
//                            prepended, spaces become U+2581, characters without a token fall back to <0xNN>
//                            byte tokens, and merges run over the whole text.
//
// The JS Llama tokenizers order merges by the float "merge priority + position / text length" (positions in
// symbols, length in UTF-16 units). That is (rank, position) order while positions stay below twice the
// length; a piece with more symbols than that (a long run of multi-byte characters, as the whole text) takes the
// float order itself. Llama-2 merges never join a symbol to a following U+2581 unless the left one is U+2581
// (no token contains another character followed by U+2581, checked on load), so its text is merged word by
// word, with the same result and memory bounded by the longest word.
//   tokenizer.json           @huggingface/tokenizers on a byte-level BPE file (see ByteLevelBpe; a SentencePiece
//                            BPE file runs the Llama-2 encoder, merges in rank order): added tokens
//                            are cut out of the text first (longest at the leftmost place), the rest
//                            pre-tokenized, and each piece merged by the rank of the pair in the file's merge list
//                            (ties: leftmost), which is that package's "rank + position / length" priority.
//
// Text is WTF-8 (tokenizer/unicode.hpp). No BOS/EOS; text that looks like a special token is ordinary text.
// encode is const and safe from many threads, each with its own Scratch.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/bpe.hpp"
#include "tokenizer/pretokenize.hpp"

namespace traceindex::tok {

class Tokenizer {
 public:
  struct Scratch {
    BpeScratch bpe;
    std::vector<uint32_t> symbols;
    std::string text, section, piece;
  };

  // js-tiktoken's ranks (the `bpe_ranks` string of js-tiktoken/ranks/<name>): lines of
  // "<label> <first rank> <base64 token> <base64 token> ...", ranks ascending by one along a line.
  static std::unique_ptr<Tokenizer> tiktoken(Pattern pattern, std::string_view bpe_ranks);
  // llama3-tokenizer-js's llama_vocab_base64 (the '\n'-separated byte-level token strings) and
  // llama_merges_binary (pairs of 17-bit big-endian ids, in merge order).
  static std::unique_ptr<Tokenizer> llama3(std::string_view vocab_base64, std::string_view merges_base64);
  // llama-tokenizer-js's llama_vocab_base64 (SentencePiece pieces) and llama_merges_binary (pairs of 16-bit
  // little-endian ids, in merge order).
  static std::unique_ptr<Tokenizer> llama2(std::string_view vocab_base64, std::string_view merges_base64);

  // A Hugging Face tokenizer.json byte-level BPE, as lib/tokenizers/named.ts reads it from the file (it checks
  // that the file is one this encoder reproduces exactly, else the JS encoder runs).
  struct ByteLevelBpe {
    Pattern pattern = Pattern::kGpt2;
    Space space = Space::kJs;
    // ByteLevel's add_prefix_space: a space before a text (between added tokens) or a piece not starting with one.
    enum class Prefix : uint8_t { kNone, kText, kPiece } prefix = Prefix::kNone;
    bool whole_pieces = false;  // ignore_merges: a piece that is a token is taken whole
    std::vector<std::pair<std::string, uint32_t>> tokens;  // token bytes (from the byte-level alphabet) -> id
    std::vector<uint32_t> merges;                          // (left, right, result) per rank; left = kNone: none
    std::vector<std::pair<std::string, uint32_t>> added;   // added tokens' UTF-8 content -> id
    // Per added token: 1 lstrip, 2 rstrip (JS whitespace before / after it is dropped; no content may start or
    // end with whitespace then, lib/tokenizers/named.ts checks). Empty: none.
    std::vector<uint8_t> added_strip;
    // SentencePiece-style BPE (Llama-2's tokenizer.json: "▁" prepended and spaces as "▁" by the normalizer, no
    // pre-tokenizer, byte fallback): `tokens` are the pieces' UTF-8, byte_ids the <0xNN> tokens.
    bool sentencepiece = false;
    std::vector<uint32_t> byte_ids;
  };
  static std::unique_ptr<Tokenizer> byte_level_bpe(const ByteLevelBpe& spec);

  // Appends the ids of text[0, n) (well-formed WTF-8) to `out`.
  void encode(const uint8_t* text, size_t n, std::vector<uint32_t>& out, Scratch& scratch) const;

  // Documents text[offsets[i], offsets[i+1]) for i < count; token_offsets gets count + 1 entries.
  // `threads` > 1 splits the documents into that many contiguous runs encoded in parallel.
  void encode_batch(const uint8_t* text, const uint64_t* offsets, size_t count, std::vector<uint32_t>& tokens,
                    std::vector<uint64_t>& token_offsets, int threads = 1) const;

  size_t vocabulary() const { return vocabulary_; }  // tokens read from the data (special tokens not included)
  size_t merges() const { return pairs_.size(); }

 private:
  enum class Kind : uint8_t { kTiktoken, kLlama3, kLlama2, kByteLevelBpe };
  Tokenizer() = default;
  void encode_bytes(const uint8_t* s, size_t n, std::vector<uint32_t>& out, Scratch& scratch) const;
  void encode_piece(const uint8_t* piece, size_t len, size_t units, std::vector<uint32_t>& out, Scratch& scratch) const;
  void encode_with_added(const uint8_t* original, const uint8_t* s, size_t n, std::vector<uint32_t>& out, Scratch& scratch) const;
  void encode_section(const uint8_t* s, size_t n, std::vector<uint32_t>& out, Scratch& scratch) const;
  void encode_llama2(const uint8_t* s, size_t n, std::vector<uint32_t>& out, Scratch& scratch) const;
  void merge_llama2_word(size_t first, size_t units, std::vector<uint32_t>& out, Scratch& scratch) const;
  uint32_t char_id(uint32_t cp) const;
  void index_pieces(const std::vector<std::pair<std::string_view, uint32_t>>& pieces);

  Kind kind_ = Kind::kTiktoken;
  Pattern pattern_ = Pattern::kCl100k;
  size_t vocabulary_ = 0;
  ByteMap bytes_;           // byte string -> id (tiktoken: rank = id; Llama-3: the decoded byte-level tokens)
  PairMap pairs_;
  uint32_t byte_id_[256];   // the single-byte tokens (Llama-2: the <0xNN> fallback tokens, 0 if missing)
  // Llama-2
  std::vector<uint32_t> bmp_char_id_;                   // single-character pieces below U+10000, else kNone
  std::unordered_map<uint32_t, uint32_t> astral_char_id_;
  uint32_t space_cp_ = 0x2581, space_id_ = kNone;
  bool by_word_ = false;
  bool float_keys_ = true;  // the JS Llama-2 tokenizer's float priority on long words (not a tokenizer.json's)
  // tokenizer.json
  bool whole_pieces_ = true;
  Space space_ = Space::kJs;
  ByteLevelBpe::Prefix prefix_ = ByteLevelBpe::Prefix::kNone;
  struct Added { uint32_t id; uint8_t strip; };
  // Added tokens' contents as a byte trie, so the longest one at a text position is one walk (O(its length))
  // rather than a lookup per distinct length (O(L^2) per position with many long added tokens).
  struct AddedTrie {
    std::unordered_map<uint64_t, uint32_t> child;  // (node << 8 | byte) -> node; node 0 is the root
    std::vector<uint32_t> ends{kNone};             // per node: index in added_info_ of the token ending there
    void insert(std::string_view content, uint32_t k);
    // The longest added token that s[0, n) starts with: its index (kNone if none) and length.
    std::pair<uint32_t, size_t> longest(const uint8_t* s, size_t n) const;
  };
  AddedTrie added_;
  std::vector<Added> added_info_;
  bool added_first_[256] = {};           // first bytes of added tokens
};

}  // namespace traceindex::tok
