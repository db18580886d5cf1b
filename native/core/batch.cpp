#include "batch.hpp"

#include <algorithm>
#include <queue>

#include "error.hpp"

namespace traceindex {

void check_queries(const Index& index, const Queries& queries) {
  for (size_t i = 0; i < queries.size(); ++i) index.check_query(queries.query(i), queries.length(i));
}

// ---- count ----

// The ranges of all queries through Shard::find_many (interleaved searches); one query by find() (the lanes'
// set-up would cost more than they save).
static std::vector<SaRange> find_all(const Shard& s, const Queries& q, CancelFlag* cancel, const char* what) {
  if (q.size() == 1) {
    check_cancel(cancel, what);
    return {s.find(q.query(0), q.length(0))};
  }
  std::vector<const uint32_t*> patterns(q.size());
  std::vector<size_t> lengths(q.size());
  for (size_t i = 0; i < q.size(); ++i) { patterns[i] = q.query(i); lengths[i] = q.length(i); }
  std::vector<SaRange> out(q.size());
  s.find_many(patterns.data(), lengths.data(), q.size(), out.data(), cancel, what);
  return out;
}

std::vector<uint64_t> count_part(const Shard& s, const Queries& q, CancelFlag* cancel) {
  const std::vector<SaRange> ranges = find_all(s, q, cancel, "query");
  std::vector<uint64_t> out(q.size());
  for (size_t i = 0; i < q.size(); ++i) out[i] = ranges[i].size();
  return out;
}

std::vector<uint64_t> merge_counts(const std::vector<std::vector<uint64_t>>& parts) {
  std::vector<uint64_t> out(parts.empty() ? 0 : parts[0].size(), 0);
  for (const auto& p : parts)
    for (size_t i = 0; i < out.size(); ++i) out[i] += p[i];
  return out;
}

std::vector<uint64_t> count_batch(const Index& index, const Queries& q, CancelFlag* cancel) {
  return run_sharded(index, [&](const Shard& s) { return count_part(s, q, cancel); }, merge_counts);
}

// ---- longest matching prefix ----

std::vector<LongestMatch> longest_part(const Shard& s, const Queries& q, CancelFlag* cancel) {
  std::vector<LongestMatch> out(q.size());
  for (size_t i = 0; i < q.size(); ++i) {
    if ((i & 63) == 0) check_cancel(cancel, "query");
    SaRange r;
    out[i].length = s.longest_prefix(q.query(i), q.length(i), &r);
    out[i].count = r.size();
  }
  return out;
}

std::vector<LongestMatch> merge_longest(const std::vector<std::vector<LongestMatch>>& parts) {
  std::vector<LongestMatch> out(parts.empty() ? 0 : parts[0].size());
  for (const auto& p : parts)
    for (size_t i = 0; i < out.size(); ++i) merge_longest(out[i], p[i]);
  return out;
}

std::vector<LongestMatch> longest_batch(const Index& index, const Queries& q, CancelFlag* cancel) {
  return run_sharded(index, [&](const Shard& s) { return longest_part(s, q, cancel); },
                     [](const auto& parts) { return merge_longest(parts); });
}

// ---- next-token distributions ----

std::vector<ContextMatch> next_part(const Shard& s, const Queries& q, CancelFlag* cancel) {
  std::vector<ContextMatch> out(q.size());
  for (size_t i = 0; i < q.size(); ++i) {
    check_cancel(cancel, "query");
    const uint32_t* ctx = q.query(i);
    const size_t m = q.length(i);
    // "ctx[j:] occurs followed by a token" is monotone in j: binary search for the smallest such j (j = m:
    // the empty suffix).
    size_t lo = 0, hi = m;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (s.has_continuation(s.find(ctx + mid, m - mid), m - mid)) hi = mid; else lo = mid + 1;
    }
    out[i] = {m - lo, s.find(ctx + lo, m - lo)};
  }
  return out;
}

