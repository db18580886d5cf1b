// SA-IS suffix sorting (Nong, Zhang & Chan 2009), written for traceindex.
//
// Pipeline of one level (text t[0,n), buckets B[0..K] = bucket starts, B[K] = n). Level 0 does 1-3 by hashing
// instead when few LMS substrings are distinct (stage1_hashed: 594 K of 29.4 M on 100 MB of prose):
//   1. seed      every LMS suffix at the tail of its bucket (types 64 at a time from neighbour bit masks;
//                stage1_split: gathered by its one-thread count pass, then placed by a radix pass, at 2 threads
//                too except where its count runs on two threads: K <= 65536, or level 0's block-parallel passes);
//   2. induce    L then S: what survives the S pass is exactly the LMS suffixes, sorted by LMS substring
//                (levels that name during induction: stage1_split, buckets split by predecessor type so that
//                each pass scans only the entries that induce, as libsais does; level 0 with 2 threads and
//                K <= 1024: both passes block-parallel, split_scan_par);
//   3. name      LMS substrings into the slots sa[m + p/2] (during 2 from group marks, or afterwards by comparing
//                substrings walked from the text); reduced text -> sa[n-m, n);
//   4. recurse   on the reduced text (or scatter directly when all names are distinct), map ranks back;
//                unique names that start the reduced text or follow another unique one leave the recursion and
//                come back at their rank (drop_unique, levels with m >= 2^16 and names >= m/8);
//   5. induce    the final order from the sorted LMS suffixes, moved to their bucket tails by per-bucket counts
//                (level 0 with 2 threads and K <= 1024: block-parallel gather and place, induce_final_par).
// Suffix types are never stored in a separate array. Two kinds of induction passes:
//   * flagged (every level with n < 2^(bits-1)-1): the top bit of an entry says "predecessor is S", computed
//     when the entry is written from t[j-2] beside the t[j-1] just read; levels with n < 2^(bits-2) that have
//     room for K naming ids borrow a second bit to name during induction (see induce_l_named);
//   * flag-free (Index=uint32_t with n >= 2^31-1, so all 32 bits are position): for an entry j at sa[i],
//     L pass: sa holds only L suffixes and LMS seeds, so j-1 is L <=> t[j-1] >= t[j];
//     S pass: j is S <=> i >= P[t[j]] (the S part of a bucket is filled top-down before the scan reaches it).
// Empty slots hold all ones: never a position (n <= max-1), and flagged-looking, so flagged L passes skip them.
// Working space beyond text and sa: level-0 buckets 4K+1 Index (+K with 2 threads and K <= 65536); reduced
// levels keep their buckets in the free part sa[m, n-m) or in the spare span, whichever is larger (4K'+1 down to
// K' entries, recounted per pass). The spare span (Budget::spare_lo/hi; all levels share sa's base) is what an
// ancestor left free beyond the running level's part of sa: below its text, above its own sa[0, n) and its
// parent's arrays (libsais's fs counts it too); a level hands down the larger of what its child's arrays leave of
// the two. When not even K' fit (more than n/3 LMS suffixes, nearly all substrings distinct) they take K' on the
// heap while the budget of 7/8 byte per level-0 token (+ 64 KiB) along the recursion allows, and otherwise sort
// the reduced text by prefix doubling in the space it already has. With 2 threads the comparing namer adds a bit
// per LMS suffix (<= n/16 bytes) on one level at a time. stage1_split takes 4K entries while stage 1 runs: free
// for K <= 65536, else from the spare span, else charged to the same heap budget (levels without it name with the
// flagged passes); with the spare span, peak RSS on 100 MB of prose / Linux C fell by 22.5 / 38 MiB. drop_unique
// takes m/8 bytes (group starts) while a level names, then up to m/4 + 3 names/8 bytes of bitmaps and counts, and
// its dropped (position, rank) pairs below the reduced text when n >= 2m + f (else 2f entries on the heap), all
// charged to the same budget. Total: at most one byte per token beyond O(K). With 2 threads the final induction
// of level 0 adds a fixed block buffer (2^16 (symbol, entry) pairs, 512 KiB or 1 MiB, and K counts per chunk, 16
// chunks: <= 128 KiB), after the recursion has returned its heap; its stage 1 takes a like buffer while it runs
// (2^16 records of 3 entries, 4K entries per chunk) and clears sa first.
//
// Measured and not kept (docs/benchmarks.md, A/B in CPU seconds on 100 MB): drop_unique with two random passes
// over the name slots in sorted order (uniqueness, then renumbering): it saved 0.26 s on Linux C's second reduced
// level and spent as much in the passes (the bitmaps from the namers replaced them); seeding stage1_split's halves on
// two threads (no gain at 2 threads); stage1_split on levels without room for the LMS counts (their counts on the
// heap: no gain on Linux C, +42 MiB peak); stage1_split's workspace in the free part of sa where it fits (the
// prose peak is on a level where it does not); an explicit prefetch of sa ahead of the S pass (within the noise;
// so was the branch-free reduced-text compaction on whole runs, kept since phase timers showed 0.13 -> 0.05 s);
// prefetch distance 48 (same as 32). Block-parallel final
// induction: fixed halves of a block per thread (the helper's half lagged on the shared machine: no gain; chunks
// claimed by either thread do pay); for large alphabets (u16 words), the lists placed by one thread (the final
// passes 1.35x slower: the random writes to 65536 buckets all on one thread) or by both, each thread taking half
// of the symbols over every list (no faster than the sequential passes, more CPU); chunks of 1024 or 16384
// entries and blocks of 2^18 (no better than 4096 and 2^16). The final flagged passes two entries a step, as
// split_scan (no gain); stage1_split's count from the 64-wide type masks, with one table or four (no gain: the
// histogram is the cost); a branch-free compaction in drop_unique over the half-empty name slots (slower: the
// popcount on every slot; it is branch-free now over the compacted reduced text, which pays);
// split_scan's text prefetch 3 kPf ahead (within the noise). At 2 threads: count_gather4 on the u16 level 0 too
// (K = 65536: its count and seeding 0.16-0.17 -> 0.17-0.20 s wall); the two halves seeded on two threads after the
// two-thread count (level 0 of prose and Linux C: within the noise, as the earlier two-thread seeding). Not built:
// block-parallel passes on the reduced levels (libsais's 32s block passes): libsais's own reduced levels took
// 1.91-2.29 s wall at one thread and 2.07-2.16 at two on prose (Linux C 2.09-2.40 / 2.10-2.24; its final passes
// there 0.65-0.78 -> 0.88-1.00 s), so its second thread gains nothing there on this machine (docs/benchmarks.md).
// Level 0's symbol count folded into stage1_split's gathering count while it ran two type chains (four counters per
// symbol, B from their sums): that count grew by what the dropped pass cost (with one chain, count_gather4, it
// pays); in split_scan on the reduced levels, a sub-bucket's cursor and naming id interleaved (libsais's 32-bit
// layout, one cache line per induced entry; L pass 0.27-0.29 -> 0.30-0.34 CPU s on prose, 0.29-0.34 -> 0.33-0.41 on
// Linux C) and libsais's prefetch distances (text 128 entries ahead, cursors 64: within the noise); count_gather4
// unrolled 4x (within the noise); stage1_split's heap workspace left unzeroed (one memset of 4K entries less: Linux
// C's reduced counts within the noise); four byte tables in build_suffix_array's count (within the noise: it is
// bound by reading the text); the naming slots prefetched 64 entries ahead (same as 32); in split_scan, the text
// prefetch unclamped, t[j-2] prefetched too, or sa prefetched 4 kPf ahead (within the noise). split_scan's passes
// are not dearer per entry than libsais's (the same loads and instruction count): they had taken the first touch of
// sa's tail, which libsais's count-and-gather takes, and which the gathering count now takes too
// (docs/benchmarks.md). On the u16 level 0 (K = 65536, one thread; "The spare span" in docs/benchmarks.md):
// count_gather4's table prefetch and the seeding's cursor prefetch taken at K = 65536 too (count 0.107-0.122 ->
// 0.104-0.126 CPU s), and split_scan without its cursor and naming-id prefetch for u16 tokens (libsais16's 16u
// partial passes have none: L pass 0.133-0.145 -> 0.139-0.152, S pass 0.206-0.232 -> 0.212-0.220): within the noise.
#include "sais.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <type_traits>
#include <system_error>
#include <thread>
#include <vector>

#include "error.hpp"

// Diagnostic build only (-DTRACEINDEX_SAIS_DIAG): CPU seconds of the calling thread per (level, phase), printed
// to stderr after each build. A mark charges the time since the previous mark to its phase, so a level's phases
// exclude its recursion. With -DTRACEINDEX_SAIS_DIAG_WALL the marks read CLOCK_MONOTONIC instead (wall seconds of
// each phase, for the 2-thread mode, whose helper threads the thread clock does not count).
#ifdef TRACEINDEX_SAIS_DIAG
#include <cstdio>
#include <ctime>
namespace traceindex { namespace {
struct SaisDiag {
  struct Row { int depth; const char* phase; double s; };
  std::vector<Row> rows;
  double last = 0;
  int depth = 0;
#ifdef TRACEINDEX_SAIS_DIAG_WALL
  static constexpr clockid_t kClock = CLOCK_MONOTONIC;
#else
  static constexpr clockid_t kClock = CLOCK_THREAD_CPUTIME_ID;
#endif
  static double now() { timespec ts; clock_gettime(kClock, &ts); return ts.tv_sec + ts.tv_nsec * 1e-9; }
  void mark(const char* phase) {
    const double x = now();
    for (Row& r : rows) if (r.depth == depth && r.phase == phase) { r.s += x - last; last = x; return; }
    rows.push_back({depth, phase, x - last});
    last = x;
  }
  void print() {
    double total = 0;
    for (const Row& r : rows) { std::fprintf(stderr, "sais-diag level %d %-18s %.3f\n", r.depth, r.phase, r.s); total += r.s; }
    std::fprintf(stderr, "sais-diag total %.3f\n", total);
    rows.clear();
  }
} g_diag;
}}  // namespace traceindex::(anonymous)
#define SAIS_MARK(phase) g_diag.mark(phase)
#define SAIS_DEPTH(d) (g_diag.depth = (d))
#else
#define SAIS_MARK(phase) ((void)0)
#define SAIS_DEPTH(d) ((void)0)
#endif

