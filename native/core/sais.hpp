// Suffix-array construction (SA-IS: induced sorting of LMS substrings, recursion inside sa).
//
// Invariants of the kernel (native/core/sais.cpp):
//  * Empty slots of sa hold the all-ones Index value. Text positions are <= n-1 <= max(Index)-1, so no position
//    collides with it. The top bit of an entry is borrowed as a "predecessor is S" flag only on levels with
//    n < 2^(bits-1)-1; Index=uint32_t with n >= 2^31-1 (up to 2^32-1) takes flag-free passes that derive
//    suffix types from the text and the bucket pointers. No type array is kept.
//  * A level of size n with m LMS suffixes keeps the sorted LMS suffixes in sa[0, m), the reduced text in
//    sa[n-m, n) and the reduced level's bucket arrays in sa[m, n-m) or in the spare span an ancestor left free,
//    whichever is larger, when they fit.
//  * Level 0 names its LMS substrings by hashing (a table in sa below the reduced text) while few are distinct,
//    and by induced sorting otherwise; the names are the same either way.
#pragma once
#include <cstdint>

#include "progress.hpp"

namespace traceindex {

// Suffix array of text[0, n) over the integer alphabet [0, alphabet_size).
// Order: lexicographic by token value; a suffix that is a proper prefix of another sorts first
// (i.e. as if a virtual sentinel smaller than every token ended the text).
// sa must hold n entries. Working space beyond text and sa: O(alphabet_size) plus at most one byte per token
// (reduced levels keep their buckets inside sa, spill to the heap within a budget of 7/8 byte per token, and
// otherwise fall back to in-place prefix doubling; see sais.cpp).
// threads >= 1 (2 = a 2-thread mode that must be faster than 1 on 2 cores).
// Throws traceindex::Error (native/core/error.hpp) with code ERR_INVALID_ARGUMENT on bad arguments
// (a token >= alphabet_size found while counting, n too large for Index) and ERR_NO_MEMORY on allocation failure.
// progress (optional) advances by exactly suffix_array_work(n) units over the build: one per token for each of
// level 0's four induction passes, and 2n shared by the reduced levels (the same weights, recursively; a level
// solved without recursion credits its share at once). Updated once per pass, never per element.
template <typename Token, typename Index>
void build_suffix_array(const Token* text, Index* sa, uint64_t n, uint64_t alphabet_size, int threads = 1,
                        WorkProgress* progress = nullptr);

constexpr uint64_t suffix_array_work(uint64_t n) { return 6 * n; }

}  // namespace traceindex
