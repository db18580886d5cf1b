// SA-IS suffix sorting (Nong, Zhang & Chan 2009), written for traceindex.
//
// Pipeline of one level (text t[0,n), buckets B[0..K] = bucket starts, B[K] = n):
//   1. seed      every LMS suffix at the tail of its bucket (one backward scan, types computed on the fly);
//   2. induce    L then S, clearing every entry once it has induced its predecessor: what survives the S pass
//                is exactly the LMS suffixes, sorted by LMS substring;
//   3. name      LMS substrings (lengths parked at sa[m + p/2]); reduced text -> sa[n-m, n);
//   4. recurse   on the reduced text (or scatter directly when all names are distinct);
//   5. induce    the final order from the sorted LMS suffixes.
// Types are never stored. For an entry j read at sa[i] (c0 = t[j], c1 = t[j-1]):
//   L pass: sa holds only L suffixes and LMS seeds, so j-1 is L  <=>  c1 >= c0.
//   S pass: j is S  <=>  i >= P[c0] (the S part of a bucket is filled top-down before the scan reaches it),
//           so j-1 is S  <=>  c1 < c0 || (c1 == c0 && i >= P[c0]).
// Working space beyond text and sa: the level-0 bucket arrays (2K+1 Index), the 2-thread block caches
// (O(1)), and, per recursion level whose reduced alphabet K' has 2K'+1 > n-2m, a heap bucket array of 2K'+1
// Index. That last case needs m > n/3 LMS suffixes with nearly all LMS substrings distinct (never seen on
// text; the "ba"-pattern worst case has K' = 2); its bound is < n*sizeof(Index) bytes summed over levels.
#include "sais.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>
#include <new>
#include <system_error>
#include <thread>
#include <vector>

#include "error.hpp"
#ifdef SAIS_TIMING
#include <chrono>
#include <cstdio>
static double tnow(){return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();}
#define TMARK(name) do { if (n > 5000000) { double t_=tnow(); std::fprintf(stderr,"%-12s %.3f\n", name, t_-tlast); tlast=t_; } } while(0)
#else
#define TMARK(name) do{}while(0)
#endif

