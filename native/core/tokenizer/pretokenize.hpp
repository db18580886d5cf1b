// Pre-tokenizers of the byte-level BPE tokenizers: their split patterns compiled by hand into scanners over
// WTF-8, matching what JavaScript's regex engine (the reference: js-tiktoken and llama3-tokenizer-js run these
// patterns with the `u` flag) returns from matchAll, alternative by alternative, backtracking included.
//
//   kCl100k (cl100k_base and Llama-3):
//     's|'t|'re|'ve|'m|'ll|'d (any case) | [^\r\n\p{L}\p{N}]?\p{L}+ | \p{N}{1,3} | ' '?[^\s\p{L}\p{N}]+[\r\n]*
//     | \s*[\r\n]+ | \s+(?!\S) | \s+
//   kO200k:
//     [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(contraction)?
//     | [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(contraction)?
//     | \p{N}{1,3} | ' '?[^\s\p{L}\p{N}]+[\r\n/]* | \s*[\r\n]+ | \s+(?!\S) | \s+
//   kGpt2 (GPT-2's ByteLevel pre-tokenizer, contractions in lower case only):
//     's|'t|'re|'ve|'m|'ll|'d | ' '?\p{L}+ | ' '?\p{N}+ | ' '?[^\s\p{L}\p{N}]+ | \s+(?!\S) | \s+
//   kWhole: no split, the text is one piece.
//
// \s is JavaScript's (Space::kJs) or Unicode's White_Space (Space::kUnicode: @huggingface/tokenizers rewrites
// a tokenizer.json's \s so); they differ in U+0085 (White_Space only) and U+FEFF (JS only).
//
// Both patterns match at every code point (letters, numbers, whitespace and "other" are each covered), so the
// pieces tile the text: no gaps, no empty pieces.
#pragma once
#include <cstddef>
#include <cstdint>

namespace traceindex::tok {

enum class Pattern : uint8_t { kCl100k, kO200k, kGpt2, kWhole };
enum class Space : uint8_t { kJs, kUnicode };

// End of the piece that starts at `pos` (pos < n): pos < end <= n, on a code point boundary.
size_t next_piece(Pattern pattern, const uint8_t* s, size_t n, size_t pos, Space space = Space::kJs);

}  // namespace traceindex::tok
