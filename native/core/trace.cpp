#include "trace.hpp"

#include <algorithm>
#include <unordered_set>

#include "batch.hpp"

namespace traceindex {
namespace {

// Pieces of the output: [a, b) ranges cut just after each delimiter token (one piece without delimiters).
std::vector<std::pair<size_t, size_t>> pieces(const uint32_t* o, size_t m, const std::vector<uint32_t>& delimiters) {
  std::vector<uint8_t> is_delim;
  for (uint32_t d : delimiters) {
    if (d >= is_delim.size()) is_delim.resize(size_t(d) + 1, 0);
    is_delim[d] = 1;
  }
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t a = 0; a < m;) {
    size_t b = a;
    while (b < m && !(o[b] < is_delim.size() && is_delim[o[b]])) ++b;
    if (b < m) ++b;  // the delimiter ends its piece
    out.push_back({a, b});
    a = b;
  }
  return out;
}

inline uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Up to k occurrences of q[0, m), whose range in shard si is ranges[si]: all of them if there are at
// most k, else k drawn uniformly without replacement (Floyd's algorithm over occurrence ranks in suffix-array
// order), reported in (shard, position) order. Only the sampled entries of the suffix array are read.
std::vector<Occurrence> sample_occurrences(const Index& index, const SaRange* ranges, const uint32_t* q, size_t m,
                                           uint64_t count, uint32_t k, uint64_t seed, CancelFlag* cancel) {
  std::vector<Occurrence> out;
  if (k == 0 || count == 0) return out;
  std::vector<uint64_t> ranks;
  if (count <= k) {
    for (uint64_t r = 0; r < count; ++r) ranks.push_back(r);
  } else {
    uint64_t state = seed ^ (0x51ED2701ULL * m);
    for (size_t i = 0; i < m; ++i) state = state * 0x100000001B3ULL ^ q[i];
    const bool small = k <= 64;  // few draws: scanning the ranks beats hashing; many: a set keeps it linear
    std::unordered_set<uint64_t> chosen;
    for (uint64_t j = count - k; j < count; ++j) {
      if (((j - (count - k)) & 4095) == 0) check_cancel(cancel, "trace");
      uint64_t t = splitmix64(state) % (j + 1);
      const bool taken = small ? std::find(ranks.begin(), ranks.end(), t) != ranks.end() : !chosen.insert(t).second;
      if (taken) {
        t = j;  // Floyd: j itself cannot have been drawn yet
        if (!small) chosen.insert(j);
      }
      ranks.push_back(t);
    }
  }
  std::sort(ranks.begin(), ranks.end());
  const size_t shards = index.shard_count();
  size_t si = 0;
  uint64_t base = 0;
  for (uint64_t r : ranks) {
    while (si < shards && r >= base + ranges[si].size()) base += ranges[si++].size();
    if (si == shards) break;  // fewer occurrences than counted: a file changed under us (check_intact reports it)
    const Shard& s = index.shard(si);
    uint64_t pos = s.suffix(ranges[si].lo + (r - base));
    uint64_t d = s.document_of(pos);
    out.push_back({index.first_document(si) + d, pos - s.doc_start(d), static_cast<uint32_t>(si), pos});
  }
  std::sort(out.begin(), out.end(), [](const Occurrence& a, const Occurrence& b) {
    return a.shard != b.shard ? a.shard < b.shard : a.position < b.position;
  });
  return out;
}

// Counts, filters, scores and attributes candidate spans. Each span's range in each shard is searched once
// (all spans of the output interleaved, Shard::find_many) and serves both its count and its sample.
std::vector<Span> finish(const Index& index, const uint32_t* o, const std::vector<std::pair<uint32_t, uint32_t>>& spans,
                         uint32_t min_length, const TraceOptions& opt, CancelFlag* cancel) {
  std::vector<Span> out;
  const Surprisal& h = index.surprisal();
  std::vector<const uint32_t*> patterns;
  std::vector<size_t> lengths;
  for (auto [s, e] : spans)
    if (e - s >= min_length) { patterns.push_back(o + s); lengths.push_back(e - s); }
  const size_t K = patterns.size(), shards = index.shard_count();
  std::vector<SaRange> ranges(K * shards);  // span j in shard si: ranges[j * shards + si]
  std::vector<SaRange> part(K);
  for (size_t si = 0; si < shards && K > 0; ++si) {
    index.shard(si).find_many(patterns.data(), lengths.data(), K, part.data(), cancel, "trace");
    for (size_t j = 0; j < K; ++j) ranges[j * shards + si] = part[j];
  }
  for (size_t j = 0; j < K; ++j) {
    check_cancel(cancel, "trace");
    const SaRange* r = ranges.data() + j * shards;
    uint64_t count = 0;
    for (size_t si = 0; si < shards; ++si) count += r[si].size();
    if (count > opt.max_count) continue;
    const uint32_t s = static_cast<uint32_t>(patterns[j] - o), len = static_cast<uint32_t>(lengths[j]);
    Span sp;
    sp.start = s;
    sp.end = s + len;
    sp.count = count;
    sp.scores = h.score(patterns[j], len, count, opt.score);
    sp.occurrences = sample_occurrences(index, r, patterns[j], len, count, opt.max_documents, opt.seed, cancel);
    out.push_back(std::move(sp));
  }
  index.check_intact();
  return out;
}

}  // namespace