namespace traceindex {
namespace {

template <class I> constexpr I kEmpty = std::numeric_limits<I>::max();
constexpr unsigned kPf = 32;  // prefetch distance of the induction scans, in SA entries

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

// Calls f(p) for every LMS position p, right to left.
template <class T, class I, class F>
inline void for_each_lms_backward(const T* t, I n, F&& f) {
  bool s = false;  // t[n-1] is L (the virtual sentinel is smaller)
  for (I i = n - 1; i > 0; --i) {
    bool sp = pred_is_s(t[i - 1], t[i], s);
    if (s && !sp) f(i);
    s = sp;
  }
}

template <class T, class I> inline void prefetch_pred(const T* t, I j, I nm1) {
  I jm = j - 1;
  __builtin_prefetch(t + (jm < nm1 ? jm : 0));
}

// L pass. With kClear, an entry whose predecessor was induced is emptied (stage 1: the S pass only needs
// L suffixes preceded by an S suffix).
template <class T, class I, bool kClear>
void induce_l(const T* t, I* sa, I n, I* P) {
  const I nm1 = n - 1;
  sa[P[t[nm1]]++] = nm1;  // induced by the virtual sentinel
  auto step = [&](I i) {
    I j = sa[i], jm = j - 1;
    if (jm < nm1) {
      T c1 = t[jm], c0 = t[j];
      if (c1 >= c0) {
        sa[P[c1]++] = jm;
        if (kClear) sa[i] = kEmpty<I>;
      }
    }
  };
  I i = 0;
  for (const I e = n > kPf ? n - kPf : 0; i < e; ++i) { prefetch_pred(t, sa[i + kPf], nm1); step(i); }
  for (; i < n; ++i) step(i);
}

template <class T, class I, bool kClear>
void induce_s(const T* t, I* sa, I n, I* P) {
  const I nm1 = n - 1;
  auto step = [&](I i) {
    I j = sa[i], jm = j - 1;
    if (jm < nm1) {
      T c1 = t[jm], c0 = t[j];
      if (c1 < c0 || (c1 == c0 && i >= P[c0])) {
        sa[--P[c1]] = jm;
        if (kClear) sa[i] = kEmpty<I>;
      }
    }
  };
  I i = n;
  for (; i > kPf;) { --i; prefetch_pred(t, sa[i - kPf], nm1); step(i); }
  while (i > 0) step(--i);
}

template <class T, class I>
void count_buckets(const T* t, I n, I K, I* B) {  // B[0..K] = bucket starts, B[K] = n
  std::fill(B, B + K + 1, I(0));
  for (I i = 0; i < n; ++i) ++B[t[i]];
  I sum = 0;
  for (I c = 0; c <= K; ++c) { I x = B[c]; B[c] = sum; sum += x; }
}

template <class T, class I>
void sais_level(const T* t, I* sa, I n, I K, I* B, I* P, int threads);

// Stage 3/4 helper: the reduced problem, its bucket arrays in sa[m, n-m) when they fit.
template <class I>
void solve_reduced(I* sa, I n, I m, I names, int threads) {
  const I* rt = sa + n - m;
  if (names == m) {  // all LMS substrings distinct: the names are the ranks
    for (I i = 0; i < m; ++i) sa[rt[i]] = i;
    return;
  }
  const I fs = n - 2 * m;
  std::vector<I> own;
  I* buf = sa + m;
  if (uint64_t(names) * 2 + 1 > fs) { own.resize(size_t(names) * 2 + 1); buf = own.data(); }
  I* B2 = buf;
  I* P2 = buf + names + 1;
  count_buckets(rt, m, names, B2);
  sais_level<I, I>(rt, sa, m, names, B2, P2, threads);
}

// n >= 2; B holds the bucket starts of t; P is scratch of K entries.
template <class T, class I>
void sais_level(const T* t, I* sa, I n, I K, I* B, I* P, int threads) {
  const I nm1 = n - 1;
#ifdef SAIS_TIMING
  double tlast = tnow();
#endif
  std::fill(sa, sa + n, kEmpty<I>);

  // 1. seed
  std::memcpy(P, B + 1, sizeof(I) * K);
  I m = 0, lms1 = 0;
  for_each_lms_backward(t, n, [&](I p) { sa[--P[t[p]]] = p; ++m; lms1 = p; });
    TMARK("seed");

  if (m > 1) {
    // 2. induce LMS-substring order
    std::memcpy(P, B, sizeof(I) * K);
    induce_l<T, I, true>(t, sa, n, P);
    TMARK("L1");
    std::memcpy(P, B + 1, sizeof(I) * K);
    induce_s<T, I, true>(t, sa, n, P);
    TMARK("S1");
    I k = 0;
    for (I i = 0; i < n; ++i) { I j = sa[i]; sa[k] = j; k += (j - 1 < nm1); }

    TMARK("gather");
    // 3. name: lengths at sa[m + p/2], then names in place of the lengths
    std::fill(sa + m, sa + n, kEmpty<I>);
    I next = n;  // the rightmost LMS substring runs into the sentinel: length n-p+1 marks it unique
    for_each_lms_backward(t, n, [&](I p) { sa[m + (p >> 1)] = next - p + 1; next = p; });
    I names = 0, prev = 0, prevlen = 0;
    for (I i = 0; i < m; ++i) {
      if (i + 8 < m) {
        I q = sa[i + 8];
        __builtin_prefetch(sa + m + (q >> 1));
        __builtin_prefetch(t + q);
      }
      I p = sa[i], len = sa[m + (p >> 1)];
      bool same = len == prevlen && len <= n - p && len <= n - prev &&
                  std::memcmp(t + p, t + prev, sizeof(T) * size_t(len)) == 0;
      names += !same;
      sa[m + (p >> 1)] = names - 1;
      prev = p;
      prevlen = len;
    }
    TMARK("name");
    I w = n;
    for (I q = m + ((n - 1) >> 1) + 1; q-- > m;) {
      I v = sa[q];
      if (v != kEmpty<I>) sa[--w] = v;
    }

    // 4. recurse, then map reduced ranks back to text positions
    TMARK("compact");
#ifdef SAIS_TIMING
    std::fprintf(stderr, "level n=%llu m=%llu names=%llu K=%llu\n", (unsigned long long)n, (unsigned long long)m, (unsigned long long)names, (unsigned long long)K);
#endif
    solve_reduced(sa, n, m, names, threads);
    TMARK("recurse");
    w = n;
    for_each_lms_backward(t, n, [&](I p) { sa[--w] = p; });
    const I* pos = sa + n - m;
    for (I i = 0; i < m; ++i) sa[i] = pos[sa[i]];
    TMARK("map");
  } else if (m == 1) {
    sa[0] = lms1;
  }

  // 5. final induction from the sorted LMS suffixes, placed at their bucket tails (target >= i: in place)
  std::fill(sa + m, sa + n, kEmpty<I>);
  std::memcpy(P, B + 1, sizeof(I) * K);
  for (I i = m; i-- > 0;) {
    I p = sa[i];
    sa[i] = kEmpty<I>;
    sa[--P[t[p]]] = p;
  }
  TMARK("place");
  std::memcpy(P, B, sizeof(I) * K);
  induce_l<T, I, false>(t, sa, n, P);
  TMARK("L3");
  std::memcpy(P, B + 1, sizeof(I) * K);
  induce_s<T, I, false>(t, sa, n, P);
  TMARK("S3");
}

// Spelled out: the constant's name in error.hpp is being changed elsewhere, the code string is the contract.
constexpr const char* kInvalidArgument = "ERR_INVALID_ARGUMENT";
[[noreturn]] void bad_argument(const std::string& what) {
  throw Error(kInvalidArgument, "build_suffix_array: " + what);
}

}  // namespace

template <typename Token, typename Index>
void build_suffix_array(const Token* text, Index* sa, uint64_t n, uint64_t alphabet_size, int threads) {
  if (threads < 1) bad_argument("threads must be >= 1");
  if (n > uint64_t(std::numeric_limits<Index>::max())) bad_argument("n too large for the index type");
  if (alphabet_size > (uint64_t(1) << 32)) bad_argument("alphabet_size > 2^32");
  if (n == 0) return;
  if (!text || !sa) bad_argument("null text or sa");
  try {
    // Level-0 bucket counts over the token range (u8/u16: the whole range, checked afterwards).
    const uint64_t range = sizeof(Token) < 4 ? (uint64_t(1) << (8 * sizeof(Token))) : alphabet_size;
    const uint64_t K = std::min<uint64_t>(alphabet_size, range);
    if (K == 0) bad_argument("token >= alphabet_size");
    const bool par = threads > 1 && n >= (uint64_t(1) << 16);
    const uint64_t half = par ? n / 2 : n;
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
    std::vector<Index> buckets(2 * K + 1);
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
    if (n == 1) { sa[0] = 0; return; }
    sais_level<Token, Index>(text, sa, Index(n), Index(K), B, B + K + 1, threads);
  } catch (const std::bad_alloc&) {
    throw Error(codes::kNoMemory, "build_suffix_array: out of memory");
  }
}

#define TRACEINDEX_SAIS_INSTANTIATE(T, I) \
  template void build_suffix_array<T, I>(const T*, I*, uint64_t, uint64_t, int);
TRACEINDEX_SAIS_INSTANTIATE(uint8_t, uint32_t)
TRACEINDEX_SAIS_INSTANTIATE(uint8_t, uint64_t)
TRACEINDEX_SAIS_INSTANTIATE(uint16_t, uint32_t)
TRACEINDEX_SAIS_INSTANTIATE(uint16_t, uint64_t)
TRACEINDEX_SAIS_INSTANTIATE(uint32_t, uint32_t)
TRACEINDEX_SAIS_INSTANTIATE(uint32_t, uint64_t)
#undef TRACEINDEX_SAIS_INSTANTIATE

}  // namespace traceindex
