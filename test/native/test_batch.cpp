// The per-shard parts and merges of batch.hpp on multi-shard indexes, against brute force. Each shard's part
// runs on its own thread, started in a shuffled order (as the binding's pool fan-out may run them); the merge
// of those parts must equal the single-threaded batch call and the oracle.
#include <algorithm>
#include <atomic>
#include <numeric>
#include <thread>

#include "batch.hpp"
#include "check.hpp"
#include "error.hpp"
#include "fixtures.hpp"
#include "trace.hpp"

using namespace traceindex;
using namespace fixtures;

namespace {

template <class PartFn>
auto parts_on_threads(const Index& index, std::mt19937& rng, PartFn part) {
  std::vector<decltype(part(index.shard(0)))> parts(index.shard_count());
  std::vector<size_t> order(index.shard_count());
  std::iota(order.begin(), order.end(), size_t(0));
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<std::thread> threads;
  for (size_t si : order) threads.emplace_back([&, si] { parts[si] = part(index.shard(si)); });
  for (auto& t : threads) t.join();
  return parts;
}

// A batch laid end to end, with the queries kept for the oracle.
struct Batch {
  std::vector<Doc> queries;
  std::vector<uint32_t> tokens, offsets{0};
  void add(const Doc& q) {
    queries.push_back(q);
    tokens.insert(tokens.end(), q.begin(), q.end());
    offsets.push_back(static_cast<uint32_t>(tokens.size()));
  }
  Queries view() const { return Queries(tokens.data(), offsets.data(), queries.size()); }
};

Batch random_batch(std::mt19937& rng, const Corpus& c, bool allow_empty) {
  Batch b;
  const size_t n = 1 + rng() % 12;
  for (size_t i = 0; i < n; ++i) {
    Doc q = splice_output(rng, c.docs, c.vocab + 1);
    if (q.size() > 10) q.resize(1 + rng() % 10);
    if (q.empty() && !allow_empty) q.push_back(rng() % c.vocab);
    b.add(q);
  }
  return b;
}

}  // namespace

TEST(batch_count_parts_merge_to_brute_force) {
  std::mt19937 rng(4242);
  for (int round = 0; round < 60; ++round) {
    auto c = make_corpus(rng, round);
    const Index& idx = *c->multi;
    Oracle oracle{c->docs};
    Batch b = random_batch(rng, *c, true);
    check_queries(idx, b.view());
    auto parts = parts_on_threads(idx, rng, [&](const Shard& s) { return count_part(s, b.view()); });
    auto merged = merge_counts(parts);
    CHECK(merged == count_batch(idx, b.view()));
    CHECK(merged == count_batch(*c->single, b.view()));
    CHECK_EQ(merged.size(), b.queries.size());
    for (size_t i = 0; i < b.queries.size(); ++i) {
      CHECK_EQ(merged[i], oracle.count(b.queries[i]));
      CHECK_EQ(idx.count(b.queries[i].data(), b.queries[i].size()), merged[i]);
    }
  }
}

TEST(batch_longest_parts_merge_to_brute_force) {
  std::mt19937 rng(4343);
  for (int round = 0; round < 60; ++round) {
    auto c = make_corpus(rng, round);
    const Index& idx = *c->multi;
    Oracle oracle{c->docs};
    Batch b = random_batch(rng, *c, true);
    auto parts = parts_on_threads(idx, rng, [&](const Shard& s) { return longest_part(s, b.view()); });
    auto merged = merge_longest(parts);
    auto single = longest_batch(idx, b.view());
    CHECK_EQ(merged.size(), b.queries.size());
    for (size_t i = 0; i < b.queries.size(); ++i) {
      const Doc& q = b.queries[i];
      size_t want = 0;
      while (want < q.size() && oracle.count(Doc(q.begin(), q.begin() + want + 1)) > 0) ++want;
      CHECK_EQ(merged[i].length, want);
      CHECK_EQ(merged[i].count, oracle.count(Doc(q.begin(), q.begin() + want)));
      CHECK_EQ(single[i].length, merged[i].length);
      CHECK_EQ(single[i].count, merged[i].count);
    }
  }
}

