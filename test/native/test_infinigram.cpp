// The infini-gram format reader (native/core/infinigram_shard.cpp) against shards written by fixtures::write_ig in
// infini-gram's layout: separator before every document, byte-offset table of p-byte entries sorted by the
// raw little-endian bytes, u64 document offsets, metadata + metaoff. Checked against the brute-force oracle
// and against traceindex's own index of the same documents.
#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "check.hpp"
#include "error.hpp"
#include "fixtures.hpp"
#include "index.hpp"
#include "infinigram_shard.hpp"
#include "trace.hpp"

using namespace traceindex;
namespace fs = std::filesystem;

namespace {
using namespace fixtures;

// Token ids whose byte order differs from their value order (u16: 0x0100 sorts before 0x0001).
uint32_t tricky(int w, uint32_t i) {
  static const uint32_t u16[] = {0x0001, 0x0100, 0x00FF, 0xFF00, 0x0002, 0x0200, 0xFFFE, 0x0101, 7};
  // u32 ids stay small: traceindex's own index (the comparison) sizes its unigram table by the vocabulary.
  static const uint32_t u32[] = {0x00000001, 0x00000100, 0x000000FF, 0x0001FF00, 0x00010000, 0x00000200, 0x0000FFFE, 7, 0x00010101};
  if (w == 1) return i;
  return w == 2 ? u16[i % 9] : u32[i % 9];
}

std::vector<Doc> tricky_docs(std::mt19937& rng, int w, int kind) {
  const uint32_t draw = 1 + rng() % (w == 1 ? 6 : 9);
  std::vector<Doc> docs = random_docs(rng, kind, draw);
  for (auto& d : docs) for (auto& t : d) t = tricky(w, t);
  return docs;
}

Doc query_from(std::mt19937& rng, const std::vector<Doc>& docs, int w) {
  Doc q;
  const Doc& d = docs[rng() % docs.size()];
  if (rng() % 3 != 0 && !d.empty()) {
    size_t a = rng() % d.size(), len = 1 + rng() % std::min<size_t>(12, d.size() - a);
    q.assign(d.begin() + a, d.begin() + a + len);
    if (rng() % 4 == 0) q[rng() % q.size()] = tricky(w, rng() % 9);
  } else {
    size_t len = 1 + rng() % 5;
    for (size_t i = 0; i < len; ++i) q.push_back(tricky(w, rng() % 9));
  }
  return q;
}

void check_queries(const Index& ig, const Index& own, const std::vector<Doc>& docs, std::mt19937& rng, int w) {
  Oracle o{docs};
  CHECK_EQ(ig.documents(), uint64_t(docs.size()));
  CHECK_EQ(ig.tokens(), o.count({}));
  CHECK_EQ(ig.count(nullptr, 0), o.count({}));
  for (int k = 0; k < 50; ++k) {
    Doc q = query_from(rng, docs, w);
    auto occ = o.occurrences(q);
    CHECK_EQ(ig.count(q.data(), q.size()), uint64_t(occ.size()));
    uint64_t offset = rng() % (occ.size() + 2), limit = rng() % 7, total = 0;
    auto hits = ig.locate(q.data(), q.size(), offset, limit, &total);
    CHECK_EQ(total, uint64_t(occ.size()));
    CHECK_EQ(hits.size(), offset >= occ.size() ? size_t(0) : std::min<size_t>(limit, occ.size() - offset));
    for (size_t h = 0; h < hits.size(); ++h) {
      CHECK_EQ(hits[h].document, occ[offset + h].first);
      CHECK_EQ(hits[h].offset, occ[offset + h].second);
    }
    LongestMatch lm = ig.longest_match(q.data(), q.size());
    size_t want = 0;
    while (want < q.size() && o.count(Doc(q.begin(), q.begin() + want + 1)) > 0) ++want;
    CHECK_EQ(lm.length, want);
    CHECK_EQ(lm.count, o.count(Doc(q.begin(), q.begin() + want)));
    NextTokens nt = ig.next_tokens(q.data(), q.size());
    size_t start = 0;
    while (start < q.size() && o.next(Doc(q.begin() + start, q.end())).empty()) ++start;
    auto dist = o.next(Doc(q.begin() + start, q.end()));
    CHECK_EQ(nt.suffix_length, q.size() - start);
    CHECK_EQ(nt.tokens.size(), dist.size());
    size_t i = 0;
    for (auto& [t, c] : dist) {
      CHECK_EQ(nt.tokens[i].token, t);
      CHECK_EQ(nt.tokens[i].count, c);
      ++i;
    }
    // Spans of a query-like output: identical to traceindex's own index (counts and positions; the sampled
    // occurrences are all of them while count <= max_documents).
    Doc out = query_from(rng, docs, w);
    Doc more = query_from(rng, docs, w);
    out.insert(out.end(), more.begin(), more.end());
    TraceOptions to;
    to.max_documents = 1000;
    auto a = trace(ig, out.data(), out.size(), to), b = trace(own, out.data(), out.size(), to);
    CHECK_EQ(a.size(), b.size());
    for (size_t s = 0; s < a.size() && s < b.size(); ++s) {
      CHECK_EQ(a[s].start, b[s].start);
      CHECK_EQ(a[s].end, b[s].end);
      CHECK_EQ(a[s].count, b[s].count);
      CHECK_EQ(a[s].occurrences.size(), b[s].occurrences.size());
      for (size_t j = 0; j < a[s].occurrences.size() && j < b[s].occurrences.size(); ++j) {
        CHECK_EQ(a[s].occurrences[j].document, b[s].occurrences[j].document);
        CHECK_EQ(a[s].occurrences[j].offset, b[s].occurrences[j].offset);
      }
      CHECK(std::abs(a[s].scores.bci - b[s].scores.bci) < 1e-9);
    }
  }
  // Unigram counts equal, ids the own index knows.
  for (uint64_t t = 0; t < own.vocab_size(); ++t) CHECK_EQ(ig.unigram_counts()[t], own.unigram_counts()[t]);
  for (uint64_t t = own.vocab_size(); t < ig.vocab_size(); ++t) CHECK_EQ(ig.unigram_counts()[t], uint64_t(0));
}

}  // namespace