namespace traceindex {
namespace detail {
// Levels with n below this use the flagged passes (tests lower it to cover the flag-free passes, which
// otherwise only run for Index=uint32_t with n >= 2^31-1).
uint64_t sais_flag_limit = ~uint64_t(0);
// Levels with n below this name LMS substrings during induction (tests lower it to cover the comparing namer).
uint64_t sais_name_limit = ~uint64_t(0);
// Heap bytes the reduced levels may take for bucket arrays (all ones: 7/8 of a byte per token + 64 KiB); tests
// lower it to cover the in-place fallback. sais_heap_peak: the most they held at once in the last build. The
// counters below are atomic: an index build may sort two shards at once (what they say is then the last
// build's or a mix, but never a data race).
uint64_t sais_heap_budget = ~uint64_t(0);
std::atomic<uint64_t> sais_heap_peak{0};
std::atomic<int64_t> sais_heap_unreturned{0};  // heap budget not given back at the end of the last build (must be 0)
// Naming levels with an alphabet up to this take stage1_split (tests set 0 to cover the flagged named passes).
uint64_t sais_split_limit = ~uint64_t(0);
// Levels with at least this many LMS suffixes drop unique names from their recursion (all ones: the built-in
// choice, see drop_unique; tests set a small value to take the path on every level whatever the share).
uint64_t sais_unique_min = ~uint64_t(0);
// Level 0 names its LMS substrings by hashing (stage1_hashed) while at most this many are distinct (besides the
// table's own bound); tests set 0 to cover the induced stage 1 at level 0, or small values to cover giving up.
uint64_t sais_hash_max = ~uint64_t(0);
bool sais_hash_weak = false;  // tests: long LMS substrings hashed by length and first token only (collisions)
bool sais_hash_wide = false;  // u32 tokens hashed too (bench_sais --stage1 hashed; not the default, see sais_level)
std::atomic<uint64_t> sais_hashed_levels{0};  // levels of the last build named by hashing (0 or 1)
std::atomic<uint64_t> sais_unique_dropped{0};  // LMS suffixes dropped that way in the last build, over all levels
// Block-parallel final induction at level 0 with 2 threads (induce_final_par): taken when n >= par_min and
// K <= par_k; blocks of at most par_block entries, shared by the threads in chunks of par_chunk, and blocks shorter
// than par_block_min induced in place. Tests shrink them to cross block, chunk and bucket boundaries on small texts.
uint64_t sais_par_min = uint64_t(1) << 16;
uint64_t sais_par_k = 1024;
uint64_t sais_par_block = uint64_t(1) << 16;
uint64_t sais_par_chunk = 4096;
uint64_t sais_par_block_min = 256;
std::atomic<uint64_t> sais_par_blocks{0};  // blocks induced that way in the last build
std::atomic<uint64_t> sais_split_par_blocks{0};  // blocks of stage1_split's passes induced that way (same knobs) in the last build
// levels of the last build (2 threads, n >= 2^16) whose stage1_split took count_gather4
std::atomic<uint64_t> sais_par_gathered{0};
// levels of the last build that took bucket arrays or stage1_split's workspace from the spare span (Budget)
std::atomic<uint64_t> sais_spare_levels{0};
}  // namespace detail
namespace {

template <class I> constexpr I kEmpty = std::numeric_limits<I>::max();
template <class I> constexpr I kFlag = I(1) << (8 * sizeof(I) - 1);  // borrowed top bit, see induce_l_flags
#ifndef TRACEINDEX_SAIS_PF
#define TRACEINDEX_SAIS_PF 32
#endif
constexpr unsigned kPf = TRACEINDEX_SAIS_PF;          // prefetch distance of the induction scans, in SA entries

// Inline even without -mpopcnt (the builtin is then a libgcc call).
inline uint64_t popcount64(uint64_t x) {
#if defined(__POPCNT__)
  return uint64_t(__builtin_popcountll(x));
#else
  x -= (x >> 1) & 0x5555555555555555ull;
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
  return (x * 0x0101010101010101ull) >> 56;
#endif
}
inline bool bit_at(const uint64_t* b, uint64_t i) { return (b[i >> 6] >> (i & 63)) & 1; }
inline void set_bit(uint64_t* b, uint64_t i) { b[i >> 6] |= uint64_t(1) << (i & 63); }

// Runs f0 here and f1 on a second thread (or both here when !parallel or no thread can be started).
template <class F0, class F1>
void par2(bool parallel, F0&& f0, F1&& f1) {
  if (!parallel) { f0(); f1(); return; }
  std::thread th;
  try { th = std::thread(std::ref(f1)); } catch (const std::system_error&) { f0(); f1(); return; }
  f0();
  th.join();
}

// s-type of position i-1 given t[i-1], t[i] and the type of i.
template <class T> inline bool pred_is_s(T prev, T cur, bool cur_s) {
  return uint64_t(prev) < uint64_t(cur) + cur_s;
}

// Bit j of lt / eq: t[j] < t[j+1] / t[j] == t[j+1], for j in [0, 64) (reads t[0..64]).
template <class T> inline void neighbour_masks(const T* t, uint64_t& lt, uint64_t& eq) {
#if defined(__SSE2__)
  if (sizeof(T) == 1) {
    const auto* u = reinterpret_cast<const uint8_t*>(t);
    lt = eq = 0;
    for (unsigned k = 0; k < 64; k += 16) {
      const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(u + k));
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(u + k + 1));
      const unsigned e = unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(a, b)));
      const unsigned le = unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(a, b), b)));
      eq |= uint64_t(e) << k;
      lt |= uint64_t(le & ~e & 0xffffu) << k;
    }
    return;
  }
  if (sizeof(T) == 2) {  // signed compares on sign-flipped lanes; two vectors' masks packed to bytes
    const auto* u = reinterpret_cast<const uint16_t*>(t);
    const __m128i flip = _mm_set1_epi16(int16_t(0x8000));
    lt = eq = 0;
    for (unsigned k = 0; k < 64; k += 16) {
      const __m128i a0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(u + k));
      const __m128i b0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(u + k + 1));
      const __m128i a1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(u + k + 8));
      const __m128i b1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(u + k + 9));
      const __m128i e = _mm_packs_epi16(_mm_cmpeq_epi16(a0, b0), _mm_cmpeq_epi16(a1, b1));
      const __m128i l = _mm_packs_epi16(_mm_cmplt_epi16(_mm_xor_si128(a0, flip), _mm_xor_si128(b0, flip)),
                                        _mm_cmplt_epi16(_mm_xor_si128(a1, flip), _mm_xor_si128(b1, flip)));
      eq |= uint64_t(unsigned(_mm_movemask_epi8(e))) << k;
      lt |= uint64_t(unsigned(_mm_movemask_epi8(l))) << k;
    }
    return;
  }
  if (sizeof(T) == 4) {  // the same with four vectors packed to bytes
    const auto* u = reinterpret_cast<const uint32_t*>(t);
    const __m128i flip = _mm_set1_epi32(int32_t(0x80000000u));
    lt = eq = 0;
    for (unsigned k = 0; k < 64; k += 16) {
      __m128i e[4], l[4];
      for (unsigned q = 0; q < 4; ++q) {
        const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(u + k + 4 * q));
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(u + k + 4 * q + 1));
        e[q] = _mm_cmpeq_epi32(a, b);
        l[q] = _mm_cmplt_epi32(_mm_xor_si128(a, flip), _mm_xor_si128(b, flip));
      }
      const __m128i ee = _mm_packs_epi16(_mm_packs_epi32(e[0], e[1]), _mm_packs_epi32(e[2], e[3]));
      const __m128i ll = _mm_packs_epi16(_mm_packs_epi32(l[0], l[1]), _mm_packs_epi32(l[2], l[3]));
      eq |= uint64_t(unsigned(_mm_movemask_epi8(ee))) << k;
      lt |= uint64_t(unsigned(_mm_movemask_epi8(ll))) << k;
    }
    return;
  }
#endif
  lt = eq = 0;
  for (unsigned j = 0; j < 64; ++j) {
    lt |= uint64_t(t[j] < t[j + 1]) << j;
    eq |= uint64_t(t[j] == t[j + 1]) << j;
  }
}

// S-types of 64 positions (bit j) from their neighbour masks and the type of the position above bit 63:
// a run of equal neighbours takes the type of the first unequal pair above it (a segmented scan, log steps).
inline uint64_t s_types(uint64_t lt, uint64_t eq, bool s_above) {
  uint64_t x = lt, e = eq;
  for (unsigned d = 1; d < 64; d <<= 1) {
    x |= e & (x >> d);
    e &= e >> d;
  }
  if (s_above) {  // the run of equal pairs reaching bit 63 continues into the position above
    const uint64_t ne = ~eq;
    x |= ne ? ~((uint64_t(2) << (63 - __builtin_clzll(ne))) - 1) : ~uint64_t(0);
  }
  return x;
}

// Calls f(p) for every LMS position p in [lo, hi) (lo >= 1), right to left; s = type of position hi-1.
// Types come 64 at a time from neighbour masks: no serial dependency, no unpredictable branch per token.
template <class T, class I, class F>
inline void lms_range(const T* t, I lo, I hi, bool s, F&& f) {
  I i = hi - 1;  // s is the type of i
  for (; i >= lo + 64; i -= 64) {
    const I b = i - 64;
    uint64_t lt, eq;
    neighbour_masks(t + b, lt, eq);
    const uint64_t S = s_types(lt, eq, s);
    if (s && !(S >> 63)) f(i);
    for (uint64_t lms = S & ~(S << 1) & ~uint64_t(1); lms; lms &= ~(uint64_t(1) << (63 - __builtin_clzll(lms))))
      f(b + I(63 - __builtin_clzll(lms)));
    s = S & 1;
  }
  for (; i >= lo; --i) {
    bool sp = pred_is_s(t[i - 1], t[i], s);
    if (s && !sp) f(i);
    s = sp;
  }
}
template <class T, class I, class F>
inline void for_each_lms_backward(const T* t, I n, F&& f) { lms_range(t, I(1), n, false, f); }  // t[n-1] is L

// Type of position i (S: the next different token is larger; L if the run reaches the end).
template <class T, class I> bool s_type_at(const T* t, I n, I i) {
  for (I k = i + 1; k < n; ++k)
    if (t[k] != t[i]) return t[k] > t[i];
  return false;
}

constexpr uint64_t kParallelMin = uint64_t(1) << 16;  // smaller levels run single-threaded

template <class T, class I> __attribute__((always_inline)) inline void prefetch_pred(const T* t, I j, I nm1) {
  I jm = j - 1;
  __builtin_prefetch(t + (jm < nm1 ? jm : 0));
}

// Drives a flagged induction scan: step(i) for every i (forward: L pass, inducing from unflagged entries;
// backward: S pass, from flagged ones). Only entries that will induce are prefetched (others point the prefetch
// at t[0], always cached): the predecessor's token of sa[i +- 2*kPf]. (A second stage, the bucket pointer and
// naming id of sa[i +- kPf] for wide tokens, was silently deleted by GCC, the call being taken for pure; made
// live it cost 10-20 % in the u16 final passes, so it is gone.) Measured against libsais's final scans and not
// kept (docs/benchmarks.md, "Final induction and reduced levels, one thread"): the bucket-pointer stage again, only
// on levels with K >= 2^18 (libsais's 32s passes have it; the reduced levels' pointer arrays, 2.4-6 MB, outgrow
// L2): their final passes 0.57-0.61 -> 0.64-0.72 CPU s on prose; pred() branch-free (one unsigned compare on the
// flag-adjusted entry, as libsais's cmov): within the noise; the text prefetch 128 entries ahead on u32 texts
// (libsais's 32s distance) instead of 64: within the noise. Per entry the loop matches libsais's (its extra
// store per entry and second text prefetch aside): both stall on the prefetch once the fill buffers are full.
template <bool kForward, class T, class I, class Step>
inline void flagged_scan(const T* t, const I* sa, I n, I mask, Step&& step) {
  const I nm1 = n - 1;
  auto pred = [&](I v) -> I {  // position of the predecessor to read, or 0 when v does not induce
    I jm = (v & mask) - 1;
    bool induces = kForward ? !(v & kFlag<I>) : (v & kFlag<I>) != 0;
    return induces && jm < nm1 ? jm : 0;
  };
  if (kForward) {
    I i = 0;
    for (; i + 2 * kPf < n; ++i) {
      __builtin_prefetch(t + pred(sa[i + 2 * kPf]));
      step(i);
    }
    for (; i < n; ++i) step(i);
  } else {
    I i = n;
    for (; i > 2 * kPf;) {
      --i;
      __builtin_prefetch(t + pred(sa[i - 2 * kPf]));
      step(i);
    }
    while (i > 0) step(--i);
  }
}

// One induction scan over sa (forward for L, backward for S): commit(i, j, c1, c0) for every entry j = sa[i]
// in [1, n-1], with c1 = t[j-1], c0 = t[j] prefetched kPf entries ahead. (A 2-thread pipelined variant, a helper
// gathering the symbols of the next block, was measured 1.5-2x slower here: both cores then touch every line of
// sa, and the coherence traffic outweighs the split of the random text reads.)
template <bool kForward, class T, class I, class Commit>
void induction_scan(const T* t, I* sa, I n, Commit&& commit) {
  const I nm1 = n - 1;
  if (kForward) {
    I i = 0;
    for (; i + kPf < n; ++i) {
      prefetch_pred(t, sa[i + kPf], nm1);
      I j = sa[i];
      if (j - 1 < nm1) commit(i, j, t[j - 1], t[j]);
    }
    for (; i < n; ++i) {
      I j = sa[i];
      if (j - 1 < nm1) commit(i, j, t[j - 1], t[j]);
    }
  } else {
    I i = n;
    for (; i > kPf;) {
      --i;
      prefetch_pred(t, sa[i - kPf], nm1);
      I j = sa[i];
      if (j - 1 < nm1) commit(i, j, t[j - 1], t[j]);
    }
    while (i > 0) {
      I j = sa[--i];
      if (j - 1 < nm1) commit(i, j, t[j - 1], t[j]);
    }
  }
}

// L pass. With kClear, an entry whose predecessor was induced is emptied (stage 1: the S pass only needs
// L suffixes preceded by an S suffix).
template <class T, class I, bool kClear>
void induce_l(const T* t, I* sa, I n, I* P) {
  sa[P[t[n - 1]]++] = n - 1;  // induced by the virtual sentinel
  induction_scan<true>(t, sa, n, [&](I i, I j, T c1, T c0) {
    if (c1 >= c0) {
      sa[P[c1]++] = j - 1;
      if (kClear) sa[i] = kEmpty<I>;
    }
  });
}

template <class T, class I, bool kClear>
void induce_s(const T* t, I* sa, I n, I* P) {
  induction_scan<false>(t, sa, n, [&](I i, I j, T c1, T c0) {
    if (c1 < c0 || (c1 == c0 && i >= P[c0])) {
      sa[--P[c1]] = j - 1;
      if (kClear) sa[i] = kEmpty<I>;
    }
  });
}

// The same passes with the top bit of an entry as "predecessor is S" (only when every position < 2^(bits-1)-1,
// so the empty value, which has the bit set, is never a flagged position). The flag is computed when the
// entry is written, from t[j-2] next to the t[j-1] just read, so an entry whose predecessor is not induced in
// a pass costs no random text access there. L pass: induce unflagged entries. S pass: induce flagged entries
// and write the entry back unflagged (final) or empty it (stage 1); unflagged S entries left by stage 1 are
// exactly the LMS suffixes.

// One entry v of a flagged L pass: induces iff unflagged (empty slots carry the flag); c1 = t[v-1] and x = the
// entry to write at P[c1]++, flagged when v-2 is S.
template <class T, class I> inline bool l_induces(const T* t, I v, T& c1, I& x) {
  if (v & kFlag<I>) return false;
  const I jm = v - 1;
  c1 = t[jm];
  x = jm | (jm == 0 || t[jm - 1] < c1 ? kFlag<I> : 0);
  return true;
}
// One flagged entry v of a flagged S pass: induces iff 1 <= j < n (j = v unflagged); c1 and x (for --P[c1]) as above.
template <class T, class I> inline bool s_induces(const T* t, I v, I nm1, T& c1, I& x) {
  const I jm = (v ^ kFlag<I>) - 1;
  if (!(jm < nm1)) return false;  // j = 0 wraps
  c1 = t[jm];
  x = jm | (jm > 0 && t[jm - 1] <= c1 ? kFlag<I> : 0);
  return true;
}

template <class T, class I> inline void induce_from_sentinel(const T* t, I* sa, I n, I* P) {
  const I nm1 = n - 1;
  sa[P[t[nm1]]++] = nm1 | (t[nm1 - 1] < t[nm1] ? kFlag<I> : 0);
}

template <class T, class I, bool kClear>
void induce_l_flags(const T* t, I* sa, I n, I* P) {
  induce_from_sentinel(t, sa, n, P);
  auto step = [&](I i) {
    T c1;
    I x;
    if (l_induces(t, sa[i], c1, x)) {
      sa[P[c1]++] = x;
      if (kClear) sa[i] = kEmpty<I>;
    }
  };
  flagged_scan<true>(t, sa, n, I(~kFlag<I>), step);
}

