// Maximal spans, windows, scores and the streaming match state against brute force.
#include <cmath>
#include <set>

#include "check.hpp"
#include "error.hpp"
#include "fixtures.hpp"
#include "match_state.hpp"
#include "trace.hpp"

using namespace traceindex;
using namespace fixtures;

namespace {

std::vector<uint64_t> brute_unigram(const std::vector<Doc>& docs, uint64_t vocab, uint64_t* total) {
  std::vector<uint64_t> c(vocab, 0);
  *total = 0;
  for (auto& d : docs) for (auto t : d) { ++c[t]; ++*total; }
  return c;
}

double rel_err(double a, double b) { return std::fabs(a - b) / std::max(1.0, std::fabs(b)); }

}  // namespace

TEST(maximal_spans_equal_brute_force) {
  std::mt19937 rng(99);
  for (int round = 0; round < 80; ++round) {
    auto c = make_corpus(rng, round);
    for (int k = 0; k < 20; ++k) {
      Doc o = splice_output(rng, c->docs, c->vocab + 1);
      auto want = brute_maximal(c->docs, o, 0, o.size());
      for (const Index* idx : {c->single.get(), c->multi.get()}) {
        TraceOptions opt;
        opt.max_documents = 2;
        auto got = trace(*idx, o.data(), o.size(), opt);
        CHECK_EQ(got.size(), want.size());
        for (size_t i = 0; i < got.size(); ++i) {
          CHECK_EQ(got[i].start, want[i].first);
          CHECK_EQ(got[i].end, want[i].second);
          Oracle oracle{c->docs};
          Doc span(o.begin() + got[i].start, o.begin() + got[i].end);
          auto occ = oracle.occurrences(span);
          CHECK_EQ(got[i].count, uint64_t(occ.size()));
          CHECK_EQ(got[i].occurrences.size(), std::min<size_t>(2, occ.size()));
          for (auto& h : got[i].occurrences) {  // every attribution is a real occurrence
            CHECK(std::find(occ.begin(), occ.end(), std::make_pair(h.document, h.offset)) != occ.end());
          }
        }
      }
    }
  }
}

TEST(delimiters_cut_spans_and_filters_apply) {
  std::mt19937 rng(5);
  for (int round = 0; round < 60; ++round) {
    auto c = make_corpus(rng, round);
    for (int k = 0; k < 15; ++k) {
      Doc o = splice_output(rng, c->docs, c->vocab + 1);
      TraceOptions opt;
      opt.delimiters = {0};
      opt.min_length = 1 + rng() % 3;
      opt.max_count = 1 + rng() % 6;
      std::vector<std::pair<uint32_t, uint32_t>> want;
      for (size_t a = 0; a < o.size();) {
        size_t b = a;
        while (b < o.size() && o[b] != 0) ++b;
        if (b < o.size()) ++b;
        for (auto sp : brute_maximal(c->docs, o, a, b)) {
          Oracle oracle{c->docs};
          uint64_t n = oracle.count(Doc(o.begin() + sp.first, o.begin() + sp.second));
          if (sp.second - sp.first >= opt.min_length && n <= opt.max_count) want.push_back(sp);
        }
        a = b;
      }
      auto got = trace(*c->multi, o.data(), o.size(), opt);
      CHECK_EQ(got.size(), want.size());
      for (size_t i = 0; i < got.size(); ++i) {
        CHECK_EQ(got[i].start, want[i].first);
        CHECK_EQ(got[i].end, want[i].second);
      }
    }
  }
}