void shard_prefix_lengths(const Shard& s, const uint32_t* o, size_t m, const std::vector<uint32_t>& delimiters, uint32_t* L,
                          CancelFlag* cancel) {
  std::vector<uint32_t> ends(m);
  for (auto [a, b] : pieces(o, m, delimiters))
    for (size_t i = a; i < b; ++i) ends[i] = static_cast<uint32_t>(b);
  s.prefix_lengths(o, ends.data(), m, L, cancel);
}

std::vector<Span> spans_from_lengths(const Index& index, const uint32_t* o, size_t m, const uint32_t* L, const TraceOptions& opt,
                                     CancelFlag* cancel) {
  std::vector<std::pair<uint32_t, uint32_t>> spans;  // [start, end)
  for (auto [a, b] : pieces(o, m, opt.delimiters))
    for (size_t i = a; i < b; ++i)
      if (L[i] > 0 && (i == a || L[i] >= L[i - 1])) spans.push_back({uint32_t(i), uint32_t(i + L[i])});
  if (!opt.word_token.empty()) {
    auto word = [&](size_t i) { return o[i] < opt.word_token.size() && opt.word_token[o[i]]; };
    std::vector<std::pair<uint32_t, uint32_t>> trimmed;
    for (auto [s, e] : spans) {
      while (s < e && s > 0 && word(s - 1) && word(s)) ++s;  // starts inside a word
      while (e > s && e < m && word(e - 1) && word(e)) --e;  // ends inside a word
      if (e > s) trimmed.push_back({s, e});
    }
    // Trimming keeps starts and ends non-decreasing, so a covered span is covered by a neighbour: drop it.
    spans.clear();
    for (auto sp : trimmed) {
      while (!spans.empty() && spans.back().first == sp.first && spans.back().second <= sp.second) spans.pop_back();
      if (spans.empty() || sp.second > spans.back().second) spans.push_back(sp);
    }
  }
  return finish(index, o, spans, opt.min_length, opt, cancel);
}

std::vector<Span> trace(const Index& index, const uint32_t* o, size_t m, const TraceOptions& opt, CancelFlag* cancel) {
  return std::move(trace_batch(index, Queries::one(o, m), opt, 0, cancel)[0]);
}

std::vector<Span> windows_from_lengths(const Index& index, const uint32_t* o, size_t m, const uint32_t* L, uint32_t width,
                                       const TraceOptions& opt, CancelFlag* cancel) {
  std::vector<std::pair<uint32_t, uint32_t>> spans;
  if (width == 0) return {};
  for (size_t i = 0; i + width <= m; ++i)
    if (L[i] >= width) spans.push_back({uint32_t(i), uint32_t(i + width)});
  return finish(index, o, spans, 1, opt, cancel);
}

std::vector<Span> occurring_windows(const Index& index, const uint32_t* o, size_t m, uint32_t width, const TraceOptions& opt,
                                    CancelFlag* cancel) {
  if (width == 0) return {};
  return std::move(trace_batch(index, Queries::one(o, m), opt, width, cancel)[0]);
}

}  // namespace traceindex