template <class T, class I, bool kClear>
void induce_s_flags(const T* t, I* sa, I n, I* P) {
  const I nm1 = n - 1;
  auto step = [&](I i) {
    I v = sa[i];
    if (v & kFlag<I>) {
      T c1;
      I x;
      if (s_induces(t, v, nm1, c1, x)) sa[--P[c1]] = x;
      sa[i] = kClear ? kEmpty<I> : v ^ kFlag<I>;
    }
  };
  flagged_scan<false>(t, sa, n, I(~kFlag<I>), step);
}

// A second thread kept for a run of short jobs (the blocks of one induction pass). share(f, nc) runs f(0) ..
// f(nc-1), each chunk on whichever thread claims it first, and returns when all are done: when the helper is
// descheduled (a shared machine), the caller takes its chunks and waits at most for one in progress. The claim
// word holds (job, chunk count, next chunk): a helper that wakes late cannot claim a finished job's chunks, and it
// reads the job only after its claim succeeded (the caller changes it only once every claimed chunk is done).
class Helper {
 public:
  Helper() {
    try { th_ = std::thread([this] { loop(); }); } catch (const std::system_error&) {}
  }
  ~Helper() {
    if (!th_.joinable()) return;
    stop_.store(true);
    wake();
    th_.join();
  }
  template <class F> void share(F& f, unsigned nc) {
    if (!th_.joinable() || nc < 2) { for (unsigned c = 0; c < nc; ++c) f(c); return; }
    fn_ = [](void* a, unsigned c) { (*static_cast<F*>(a))(c); };
    arg_ = &f;
    finished_.store(0);
    claim_.store((++job_ << 32) | (uint64_t(nc) << 16));
    wake();
    unsigned mine = 0;
    for (unsigned c; claim(c);) { f(c); ++mine; }
    finished_.fetch_add(mine);
    wait([&] { return finished_.load() == nc; });
  }

 private:
  bool claim(unsigned& c) {
    uint64_t x = claim_.load();
    while ((x & 0xffff) < ((x >> 16) & 0xffff))
      if (claim_.compare_exchange_weak(x, x + 1)) { c = unsigned(x & 0xffff); return true; }
    return false;
  }
  bool open() const { const uint64_t x = claim_.load(); return (x & 0xffff) < ((x >> 16) & 0xffff); }
  template <class Ready> void wait(Ready&& ready) {
    for (int k = 0; k < 4000; ++k) {
      if (ready()) return;
#if defined(__SSE2__)
      _mm_pause();
#endif
    }
    std::unique_lock<std::mutex> lk(mu_);
    sleepers_.fetch_add(1);  // seq_cst against the waker's store then load: one of the two sees the other
    cv_.wait(lk, ready);
    sleepers_.fetch_sub(1);
  }
  void wake() {
    if (sleepers_.load() == 0) return;
    std::lock_guard<std::mutex> lk(mu_);
    cv_.notify_all();
  }
  void loop() {
    for (;;) {
      wait([&] { return stop_.load() || open(); });
      if (stop_.load()) return;
      for (unsigned c; claim(c);) {
        fn_(arg_, c);
        finished_.fetch_add(1);
        wake();
      }
    }
  }
  std::thread th_;
  void (*fn_)(void*, unsigned) = nullptr;
  void* arg_ = nullptr;
  uint64_t job_ = 0;  // the caller's only
  std::atomic<uint64_t> claim_{0};
  std::atomic<unsigned> finished_{0};
  std::atomic<bool> stop_{false};
  std::atomic<int> sleepers_{0};
  std::mutex mu_;
  std::condition_variable cv_;
};

#if defined(__SSE2__)
// Whether the 64 bytes at p hold an all-ones 32-bit word (a filter: an empty slot has one, the caller checks entries).
inline bool maybe_empty64(const void* p) {
  const __m128i ones = _mm_set1_epi32(-1);
  const __m128i* q = static_cast<const __m128i*>(p);
  const __m128i e0 = _mm_or_si128(_mm_cmpeq_epi32(_mm_loadu_si128(q), ones), _mm_cmpeq_epi32(_mm_loadu_si128(q + 1), ones));
  const __m128i e1 = _mm_or_si128(_mm_cmpeq_epi32(_mm_loadu_si128(q + 2), ones), _mm_cmpeq_epi32(_mm_loadu_si128(q + 3), ones));
  return _mm_movemask_epi8(_mm_or_si128(e0, e1)) != 0;
}
#endif

// Ends of a run of non-empty entries: the first empty slot in [a, b) (b if none), and the start of the run that
// ends at b within [a, b) (a if no empty). 64 bytes at a time, then entry by entry.
template <class I> I next_empty(const I* sa, I a, I b) {
  constexpr I kV = I(64 / sizeof(I));
  while (a < b) {
#if defined(__SSE2__)
    while (a + kV <= b && !maybe_empty64(sa + a)) a += kV;
#endif
    for (const I end = b - a > kV ? a + kV : b; a < end; ++a)
      if (sa[a] == kEmpty<I>) return a;
  }
  return b;
}
template <class I> I run_start(const I* sa, I a, I b) {
  constexpr I kV = I(64 / sizeof(I));
  while (b > a) {
#if defined(__SSE2__)
    while (b - a >= kV && !maybe_empty64(sa + b - kV)) b -= kV;
#endif
    for (const I end = b - a > kV ? b - kV : a; b > end; --b)
      if (sa[b - 1] == kEmpty<I>) return b;
  }
  return a;
}

template <class I> void fill_empty(I* first, I* last, bool par) {
  I* mid = first + (last - first) / 2;
  par2(par, [&] { std::fill(first, mid, kEmpty<I>); }, [&] { std::fill(mid, last, kEmpty<I>); });
}

// Scans sa[lo, hi) as runs of non-empty slots in scan order: runs of at least bmin entries (at most blk) go whole
// to block(b0, b1), shorter ones entry by entry to one(i) (which may fill the empty slot ending the run: re-read).
template <bool kForward, class I, class One, class Block>
void for_runs(const I* sa, I lo, I hi, uint64_t blk, uint64_t bmin, One&& one, Block&& block) {
  if (kForward) {
    for (I i = lo; i < hi;) {
      if (sa[i] == kEmpty<I>) { ++i; continue; }
      const I lim = I(std::min<uint64_t>(hi, uint64_t(i) + blk));
      const I e = next_empty(sa, I(i + 1), lim);
      if (e - i < bmin) { for (; i < e; ++i) one(i); continue; }
      block(i, e);
      i = e;
    }
  } else {
    for (I i = hi; i > lo;) {  // next to scan: i-1
      if (sa[i - 1] == kEmpty<I>) { --i; continue; }
      const I lim = i - lo > blk ? I(i - blk) : lo;
      const I e = run_start(sa, lim, I(i - 1));
      if (i - e < bmin) { while (i > e) one(--i); continue; }
      block(e, i);
      i = e;
    }
  }
}

// Block-parallel final induction (flagged passes, 2 threads; libsais's gather/place idea, our code). A block is a
// run of non-empty slots in scan order: every slot a pass writes is empty until written (the S pass's after
// clear_s_parts), so no entry of the block is written while the block is scanned, and its entries are final.
// Gather: the block's chunks (shared by the two threads) read their entries and the predecessors' symbols (the
// random text reads) into lists of (symbol, entry to write) and per-symbol counts, unflagging in place in the S
// pass. Place: the counts, summed in scan order, give each chunk its own cursors, so chunks place on both threads
// too (small alphabets only: O(K) per chunk). Blocks shorter than sais_par_block_min entries are induced in place.
// Buffer: one list entry per block entry (8 or 16 bytes: 512 KiB or 1 MiB at the default block), K counts per chunk.
template <bool kForward, class T, class I>
void induce_final_par(const T* t, I* sa, I n, I K, I* P, Helper& hp) {
  const I nm1 = n - 1;
  const uint64_t blk = std::max<uint64_t>(2, detail::sais_par_block);
  const uint64_t bmin = std::max<uint64_t>(2, detail::sais_par_block_min);
  const uint64_t csz = std::max<uint64_t>({1, detail::sais_par_chunk, blk / 0xffff + 1});  // < 2^16 chunks a block
  const size_t cap = size_t(std::min<uint64_t>(blk, n)), maxc = size_t((cap + csz - 1) / csz);
  struct Induced { I c, x; };
  std::vector<Induced> lists(cap);
  std::vector<I> len(maxc), counts(maxc * size_t(K));
  I lo = 0, hi = 0;  // the block [lo, hi); chunk 0 is scanned first
  unsigned nc = 0;
  uint64_t blocks = 0;
  // v's entry to write at its predecessor's bucket (S pass: also v unflagged at i); false when v does not induce
  auto one = [&](I i, T& c1, I& x) {
    const I v = sa[i];
    if (kForward) return l_induces(t, v, c1, x);
    if (!(v & kFlag<I>)) return false;
    sa[i] = v ^ kFlag<I>;
    return s_induces(t, v, nm1, c1, x);
  };
  auto pred = [&](I v) -> const T* {  // predecessor to prefetch (t[0] when v does not induce)
    const I jm = (v & ~kFlag<I>) - 1;
    const bool ind = kForward ? !(v & kFlag<I>) : (v & kFlag<I>) != 0;
    return t + (ind && jm < nm1 ? jm : 0);
  };
  auto gather = [&](unsigned ch) {
    const I span = hi - lo, off = I(std::min<uint64_t>(span, ch * csz)), end = I(std::min<uint64_t>(span, (ch + 1) * csz));
    Induced* o = lists.data() + off;
    I* C = counts.data() + ch * size_t(K);
    std::fill(C, C + K, I(0));
    I m = 0;
    auto put = [&](I i) {
      T c1;
      I x;
      if (!one(i, c1, x)) return;
      o[m++] = {I(c1), x};
      ++C[c1];
    };
    if (kForward) {  // entries lo + [off, end)
      I i = lo + off;
      const I b = lo + end;
      for (; i + kPf < b; ++i) { __builtin_prefetch(pred(sa[i + kPf])); put(i); }
      for (; i < b; ++i) put(i);
    } else {  // entries hi - [off, end), downwards
      I i = hi - off;
      const I a = hi - end;
      for (; i > a + kPf;) { --i; __builtin_prefetch(pred(sa[i - kPf])); put(i); }
      while (i > a) put(--i);
    }
    len[ch] = m;
  };
  auto place = [&](unsigned ch) {  // with the chunk's cursors
    const Induced* o = lists.data() + size_t(std::min<uint64_t>(hi - lo, ch * csz));
    I* cur = counts.data() + ch * size_t(K);
    for (I q = 0; q < len[ch]; ++q) {
      if (kForward) sa[cur[o[q].c]++] = o[q].x;
      else sa[--cur[o[q].c]] = o[q].x;
    }
  };
  auto block = [&] {
    nc = unsigned((uint64_t(hi - lo) + csz - 1) / csz);
    ++blocks;
    hp.share(gather, nc);
    for (I c = 0; c < K; ++c) {  // per-chunk counts -> cursors
      I base = P[c];
      for (unsigned ch = 0; ch < nc; ++ch) {
        I& x = counts[ch * size_t(K) + c];
        const I cnt = x;
        x = base;
        base = kForward ? base + cnt : base - cnt;
      }
      P[c] = base;
    }
    hp.share(place, nc);
  };
  auto step = [&](I i) {  // one entry in place (short blocks)
    T c1;
    I x;
    if (one(i, c1, x)) {
      if (kForward) sa[P[c1]++] = x;
      else sa[--P[c1]] = x;
    }
  };
  if (kForward) induce_from_sentinel(t, sa, n, P);
  for_runs<kForward>(sa, I(0), n, blk, bmin, step, [&](I b0, I b1) { lo = b0; hi = b1; block(); });
  detail::sais_par_blocks += blocks;
}

// Before a block-parallel final S pass: the S parts of the buckets [P[c], B[c+1]) (P = L pass's ends) emptied.
// They hold only the LMS seeds, which the S pass writes again.
template <class I> void clear_s_parts(I* sa, const I* B, const I* P, I K) {
  for (I c = 0; c < K; ++c) std::fill(sa + P[c], sa + B[c + 1], kEmpty<I>);
}

// Naming during induction (levels with n < 2^(bits-2), bucket starts known and K entries of room for LD).
// A second borrowed bit, kMark, records group boundaries: a group is a run of entries whose prefixes up to the
// next LMS position are equal (as strings and types). Group ids d grow along each scan; LD[c] holds the id of the
// group that last induced into bucket c, so an induced entry is marked iff LD[c] differs from the scanning d.
//   * L pass (left to right): a mark means "differs from the entry on the left". Seeds: first of each bucket.
//   * shift_marks_l turns each L part into right-neighbour marks and drops entries whose predecessor is L,
//     folding their marks into the next kept entry: the S pass then sees every group boundary exactly once.
//   * S pass (right to left): a mark means "differs from the entry on the right"; an emptied entry keeps its
//     mark, so after the pass the marks between two surviving LMS suffixes say whether their substrings differ.
// Empty slots here hold kEmptyN: flagged (skipped by the L pass), unmarked, position bits never a position.
// Measured against libsais and not kept (docs/benchmarks.md): LD interleaved with P per symbol (one cache line
// per induced entry on the reduced levels), and branch-free steps (a non-inducing entry reading t[0] and
// writing to a sink): no gain, and 3-10 % slower.
template <class I> constexpr unsigned kMarkBit = 8 * sizeof(I) - 2;
template <class I> constexpr I kMark = I(1) << kMarkBit<I>;
template <class I> constexpr I kPos = kMark<I> - 1;
template <class I> constexpr I kEmptyN = kFlag<I> | kPos<I>;
template <class I> inline I mark_of(I v) { return (v >> kMarkBit<I>) & 1; }