TEST(batch_next_tokens_parts_merge_to_brute_force) {
  std::mt19937 rng(4444);
  for (int round = 0; round < 60; ++round) {
    auto c = make_corpus(rng, round);
    const Index& idx = *c->multi;
    Oracle oracle{c->docs};
    Batch b = random_batch(rng, *c, true);
    auto parts = parts_on_threads(idx, rng, [&](const Shard& s) { return next_part(s, b.view()); });
    auto merged = merge_next(idx, b.view(), parts);
    auto single = next_batch(idx, b.view());
    for (size_t i = 0; i < b.queries.size(); ++i) {
      const Doc& q = b.queries[i];
      size_t start = 0;
      while (start < q.size() && oracle.next(Doc(q.begin() + start, q.end())).empty()) ++start;
      auto dist = oracle.next(Doc(q.begin() + start, q.end()));
      CHECK_EQ(merged[i].suffix_length, q.size() - start);
      CHECK_EQ(merged[i].tokens.size(), dist.size());
      uint64_t total = 0;
      size_t k = 0;
      for (auto& [t, n] : dist) {
        CHECK_EQ(merged[i].tokens[k].token, t);
        CHECK_EQ(merged[i].tokens[k].count, n);
        CHECK_EQ(single[i].tokens[k].token, t);
        CHECK_EQ(single[i].tokens[k].count, n);
        total += n;
        ++k;
      }
      CHECK_EQ(merged[i].total, total);
      CHECK_EQ(single[i].total, total);
      CHECK_EQ(single[i].suffix_length, merged[i].suffix_length);
    }
  }
}

TEST(batch_locate_pages_merge_to_brute_force) {
  std::mt19937 rng(4545);
  for (int round = 0; round < 60; ++round) {
    auto c = make_corpus(rng, round);
    const Index& idx = *c->multi;
    Oracle oracle{c->docs};
    Batch b = random_batch(rng, *c, false);
    auto parts = parts_on_threads(idx, rng, [&](const Shard& s) { return range_part(s, b.view()); });
    for (size_t i = 0; i < b.queries.size(); ++i) {
      auto occ = oracle.occurrences(b.queries[i]);
      const uint64_t offset = rng() % (occ.size() + 2), limit = rng() % 9;
      LocatePage page = merge_locate(idx, parts, i, offset, limit);
      LocatePage single = locate_page(idx, b.queries[i].data(), b.queries[i].size(), offset, limit);
      CHECK_EQ(page.total, uint64_t(occ.size()));
      CHECK_EQ(single.total, page.total);
      const size_t expect = offset >= occ.size() ? 0 : std::min<size_t>(limit, occ.size() - offset);
      CHECK_EQ(page.hits.size(), expect);
      CHECK_EQ(single.hits.size(), expect);
      for (size_t h = 0; h < expect; ++h) {
        CHECK_EQ(page.hits[h].document, occ[offset + h].first);
        CHECK_EQ(page.hits[h].offset, occ[offset + h].second);
        CHECK_EQ(page.hits[h].shard, c->place[occ[offset + h].first].first);
        CHECK_EQ(single.hits[h].document, page.hits[h].document);
        CHECK_EQ(single.hits[h].position, page.hits[h].position);
      }
    }
  }
}