TEST(scores_equal_direct_computation) {
  std::mt19937 rng(17);
  for (int round = 0; round < 40; ++round) {
    auto c = make_corpus(rng, round);
    uint64_t N;
    auto counts = brute_unigram(c->docs, c->single->vocab_size(), &N);
    for (int k = 0; k < 10; ++k) {
      Doc o = splice_output(rng, c->docs, c->vocab + 1);
      TraceOptions opt;
      opt.score.log_base = (k % 3 == 0) ? 2.0 : 0;
      auto got = trace(*c->multi, o.data(), o.size(), opt);
      const double scale = opt.score.log_base ? std::log(opt.score.log_base) : 1.0;
      for (auto& sp : got) {
        double bci = 0, mx = 0;
        std::map<uint32_t, int> freq;
        for (uint32_t i = sp.start; i < sp.end; ++i) {
          double h = -std::log(double(counts[o[i]]) / double(N)) / scale;
          bci += h;
          mx = std::max(mx, h);
          ++freq[o[i]];
        }
        double len = sp.end - sp.start, kl = 0;
        for (auto& [t, f] : freq) {
          double q = f / len, p = double(counts[t]) / double(N);
          kl += q * std::log(q / p) / scale;
        }
        CHECK(rel_err(sp.scores.bci, bci) < 1e-9);
        CHECK(rel_err(sp.scores.density, bci / len) < 1e-9);
        CHECK(rel_err(sp.scores.max_token, mx) < 1e-9);
        CHECK(std::fabs(sp.scores.kl - kl) < 1e-9);
        CHECK(rel_err(sp.scores.count_surprisal, -std::log(double(sp.count) / double(N)) / scale) < 1e-9);
      }
    }
    // Unseen tokens use the floor.
    const Surprisal& h = c->single->surprisal();
    ScoreOptions so;
    so.unseen_count = 0.25;
    uint32_t unseen = c->single->vocab_size() - 1;
    CHECK_EQ(counts[unseen], uint64_t(0));
    CHECK(rel_err(h.ln(unseen, so), std::log(double(N) / 0.25)) < 1e-12);
  }
}

TEST(windows_equal_brute_force) {
  std::mt19937 rng(23);
  for (int round = 0; round < 40; ++round) {
    auto c = make_corpus(rng, round);
    for (int k = 0; k < 10; ++k) {
      Doc o = splice_output(rng, c->docs, c->vocab + 1);
      uint32_t w = 1 + rng() % 6;
      TraceOptions opt;
      opt.max_count = rng() % 2 ? UINT64_MAX : 2;
      auto got = occurring_windows(*c->multi, o.data(), o.size(), w, opt);
      size_t g = 0;
      Oracle oracle{c->docs};
      for (size_t i = 0; i + w <= o.size(); ++i) {
        uint64_t n = oracle.count(Doc(o.begin() + i, o.begin() + i + w));
        if (n == 0 || n > opt.max_count) continue;
        CHECK(g < got.size());
        CHECK_EQ(got[g].start, uint32_t(i));
        CHECK_EQ(got[g].count, n);
        ++g;
      }
      CHECK_EQ(g, got.size());
    }
  }
}

TEST(match_state_tracks_longest_suffix) {
  std::mt19937 rng(31);
  for (int round = 0; round < 40; ++round) {
    auto c = make_corpus(rng, round);
    std::shared_ptr<const Index> idx(c->multi.get(), [](const Index*) {});
    uint64_t N;
    auto counts = brute_unigram(c->docs, idx->vocab_size(), &N);
    for (uint32_t window : {0u, 3u}) {
      MatchState st(idx, window);
      Doc pushed = splice_output(rng, c->docs, c->vocab + 1);
      Oracle oracle{c->docs};
      for (size_t n = 0; n < pushed.size(); ++n) {
        // peek must equal the state after push.
        SuffixMatch peeked = st.peek(pushed[n]);
        st.push(pushed[n]);
        SuffixMatch m = st.longest();
        CHECK_EQ(peeked.length, m.length);
        CHECK_EQ(peeked.count, m.count);
        size_t want = 0, cap = window ? window : n + 1;
        while (want < std::min(cap, n + 1) && occurs(c->docs, pushed.data() + n - want, want + 1)) ++want;
        CHECK_EQ(m.length, uint32_t(want));
        CHECK_EQ(m.count, oracle.count(Doc(pushed.begin() + (n + 1 - want), pushed.begin() + n + 1)));
        double bci = 0;
        for (size_t i = n + 1 - want; i <= n; ++i) bci += -std::log(double(counts[pushed[i]]) / double(N));
        CHECK(rel_err(m.bci, bci) < 1e-9);
      }
    }
    MatchState st(idx, 0);
    CHECK_THROWS_CODE(st.push(uint32_t(idx->vocab_size())), codes::kTokenRange);
  }
}