template <class T, class I>
I induce_l_named(const T* t, I* sa, I n, I K, I* P, I* LD) {
  const I nm1 = n - 1;
  std::fill(LD, LD + K, I(0));
  I d = 1;  // the virtual sentinel's group
  const T cl = t[nm1];
  sa[P[cl]++] = nm1 | (t[nm1 - 1] < cl ? kFlag<I> : 0) | kMark<I>;
  LD[cl] = d;
  auto step = [&](I i) {
    I v = sa[i];
    d += mark_of(v);  // empty slots here only separate different groups, so counting them is harmless
    if (!(v & kFlag<I>)) {
      I jm = (v & kPos<I>) - 1;
      T c1 = t[jm];
      bool f = jm == 0 || t[jm - 1] < c1;
      I mk = LD[c1] != d ? kMark<I> : 0;
      LD[c1] = d;
      sa[P[c1]++] = jm | (f ? kFlag<I> : 0) | mk;
    }
  };
  flagged_scan<true>(t, sa, n, kPos<I>, step);
  return d;
}

// L parts [B[c], P[c]): keep entries with an S predecessor, marked against their right neighbour.
template <class I> void shift_marks_l(I* sa, const I* B, const I* P, I K) {
  for (I c = 0; c < K; ++c) {
    I s = 1;  // a boundary lies to the right of the bucket's L part
    for (I i = P[c]; i-- > B[c];) {
      I v = sa[i];
      if (v & kFlag<I>) { sa[i] = (v & ~kMark<I>) | (s << kMarkBit<I>); s = mark_of(v); }
      else { s |= mark_of(v); sa[i] = kEmptyN<I>; }
    }
  }
}

template <class T, class I>
void induce_s_named(const T* t, I* sa, I n, I K, I* P, I* LD, I d) {
  const I nm1 = n - 1;
  std::fill(LD, LD + K, I(0));
  auto step = [&](I i) {
    I v = sa[i];
    d += mark_of(v);
    if (v & kFlag<I>) {
      I j = v & kPos<I>;
      if (j - 1 < nm1) {
        I jm = j - 1;
        T c1 = t[jm];
        bool f = jm > 0 && t[jm - 1] <= c1;
        I mk = LD[c1] != d ? kMark<I> : 0;
        LD[c1] = d;
        sa[--P[c1]] = jm | (f ? kFlag<I> : 0) | mk;
      }
      sa[i] = kEmptyN<I> | (v & kMark<I>);  // scanned slots are never written again: the mark stays readable
    }
  };
  flagged_scan<false>(t, sa, n, kPos<I>, step);
}

// Survivors of induce_s_named (unflagged, position > 0: the LMS suffixes) to sa[0, m), each marked when its
// substring differs from the previous one's (some mark lies between them). The seed count m is known already.
template <class I> void compact_named(I* sa, I n) {
  I k = 0, acc = 1;
  for (I i = 0; i < n; ++i) {
    I v = sa[i];
    if (!(v & kFlag<I>) && (v & kPos<I>)) { sa[k++] = (v & kPos<I>) | (acc << kMarkBit<I>); acc = mark_of(v); }
    else acc |= mark_of(v);
  }
}

// Names from the marks of sa[0, m) into the slots sa[m + p/2] (empty), marks stripped; returns the count.
// G (optional, zeroed): bit i set when rank i starts a new name (halves split at a multiple of 64: no shared word).
template <class I> I assign_names(I* sa, I m, bool par, uint64_t* G) {
  I* slot = sa + m;
  auto run = [&](I lo, I hi, I names) {
    I i = lo;
    for (; i < hi; ++i) {
      if (i + kPf < hi) __builtin_prefetch(slot + ((sa[i + kPf] & kPos<I>) >> 1), 1);
      I v = sa[i], p = v & kPos<I>;
      if (G && mark_of(v)) set_bit(G, i);
      names += mark_of(v);
      sa[i] = p;
      slot[p >> 1] = names - 1;
    }
    return names;
  };
  if (!par) return run(0, m, 0);
  const I mid = (m / 2) & ~I(63);
  I before = 0, total = 0;
  for (I i = 0; i < mid; ++i) before += mark_of(sa[i]);  // before the left half strips its marks
  par2(true, [&] { run(0, mid, 0); }, [&] { total = run(mid, m, before); });
  return total;
}

// One pass of stage1_split over sa[lo, hi) (forward: L pass, cursors P[v]++; backward: S pass, --P[v]), every
// entry inducing: its predecessor jm goes to sub-bucket v = 2 t[jm] + (jm-1 is L: >= forward, > backward), marked
// when v's last induced entry came from another group. Two entries a step (the S pass over 52 M entries of
// prose: 0.62-0.64 -> 0.48 CPU s; the L pass does not change). Returns d.
template <bool kForward, class T, class I> inline bool split_pred(const T* t, I x, I& d, I& v, I& jm) {
  d += mark_of(x);
  jm = (x & kPos<I>) - 1;
  const T c1 = t[jm];
  if (jm == 0) return false;  // position 0 has no sub-bucket
  const T c2 = t[jm - 1];
  v = 2 * I(c1) + (kForward ? c2 >= c1 : c2 > c1);
  return true;
}
template <bool kForward, class T, class I>
I split_scan(const T* t, I* sa, I lo, I hi, I nm1, I* P, I* LD, I d) {
  auto step = [&](I x) {
    I v, jm;
    if (!split_pred<kForward>(t, x, d, v, jm)) return;
    const I mk = LD[v] != d ? kMark<I> : 0;
    LD[v] = d;
    sa[kForward ? P[v]++ : --P[v]] = jm | mk;
  };
  // text at 2 kPf entries ahead; wide tokens: sub-bucket cursors at kPf. Inlined by force: GCC otherwise takes
  // the call, whose effects are only prefetches, for a pure function and deletes it.
  auto ahead = [&](I i2, I i1) __attribute__((always_inline)) {
    const I jp = (sa[i2] & kPos<I>) - 1;
    __builtin_prefetch(t + (jp < nm1 ? jp : 0));
    if (sizeof(T) > 1) {
      const I jm = (sa[i1] & kPos<I>) - 1;  // slots ahead may not be written yet: any value
      const I v = 2 * I(t[jm < nm1 ? jm : 0]);
      __builtin_prefetch(P + v, 1);
      __builtin_prefetch(LD + v, 1);
    }
  };
  if (kForward) {
    I i = lo;
    for (; i + 2 * kPf + 1 < hi; i += 2) {
      ahead(i + 2 * kPf, i + kPf);
      ahead(i + 2 * kPf + 1, i + kPf + 1);
      step(sa[i]);
      step(sa[i + 1]);  // read after step(sa[i]), which may have written it
    }
    for (; i < hi; ++i) step(sa[i]);
  } else {
    I i = hi;
    for (; i > lo + 2 * kPf + 1; i -= 2) {
      ahead(i - 2 * kPf - 1, i - kPf - 1);
      ahead(i - 2 * kPf - 2, i - kPf - 2);
      step(sa[i - 1]);
      step(sa[i - 2]);
    }
    while (i > lo) step(sa[--i]);
  }
  return d;
}

// split_scan on two threads (level 0, small alphabets): induce_final_par's blocks, chunks, gather and place, with
// the naming marks. Every slot the pass writes must hold kEmpty until then (stage1_split clears sa first), so a
// block (a run of non-empty slots) is never written while it is scanned. Gather records (sub-bucket, entry, group
// id within the chunk) and, per chunk, the marks it counted and the last group id per sub-bucket; summed in scan
// order these give each chunk its cursors, its first group id and the id each sub-bucket last saw before it.
template <bool kForward, class T, class I>
I split_scan_par(const T* t, I* sa, I lo, I hi, I nm1, I K2, I* P, I* LD, I d, Helper& hp) {
  const uint64_t blk = std::max<uint64_t>(2, detail::sais_par_block);
  const uint64_t bmin = std::max<uint64_t>(2, detail::sais_par_block_min);
  const uint64_t csz = std::max<uint64_t>({1, detail::sais_par_chunk, blk / 0xffff + 1});  // < 2^16 chunks a block
  const size_t cap = size_t(std::min<uint64_t>(blk, hi - lo + 1)), maxc = size_t((cap + csz - 1) / csz);
  struct Rec { I v, x, dl; };
  std::vector<Rec> lists(cap);
  std::vector<I> len(maxc), marks(maxc), base(maxc), counts(maxc * size_t(K2)), last(maxc * size_t(K2));
  I b0 = 0, b1 = 0;
  uint64_t blocks = 0;
  auto gather = [&](unsigned ch) {
    const I span = b1 - b0, off = I(std::min<uint64_t>(span, ch * csz)), end = I(std::min<uint64_t>(span, (ch + 1) * csz));
    Rec* o = lists.data() + off;
    I* C = counts.data() + ch * size_t(K2);
    I* L = last.data() + ch * size_t(K2);
    std::fill(C, C + K2, I(0));
    I m = 0, dl = 0;
    auto put = [&](I i) {
      I v, jm;
      if (!split_pred<kForward>(t, sa[i], dl, v, jm)) return;
      o[m++] = {v, jm, dl};
      ++C[v];
      L[v] = dl;
    };
    auto ahead = [&](I i) { const I jp = (sa[i] & kPos<I>) - 1; return t + (jp < nm1 ? jp : 0); };
    if (kForward) {  // entries b0 + [off, end)
      I i = b0 + off;
      const I b = b0 + end;
      for (; i + kPf < b; ++i) { __builtin_prefetch(ahead(i + kPf)); put(i); }
      for (; i < b; ++i) put(i);
    } else {  // entries b1 - [off, end), downwards
      I i = b1 - off;
      const I a = b1 - end;
      for (; i > a + kPf;) { --i; __builtin_prefetch(ahead(i - kPf)); put(i); }
      while (i > a) put(--i);
    }
    len[ch] = m;
    marks[ch] = dl;
  };
  auto place = [&](unsigned ch) {
    const Rec* o = lists.data() + size_t(std::min<uint64_t>(b1 - b0, ch * csz));
    I* cur = counts.data() + ch * size_t(K2);
    I* ld = last.data() + ch * size_t(K2);
    for (I q = 0; q < len[ch]; ++q) {
      const Rec r = o[q];
      const I dd = base[ch] + r.dl, mk = ld[r.v] != dd ? kMark<I> : 0;
      ld[r.v] = dd;
      sa[kForward ? cur[r.v]++ : --cur[r.v]] = r.x | mk;
    }
  };
  auto block = [&](I x0, I x1) {
    b0 = x0;
    b1 = x1;
    const unsigned nc = unsigned((uint64_t(b1 - b0) + csz - 1) / csz);
    ++blocks;
    hp.share(gather, nc);
    for (unsigned ch = 0; ch < nc; ++ch) { base[ch] = d; d += marks[ch]; }
    for (I v = 0; v < K2; ++v) {  // per chunk: counts -> cursors, last group ids -> the id v saw before the chunk
      I at = P[v], seen = LD[v];
      for (unsigned ch = 0; ch < nc; ++ch) {
        I& c = counts[ch * size_t(K2) + v];
        I& l = last[ch * size_t(K2) + v];
        const I cnt = c, lv = l;
        c = at;
        l = seen;
        at = kForward ? at + cnt : at - cnt;
        if (cnt) seen = base[ch] + lv;
      }
      P[v] = at;
      LD[v] = seen;
    }
    hp.share(place, nc);
  };
  auto one = [&](I i) {
    I v, jm;
    if (!split_pred<kForward>(t, sa[i], d, v, jm)) return;
    const I mk = LD[v] != d ? kMark<I> : 0;
    LD[v] = d;
    sa[kForward ? P[v]++ : --P[v]] = jm | mk;
  };
  for_runs<kForward>(sa, lo, hi, blk, bmin, one, block);
  detail::sais_split_par_blocks += blocks;
  return d;
}

template <class T, class I>
void count_buckets(const T* t, I n, I K, I* B) {  // B[0..K] = bucket starts, B[K] = n
  std::fill(B, B + K + 1, I(0));
  for (I i = 0; i < n; ++i) ++B[t[i]];
  I sum = 0;
  for (I c = 0; c <= K; ++c) { I x = B[c]; B[c] = sum; sum += x; }
}

// Stage 1's count with one thread: W[4 t[i] + 2 type(i) + type(i-1)] for i in [1, n) (the bucket sizes and the
// split counts in one pass; kPrefetch: W's lines prefetched, for K beyond the caches), and the LMS positions
// gathered, decreasing, to sa[n-m, n) (written at every step, kept by moving g on an LMS), so that seeding needs no
// second pass over the text. One type chain, every variable local (libsais's count-and-gather, our code).
// Measured against it: two chains interleaved with a 2K table each, their lists moved together afterwards, and the
// bucket sizes from a separate pass: level 0 of 100 MB of prose 0.20 + 0.06 s, this one 0.21 s.
template <bool kPrefetch, class T, class I> void count_gather4(const T* t, I* sa, I n, I* W) {
  constexpr I kD = 2 * kPf;
  I g = n;
  uint64_t s = 0, c0 = t[n - 1];  // n-1 is L
  for (I i = n - 1; i >= 1; --i) {
    if (kPrefetch) __builtin_prefetch(W + 4 * size_t(t[i > kD ? i - kD : 0]), 1);
    const uint64_t c1 = t[i - 1], sp = c1 < c0 + s;
    ++W[4 * c0 + 2 * s + sp];
    sa[g - 1] = i;
    g -= s & (sp ^ 1);
    s = sp;
    c0 = c1;
  }
}