TEST(batch_trace_parts_merge_to_brute_force) {
  std::mt19937 rng(4646);
  for (int round = 0; round < 50; ++round) {
    auto c = make_corpus(rng, round);
    const Index& idx = *c->multi;
    Oracle oracle{c->docs};
    Batch b;
    for (int k = 0, n = 1 + rng() % 5; k < n; ++k) b.add(splice_output(rng, c->docs, c->vocab + 1));
    TraceOptions opt;
    opt.max_documents = 1 + rng() % 3;
    opt.seed = rng();
    const uint32_t window = round % 3 == 0 ? 1 + rng() % 4 : 0;
    check_trace(idx, b.view(), opt);
    auto parts = parts_on_threads(idx, rng, [&](const Shard& s) { return trace_part(s, b.view(), opt, window); });
    auto merged = merge_trace(idx, b.view(), opt, window, parts);
    auto single = trace_batch(idx, b.view(), opt, window);
    CHECK_EQ(merged.size(), b.queries.size());
    // A slice (queries [lo, hi) over the same arrays, not starting at token 0) traces as those queries did.
    if (b.queries.size() >= 2) {
      const size_t lo = 1 + rng() % (b.queries.size() - 1), hi = lo + 1 + rng() % (b.queries.size() - lo);
      const auto sliced = trace_batch(idx, b.view().slice(lo, hi), opt, window);
      CHECK_EQ(sliced.size(), hi - lo);
      for (size_t i = lo; i < hi; ++i) {
        CHECK_EQ(sliced[i - lo].size(), single[i].size());
        for (size_t k = 0; k < std::min(sliced[i - lo].size(), single[i].size()); ++k) {
          CHECK_EQ(sliced[i - lo][k].start, single[i][k].start);
          CHECK_EQ(sliced[i - lo][k].end, single[i][k].end);
          CHECK_EQ(sliced[i - lo][k].count, single[i][k].count);
        }
      }
    }
    for (size_t i = 0; i < b.queries.size(); ++i) {
      const Doc& o = b.queries[i];
      std::vector<std::pair<uint32_t, uint32_t>> want;
      if (window == 0) {
        want = brute_maximal(c->docs, o, 0, o.size());
      } else {
        for (size_t a = 0; a + window <= o.size(); ++a)
          if (occurs(c->docs, o.data() + a, window)) want.push_back({uint32_t(a), uint32_t(a + window)});
      }
      auto one = window ? occurring_windows(idx, o.data(), o.size(), window, opt) : trace(idx, o.data(), o.size(), opt);
      CHECK_EQ(merged[i].size(), want.size());
      CHECK_EQ(single[i].size(), want.size());
      CHECK_EQ(one.size(), want.size());
      for (size_t k = 0; k < want.size(); ++k) {
        const Span& sp = merged[i][k];
        CHECK_EQ(sp.start, want[k].first);
        CHECK_EQ(sp.end, want[k].second);
        CHECK_EQ(sp.count, oracle.count(Doc(o.begin() + sp.start, o.begin() + sp.end)));
        CHECK_EQ(sp.occurrences.size(), std::min<size_t>(opt.max_documents, sp.count));
        for (const Span* other : {&single[i][k], &one[k]}) {
          CHECK_EQ(other->start, sp.start);
          CHECK_EQ(other->end, sp.end);
          CHECK_EQ(other->count, sp.count);
          CHECK_EQ(other->scores.bci, sp.scores.bci);
          CHECK_EQ(other->occurrences.size(), sp.occurrences.size());
          for (size_t h = 0; h < sp.occurrences.size(); ++h) {
            CHECK_EQ(other->occurrences[h].document, sp.occurrences[h].document);
            CHECK_EQ(other->occurrences[h].offset, sp.occurrences[h].offset);
          }
        }
      }
    }
  }
}