TEST(infinigram_matches_brute_force_and_own_index) {
  std::mt19937 rng(777);
  for (int round = 0; round < 150; ++round) {
    const int w = round % 3 == 0 ? 1 : round % 3 == 1 ? 2 : 4;
    std::vector<Doc> docs = tricky_docs(rng, w, round % 4);
    TempDir tmp;
    uint64_t own_vocab = 1;
    for (auto& d : docs) for (uint32_t t : d) own_vocab = std::max<uint64_t>(own_vocab, uint64_t(t) + 1);
    Index own({write_any(tmp.path / "own", docs, w, own_vocab)});
    // One shard, with metadata on even rounds.
    IgOptions opt;
    opt.metadata = round % 2 == 0;
    Index ig({write_ig(tmp.path / "ig", docs, w, opt)});
    CHECK_EQ(std::string(ig.shard(0).format()), std::string("infini-gram"));
    CHECK_EQ(ig.vocab_size(), w < 4 ? separator_of(w) : own_vocab);  // u32: the largest id + 1
    ig.shard(0).verify(nullptr);
    check_queries(ig, own, docs, rng, w);
    // The same documents in .0, .1, ... shards of one directory.
    std::vector<ShardSpec> specs;
    size_t at = 0;
    for (int s = 0; at < docs.size(); ++s) {
      size_t take = std::min(docs.size() - at, size_t(1 + rng() % 3));
      IgOptions so;
      so.suffix = "." + std::to_string(s);
      so.metadata = opt.metadata;
      specs.push_back(write_ig(tmp.path / "multi", std::vector<Doc>(docs.begin() + at, docs.begin() + at + take), w, so));
      at += take;
    }
    Index multi(specs);
    for (size_t s = 0; s < multi.shard_count(); ++s) multi.shard(s).verify(nullptr);
    check_queries(multi, own, docs, rng, w);
  }
}