// Stage 1 with split sub-buckets (levels that name during induction, with 4K entries of workspace): each bucket
// c is split by the type of the predecessor. Region A = [0, a) holds, bucket by bucket, the suffixes whose
// predecessor is L (L suffixes first, then the LMS seeds); region B = [a, n-1) holds those whose predecessor is
// S (L suffixes first, then S suffixes). Position 0 (no predecessor) is left out. Every entry of A induces in the
// L pass and every entry of B in the S pass, so each pass scans only its region, with no flag test and no empty
// slot (sa need not be cleared); the S pass writes the induced LMS suffixes straight to sa[0, m) in sorted order.
// Marks name on the way as in induce_l_named, one naming id per sub-bucket: in the L pass a mark means "differs
// from the previous entry of its sub-bucket"; B's L parts are shifted to "differs from the next one" for the S
// pass, whose marks (and those of sa[0, m) after it) mean "differs from the next entry".
// W: 4K entries, PL = W[0, 2K) (sub-bucket pointers, 2c + 1 = A_c / LMS, 2c = B_c), LD = W[2K, 4K). Needs the
// bucket starts B (count_b: B still to count, done here); fills LC. Returns m.
template <class T, class I>
I stage1_split(const T* t, I* sa, I n, I K, I* B, bool count_b, I* W, I* LC, I& lms1, I& m_hi, I h, bool par, bool s_h,
               bool par_passes) {
  I* PL = W;
  I* LD = W + 2 * size_t(K);
  auto count = [&](I lo, I hi, bool s, I* c2) {  // i in [lo, hi), s = type of hi-1: pred L -> c2[2 t[i] + type(i)]
    for (I i = hi - 1; i >= lo; --i) {
      bool sp = pred_is_s(t[i - 1], t[i], s);
      c2[2 * size_t(t[i]) + s] += !sp;
      s = sp;
    }
  };
  // count_gather4 unless the count runs on two threads (K <= 65536) or par_passes (it clears sa before seeding).
  // On the reduced levels with 2 threads it replaces a bucket count, an unprefetched count and a second pass over
  // the text to seed (Linux C, reduced levels' count and seeding: 0.41-0.47 -> 0.22-0.26 s wall); on u16 level 0
  // (K = 65536) the two-thread count stays (count_gather4 there: 0.16-0.17 -> 0.17-0.20 s with seeding)
  const bool gathered = !par_passes && !(par && K <= 65536);
  if (count_b && !gathered) count_buckets(t, n, K, B);
  if (!gathered) std::fill(PL, PL + 2 * size_t(K), I(0));
  if (par && K <= 65536) {
    std::vector<I> right(2 * size_t(K), 0);
    par2(true, [&] { count(I(1), h, s_h, PL); }, [&] { count(h, n, false, right.data()); });
    for (size_t c = 0; c < 2 * size_t(K); ++c) PL[c] += right[c];
  } else if (gathered) {
    // one table of four counters per symbol (count_gather4); B (count_b) and the two pred-L counts come from it
    if (par) ++detail::sais_par_gathered;
    std::fill(W, W + 4 * size_t(K), I(0));
    if (K > 65536) count_gather4<true>(t, sa, n, W);
    else count_gather4<false>(t, sa, n, W);
    I sum = 0;
    for (I c = 0; c < K; ++c) {  // PL[2c + type] over W[4c..4c+3], read first: writes below the groups still unread
      const I* w = W + 4 * size_t(c);
      const I l = w[0], lms = w[2], all = w[0] + w[1] + w[2] + w[3] + (c == t[0]);
      PL[2 * size_t(c)] = l;
      PL[2 * size_t(c) + 1] = lms;
      if (count_b) { B[c] = sum; sum += all; }
    }
    if (count_b) B[K] = sum;
  } else {
    count(I(1), n, false, PL);
  }
  SAIS_MARK("s1 count");
  I a = 0, m = 0;
  for (I c = 0; c < K; ++c) a += PL[2 * c] + PL[2 * c + 1];
  for (I c = 0, pa = 0, pb = a; c < K; ++c) {
    const I na = PL[2 * c] + PL[2 * c + 1];
    LC[c] = PL[2 * c + 1];
    m += LC[c];
    PL[2 * c + 1] = pa;
    PL[2 * c] = pb;
    pa += na;
    pb += B[c + 1] - B[c] - (c == t[0]) - na;
    LD[2 * c] = pa;  // seed cursor: A_c end
  }
  // seeds at the tails of the A_c, the lowest of each bucket marked
  if (par_passes) fill_empty(sa, sa + n, true);  // blocks end at slots not written yet
  m_hi = 0;
  if (gathered) {
    // the list sa[n-m, n) lies above A = [0, a): a + m <= n - 1 (the L run before each LMS suffix but the first,
    // and the one after the last, starts at a distinct position whose predecessor is S)
    I hi = 0;  // (a local: m_hi, a reference, would be stored back at every write to sa)
    const I lo = n - m;
    auto seed = [&](auto pf) {
      for (I k = n; k-- > lo;) {
        if (decltype(pf)::value) {  // the cursor of the entry 2 kPf ahead (K beyond the caches)
          const I q = sa[k >= lo + 2 * kPf ? k - 2 * kPf : lo];
          __builtin_prefetch(LD + 2 * size_t(t[q]), 1);
        }
        const I p = sa[k];
        sa[--LD[2 * size_t(t[p])]] = p;
        hi += p >= h;
      }
    };
    if (K > 65536) seed(std::true_type());
    else seed(std::false_type());
    m_hi = hi;
    if (m) lms1 = sa[n - m];  // the smallest (the list is not overwritten: above)
  } else {
    lms_range(t, I(1), n, false, [&](I p) { sa[--LD[2 * size_t(t[p])]] = p; m_hi += p >= h; lms1 = p; });
  }
  for (I c = 0; c < K; ++c)
    if (LC[c]) sa[LD[2 * c]] |= kMark<I>;
  SAIS_MARK("s1 seed");
  if (m <= 1) return m;
  std::fill(LD, LD + 2 * size_t(K), I(0));
  const I nm1 = n - 1;
  I d = 1;  // the virtual sentinel's group
  {
    const T c = t[nm1];
    const I v = 2 * I(c) + (t[nm1 - 1] >= c);
    sa[PL[v]++] = nm1 | kMark<I>;
    LD[v] = d;
  }
  std::unique_ptr<Helper> hp(par_passes ? new Helper : nullptr);
  d = hp ? split_scan_par<true>(t, sa, I(0), a, nm1, 2 * K, PL, LD, d, *hp) : split_scan<true>(t, sa, I(0), a, nm1, PL, LD, d);
  SAIS_MARK("s1 L pass");
  // B's L parts [B_c start, PL[2c]): marks against the next entry (the last of each part: against the S part).
  // PL becomes the S pass's pointers: 2c = B_c end, 2c+1 = end of c's LMS suffixes in sa[0, m).
  for (I c = 0, pa = 0, pb = a, lms = 0; c < K; ++c) {
    const I a_end = PL[2 * c + 1] + LC[c], b_end = pb + (B[c + 1] - B[c] - (c == t[0]) - (a_end - pa));
    I s = 1;
    for (I i = PL[2 * c]; i-- > pb;) {
      const I x = sa[i];
      sa[i] = (x & ~kMark<I>) | (s << kMarkBit<I>);
      s = mark_of(x);
    }
    lms += LC[c];
    PL[2 * c] = b_end;
    PL[2 * c + 1] = lms;
    pa = a_end;
    pb = b_end;
  }
  I* PS = PL;
  SAIS_MARK("s1 shift");
  std::fill(LD, LD + 2 * size_t(K), I(0));
  if (hp) split_scan_par<false>(t, sa, a, nm1, nm1, 2 * K, PS, LD, d, *hp);
  else split_scan<false>(t, sa, a, nm1, nm1, PS, LD, d);
  SAIS_MARK("s1 S pass");
  return m;
}

// Names from the marks of stage1_split's sa[0, m) ("differs from the next entry") into the slots sa[m + p/2]
// (empty), marks stripped; returns the count.
// G as in assign_names (rank i+1 starts a new name when rank i is marked; the bit at the split is set after).
template <class I> I assign_names_next(I* sa, I m, bool par, uint64_t* G) {
  I* slot = sa + m;
  auto run = [&](I lo, I hi, I names) {
    for (I i = lo; i < hi; ++i) {
      if (i + kPf < hi) __builtin_prefetch(slot + ((sa[i + kPf] & kPos<I>) >> 1), 1);
      I v = sa[i], p = v & kPos<I>;
      if (G && mark_of(v) && i + 1 < hi) set_bit(G, i + 1);
      sa[i] = p;
      slot[p >> 1] = names;
      names += mark_of(v);
    }
    return names;
  };
  if (G) set_bit(G, 0);
  if (!par) return run(0, m, 0);
  const I mid = (m / 2) & ~I(63);
  I before = 0, total = 0;
  for (I i = 0; i < mid; ++i) before += mark_of(sa[i]);
  const bool mid_starts = mid > 0 && mark_of(sa[mid - 1]);
  par2(true, [&] { run(0, mid, 0); }, [&] { total = run(mid, m, before); });
  if (G && mid_starts) set_bit(G, mid);
  return total;
}

// Equality of two LMS substrings of equal length (both end inside the text).
template <class T, class I> inline bool same_substring(const T* a, const T* b, I len) {
  if (sizeof(T) == 1) {
    for (; len >= 8; len -= 8, a += 8, b += 8) {
      uint64_t x, y;
      std::memcpy(&x, a, 8);
      std::memcpy(&y, b, 8);
      if (x != y) return false;
    }
  }
  for (; len; --len) if (*a++ != *b++) return false;
  return true;
}

// What the levels share: the thread count and the heap bytes the reduced levels may still take for bucket
// arrays that do not fit the free part of sa (7/8 of a byte per level-0 token along the whole recursion; the
// other 1/8 covers the 2-thread namer's bit array, m/8 <= n/16 bytes, alive on one level at a time).
struct Budget {
  int threads;
  uint64_t heap_bytes;
  uint64_t low;  // lowest heap_bytes seen
  WorkProgress* progress = nullptr;
  uint64_t advanced = 0;  // units credited so far (progress may be null)
  int depth = 0;          // recursion level of the level running
  // Entries sa[spare_lo, spare_hi) that the running level may use (all levels share sa's base): free at its
  // ancestors, outside its own sa[0, n), its text and its parent's arrays. Reduced levels take their bucket arrays
  // and stage1_split's workspace there before the heap (already touched pages, nothing charged).
  uint64_t spare_lo = 0, spare_hi = 0;
  void advance(uint64_t u) { advanced += u; traceindex::advance(progress, u); }
};

template <class T, class I>
void sais_level(const T* t, I* sa, I n, I K, I* B, bool B_ready, I* P, I* LC, I* LD, Budget& bud, uint64_t units);

// Suffix array of x[0, m) into sa[0, m) in the space of the two arrays alone (x is overwritten with ranks):
// prefix doubling after Larsson & Sadakane. Entries of sa < 0 (as signed) are runs of finished suffixes, skipped;
// each unfinished group [a, b) is sorted by the group of the suffix h further on, and V (x) keeps, for every
// suffix, the last index of its group. O(m log m); only for reduced levels whose bucket pointers fit nowhere.
template <class I> void prefix_doubling(I* x, I* sa, I m) {
  using S = std::make_signed_t<I>;
  S* P = reinterpret_cast<S*>(sa);
  I* V = x;
  for (I i = 0; i < m; ++i) sa[i] = i;
  std::sort(sa, sa + m, [&](I a, I b) { return x[a] < x[b]; });
  // Cuts the sorted range [a, b) into groups of equal key: V = last index of the group for each member,
  // singletons finished. All keys are compared before any V of the range changes (group starts are first
  // marked as ~p), and a V rewritten earlier in the same round refines an old group, which orders the same way
  // (Larsson & Sadakane, lemma 3).
  auto split = [&](I a, I b, auto&& keyof) {
    for (I q = b - 1; q > a; --q)
      if (keyof(I(P[q - 1])) != keyof(I(P[q]))) P[q] = ~P[q];
    P[a] = ~P[a];
    for (I e = b; e > a;) {
      I s = e - 1;
      while (P[s] >= 0) --s;
      P[s] = ~P[s];
      for (I q = s; q < e; ++q) V[P[q]] = e - 1;
      if (e - s == 1) P[s] = -1;
      e = s;
    }
  };
  split(I(0), m, [&](I p) { return uint64_t(x[p]); });  // V still holds the symbols while groups are cut
  for (I h = 1;; h = h > m / 2 ? m : 2 * h) {
    auto keyof = [&](I p) -> uint64_t { return p + h < m ? uint64_t(V[p + h]) + 1 : 0; };  // past the end: first
    I i = 0, run = 0;
    while (i < m) {
      if (P[i] < 0) { run += I(-P[i]); i += I(-P[i]); continue; }
      if (run) { P[i - run] = -S(run); run = 0; }
      const I end = V[P[i]] + 1;
      std::sort(sa + i, sa + end, [&](I a, I b) { return keyof(a) < keyof(b); });
      split(i, end, keyof);
      i = end;
    }
    if (run) P[i - run] = -S(run);
    if (run == m || h >= m) break;
  }
  for (I p = 0; p < m; ++p) sa[V[p]] = p;
}