TEST(batch_checks_and_cancellation) {
  std::mt19937 rng(4747);
  auto c = make_corpus(rng, 0);
  const Index& idx = *c->multi;
  Batch b;
  b.add({0, 1});
  b.add({1, uint32_t(idx.vocab_size())});
  CHECK_THROWS_CODE(check_queries(idx, b.view()), codes::kTokenRange);
  Batch ok;
  ok.add({0, 1});
  TraceOptions opt;
  opt.delimiters = {uint32_t(idx.vocab_size())};
  CHECK_THROWS_CODE(check_trace(idx, ok.view(), opt), codes::kTokenRange);
  opt.delimiters = {0xFFFFFFFFu};  // -1 through a Uint32Array: refused, not a 4 GB delimiter table
  CHECK_THROWS_CODE(check_trace(idx, ok.view(), opt), codes::kTokenRange);
  opt.delimiters = {uint32_t(idx.vocab_size() - 1)};
  check_trace(idx, ok.view(), opt);
  std::atomic<uint8_t> flag{1};
  CHECK_THROWS_CODE(count_part(idx.shard(0), ok.view(), &flag), codes::kAborted);
  CHECK_THROWS_CODE(longest_part(idx.shard(0), ok.view(), &flag), codes::kAborted);
  CHECK_THROWS_CODE(next_part(idx.shard(0), ok.view(), &flag), codes::kAborted);
  CHECK_THROWS_CODE(range_part(idx.shard(0), ok.view(), &flag), codes::kAborted);
  CHECK_THROWS_CODE(trace_batch(idx, ok.view(), TraceOptions(), 0, &flag), codes::kAborted);
}

// Shard::find_many (the interleaved searches of count_part and range_part) against find() one pattern at a
// time and against brute force: random batches longer than the lanes, of mixed lengths (empty, absent,
// longer than any document, whole documents), and adversarial ones (one pattern repeated, only empty or only
// absent patterns, a batch of one), on both shard formats and both widths.
TEST(batch_find_many_equals_one_at_a_time) {
  std::mt19937 rng(1313);
  for (int round = 0; round < check::scaled(80); ++round) {
    auto c = make_corpus(rng, round);
    Oracle oracle{c->docs};
    std::vector<Batch> batches;
    Batch mixed;
    const size_t n = 1 + rng() % (3 * Shard::kLanes);
    for (size_t i = 0; i < n; ++i) {
      Doc q;
      switch (rng() % 6) {
        case 0: break;                                                      // empty
        case 1: q = c->docs[rng() % c->docs.size()]; break;                 // a whole document
        case 2: q.assign(130, 0); break;                                    // longer than any document
        case 3: for (int k = 0; k < 3; ++k) q.push_back(c->vocab + rng() % 3); break;  // absent tokens
        default: q = splice_output(rng, c->docs, c->vocab); if (q.size() > 12) q.resize(1 + rng() % 12);
      }
      mixed.add(q);
    }
    batches.push_back(mixed);
    Batch same, empties, absent, one;
    const Doc rep = mixed.queries[rng() % mixed.queries.size()];
    for (size_t i = 0; i < 2 * Shard::kLanes + 3; ++i) { same.add(rep); empties.add({}); absent.add({c->vocab, 0, c->vocab}); }
    one.add(rep);
    batches.insert(batches.end(), {same, empties, absent, one, Batch{}});
    const Index ig({write_ig(c->tmp.path / "ig", c->docs, round % 2 ? 1 : 2)});
    for (const Batch& b : batches) {
      for (const Index* idx : std::vector<const Index*>{c->single.get(), c->multi.get(), &ig}) {
        std::vector<uint64_t> sums(b.queries.size(), 0);
        for (size_t si = 0; si < idx->shard_count(); ++si) {
          const Shard& s = idx->shard(si);
          const std::vector<SaRange> many = range_part(s, b.view());
          CHECK_EQ(many.size(), b.queries.size());
          for (size_t i = 0; i < b.queries.size(); ++i) {
            const SaRange r = s.find(b.queries[i].data(), b.queries[i].size());
            CHECK_EQ(many[i].lo, r.lo);
            CHECK_EQ(many[i].hi, r.hi);
            sums[i] += r.size();
          }
        }
        for (size_t i = 0; i < b.queries.size(); ++i) CHECK_EQ(sums[i], oracle.count(b.queries[i]));
        CHECK(count_batch(*idx, b.view()) == sums);
      }
    }
  }
}