std::vector<NextTokens> merge_next(const Index& index, const Queries& q, const std::vector<std::vector<ContextMatch>>& parts,
                                   CancelFlag* cancel) {
  std::vector<NextTokens> out(q.size());
  std::vector<TokenCount> part, merged;
  for (size_t i = 0; i < q.size(); ++i) {
    check_cancel(cancel, "query");
    // Only shards reaching the longest suffix contribute (a shorter one's distribution is of a shorter context).
    NextTokens& nt = out[i];
    for (const auto& p : parts) nt.suffix_length = std::max(nt.suffix_length, p[i].length);
    for (size_t si = 0; si < parts.size(); ++si) {
      if (parts[si][i].length != nt.suffix_length) continue;
      part.clear();
      index.shard(si).next_tokens(parts[si][i].range, nt.suffix_length, part);
      merged.clear();
      merged.reserve(nt.tokens.size() + part.size());
      size_t a = 0, b = 0;
      while (a < nt.tokens.size() || b < part.size()) {
        if (b == part.size() || (a < nt.tokens.size() && nt.tokens[a].token < part[b].token)) merged.push_back(nt.tokens[a++]);
        else if (a == nt.tokens.size() || part[b].token < nt.tokens[a].token) merged.push_back(part[b++]);
        else { merged.push_back({part[b].token, part[b].count + nt.tokens[a].count}); ++a; ++b; }
      }
      nt.tokens.swap(merged);
    }
    for (const TokenCount& tc : nt.tokens) nt.total += tc.count;
  }
  index.check_intact();
  return out;
}

std::vector<NextTokens> next_batch(const Index& index, const Queries& q, CancelFlag* cancel) {
  return run_sharded(index, [&](const Shard& s) { return next_part(s, q, cancel); },
                     [&](const auto& parts) { return merge_next(index, q, parts, cancel); });
}

// ---- locate ----

std::vector<SaRange> range_part(const Shard& s, const Queries& q, CancelFlag* cancel) {
  return find_all(s, q, cancel, "locate");
}

std::vector<SaRange> rank_part(const Shard& s, const Queries& q, CancelFlag* cancel) {
  std::vector<SaRange> out = find_all(s, q, cancel, "find");
  for (size_t i = 0; i < q.size(); ++i)
    if (q.length(i) == 0) out[i] = {0, s.rank_count()};
  return out;
}

std::vector<SaRange> merge_ranks(const std::vector<std::vector<SaRange>>& parts) {
  const size_t queries = parts.empty() ? 0 : parts[0].size();
  std::vector<SaRange> out;
  out.reserve(queries * parts.size());
  for (size_t i = 0; i < queries; ++i)
    for (const auto& p : parts) out.push_back(p[i]);
  return out;
}

// The position of rank `rank` (0-based, in position order) among the suffixes of `r` (rank < r.size()): a radix
// select over the position space, 2^16 buckets a pass (three passes below 2^48 tokens), memory constant.
static uint64_t nth_position(const Shard& s, SaRange r, uint64_t rank, CancelFlag* cancel) {
  constexpr uint64_t kBuckets = 1 << 16;
  std::vector<uint64_t> hist(kBuckets);
  uint64_t base = 0, span = s.shape().tokens;  // the wanted position lies in [base, base + span)
  for (;;) {
    const uint64_t width = (span + kBuckets - 1) / kBuckets;
    std::fill(hist.begin(), hist.end(), 0);
    for (uint64_t i = r.lo; i < r.hi; ++i) {
      if (((i - r.lo) & 0xFFFF) == 0) check_cancel(cancel, "locate");
      const uint64_t p = s.suffix(i);
      if (p >= base && p - base < span) ++hist[(p - base) / width];
    }
    uint64_t b = 0;
    while (rank >= hist[b]) rank -= hist[b++];
    base += b * width;
    span = std::min(width, span - b * width);
    if (width == 1) return base;
  }
}