// The reduced problem. Bucket arrays in the free part sa[m, n-m), best first: starts + pointers + LMS counts +
// naming ids (4k+1), no naming ids (3k+1), starts + pointers (2k+1); else starts + pointers on the heap within
// the budget; else pointers only, recounted before each pass (k), in the free part or on the heap; else prefix
// doubling in place. (Naming ids on the heap were measured: slower than comparing names on the levels they
// would serve, whose alphabets are as large as their texts; bucket starts on the heap save five recounts.)
template <class I>
void solve_reduced(I* sa, I n, I m, I names, Budget& bud, uint64_t units, I reserved = 0) {
  I* rt = sa + n - m;
  if (names == m) {  // all LMS substrings distinct: the names are the ranks
    for (I i = 0; i < m; ++i) sa[rt[i]] = i;
    return;
  }
  const uint64_t fs = n - 2 * m - reserved, k = names;  // reserved: entries below rt kept for the caller
  // the larger of this level's free part sa[m, m + fs) and the spare inherited from above holds the arrays
  const uint64_t s_lo = bud.spare_lo, s_hi = bud.spare_hi;
  const bool in_spare = s_hi - s_lo > fs;
  uint64_t room = in_spare ? s_hi - s_lo : fs, charged = 0;
  std::vector<I> own;
  I* buf = sa + (in_spare ? s_lo : uint64_t(m));
  bool heap = false;
  auto take_heap = [&](uint64_t entries) {
    if (entries * sizeof(I) > bud.heap_bytes) return false;
    own.resize(size_t(entries));
    buf = own.data();
    room = entries;
    heap = true;
    charged = entries * sizeof(I);
    bud.heap_bytes -= charged;
    bud.low = std::min(bud.low, bud.heap_bytes);
    return true;
  };
  if (2 * k + 1 > room && !take_heap(2 * k + 1) && k > room && !take_heap(k)) {
    prefix_doubling(rt, sa, m);
    return;
  }
  I* B2 = 2 * k + 1 <= room ? buf : nullptr;
  I* P2 = B2 ? buf + k + 1 : buf;
  I* LC2 = 3 * k + 1 <= room ? buf + 2 * k + 1 : nullptr;
  I* LD2 = 4 * k + 1 <= room ? buf + 3 * k + 1 : nullptr;
  if (in_spare && !heap) ++detail::sais_spare_levels;
  // the spare below: the larger of what the arrays leave of the two regions
  const uint64_t used = heap ? 0 : LD2 ? 4 * k + 1 : LC2 ? 3 * k + 1 : B2 ? 2 * k + 1 : k;
  const uint64_t f_lo = m + (in_spare || heap ? 0 : used), f_hi = uint64_t(m) + fs;
  const uint64_t p_lo = s_lo + (in_spare && !heap ? used : 0);
  if (f_hi - f_lo >= s_hi - p_lo) { bud.spare_lo = f_lo; bud.spare_hi = f_hi; }
  else bud.spare_lo = p_lo;
  SAIS_MARK("reduced buckets");
  ++bud.depth;
  sais_level<I, I>(rt, sa, m, names, B2, false, P2, LC2, LD2, bud, units);  // B2 counted there
  --bud.depth;
  bud.spare_lo = s_lo;
  bud.spare_hi = s_hi;
  bud.heap_bytes += charged;
}

// Length of the LMS substring at LMS position p, through the next LMS position e (e - p + 1), found by walking
// the text: past the S run to the first strict decrease, then through the L run; e starts the last equal run
// before the first strict increase. n - p + 1 when it runs into the sentinel (no other substring has it).
template <class T, class I> inline I lms_length(const T* t, I n, I p) {
#if defined(__SSE2__)
  if (sizeof(T) == 1 && n - p >= 17) {  // u8: both runs from the byte-wise </> masks of 16 neighbour pairs
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t + p));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t + p + 1));
    const __m128i eq = _mm_cmpeq_epi8(a, b);
    const unsigned le = unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(a, b), b)));  // a <= b
    const unsigned dec = ~le & 0xffffu, inc = le & ~unsigned(_mm_movemask_epi8(eq)) & 0xffffu;
    if (dec) {
      const unsigned d = unsigned(__builtin_ctz(dec));
      const unsigned after = inc >> d >> 1;
      if (after) {
        const unsigned j = d + 1 + unsigned(__builtin_ctz(after));         // first increase after d
        const unsigned r = 31 - unsigned(__builtin_clz(dec & ((1u << j) - 1)));  // last decrease before it
        return I(r + 2);
      }
    }
  }
#endif
  I k = p + 1;
  while (k < n && t[k - 1] <= t[k]) ++k;
  I e = k;
  for (; k + 1 < n; ++k) {
    if (t[k] < t[k + 1]) return e - p + 1;
    if (t[k] > t[k + 1]) e = k + 1;
  }
  return n - p + 1;
}

// Names (ranks of distinct LMS substrings) of the sorted LMS suffixes sa[0, m), written to the empty slots
// sa[m + p/2]; returns the number of names. Lengths are recomputed from the text: no random access to a length
// table, and the walk brings in the cache lines the comparison reads anyway.
template <class T, class I>
I name_substrings(const T* t, I* sa, I n, I m, bool par, uint64_t* G) {  // G (optional): bit i = rank i is distinct
  I* slot = sa + m;
  // Marks rank i (lo <= i < hi) as distinct from rank i-1; visit(i, distinct) is called in order.
  auto scan = [&](I lo, I hi, auto&& visit) {
    I prev = lo ? sa[lo - 1] : 0, prevlen = lo ? lms_length(t, n, prev) : 0;
    for (I i = lo; i < hi; ++i) {
      if (i + kPf < hi) __builtin_prefetch(t + sa[i + kPf]);
      I p = sa[i], l = lms_length(t, n, p);
      visit(i, p, !(l == prevlen && l <= n - p && l <= n - prev && same_substring(t + p, t + prev, l)));
      prev = p;
      prevlen = l;
    }
  };
  if (!par) {
    I names = 0;
    scan(0, m, [&](I i, I p, bool distinct) {
      if (i + kPf < m) __builtin_prefetch(slot + (sa[i + kPf] >> 1), 1);  // the name store is a random write
      if (G && distinct) set_bit(G, i);
      names += distinct;
      slot[p >> 1] = names - 1;
    });
    return names;
  }
  // 2 threads: "distinct" bits (m/8 bytes) from both halves, then names from both halves.
  std::vector<uint64_t> bits((size_t(m) + 63) / 64, 0);
  const I mid = (m / 2) & ~I(63);
  auto mark = [&](I lo, I hi) {
    scan(lo, hi, [&](I i, I, bool distinct) { bits[i >> 6] |= uint64_t(distinct) << (i & 63); });
  };
  par2(true, [&] { mark(0, mid); }, [&] { mark(mid, m); });
  if (G) std::copy(bits.begin(), bits.end(), G);
  auto count = [&](size_t w0, size_t w1) {
    I c = 0;
    for (size_t w = w0; w < w1; ++w) c += I(popcount64(bits[w]));
    return c;
  };
  auto assign = [&](I lo, I hi, I names) {
    for (I i = lo; i < hi; ++i) {
      if (i + kPf < hi) __builtin_prefetch(slot + (sa[i + kPf] >> 1));
      names += (bits[i >> 6] >> (i & 63)) & 1;
      slot[sa[i] >> 1] = names - 1;
    }
  };
  par2(true, [&] { assign(0, mid, 0); }, [&] { assign(mid, m, count(0, mid >> 6)); });
  return count(0, bits.size());
}

// Whether a naming level takes stage1_split: its 4K entries are free for K <= 65536 (level 0's u8/u16
// alphabets: O(K)), otherwise taken from the spare span (spare: at sa + bud.spare_lo) or charged to the heap budget
// (returned in charged) while they live.
template <class I> bool m_split_ok(bool named, const I* LC, I K, Budget& bud, uint64_t& charged, bool& spare) {
  if (!named || !LC || uint64_t(K) > detail::sais_split_limit) return false;
  if (K <= 65536) return true;
  spare = bud.spare_hi - bud.spare_lo >= 4 * uint64_t(K);
  if (spare) return true;
  const uint64_t bytes = 4 * uint64_t(K) * sizeof(I);
  if (bytes > bud.heap_bytes) return false;
  bud.heap_bytes -= bytes;
  bud.low = std::min(bud.low, bud.heap_bytes);
  charged = bytes;
  return true;
}

// Unique-name reduction. A suffix of the reduced text whose name occurs once is ordered by its name alone, and a
// comparison of two other suffixes stops at the first unique name it meets. So a unique name that starts the
// reduced text or follows another unique one is never read by any other suffix's comparison: it leaves the
// recursion and goes back at its rank (its index in the sorted LMS order) afterwards; kept names are renumbered
// densely in the same order (fewer names: the smaller level's bucket arrays fit where they did not). No random
// access to sa: the namer leaves G (bit i: sorted LMS suffix i starts a new name), uniqueness and the dropped
// names are bitmaps over the names, renumbering is a rank over the latter.
template <class I> struct Dropped {
  std::vector<uint64_t> G, gone;  // gone: bit q = the q-th LMS position in text order was dropped
  I* pos = nullptr;               // the dropped LMS suffixes, by rank: in sa below the kept names when
  I* rank = nullptr;              // n >= 2m + f (the level below keeps the room it had), else on the heap
  std::vector<I> own;
  uint64_t charged = 0;
  void release(Budget& bud) {
    std::vector<uint64_t>().swap(G);
    std::vector<uint64_t>().swap(gone);
    std::vector<I>().swap(own);
    bud.heap_bytes += charged;
    charged = 0;
  }
};
// Whether a level with m LMS suffixes prepares the reduction (G, m/8 heap bytes, filled by the namer). Level 0
// has almost no droppable names (0.1-0.4 % on 100 MB of text, against 5-60 % on the reduced levels).
template <class I> bool want_drop(I m, Budget& bud, Dropped<I>& d) {
  const bool forced = detail::sais_unique_min != ~uint64_t(0);
  if (forced ? uint64_t(m) < detail::sais_unique_min : m < (I(1) << 16)) return false;
  const uint64_t bytes = (uint64_t(m) + 63) / 64 * 8;
  if (bytes > bud.heap_bytes) return false;
  d.charged = bytes;
  bud.heap_bytes -= bytes;
  bud.low = std::min(bud.low, bud.heap_bytes);
  d.G.assign(size_t(bytes / 8), 0);
  return true;
}
// On entry sa[0, m) holds the sorted LMS positions, sa[n-m, n) the reduced text (names < names < m, compacted) and
// d.G the group starts. Returns the number f dropped (0: nothing changed, d released); otherwise the kept names,
// renumbered, are compacted in text order to sa[n-m+f, n) and names is the kept count. Both passes over the
// reduced text are branch-free: it is dense here (the name slots, half empty, made the branches unpredictable;
// the branch-free compaction over those slots measured slower, see the header notes). Reduced levels of 100 MB
// of prose: 0.18 -> 0.10 CPU s, Linux C 0.23 -> 0.12.
template <class I> I drop_unique(I* sa, I n, I m, I& names, Budget& bud, Dropped<I>& d) {
  const bool forced = detail::sais_unique_min != ~uint64_t(0);
  const uint64_t nw = (uint64_t(names) + 63) / 64, mw = (uint64_t(m) + 63) / 64;
  const uint64_t bytes = 2 * nw * 8 + (nw + 1) * sizeof(I);  // U, X, cum: returned below
  if ((!forced && uint64_t(names) * 8 < m) || bytes + mw * 8 > bud.heap_bytes) { d.release(bud); return 0; }
  bud.heap_bytes -= bytes + mw * 8;
  bud.low = std::min(bud.low, bud.heap_bytes);
  d.charged += mw * 8;  // gone, returned with d
  const uint64_t* G = d.G.data();
  std::vector<uint64_t> U(size_t(nw), 0), X(size_t(nw), 0);  // names with one member / dropped names
  for (uint64_t w = 0, x = 0; w < mw; ++w) {
    // a start followed by a start (or by the end) is a group of one
    const uint64_t nx = w + 1 < mw ? G[w + 1] & 1 : 1;
    const uint64_t one = G[w] & ((G[w] >> 1) | (nx << 63)) ;
    const uint64_t last = w + 1 == mw && (m & 63) ? uint64_t(1) << ((m - 1) & 63) : 0;  // the end is a start
    const uint64_t single = one | (G[w] & last);
    for (uint64_t b = G[w]; b; b &= b - 1, ++x)
      if ((single >> __builtin_ctzll(b)) & 1) set_bit(U.data(), x);
  }
  d.gone.assign(size_t(mw), 0);
  const I* rt = sa + n - m;
  I f = 0;
  {
    uint64_t prev_u = 1;
    for (uint64_t w = 0; w < mw; ++w) {
      uint64_t gw = 0;
      const uint64_t k0 = w * 64, k1 = std::min<uint64_t>(k0 + 64, m);
      for (uint64_t k = k0; k < k1; ++k) {
        const I v = rt[k];
        const uint64_t u = (U[v >> 6] >> (v & 63)) & 1, drop = u & prev_u;
        gw |= drop << (k - k0);
        X[v >> 6] |= drop << (v & 63);
        prev_u = u;
      }
      d.gone[w] = gw;
      f += I(popcount64(gw));
    }
  }
  const bool in_sa = uint64_t(n) >= 2 * uint64_t(m) + f;
  if (f == 0 || (!forced && f < m / 32) || (!in_sa && 2 * uint64_t(f) * sizeof(I) > bud.heap_bytes)) {
    bud.heap_bytes += bytes;
    d.release(bud);
    return 0;
  }
  if (!in_sa) {
    d.charged += 2 * uint64_t(f) * sizeof(I);
    bud.heap_bytes -= 2 * uint64_t(f) * sizeof(I);
    bud.low = std::min(bud.low, bud.heap_bytes);
    d.own.resize(2 * size_t(f));
    d.pos = d.own.data();
    d.rank = d.pos + f;
  }
  std::vector<I> cum(size_t(nw + 1), 0);  // dropped names before each word of X
  for (uint64_t w = 0; w < nw; ++w) cum[w + 1] = cum[w] + I(popcount64(X[w]));
  I w = n;
  for (I q = n; q-- > n - m;) {  // w - 1 >= q: a dropped name is written and then overwritten
    const I v = sa[q];
    const uint64_t xw = X[v >> 6], below = xw & ((uint64_t(1) << (v & 63)) - 1);
    sa[w - 1] = v - cum[v >> 6] - I(popcount64(below));
    w -= I(1) - I((xw >> (v & 63)) & 1);
  }
  if (in_sa) {  // sa[n-m-f, n-m+f): free slots now, at or above m
    d.pos = sa + (n - m - f);
    d.rank = d.pos + f;
  }
  // the dropped by rank: sorted order, name x = number of group starts so far - 1 (sa[0, m) still intact)
  for (I i = 0, x = 0, j = 0; i < m; ++i) {
    if (!bit_at(G, i)) continue;
    if (bit_at(X.data(), x)) { d.pos[j] = sa[i]; d.rank[j++] = i; }
    ++x;
  }
  names -= f;
  std::vector<uint64_t>().swap(d.G);
  bud.heap_bytes += bytes + mw * 8;  // U, X, cum and G
  d.charged -= mw * 8;
  detail::sais_unique_dropped += f;
  return f;
}