TEST(infinigram_documents_and_records) {
  TempDir tmp;
  std::vector<Doc> docs{{1, 2, 3}, {}, {0x0100, 0x0001}, {}};
  Index with({write_ig(tmp.path / "m", docs, 2, {"", true})});
  Index without({write_ig(tmp.path / "n", docs, 2)});
  const Shard& s = with.shard(0);
  CHECK_EQ(s.documents(), uint64_t(4));
  CHECK_EQ(s.doc_start(0), uint64_t(1));
  CHECK_EQ(s.doc_end(0), uint64_t(4));
  CHECK_EQ(s.doc_start(1), s.doc_end(1));  // empty documents are kept
  CHECK_EQ(s.doc_start(2), uint64_t(6));
  CHECK_EQ(s.doc_end(3), s.shape().tokens);  // the last document ends at the end of the stream
  CHECK_EQ(s.document_of(6), uint64_t(2));
  CHECK_EQ(s.token(6), uint32_t(0x0100));
  CHECK_EQ(s.doc_record(2), std::string("{\"id\":\"part/\\\"x\\\".jsonl:2\",\"meta\":{\"path\": \"part/\\\"x\\\".jsonl\", \"linenum\": 2, "
                                        "\"metadata\": {\"n\": [1, {\"a\": \"}\"}]}}}"));
  CHECK_EQ(without.shard(0).doc_record(3), std::string("{\"id\":\"3\"}"));
  // Global numbers across shards when there is no metadata.
  Index two({write_ig(tmp.path / "t", {{1}}, 1, {".0"}), write_ig(tmp.path / "t", {{2}, {3}}, 1, {".1"})});
  CHECK_EQ(two.shard(1).doc_record(1), std::string("{\"id\":\"2\"}"));
  CHECK_EQ(two.documents(), uint64_t(3));
  // The record's size without building it, with and without metadata.
  for (const Index* idx : {&with, &without, &two})
    for (size_t si = 0; si < idx->shard_count(); ++si)
      for (uint64_t d = 0; d < idx->shard(si).documents(); ++d)
        CHECK_EQ(idx->shard(si).doc_record_bytes(d), uint64_t(idx->shard(si).doc_record(d).size()));
}

TEST(infinigram_verify_rejects_value_order_table) {
  TempDir tmp;
  std::vector<Doc> docs{{0x0001, 0x0100, 0x0001}, {0x0100, 0x0001}};
  IgOptions bad;
  bad.value_order = true;
  Index ig({write_ig(tmp.path / "v", docs, 2, bad)});
  CHECK_THROWS_CODE(ig.shard(0).verify(nullptr), codes::kCorrupt);
  Index good({write_ig(tmp.path / "b", docs, 2)});
  good.shard(0).verify(nullptr);
  uint32_t q[] = {0x0100, 0x0001};
  CHECK_EQ(good.count(q, 2), uint64_t(2));
}

TEST(infinigram_rejects_inconsistent_files) {
  TempDir tmp;
  std::vector<Doc> docs{{1, 2, 3}, {4, 5}};
  auto fresh = [&](const char* name, bool meta = false) { IgOptions o; o.metadata = meta; return write_ig(tmp.path / name, docs, 2, o); };
  auto corrupt_open = [](const ShardSpec& s) { CHECK_THROWS_CODE(Index({s}), codes::kCorrupt); };
  {  // table of the wrong size
    ShardSpec s = fresh("a");
    fs::resize_file(fs::path(s.dir) / "table", fs::file_size(fs::path(s.dir) / "table") - 1);
    corrupt_open(s);
  }
  {  // tokenized not a multiple of the width
    ShardSpec s = fresh("b");
    fs::resize_file(fs::path(s.dir) / "tokenized", fs::file_size(fs::path(s.dir) / "tokenized") - 1);
    corrupt_open(s);
  }
  {  // offset truncated / not pointing at a separator
    ShardSpec s = fresh("c");
    write_file(fs::path(s.dir) / "offset", u64le(0) + u64le(4));
    corrupt_open(s);
  }
  {  // metadata without metaoff
    ShardSpec s = fresh("d", true);
    fs::remove(fs::path(s.dir) / "metaoff");
    corrupt_open(s);
  }
  {  // read with the wrong width: no separator at the offsets
    ShardSpec s = fresh("e");
    s.shape.token_width = 1;
    corrupt_open(s);
  }
  {  // a separator inside a document (one offset fewer)
    ShardSpec s = fresh("f");
    write_file(fs::path(s.dir) / "offset", u64le(0));
    corrupt_open(s);
  }
  {  // missing file
    ShardSpec s = fresh("g");
    fs::remove(fs::path(s.dir) / "table");
    corrupt_open(s);
  }
  {  // declared vocabulary too small
    ShardSpec s = fresh("h");
    s.shape.vocab_size = 3;
    corrupt_open(s);
  }
}

// A u32 shard's unigram table has one u64 per id: a derived vocabulary must stay below max(2^20, the shard's
// tokens) and 2^28, a declared one at most 2^28, so a few bytes holding one large id cannot allocate gigabytes.
TEST(infinigram_u32_vocabulary_is_bounded) {
  TempDir tmp;
  const uint32_t big = (1u << 20) + 5;
  ShardSpec s = write_ig(tmp.path / "a", {{7, big}}, 4);
  CHECK_THROWS_CODE(Index({s}), codes::kInvalidArgument);  // 3 tokens, id 2^20 + 5: declare the vocabulary
  s.shape.vocab_size = uint64_t(big) + 1;
  Index declared({s});
  CHECK_EQ(declared.vocab_size(), uint64_t(big) + 1);
  CHECK_EQ(declared.unigram_counts()[big], uint64_t(1));
  s.shape.vocab_size = (uint64_t(1) << 28) + 1;
  CHECK_THROWS_CODE(Index({s}), codes::kInvalidArgument);
  s.shape.vocab_size = 0;
  ShardSpec below = write_ig(tmp.path / "b", {{7, (1u << 20) - 1}}, 4);  // derived: the largest id + 1
  CHECK_EQ(Index({below}).vocab_size(), uint64_t(1) << 20);
  ShardSpec huge = write_ig(tmp.path / "c", {{1u << 28}}, 4);
  huge.shape.vocab_size = 0;
  CHECK_THROWS_CODE(Index({huge}), codes::kInvalidArgument);
}