// Large u8 and u16 shards (past the prefix table's threshold, both formats; u16 ids whose byte order in
// infini-gram's table differs from their value order): find() and find_many() against the range reached by extend() token by
// token from the whole array (narrowing, no table), and counts against brute force, for 1- and 2-token
// patterns of many first tokens (present and absent) and longer windows and mutants.
TEST(batch_prefix_table_ranges_equal_narrowing) {
  for (int width : {1, 2}) {
    std::mt19937 rng(777 + width);
    TempDir tmp;
    const size_t kTokens = (size_t(1) << 22) + 100000;
    // u16: two distinct bytes, the high one scrambled, so value order and infini-gram's byte order differ
    auto id = [&](uint32_t t) { return width == 1 ? t : ((t * 97) % 251 + 1) * 256 + t; };
    std::vector<uint32_t> alphabet;
    for (uint32_t t = 0; t < 255; ++t) alphabet.push_back(id(t));
    std::vector<Doc> docs;
    for (size_t total = 0; total < kTokens;) {
      Doc d(20000 + rng() % 60000);
      const uint32_t v = 3 + rng() % 40;
      for (auto& t : d) t = id(rng() % v);
      total += d.size();
      docs.push_back(std::move(d));
    }
    std::vector<Doc> ti_docs = docs;
    ti_docs.push_back(Doc(50000, id(7)));  // one token repeated
    Doc periodic;
    for (size_t i = 0; i < 60000; ++i) periodic.push_back(id("abcab"[i % 5]));
    ti_docs.push_back(periodic);
    const Index ti({write_any(tmp.path / "ti", ti_docs, width, width == 1 ? 255 : 65535)});
    const Index ig({write_ig(tmp.path / "ig", docs, width)});
    for (const Index* idx : {&ti, &ig}) {
      const Shard& s = idx->shard(0);
      CHECK(s.stored_suffixes() >= (uint64_t(1) << 22));
      const std::vector<Doc>& ds = idx == &ti ? ti_docs : docs;
      Batch b;
      for (uint32_t a : alphabet) { b.add({a}); b.add({a, alphabet[rng() % 50]}); b.add({alphabet[rng() % 45], a}); }
      for (int i = 0; i < 600; ++i) {
        const Doc& d = ds[rng() % ds.size()];
        const size_t len = 1 + rng() % 12, at = rng() % (d.size() - len);
        Doc q(d.begin() + at, d.begin() + at + len);
        if (i % 3 == 1) q[rng() % len] = alphabet[rng() % alphabet.size()];
        b.add(q);
      }
      const std::vector<SaRange> many = range_part(s, b.view());
      for (size_t i = 0; i < b.queries.size(); ++i) {
        const Doc& q = b.queries[i];
        SaRange want{0, s.stored_suffixes()};
        for (size_t k = 0; k < q.size(); ++k) want = s.extend(want, k, q[k]);
        const SaRange one = s.find(q.data(), q.size());
        CHECK_EQ(one.lo, want.lo);
        CHECK_EQ(one.hi, want.hi);
        CHECK_EQ(many[i].lo, want.lo);
        CHECK_EQ(many[i].hi, want.hi);
        if (i % 40 == 0) {
          uint64_t brute = 0;
          for (const Doc& d : ds)
            for (auto it = d.begin(); (it = std::search(it, d.end(), q.begin(), q.end())) != d.end(); ++it) ++brute;
          CHECK_EQ(one.size(), brute);
        }
      }
      // Trace's prefix lengths (interleaved searches started from the table) against longest_prefix (extend()
      // token by token from the whole array): outputs spliced from long windows of the documents, some tokens
      // changed, an absent token, a few lanes' worth of positions; with and without a delimiter.
      for (int k = 0; k < 6; ++k) {
        Doc o;
        while (o.size() < 150) {
          const Doc& d = ds[rng() % ds.size()];
          const size_t len = 1 + rng() % 60, at = rng() % (d.size() - len);
          o.insert(o.end(), d.begin() + at, d.begin() + at + len);
          if (rng() % 3 == 0) o.push_back(alphabet[rng() % alphabet.size()]);
        }
        if (k == 1) o[rng() % o.size()] = alphabet[254];  // no document has it
        if (k == 2) o.assign(40, alphabet[7]);             // inside the repeated document
        for (const std::vector<uint32_t>& delims : {std::vector<uint32_t>{}, std::vector<uint32_t>{o[o.size() / 3]}}) {
          std::vector<uint32_t> L(o.size());
          shard_prefix_lengths(s, o.data(), o.size(), delims, L.data());
          size_t end = 0;
          for (size_t i = 0; i < o.size(); ++i) {
            if (i >= end) {  // the piece holding i ends just after the next delimiter
              end = i;
              while (end < o.size() && std::find(delims.begin(), delims.end(), o[end]) == delims.end()) ++end;
              if (end < o.size()) ++end;
            }
            CHECK_EQ(L[i], s.longest_prefix(o.data() + i, end - i, nullptr));
          }
        }
      }
    }
  }
}