// Level 0's stage 1 by hashing (our design; libsais induces here): each LMS substring t[p, q] (q = the next LMS
// position; the last one runs into the sentinel) is looked up in a hash table of the distinct ones while one
// backward pass finds the LMS positions, and its id goes straight to the reduced text sa[n-m, n) (text order).
// The distinct substrings (594 K of 29.4 M LMS on 100 MB of prose) are then sorted and the ids replaced by their
// ranks: the two induction passes over n entries, the seeding and the naming are skipped.
// Order of LMS substrings (that of induced sorting, by (token, type) pairs): tokens compare first; on a common
// prefix where one ends (its last token is S, the other's is then L) the shorter is greater, except the
// sentinel's, which is smallest. Equality: same tokens and same length (types follow from the tokens).
// Slots {key, id, len} (len 0 = empty) match on key and length; keys: up to 8 bytes of tokens exactly, longer
// substrings a hash, checked against the first occurrence in the text. The table lives in sa below the reduced
// text, doubled in place when half full; the ids' first positions and the sort on the heap budget.
// Gives up (false; sa is then garbage, stage 1 starts over) when the distinct ones outgrow either.
template <class I> struct HashSlot { uint64_t key; I id, len; };
inline uint64_t mix64(uint64_t x) {
  x ^= x >> 31; x *= 0x7fb5d329728ea185ull; x ^= x >> 27; x *= 0x81dadef4bc2dd44dull; x ^= x >> 33;
  return x;
}
template <class T, class I>
bool stage1_hashed(const T* t, I* sa, I n, I K, I* LC, I& m, I& names, I& lms1, I& m_hi, I h, Budget& bud) {
  using Slot = HashSlot<I>;
  struct Rec { uint64_t okey; I id, len; };  // the sort's records
  constexpr I kShort = I(8 / sizeof(T));  // tokens of an exact key
  constexpr size_t kSlotEntries = sizeof(Slot) / sizeof(I);
  const uint64_t cap_max = uint64_t(n) / 2 / 3 / kSlotEntries;  // the table and its doubling below n/2
  const uint64_t by_heap = bud.heap_bytes / (sizeof(I) + sizeof(Rec));  // ids' positions and sort records
  if (by_heap < 2) return false;
  const uint64_t lim = std::min<uint64_t>({detail::sais_hash_max, cap_max / 2, by_heap - 1});  // distinct at most
  uint64_t cap = 64;
  while (cap > cap_max && cap > 2) cap /= 2;
  if (cap > cap_max) return false;
  // (sa may be only 4-byte aligned, as a part of a larger buffer: the slots start at the first 8-byte boundary)
  const uintptr_t base = reinterpret_cast<uintptr_t>(sa), align = alignof(Slot);
  Slot* tab = reinterpret_cast<Slot*>((base + align - 1) & ~(align - 1));
  std::memset(static_cast<void*>(tab), 0, cap * sizeof(Slot));
  std::vector<I> first;  // id -> its first position (never reallocated: lim + 1 at most)
  first.reserve(size_t(lim) + 1);
  const uint64_t charged = (lim + 1) * sizeof(I);
  bud.heap_bytes -= charged;
  bud.low = std::min(bud.low, bud.heap_bytes);
  std::fill(LC, LC + K, I(0));
  auto key_of = [&](I p, I len) -> uint64_t {
    const T* s = t + p;
    if (len <= kShort) {
      uint64_t k = 0;
      const unsigned bits = unsigned(8 * sizeof(T) * len);
      if (uint64_t(n - p) * sizeof(T) >= 8 && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) {
        std::memcpy(&k, s, 8);
        if (bits < 64) k &= (uint64_t(1) << bits) - 1;
      } else {
        std::memcpy(&k, s, sizeof(T) * len);
      }
      return k;
    }
    uint64_t x = uint64_t(len) * 0x9e3779b97f4a7c15ull;
    if (detail::sais_hash_weak) return mix64(x ^ uint64_t(s[0]));
    const uint64_t bytes = uint64_t(len) * sizeof(T);
    const char* c = reinterpret_cast<const char*>(s);
    uint64_t i = 0;
    for (; i + 8 <= bytes; i += 8) { uint64_t w; std::memcpy(&w, c + i, 8); x = mix64(x ^ w); }
    if (i < bytes) { uint64_t w = 0; std::memcpy(&w, c + i, bytes - i); x = mix64(x ^ w ^ (bytes - i) << 59); }
    return x;
  };
  uint64_t distinct = 0;
  bool stop = false;  // the table cannot double, or more than lim distinct: give up
  auto grow = [&] {  // the doubled table above the old one, rehashed, then moved down
    if (2 * cap > cap_max) return false;
    Slot* nt = tab + cap;
    std::memset(static_cast<void*>(nt), 0, 2 * cap * sizeof(Slot));
    const uint64_t mask = 2 * cap - 1;
    for (uint64_t s = 0; s < cap; ++s) {
      if (!tab[s].len) continue;
      uint64_t x = mix64(tab[s].key ^ tab[s].len) & mask;
      while (nt[x].len) x = (x + 1) & mask;
      nt[x] = tab[s];
    }
    std::memmove(static_cast<void*>(tab), nt, 2 * cap * sizeof(Slot));
    cap *= 2;
    return true;
  };
  struct Pend { uint64_t key, hash; I p, len; };
  constexpr unsigned kQ = 16;  // lookups in flight: the slot prefetched kQ LMS suffixes ahead
  Pend q[kQ];
  unsigned qn = 0, qh = 0;
  I w = n;  // the reduced text grows down from n
  auto resolve = [&](const Pend& e) {
    const uint64_t mask = cap - 1;
    for (uint64_t s = e.hash & mask;; s = (s + 1) & mask) {
      Slot& x = tab[s];
      if (!x.len) {
        x = {e.key, I(distinct), e.len};
        first.push_back(e.p);
        sa[--w] = I(distinct++);
        if (distinct > lim || (2 * distinct > cap && !grow())) stop = true;
        return;
      }
      if (x.key == e.key && x.len == e.len && (e.len <= kShort || std::equal(t + e.p, t + e.p + e.len, t + first[x.id]))) {
        sa[--w] = x.id;
        return;
      }
    }
  };
  I next = n, hi = 0, sent = 0;  // next: the LMS position above (n: none yet)
  lms_range(t, I(1), n, false, [&](I p) {
    if (stop) return;
    ++LC[t[p]];
    hi += p >= h;
    lms1 = p;
    if (next == n) {  // the last LMS substring, into the sentinel: an id of its own
      sent = I(distinct++);
      first.push_back(p);
      sa[--w] = sent;
      next = p;
      return;
    }
    const I len = next - p + 1;
    next = p;
    const uint64_t key = key_of(p, len), hash = mix64(key ^ len);
    __builtin_prefetch(tab + (hash & (cap - 1)), 1);
    if (qn == kQ) { resolve(q[qh]); qh = (qh + 1) % kQ; --qn; }
    q[(qh + qn) % kQ] = {key, hash, p, len};
    ++qn;
  });
  for (; qn && !stop; --qn, qh = (qh + 1) % kQ) resolve(q[qh]);
  if (stop) {
    bud.heap_bytes += charged;
    return false;
  }
  m = n - w;
  m_hi = hi;
  names = I(distinct);
  if (m <= 1) {
    bud.heap_bytes += charged;
    return true;
  }
  // sort the distinct substrings: 64-bit order keys (fields of bits+1: token+1, the end 0 for the sentinel's and
  // all ones otherwise), ties (a common prefix beyond the key) compared in the text
  constexpr unsigned kBits = sizeof(T) < 8 ? 8 * sizeof(T) + 1 : 63, kFields = sizeof(T) < 8 ? 64 / kBits : 0;
  constexpr uint64_t kEnd = (uint64_t(1) << kBits) - 1;
  std::vector<Rec> recs(distinct);
  bud.heap_bytes -= distinct * sizeof(Rec);
  bud.low = std::min(bud.low, bud.heap_bytes);
  for (uint64_t s = 0; s < cap; ++s)
    if (tab[s].len) recs[tab[s].id] = {0, tab[s].id, tab[s].len};
  recs[sent] = {0, sent, I(n - first[sent])};
  for (Rec& r : recs) {
    const T* s = t + first[r.id];
    uint64_t k = 0;
    for (unsigned i = 0; i < kFields; ++i) {
      const uint64_t f = i < r.len ? uint64_t(s[i]) + 1 : i == r.len && r.id != sent ? kEnd : 0;
      k = k << kBits | f;
    }
    r.okey = k;
  }
  std::sort(recs.begin(), recs.end(), [&](const Rec& a, const Rec& b) {
    if (a.okey != b.okey) return a.okey < b.okey;
    const I l = std::min(a.len, b.len);
    const T* x = t + first[a.id];
    const T* y = t + first[b.id];
    for (I i = kFields; i < l; ++i)
      if (x[i] != y[i]) return x[i] < y[i];
    if (a.len == b.len) return a.id == sent;
    return a.len < b.len ? a.id == sent : b.id != sent;
  });
  I* name = first.data();  // id -> rank
  for (I r = 0; r < I(distinct); ++r) name[recs[r].id] = r;
  std::vector<Rec>().swap(recs);
  bud.heap_bytes += distinct * sizeof(Rec);
  for (I k = n - m; k < n; ++k) sa[k] = name[sa[k]];
  std::vector<I>().swap(first);
  bud.heap_bytes += charged;
  return true;
}