// A declared vocabulary far above the shards' tokens: ids above max(2^20, tokens) are counted sparsely per shard
// (only the index's table has one entry per declared id), and the counts and verify are exact either way.
TEST(infinigram_declared_vocabulary_counts_sparse_ids_exactly) {
  TempDir tmp;
  const uint64_t V = uint64_t(1) << 24;
  std::mt19937 rng(2424);
  std::vector<ShardSpec> specs;
  std::vector<uint64_t> want(V, 0);
  for (int k = 0; k < 4; ++k) {
    std::vector<Doc> docs(3);
    for (Doc& d : docs)
      for (int i = 0, len = 1 + int(rng() % 40); i < len; ++i) {
        // small ids, ids just below and above 2^20 (the dense bound here), and ids near V
        const uint32_t pick[] = {uint32_t(rng() % 50), uint32_t((1u << 20) - 1 - rng() % 3), uint32_t((1u << 20) + rng() % 3),
                                 uint32_t(V - 1 - rng() % 5)};
        d.push_back(pick[rng() % 4]);
        ++want[d.back()];
      }
    specs.push_back(write_ig(tmp.path / ("s" + std::to_string(k)), docs, 4));
    specs.back().shape.vocab_size = V;
  }
  Index idx(specs);
  CHECK_EQ(idx.vocab_size(), V);
  CHECK(idx.unigram_counts() == want);
  for (size_t s = 0; s < idx.shard_count(); ++s) idx.shard(s).verify(nullptr);
  CHECK_EQ(idx.count(std::vector<uint32_t>{uint32_t(V - 1)}.data(), 1), want[V - 1]);
}

// A metadata line goes into the record as its "meta" value, so it must be one JSON value: a line that closes its
// value and goes on would add keys of its own (a spoofed "id") to the record.
TEST(infinigram_metadata_line_must_be_one_json_value) {
  TempDir tmp;
  IgOptions o;
  o.metadata = true;
  ShardSpec s = write_ig(tmp.path / "m", {{1, 2}, {3}, {4, 5}, {6}, {7}}, 1, o);
  const std::vector<std::string> lines = {
      "{\"path\":\"f.jsonl\",\"linenum\":0}\n", "{\"path\":\"f.jsonl\",\"linenum\":1},\"id\":\"spoofed\",\"meta\":{\"x\":1}\n",
      "not json at all\n", " [1, {\"a\": \"}\"}] \r\n", "{\"x\":1} {\"y\":2}\n"};
  std::string meta, metaoff;
  for (const std::string& l : lines) { metaoff += u64le(meta.size()); meta += l; }
  write_file(fs::path(s.dir) / "metadata", meta);
  write_file(fs::path(s.dir) / "metaoff", metaoff);
  Index idx({s});
  CHECK_EQ(idx.shard(0).doc_record(0), std::string("{\"id\":\"f.jsonl:0\",\"meta\":{\"path\":\"f.jsonl\",\"linenum\":0}}"));
  CHECK_EQ(idx.shard(0).doc_record(3), std::string("{\"id\":\"3\",\"meta\": [1, {\"a\": \"}\"}] }"));
  for (uint64_t d : {0, 3}) CHECK_EQ(idx.shard(0).doc_record_bytes(d), uint64_t(idx.shard(0).doc_record(d).size()));
  for (uint64_t d : {1, 2, 4}) {
    CHECK_THROWS_CODE(idx.shard(0).doc_record_bytes(d), codes::kCorrupt);  // a budget never counts a spoofed record
    try {
      idx.shard(0).doc_record(d);
      CHECK(false);
    } catch (const Error& e) {
      CHECK_EQ(e.code, std::string(codes::kCorrupt));
      CHECK(std::string(e.what()).find("/metadata: the line of document " + std::to_string(d) + " is not one JSON value") != std::string::npos);
    }
  }
}