LocatePage merge_locate(const Index& index, const std::vector<std::vector<SaRange>>& parts, size_t query, uint64_t offset,
                        uint64_t limit, CancelFlag* cancel) {
  LocatePage page;
  std::vector<Occurrence>& out = page.hits;
  uint64_t skip = offset;
  for (uint32_t si = 0; si < parts.size(); ++si) {
    const Shard& s = index.shard(si);
    const SaRange r = parts[si][query];
    page.total += r.size();
    if (out.size() >= limit || r.size() == 0) continue;
    if (skip >= r.size()) { skip -= r.size(); continue; }
    // The page is the positions of ranks [skip, skip + want) of the range in position order. A shallow page keeps
    // the smallest skip + want by a bounded max-heap over one sequential SA scan; a deep one first finds the
    // rank-skip position (nth_position) and keeps the smallest `want` from it on: memory never grows with offset.
    const uint64_t want = std::min<uint64_t>(limit - out.size(), r.size() - skip);
    uint64_t from = 0, drop = skip;
    if (skip > kLocateHeapSkip) { from = nth_position(s, r, skip, cancel); drop = 0; }
    const uint64_t keep = drop + want;
    std::priority_queue<uint64_t> heap;
    for (uint64_t i = r.lo; i < r.hi; ++i) {
      if (((i - r.lo) & 0xFFFF) == 0) check_cancel(cancel, "locate");
      const uint64_t p = s.suffix(i);
      if (p < from) continue;
      if (heap.size() < keep) heap.push(p);
      else if (p < heap.top()) { heap.pop(); heap.push(p); }
    }
    std::vector<uint64_t> pos(heap.size());
    for (size_t k = pos.size(); k-- > 0;) { pos[k] = heap.top(); heap.pop(); }
    for (uint64_t k = drop; k < keep; ++k) {
      uint64_t d = s.document_of(pos[k]);
      out.push_back({index.first_document(si) + d, pos[k] - s.doc_start(d), si, pos[k]});
    }
    skip = 0;
  }
  index.check_intact();  // positions read through a mapping that faulted are the fault's (ERR_IO), not answers
  return page;
}

LocatePage locate_page(const Index& index, const uint32_t* q, size_t m, uint64_t offset, uint64_t limit, CancelFlag* cancel) {
  const Queries one = Queries::one(q, m);
  return run_sharded(index, [&](const Shard& s) { return range_part(s, one, cancel); },
                     [&](const auto& parts) { return merge_locate(index, parts, 0, offset, limit, cancel); });
}

// ---- trace ----

void check_trace(const Index& index, const Queries& q, const TraceOptions& options) {
  check_queries(index, q);
  for (uint32_t d : options.delimiters)
    if (d >= index.vocab_size())
      throw Error(codes::kTokenRange, "delimiter " + std::to_string(d) + " is out of range (vocabulary size " +
                                          std::to_string(index.vocab_size()) + ")");
}

std::vector<uint32_t> trace_part(const Shard& s, const Queries& q, const TraceOptions& options, uint32_t window, CancelFlag* cancel) {
  static const std::vector<uint32_t> none;
  std::vector<uint32_t> L(q.total_tokens());
  for (size_t i = 0; i < q.size(); ++i)
    shard_prefix_lengths(s, q.query(i), q.length(i), window ? none : options.delimiters, L.data() + q.within(i), cancel);
  return L;
}

std::vector<std::vector<Span>> merge_trace(const Index& index, const Queries& q, const TraceOptions& options, uint32_t window,
                                           const std::vector<std::vector<uint32_t>>& parts, CancelFlag* cancel) {
  std::vector<uint32_t> L(q.total_tokens(), 0);
  for (const auto& p : parts)
    for (size_t k = 0; k < L.size(); ++k) L[k] = std::max(L[k], p[k]);
  std::vector<std::vector<Span>> out(q.size());
  for (size_t i = 0; i < q.size(); ++i) {
    const uint32_t* Li = L.data() + q.within(i);
    out[i] = window ? windows_from_lengths(index, q.query(i), q.length(i), Li, window, options, cancel)
                    : spans_from_lengths(index, q.query(i), q.length(i), Li, options, cancel);
  }
  return out;
}

std::vector<std::vector<Span>> trace_batch(const Index& index, const Queries& q, const TraceOptions& options, uint32_t window,
                                           CancelFlag* cancel) {
  return run_sharded(index, [&](const Shard& s) { return trace_part(s, q, options, window, cancel); },
                     [&](const auto& parts) { return merge_trace(index, q, options, window, parts, cancel); });
}

}  // namespace traceindex