// n >= 2; B holds the bucket starts of t; P is scratch of K entries; LC (K entries, optional) receives the
// number of LMS suffixes per bucket; LD (K entries, optional, needs B) lets the level name during induction.
// `units` of progress: a sixth per induction pass, two sixths for the reduced level; exactly `units` in all.
template <class T, class I>
void sais_level(const T* t, I* sa, I n, I K, I* B, bool B_ready, I* P, I* LC, I* LD, Budget& bud, uint64_t units) {
  const int threads = bud.threads;
  const uint64_t credited_before = bud.advanced, pass = units / 6;
  auto bucket_ptrs = [&](bool ends) {  // P = bucket starts or ends, copied from B or recounted
    if (B) { std::memcpy(P, B + ends, sizeof(I) * K); return; }
    std::fill(P, P + K, I(0));
    for (I i = 0; i < n; ++i) ++P[t[i]];
    I sum = 0;
    for (I c = 0; c < K; ++c) { I x = P[c]; P[c] = ends ? sum + x : sum; sum += x; }
  };
  SAIS_DEPTH(bud.depth);
  const I nm1 = n - 1;
  const bool par = threads > 1 && n >= kParallelMin;
  const I h = (n / 2) & ~I(1);  // 2-thread split of the text (even: LMS slots p/2 split at h/2)
  const bool flags = uint64_t(n) < std::min<uint64_t>(detail::sais_flag_limit, uint64_t(kFlag<I>) - 1);
  const bool named = flags && B && LD && uint64_t(n) < std::min<uint64_t>(detail::sais_name_limit, kMark<I>);
  const bool s_h = par ? s_type_at(t, n, h - 1) : false;
  I m = 0, m_hi = 0, lms1 = 0, hashed_names = 0;
  // 1-3 at level 0 of u8/u16 text by hashing (stage1_hashed), unless its distinct LMS substrings are too many
  // (u32 tokens stay induced: two tokens to an exact key, nearly every substring hashed and checked in the text,
  // far more distinct; on 41.8 M word ids 2.49-2.81 CPU s induced against 3.83-4.15 hashed, docs/benchmarks.md)
  bool hashed = false;
  if ((sizeof(T) <= 2 || detail::sais_hash_wide) && bud.depth == 0 && B && LC && detail::sais_hash_max) {
    if (!B_ready) count_buckets(t, n, K, B);
    B_ready = true;
    hashed = stage1_hashed(t, sa, n, K, LC, m, hashed_names, lms1, m_hi, h, bud);
    if (hashed) {
      ++detail::sais_hashed_levels;
      bud.advance(2 * pass);
    } else {
      m = m_hi = lms1 = 0;
    }
    SAIS_MARK("s1 hashed");
  }
  // 1. seed
  // stage1_split's 4K entries: free for small alphabets, otherwise from the spare span or the heap budget
  std::vector<I> split_w;
  uint64_t split_charged = 0;
  bool split_spare = false;
  const bool split = !hashed && m_split_ok(named, LC, K, bud, split_charged, split_spare);
  if (split && !split_spare) split_w.resize(4 * size_t(K));
  if (split_spare) ++detail::sais_spare_levels;
  if (B && !B_ready && !split) count_buckets(t, n, K, B);
  if (hashed) {
  } else if (split) {
    // its passes block-parallel as level 0's final induction (the same knobs)
    const bool par_passes = threads > 1 && bud.depth == 0 && uint64_t(n) >= detail::sais_par_min &&
                            uint64_t(K) <= detail::sais_par_k;
    m = stage1_split(t, sa, n, K, B, !B_ready, split_spare ? sa + bud.spare_lo : split_w.data(), LC, lms1, m_hi, h, par,
                     s_h, par_passes);
    std::vector<I>().swap(split_w);
    bud.heap_bytes += split_charged;
    bud.advance(2 * pass);
  } else if (par && K <= 65536 && B) {
    // 2 threads (small alphabets: the right half's per-bucket counts cost K more entries): the right half's
    // LMS are counted while sa is cleared, then both halves seed, the left half below the right one.
    std::vector<I> right(K, 0);
    par2(true, [&] { std::fill(sa, sa + n, kEmpty<I>); }, [&] {
      lms_range(t, h, n, false, [&](I p) { ++right[t[p]]; ++m_hi; });
    });
    for (I c = 0; c < K; ++c) { P[c] = B[c + 1] - right[c]; right[c] = B[c + 1]; }
    I m_lo = 0, lms1_hi = 0;
    par2(true, [&] {
      lms_range(t, I(1), h, s_h, [&](I p) { sa[--P[t[p]]] = p; ++m_lo; lms1 = p; });
    }, [&] {
      lms_range(t, h, n, false, [&](I p) { sa[--right[t[p]]] = p; lms1_hi = p; });
    });
    m = m_lo + m_hi;
    if (!m_lo) lms1 = lms1_hi;
  } else {
    fill_empty(sa, sa + n, par);
    bucket_ptrs(true);
    for_each_lms_backward(t, n, [&](I p) { sa[--P[t[p]]] = p; ++m; m_hi += p >= h; lms1 = p; });
  }
  SAIS_MARK("stage 1 (other)");
  if (LC && !split && !hashed)  // LC is only given with B
    for (I c = 0; c < K; ++c) LC[c] = B[c + 1] - P[c];

  // the name slots sa[m + p/2] (p < n), cleared before naming
  auto clear_slots = [&] { fill_empty(sa + m, sa + std::min<uint64_t>(n, uint64_t(m) + ((n - 1) >> 1) + 1), par); };
  if (m > 1 && named && !split && !hashed) {
    // 2+3. induce LMS-substring order, naming on the way (P[c] is each bucket's lowest seed)
    for (I c = 0; c < K; ++c)
      if (P[c] < B[c + 1]) sa[P[c]] |= kMark<I>;
    bucket_ptrs(false);
    I d = induce_l_named(t, sa, n, K, P, LD);
    bud.advance(pass);
    shift_marks_l(sa, B, P, K);
    bucket_ptrs(true);
    induce_s_named(t, sa, n, K, P, LD, d);
    bud.advance(pass);
    compact_named(sa, n);
    clear_slots();
  }
  if (m > 1) {
    I names;
    Dropped<I> dropped;
    uint64_t* G = !hashed && want_drop(m, bud, dropped) ? dropped.G.data() : nullptr;
    if (hashed) {
      names = hashed_names;
    } else if (split) {
      clear_slots();
      names = assign_names_next(sa, m, par, G);
    } else if (named) {
      names = assign_names(sa, m, par, G);
    } else {
    // 2. induce LMS-substring order
    bucket_ptrs(false);
    if (flags) induce_l_flags<T, I, true>(t, sa, n, P);
    else induce_l<T, I, true>(t, sa, n, P);
    bud.advance(pass);
    bucket_ptrs(true);
    if (flags) induce_s_flags<T, I, true>(t, sa, n, P);
    else induce_s<T, I, true>(t, sa, n, P);
    bud.advance(pass);
    I k = 0;
    for (I i = 0; i < n; ++i) { I j = sa[i]; sa[k] = j; k += (j - 1 < nm1); }

    // 3. name into the slots sa[m + p/2], then compact the reduced text to sa[n-m, n)
    clear_slots();
    names = name_substrings(t, sa, n, m, par, G);
    }
    SAIS_MARK("stage 1 (other)+name");
#ifdef TRACEINDEX_SAIS_DIAG
    std::fprintf(stderr, "sais-diag shape %d n=%llu K=%llu m=%llu names=%llu\n", bud.depth, (unsigned long long)n,
                 (unsigned long long)K, (unsigned long long)m, (unsigned long long)names);
#endif
    if (!hashed) {  // (stage1_hashed wrote the reduced text there)
      I w = n;
      for (I q = m + ((n - 1) >> 1) + 1; q-- > m;) {  // branch-free: w - 1 >= q (m <= n/2 slots kept)
        const I v = sa[q];
        sa[w - 1] = v;
        w -= v != kEmpty<I>;
      }
    }
    I f = 0;
    if (G && names < m) f = drop_unique(sa, n, m, names, bud, dropped);
    else if (G) dropped.release(bud);
    const I mk = m - f;  // LMS suffixes kept for the recursion (drop_unique compacted them to sa[n-mk, n))

    // 4. recurse, then map reduced ranks back to text positions (LMS positions in text order to sa[n-m, n))
    SAIS_MARK("drop+compact");
    const uint64_t reduced_done = bud.advanced + 2 * pass;
    solve_reduced(sa, n, mk, names, bud, 2 * pass, dropped.pos == sa + (n - m - f) ? 2 * f : 0);
    SAIS_DEPTH(bud.depth);
    SAIS_MARK("recursion glue");
    bud.advance(reduced_done - bud.advanced);  // no recursion (distinct names, prefix doubling): its share at once
    if (f) {
      // kept LMS positions in text order to sa[n-mk, n), their ranks mapped, the dropped merged back at theirs
      I w0 = n, q = m;
      const uint64_t* gone = dropped.gone.data();
      lms_range(t, I(1), n, false, [&](I p) {
        --q;
        if (!((gone[q >> 6] >> (q & 63)) & 1)) sa[--w0] = p;
      });
      const I* pos = sa + n - mk;
      I i = 0;
      for (; i + kPf < mk; ++i) { __builtin_prefetch(pos + sa[i + kPf]); sa[i] = pos[sa[i]]; }
      for (; i < mk; ++i) sa[i] = pos[sa[i]];
      for (I r = m, k = mk, j = f; j > 0;) {  // r = k + j: writes never pass the kept entries still unread
        --r;
        if (dropped.rank[j - 1] == r) sa[r] = dropped.pos[--j];
        else sa[r] = sa[--k];
      }
      dropped.release(bud);
    } else {
    par2(par, [&] {
      I w0 = par ? n - m_hi : n;
      lms_range(t, I(1), par ? h : n, par ? s_h : false, [&](I p) { sa[--w0] = p; });
    }, [&] {
      if (!par) return;
      I w1 = n;
      lms_range(t, h, n, false, [&](I p) { sa[--w1] = p; });
    });
    const I* pos = sa + n - m;
    auto map = [&](I lo, I hi) {  // (prefetching 2*kPf ahead instead: within the noise)
      I i = lo;
      for (; i + kPf < hi; ++i) { __builtin_prefetch(pos + sa[i + kPf]); sa[i] = pos[sa[i]]; }
      for (; i < hi; ++i) sa[i] = pos[sa[i]];
    };
    par2(par, [&] { map(0, par ? m / 2 : m); }, [&] { if (par) map(m / 2, m); });
    }
  } else if (m == 1) {
    sa[0] = lms1;
  }

  SAIS_MARK("rank map");
  // 5. final induction from the sorted LMS suffixes, placed at their bucket tails (targets >= sources:
  // highest bucket first, in place)
  if (LC) {
    I src = m;
    for (I c = K; c-- > 0;) {
      I cnt = LC[c], dst = B[c + 1] - cnt;
      src -= cnt;
      if (dst != src) std::memmove(sa + dst, sa + src, sizeof(I) * cnt);
      std::fill(sa + B[c], sa + dst, kEmpty<I>);  // src <= B[c]: no unmoved group lies there
    }
  } else {
    fill_empty(sa + m, sa + n, par);
    bucket_ptrs(true);
    for (I i = m; i-- > 0;) {
      I p = sa[i];
      sa[i] = kEmpty<I>;
      sa[--P[t[p]]] = p;
    }
  }
  SAIS_MARK("place lms");
  bucket_ptrs(false);
  if (flags && B && threads > 1 && bud.depth == 0 && uint64_t(n) >= detail::sais_par_min && uint64_t(K) <= detail::sais_par_k) {
    Helper hp;
    induce_final_par<true>(t, sa, n, K, P, hp);
    bud.advance(pass);
    clear_s_parts(sa, B, P, K);
    bucket_ptrs(true);
    induce_final_par<false>(t, sa, n, K, P, hp);
  } else {
    if (flags) induce_l_flags<T, I, false>(t, sa, n, P);
    else induce_l<T, I, false>(t, sa, n, P);
    SAIS_MARK("final L");
    bud.advance(pass);
    bucket_ptrs(true);
    if (flags) induce_s_flags<T, I, false>(t, sa, n, P);
    else induce_s<T, I, false>(t, sa, n, P);
  }
  SAIS_MARK("final S");
  bud.advance(credited_before + units - bud.advanced);  // the last pass, and the shares of stages m <= 1 skipped
}

// Spelled out: the constant's name in error.hpp is being changed elsewhere, the code string is the contract.
constexpr const char* kInvalidArgument = "ERR_INVALID_ARGUMENT";
[[noreturn]] void bad_argument(const std::string& what) {
  throw Error(kInvalidArgument, "build_suffix_array: " + what);
}

}  // namespace

template <typename Token, typename Index>
void build_suffix_array(const Token* text, Index* sa, uint64_t n, uint64_t alphabet_size, int threads, WorkProgress* progress) {
  detail::sais_heap_peak = 0;
  detail::sais_unique_dropped = 0;
  detail::sais_par_blocks = 0;
  detail::sais_split_par_blocks = 0;
  detail::sais_par_gathered = 0;
  detail::sais_spare_levels = 0;
  detail::sais_hashed_levels = 0;
  if (threads < 1) bad_argument("threads must be >= 1");
  if (n > uint64_t(std::numeric_limits<Index>::max())) bad_argument("n too large for the index type");
  if (alphabet_size > (uint64_t(1) << 32)) bad_argument("alphabet_size > 2^32");
  if (n == 0) return;
  if (!text || !sa) bad_argument("null text or sa");
#ifdef TRACEINDEX_SAIS_DIAG
  g_diag.last = SaisDiag::now();
#endif
  try {
    // Level-0 bucket counts over the token range (u8/u16: the whole range, checked afterwards).
    const uint64_t range = sizeof(Token) < 4 ? (uint64_t(1) << (8 * sizeof(Token))) : alphabet_size;
    const uint64_t K = std::min<uint64_t>(alphabet_size, range);
    if (K == 0) bad_argument("token >= alphabet_size");
    const bool par = threads > 1 && n >= (uint64_t(1) << 16);
    // u8/u16 tokens (none to check) with one thread: the buckets come from stage1_split's gathering count
    const bool defer = sizeof(Token) < 4 && alphabet_size >= range && !par;
    const uint64_t half = par ? n / 2 : defer ? 0 : n;
    std::vector<Index> cnt0(range, 0), cnt1(par ? range : 0, 0);
    bool bad0 = false, bad1 = false;
    auto count = [&](uint64_t lo, uint64_t hi, Index* c, bool& bad) {
      for (uint64_t i = lo; i < hi; ++i) {
        Token x = text[i];
        if (sizeof(Token) == 4 && uint64_t(x) >= alphabet_size) { bad = true; return; }
        ++c[x];
      }
    };
    par2(par, [&] { count(0, half, cnt0.data(), bad0); }, [&] { if (par) count(half, n, cnt1.data(), bad1); });
    if (bad0 || bad1) bad_argument("token >= alphabet_size");
    std::vector<Index> buckets(4 * K + 1);  // starts (K+1), pointers (K), LMS counts (K), naming ids (K)
    Index* B = buckets.data();
    Index sum = 0;
    for (uint64_t c = 0; c < range; ++c) {
      Index x = cnt0[c] + (par ? cnt1[c] : 0);
      if (c < K) { B[c] = sum; sum += x; }
      else if (x != 0) bad_argument("token >= alphabet_size");
    }
    B[K] = sum;
    std::vector<Index>().swap(cnt0);
    std::vector<Index>().swap(cnt1);
    if (n == 1) { sa[0] = 0; advance(progress, suffix_array_work(1)); return; }
    SAIS_DEPTH(0);
    SAIS_MARK("count");
    const uint64_t budget = detail::sais_heap_budget != ~uint64_t(0) ? detail::sais_heap_budget : n - n / 8 + 65536;
    Budget bud{threads, budget, budget, progress};
    sais_level<Token, Index>(text, sa, Index(n), Index(K), B, !defer, B + K + 1, B + 2 * K + 1, B + 3 * K + 1, bud, suffix_array_work(n));
#ifdef TRACEINDEX_SAIS_DIAG
    g_diag.print();
#endif
    detail::sais_heap_peak = budget - bud.low;
    detail::sais_heap_unreturned = int64_t(budget) - int64_t(bud.heap_bytes);
  } catch (const std::bad_alloc&) {
    throw Error(codes::kNoMemory, "build_suffix_array: out of memory");
  }
}

#define TRACEINDEX_SAIS_INSTANTIATE(T, I) \
  template void build_suffix_array<T, I>(const T*, I*, uint64_t, uint64_t, int, WorkProgress*);
TRACEINDEX_SAIS_INSTANTIATE(uint8_t, uint32_t)
TRACEINDEX_SAIS_INSTANTIATE(uint8_t, uint64_t)
TRACEINDEX_SAIS_INSTANTIATE(uint16_t, uint32_t)
TRACEINDEX_SAIS_INSTANTIATE(uint16_t, uint64_t)
TRACEINDEX_SAIS_INSTANTIATE(uint32_t, uint32_t)
TRACEINDEX_SAIS_INSTANTIATE(uint32_t, uint64_t)
#undef TRACEINDEX_SAIS_INSTANTIATE

}  // namespace traceindex