// Pages past kLocateHeapSkip occurrences of a shard come from a radix select of the page's first position (memory
// independent of the offset): equal to brute force across the heap / select boundary and across shards, in both
// formats; and a cancelled merge stops in every branch, the whole-range page (offset + limit >= the range) included.
TEST(batch_locate_deep_pages_and_cancel) {
  std::mt19937 rng(4747);
  std::vector<Doc> docs;
  for (int d = 0; d < 6; ++d) {
    Doc doc(60000 + rng() % 20000);
    for (auto& t : doc) t = rng() % 4 ? 1 : rng() % 3;
    docs.push_back(doc);
  }
  TempDir tmp;
  const std::vector<Doc> a(docs.begin(), docs.begin() + 3), b(docs.begin() + 3, docs.end());
  IgOptions second;
  second.suffix = ".1";
  const Index own({write_any(tmp.path / "a", a, 2, 3000), write_any(tmp.path / "b", b, 2, 3000)});
  const Index ig({write_ig(tmp.path / "ig", a, 2), write_ig(tmp.path / "ig", b, 2, second)});
  Oracle oracle{docs};
  for (const Index* idx : {&own, &ig}) {
    for (const Doc& q : {Doc{1}, Doc{1, 1}}) {
      auto occ = oracle.occurrences(q);
      Queries one = Queries::one(q.data(), q.size());
      std::vector<std::vector<SaRange>> parts{range_part(idx->shard(0), one), range_part(idx->shard(1), one)};
      const uint64_t in0 = parts[0][0].size(), in1 = parts[1][0].size();
      CHECK(in0 > kLocateHeapSkip + 100 && in1 > kLocateHeapSkip + 100);
      for (uint64_t offset : {kLocateHeapSkip - 3, kLocateHeapSkip, kLocateHeapSkip + 1, in0 - 5, in0 + kLocateHeapSkip - 2,
                              in0 + kLocateHeapSkip + 77, uint64_t(occ.size() - 7), uint64_t(occ.size()), uint64_t(rng() % occ.size())}) {
        const uint64_t limit = 11;
        LocatePage page = locate_page(*idx, q.data(), q.size(), offset, limit);
        CHECK_EQ(page.total, uint64_t(occ.size()));
        const size_t expect = offset >= occ.size() ? 0 : std::min<size_t>(limit, occ.size() - offset);
        CHECK_EQ(page.hits.size(), expect);
        for (size_t h = 0; h < expect; ++h) {
          CHECK_EQ(page.hits[h].document, occ[offset + h].first);
          CHECK_EQ(page.hits[h].offset, occ[offset + h].second);
        }
      }
      std::atomic<uint8_t> flag{1};
      // (offset, limit): a shallow heap page, the last 5 of shard 0's range (the whole-range page), a deep page.
      for (auto [offset, limit] : {std::pair<uint64_t, uint64_t>{0, 10}, {in0 - 5, 5}, {kLocateHeapSkip + 9, 10}})
        CHECK_THROWS_CODE(merge_locate(*idx, parts, 0, offset, limit, &flag), codes::kAborted);
    }
  }
}
