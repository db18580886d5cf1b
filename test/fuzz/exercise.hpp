// Every query kind of the core over one opened index, whatever its files hold. Shared by the mutation test
// (test/native/test_mutations.cpp) and the fuzz harness (test/fuzz/fuzz_index.cpp).
//
// What any index must give, damaged or not: each answer is well-shaped (bounded by the index's own sizes,
// sorted where promised, BCI >= 0) or the call throws traceindex::Error with ERR_INDEX_CORRUPT (or ERR_IO).
// And verify must agree with the search: when the full verify accepts the files, every answer equals brute
// force over the documents read back, no query may have reported corruption, and the quick verify (a subset
// of the full one) accepts them too. A breach throws exercise::Violation; a crash is a crash.
#pragma once
#include <cmath>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "../native/fixtures.hpp"
#include "batch.hpp"
#include "documents.hpp"
#include "error.hpp"
#include "index.hpp"
#include "match_state.hpp"
#include "trace.hpp"

namespace exercise {
using namespace traceindex;

struct Violation : std::logic_error {
  using std::logic_error::logic_error;
};

#define EXERCISE_REQUIRE(cond, what)                                                                      \
  do {                                                                                                     \
    if (!(cond)) throw ::exercise::Violation(std::string(what) + " (" #cond ", " __FILE__ ":" + std::to_string(__LINE__) + ")"); \
  } while (0)

struct Outcome {
  bool query_refused = false;   // a query threw ERR_INDEX_CORRUPT / ERR_IO
  bool quick_refused = false;   // verify(Quick) threw
  bool full_refused = false;    // verify(Full) threw
};

inline bool allowed(const Error& e) { return e.code == codes::kCorrupt || e.code == codes::kIo; }

// The documents of the index in global order, read through the shards.
inline std::vector<fixtures::Doc> read_documents(const Index& idx) {
  std::vector<fixtures::Doc> docs;
  for (size_t si = 0; si < idx.shard_count(); ++si) {
    const Shard& s = idx.shard(si);
    for (uint64_t d = 0; d < s.documents(); ++d) {
      fixtures::Doc doc;
      for (uint64_t p = s.doc_start(d); p < s.doc_end(d); ++p) doc.push_back(s.token(p));
      docs.push_back(std::move(doc));
    }
  }
  return docs;
}

// Queries drawn from the index's own documents (so searches go deep), some altered; ids < vocabulary.
inline std::vector<std::vector<uint32_t>> derived_queries(const Index& idx, std::mt19937& rng, size_t count) {
  std::vector<std::vector<uint32_t>> out;
  const uint64_t V = idx.vocab_size();
  for (size_t k = 0; k < count && V > 0; ++k) {
    const Shard& s = idx.shard(rng() % idx.shard_count());
    const uint64_t d = rng() % s.documents(), b = s.doc_start(d), e = s.doc_end(d);
    std::vector<uint32_t> q;
    if (e > b && rng() % 4 != 0) {
      const uint64_t at = b + rng() % (e - b), len = 1 + rng() % std::min<uint64_t>(10, e - at);
      for (uint64_t p = at; p < at + len; ++p) q.push_back(static_cast<uint32_t>(s.token(p) % V));
      if (rng() % 3 == 0) q[rng() % q.size()] = static_cast<uint32_t>(rng() % V);
    } else {
      for (size_t i = 0, len = rng() % 5; i < len; ++i) q.push_back(static_cast<uint32_t>(rng() % V));
    }
    out.push_back(std::move(q));
  }
  return out;
}

// Runs every query kind on `queries` (token ids < vocabulary) and checks the shapes of the answers.
inline void run_queries(const Index& idx, const std::vector<std::vector<uint32_t>>& queries) {
  const uint64_t V = idx.vocab_size(), D = idx.documents(), S = idx.shard_count();
  uint64_t suffixes = 0;
  for (size_t si = 0; si < S; ++si) suffixes += idx.shard(si).stored_suffixes();
  uint64_t unigram_total = 0;
  for (uint64_t c : idx.unigram_counts()) unigram_total += c;
  EXERCISE_REQUIRE(unigram_total == idx.tokens(), "unigram counts sum to the document tokens");
  // Documents and records.
  for (size_t si = 0; si < S; ++si) {
    const Shard& s = idx.shard(si);
    uint64_t bytes = 0;
    for (const MappedFile* f : s.files()) bytes += f->size();
    for (uint64_t d = 0; d < std::min<uint64_t>(s.documents(), 64); ++d) {
      const uint64_t b = s.doc_start(d), e = s.doc_end(d);
      EXERCISE_REQUIRE(b <= e && e <= s.shape().tokens, "document bounds inside the shard");
      if (b < e) EXERCISE_REQUIRE(s.document_of(b) == d && s.document_of(e - 1) == d, "document_of inverts doc_start");
      std::string rec = s.doc_record(d);
      EXERCISE_REQUIRE(rec.size() <= 2 * bytes + 64, "record size bounded by the files");
    }
  }
  const bool scored = idx.tokens() > 0;  // with N = 0 every -log P is -inf by definition
  for (const auto& q : queries) {
    const uint32_t* p = q.data();
    const size_t m = q.size();
    idx.check_query(p, m);
    const uint64_t c = idx.count(p, m);
    EXERCISE_REQUIRE(c <= suffixes, "count bounded by the stored suffixes");
    uint64_t total = 0;
    auto hits = idx.locate(p, m, c > 2 ? 1 : 0, 5, &total, nullptr);
    EXERCISE_REQUIRE(total == c, "locate's total equals count");
    EXERCISE_REQUIRE(hits.size() <= 5, "locate page bounded by its limit");
    for (const Occurrence& h : hits) {
      EXERCISE_REQUIRE(h.shard < S, "hit shard exists");
      const Shard& s = idx.shard(h.shard);
      EXERCISE_REQUIRE(h.position < s.shape().tokens, "hit position inside the shard");
      const uint64_t local = s.document_of(h.position);
      EXERCISE_REQUIRE(h.document == idx.first_document(h.shard) + local && h.document < D, "hit document is the position's");
      EXERCISE_REQUIRE(h.offset == h.position - s.doc_start(local), "hit offset is the position's");
    }
    // Ranks (infini-gram's find and get_doc_by_rank): per-shard ranges inside the tables, adding up to count;
    // the documents of a few ranks well-shaped.
    uint64_t ranked = 0;
    std::vector<uint32_t> rank_shards;
    std::vector<uint64_t> ranks;
    for (size_t si = 0; si < S; ++si) {
      const Shard& s = idx.shard(si);
      const SaRange r = rank_part(s, Queries::one(p, m))[0];
      EXERCISE_REQUIRE(r.lo <= r.hi && r.hi <= s.rank_count(), "rank range inside the table");
      ranked += r.size();
      for (uint64_t k : {r.lo, r.hi, s.rank_count() - 1})
        if (k < s.rank_count()) { rank_shards.push_back(uint32_t(si)); ranks.push_back(k); }
    }
    EXERCISE_REQUIRE(m == 0 || ranked == c, "rank ranges add up to count");
    const RankedDocuments rd = documents_by_rank(idx, rank_shards, ranks, 1 + m);
    for (size_t i = 0; i < ranks.size(); ++i) {
      const uint64_t shown = rd.token_offsets[i + 1] - rd.token_offsets[i];
      EXERCISE_REQUIRE(rd.documents[i] < D && shown <= 1 + m && shown <= rd.lengths[i], "ranked document window bounded");
      EXERCISE_REQUIRE(rd.needle_offsets[i] >= -1 && rd.needle_offsets[i] <= int64_t(shown), "ranked needle inside its window");
    }
    LongestMatch lm = idx.longest_match(p, m);
    EXERCISE_REQUIRE(lm.length <= m && lm.count <= suffixes, "longest match bounded");
    NextTokens nt = idx.next_tokens(p, m);
    EXERCISE_REQUIRE(nt.suffix_length <= m, "next-token context bounded");
    uint64_t sum = 0;
    for (size_t i = 0; i < nt.tokens.size(); ++i) {
      EXERCISE_REQUIRE(nt.tokens[i].token < V && nt.tokens[i].count > 0, "next token in the vocabulary, counted");
      if (i) EXERCISE_REQUIRE(nt.tokens[i - 1].token < nt.tokens[i].token, "next tokens ascending");
      sum += nt.tokens[i].count;
    }
    EXERCISE_REQUIRE(sum == nt.total && sum <= suffixes, "next-token total");
    // An output made of the query twice: spans, windows, then the streaming state.
    std::vector<uint32_t> out(q);
    out.insert(out.end(), q.begin(), q.end());
    TraceOptions to;
    to.max_documents = 3;
    to.seed = m;
    for (int mode = 0; mode < 2; ++mode) {
      auto spans = mode == 0 ? trace(idx, out.data(), out.size(), to) : occurring_windows(idx, out.data(), out.size(), 2, to);
      for (const Span& sp : spans) {
        EXERCISE_REQUIRE(sp.start < sp.end && sp.end <= out.size(), "span inside the output");
        EXERCISE_REQUIRE(sp.count <= suffixes && sp.occurrences.size() <= to.max_documents, "span counts bounded");
        for (const Occurrence& o : sp.occurrences) EXERCISE_REQUIRE(o.shard < S && o.document < D, "attribution exists");
        if (scored) EXERCISE_REQUIRE(sp.scores.bci >= 0 && std::isfinite(sp.scores.bci), "BCI is a finite non-negative number");
      }
    }
    for (uint32_t window : {0u, 3u}) {
      MatchState st(std::shared_ptr<const Index>(&idx, [](const Index*) {}), window);
      for (uint32_t t : q) {
        SuffixMatch peek = st.peek(t);
        st.push(t);
        SuffixMatch now = st.longest();
        EXERCISE_REQUIRE(now.length == peek.length && now.count == peek.count, "peek predicts push");
        EXERCISE_REQUIRE(now.length <= st.pushed() && (window == 0 || now.length <= window), "match length bounded");
        if (scored) EXERCISE_REQUIRE(now.bci >= 0, "match BCI non-negative");
      }
    }
  }
}

// Brute force over the documents read back, for an index the full verify accepted.
inline void check_exact(const Index& idx, const std::vector<std::vector<uint32_t>>& queries) {
  const std::vector<fixtures::Doc> docs = read_documents(idx);
  fixtures::Oracle o{docs};
  std::vector<uint64_t> unigram(idx.vocab_size(), 0);
  for (auto& d : docs)
    for (uint32_t t : d) ++unigram[t];
  EXERCISE_REQUIRE(unigram == idx.unigram_counts(), "verified unigram counts equal the tokens");
  for (const auto& q : queries) {
    fixtures::Doc qd(q.begin(), q.end());
    EXERCISE_REQUIRE(idx.count(q.data(), q.size()) == o.count(qd), "verified count equals brute force");
    LongestMatch lm = idx.longest_match(q.data(), q.size());
    size_t want = 0;
    while (want < q.size() && o.count(fixtures::Doc(q.begin(), q.begin() + want + 1)) > 0) ++want;
    EXERCISE_REQUIRE(lm.length == want, "verified longest match equals brute force");
    NextTokens nt = idx.next_tokens(q.data(), q.size());
    size_t start = 0;
    while (start < q.size() && o.next(fixtures::Doc(q.begin() + start, q.end())).empty()) ++start;
    auto dist = o.next(fixtures::Doc(q.begin() + start, q.end()));
    EXERCISE_REQUIRE(nt.suffix_length == q.size() - start && nt.tokens.size() == dist.size(), "verified next tokens");
    size_t i = 0;
    for (auto& [t, c] : dist) {
      EXERCISE_REQUIRE(nt.tokens[i].token == t && nt.tokens[i].count == c, "verified next-token counts");
      ++i;
    }
  }
}

// Queries, both verifies, and the agreement between them. Errors other than ERR_INDEX_CORRUPT / ERR_IO
// propagate (the caller decides); so do Violations.
inline Outcome run(const Index& idx, const std::vector<std::vector<uint32_t>>& queries, uint64_t seed = 0) {
  Outcome out;
  auto attempt = [](auto&& fn) {
    try {
      fn();
      return false;
    } catch (const Error& e) {
      if (!allowed(e)) throw;
      return true;
    }
  };
  out.query_refused = attempt([&] { run_queries(idx, queries); });
  out.quick_refused = attempt([&] { idx.verify(VerifyLevel::Quick, nullptr, 4096, seed); });
  out.full_refused = attempt([&] { idx.verify(VerifyLevel::Full); });
  if (!out.full_refused) {
    EXERCISE_REQUIRE(!out.quick_refused, "the quick verify refuses files the full verify accepts");
    EXERCISE_REQUIRE(!out.query_refused, "a query reported corruption in files the full verify accepts");
    check_exact(idx, queries);
  }
  return out;
}

}  // namespace exercise
