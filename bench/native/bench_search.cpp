// Search benchmark: builds one shard from a corpus (traceindex::write_shard into a temporary directory), opens
// it as an Index and times count / locate / longest_match / next_tokens per query, for every token-match
// kernel the CPU has (avx2, sse4.2, scalar).
//   bench_search [--file PATH | --generate MB] [--mb 100] [--width 1|2] [--queries 10000] [--aux-queries 500]
//                [--aux-budget 1] [--rounds 5] [--seed 1] [--json PATH]
// Width 1: the corpus bytes are the tokens (0xFF, the separator, becomes 0xFE). Width 2: a word tokenizer
// (runs of [A-Za-z0-9_] and single other bytes) over a fixed 65534-id vocabulary. Either way the token stream
// is cut into documents at the first newline after every 64 Ki tokens. See bench/README.md.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "error.hpp"
#include "index.hpp"
#include "shard_writer.hpp"
#include "token_match.hpp"
#include "bench_corpus.hpp"

namespace ti = traceindex;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

const size_t kLengths[] = {1, 2, 5, 10, 20, 100};
constexpr size_t kDocTokens = size_t(1) << 16;
constexpr uint32_t kNewline = '\n';  // the newline's token id at both widths (ids < 256 are single bytes)

struct Options {
  std::string file, json;
  double gen_mb = 0, mb = 100;
  int width = 1;
  size_t queries = 10000, aux_queries = 500;
  double aux_budget = 1.0;  // seconds per (kernel, length, operation)
  int rounds = 5;
  uint64_t seed = 1;
};

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: bench_search [--file PATH | --generate MB] [--mb 100] [--width 1|2] [--queries 10000]\n"
               "                    [--aux-queries 500] [--aux-budget 1] [--rounds 5] [--seed 1] [--json PATH]\n");
  std::exit(2);
}

double now_s() { return std::chrono::duration<double>(Clock::now().time_since_epoch()).count(); }

// ---- corpus ----

std::vector<uint8_t> read_prefix(const std::string& path, uint64_t max_bytes) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) { std::perror(path.c_str()); std::exit(1); }
  std::vector<uint8_t> t(max_bytes);
  t.resize(std::fread(t.data(), 1, t.size(), f));
  std::fclose(f);
  return t;
}

bool word_byte(uint8_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

// Width-2 ids: 0..255 are single non-word bytes, words get 256.. in order of first occurrence; once the
// vocabulary is full, further new words share ids by hash (the index never sees text, only ids).
std::vector<uint16_t> word_tokens(const std::vector<uint8_t>& text, uint32_t vocab) {
  std::unordered_map<std::string, uint32_t> ids;
  std::vector<uint16_t> out;
  out.reserve(text.size() / 3);
  uint32_t next = 256;
  for (size_t i = 0; i < text.size();) {
    if (!word_byte(text[i])) {
      out.push_back(text[i] == 0xFF ? 0xFE : text[i]);
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && word_byte(text[j])) ++j;
    std::string w(reinterpret_cast<const char*>(&text[i]), j - i);
    auto it = ids.find(w);
    uint32_t id;
    if (it != ids.end()) id = it->second;
    else if (next < vocab) id = ids[w] = next++;
    else id = 256 + uint32_t(std::hash<std::string>()(w) % (vocab - 256));
    out.push_back(uint16_t(id));
    i = j;
  }
  return out;
}

struct Corpus {
  std::string source;
  uint64_t bytes = 0;
  int width = 1;
  uint64_t vocab = 0;
  std::vector<uint16_t> tokens;   // documents + separators (both widths fit 16 bits: 2 bytes a token)
  std::vector<uint64_t> starts;   // D + 1 document starts
};

Corpus make_corpus(const Options& o) {
  Corpus c;
  std::vector<uint8_t> text;
  if (!o.file.empty()) {
    text = read_prefix(o.file, uint64_t(o.mb * 1e6));
    c.source = o.file;
  } else {
    text = bench::generate_text(uint64_t(std::min(o.gen_mb, o.mb) * 1e6), o.seed);
    c.source = "generated (Zipf words, seed " + std::to_string(o.seed) + ")";
  }
  c.bytes = text.size();
  c.width = o.width;
  c.vocab = o.width == 1 ? 255 : 65534;
  std::vector<uint16_t> ids;
  if (o.width == 1) {
    ids.resize(text.size());
    for (size_t i = 0; i < text.size(); ++i) ids[i] = text[i] == 0xFF ? 0xFE : text[i];
  } else {
    ids = word_tokens(text, uint32_t(c.vocab));
  }
  std::vector<uint8_t>().swap(text);
  const uint16_t sep = uint16_t(ti::separator_of(o.width));
  c.tokens.reserve(ids.size() + ids.size() / kDocTokens + 2);
  c.starts.push_back(0);
  size_t in_doc = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    c.tokens.push_back(ids[i]);
    ++in_doc;
    if ((in_doc >= kDocTokens && ids[i] == kNewline) || in_doc >= 4 * kDocTokens || i + 1 == ids.size()) {
      c.tokens.push_back(sep);
      c.starts.push_back(c.tokens.size());
      in_doc = 0;
    }
  }
  return c;
}

template <typename Token>
ti::ShardSpec write_corpus_shard(const std::string& dir, const Corpus& c) {
  std::vector<Token> tokens(c.tokens.begin(), c.tokens.end());  // write_shard wants the shard's token type
  const uint64_t D = c.starts.size() - 1;
  std::string blob;
  std::vector<uint64_t> meta_off{0};
  for (uint64_t d = 0; d < D; ++d) {
    blob += "{\"id\":\"d" + std::to_string(d) + "\"}";
    meta_off.push_back(blob.size());
  }
  ti::ShardSource src;
  src.tokens = tokens.data();
  src.token_width = c.width;
  src.tokens_count = tokens.size();
  src.doc_starts = c.starts.data();
  src.documents = D;
  src.meta_offsets = meta_off.data();
  src.meta_blob = reinterpret_cast<const uint8_t*>(blob.data());
  src.vocab_size = c.vocab;
  ti::write_shard(dir, src);
  return {dir, ti::ShardShape{c.width, tokens.size(), D, c.vocab}};
}

struct TempDir {
  std::string path;
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/bench_search-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) { std::perror("mkdtemp"); std::exit(1); }
    path = buf.data();
  }
  ~TempDir() { std::error_code ec; fs::remove_all(path, ec); }
};

// ---- queries ----

using Query = std::vector<uint32_t>;

struct QuerySet {
  size_t length;
  std::vector<Query> present, absent;
};

// Present: a window of `length` tokens inside one document at a random position. Absent: a present
// pattern whose last token is replaced until the index counts it 0 (so its longest match is length - 1).
QuerySet make_queries(const Corpus& c, const ti::Index& idx, size_t length, size_t n, std::mt19937_64& rng) {
  QuerySet s{length, {}, {}};
  const uint64_t N = c.tokens.size();
  auto sample = [&](Query& q) {
    for (;;) {
      uint64_t p = rng() % N;
      size_t d = std::upper_bound(c.starts.begin(), c.starts.end(), p) - c.starts.begin() - 1;
      if (p + length > c.starts[d + 1] - 1) continue;  // would cross the separator
      q.assign(c.tokens.begin() + p, c.tokens.begin() + p + length);
      return;
    }
  };
  s.present.resize(n);
  for (auto& q : s.present) sample(q);
  for (size_t attempts = 0; s.absent.size() < n && attempts < 50 * n; ++attempts) {
    Query q;
    sample(q);
    for (int k = 0; k < 16; ++k) {
      q.back() = uint32_t(rng() % c.vocab);
      if (idx.count(q.data(), q.size()) == 0) { s.absent.push_back(q); break; }
    }
  }
  return s;
}

// ---- measurement ----

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  size_t k = size_t(std::ceil(q * double(v.size())));
  return v[std::min(v.size() - 1, k > 0 ? k - 1 : 0)];
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? NAN : s / double(v.size());
}

struct Samples {
  std::vector<double> present, absent, locate, longest, next;  // ns per call
  std::vector<double> batch_seconds;  // per round: one loop over both sets without per-call timing
  uint64_t batch_queries = 0;          // queries in one such loop
  double best_batch() const { return *std::min_element(batch_seconds.begin(), batch_seconds.end()); }
};

volatile uint64_t g_sink;  // keeps results alive so the calls are not optimised away

// Times call(q) for the first `limit` queries, stopping early once `budget_s` seconds of calls have run
// (locate is linear in the occurrences, so frequent short patterns would otherwise take minutes). Returns
// how many ran.
template <class F>
size_t time_each(const std::vector<Query>& qs, size_t limit, std::vector<double>& out, F&& call,
                 double budget_s = INFINITY) {
  uint64_t sink = 0;
  double spent_ns = 0;
  size_t i = 0;
  for (; i < std::min(limit, qs.size()) && spent_ns < budget_s * 1e9; ++i) {
    auto t0 = Clock::now();
    sink += call(i, qs[i]);
    auto t1 = Clock::now();
    out.push_back(double(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
    spent_ns += out.back();
  }
  g_sink = g_sink + sink;
  return i;
}

double timer_overhead_ns() {
  std::vector<double> v;
  for (int i = 0; i < 100000; ++i) {
    auto t0 = Clock::now();
    auto t1 = Clock::now();
    v.push_back(double(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
  }
  return percentile(v, 0.5);
}

struct Row {
  std::string kernel;
  size_t length;
  double p50, p99, ap50, ap99, qps, loc50, lm50, nt50, mean_ns, mean_occ, present_mean;
  std::array<size_t, 3> aux_n;
};

std::string fmt(double v, int prec = 0) {
  if (std::isnan(v)) return "n/a";
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", prec, v);
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> const char* { if (i + 1 >= argc) usage(); return argv[++i]; };
    if (a == "--file") o.file = val();
    else if (a == "--generate") o.gen_mb = std::atof(val());
    else if (a == "--mb") o.mb = std::atof(val());
    else if (a == "--width") o.width = std::atoi(val());
    else if (a == "--queries") o.queries = size_t(std::max(1L, std::atol(val())));
    else if (a == "--aux-queries") o.aux_queries = size_t(std::max(0L, std::atol(val())));
    else if (a == "--aux-budget") o.aux_budget = std::atof(val());
    else if (a == "--rounds") o.rounds = std::max(1, std::atoi(val()));
    else if (a == "--seed") o.seed = std::strtoull(val(), nullptr, 10);
    else if (a == "--json") o.json = val();
    else usage();
  }
  if ((o.file.empty() && o.gen_mb <= 0) || (o.width != 1 && o.width != 2)) usage();

  const std::string default_kernel = ti::match_kernel().name;
  const std::vector<std::string> kernels = ti::available_match_kernels();
  Corpus c = make_corpus(o);
  const uint64_t D = c.starts.size() - 1, doc_tokens = c.tokens.size() - D;
  std::fprintf(stderr, "corpus: %s, %llu bytes -> %llu tokens (width %d), %llu documents\n", c.source.c_str(),
               (unsigned long long)c.bytes, (unsigned long long)doc_tokens, c.width, (unsigned long long)D);

  TempDir tmp;
  double t0 = now_s();
  ti::ShardSpec spec;
  try {
    spec = c.width == 1 ? write_corpus_shard<uint8_t>(tmp.path + "/shard", c) : write_corpus_shard<uint16_t>(tmp.path + "/shard", c);
  } catch (const ti::Error& e) {
    std::fprintf(stderr, "write_shard: %s: %s\n", e.code.c_str(), e.what());
    return 1;
  }
  const double build_s = now_s() - t0;
  std::fprintf(stderr, "shard built in %.2f s (1 thread, fsync included)\n", build_s);
  ti::Index idx({spec});

  std::mt19937_64 rng(o.seed * 0x9e3779b97f4a7c15ull + 7);
  std::vector<QuerySet> sets;
  for (size_t L : kLengths) sets.push_back(make_queries(c, idx, L, o.queries, rng));
  // Warm the mappings and caches once, outside any measurement.
  for (auto& s : sets)
    for (auto* qs : {&s.present, &s.absent})
      for (auto& q : *qs) g_sink = g_sink + idx.count(q.data(), q.size());
  const double overhead = timer_overhead_ns();

  const size_t K = kernels.size(), S = sets.size();
  std::vector<std::vector<Samples>> samples(K, std::vector<Samples>(S));
  std::vector<std::vector<std::vector<uint64_t>>> counts(K, std::vector<std::vector<uint64_t>>(S));
  std::vector<std::vector<std::vector<uint64_t>>> nt_totals(K, std::vector<std::vector<uint64_t>>(S));
  bool absent_zero = true, present_found = true, longest_ok = true, locate_ok = true;
  std::vector<std::array<size_t, 3>> aux_n(S, {0, 0, 0});  // queries timed per length for locate, longest_match, next_tokens

  for (int r = 0; r < o.rounds; ++r) {
    // Rotate which kernel goes first each round, so drift on a busy machine does not favour one kernel.
    for (size_t kk = 0; kk < K; ++kk) {
      const size_t k = (kk + size_t(r)) % K;
      ti::select_match_kernel(kernels[k]);
      for (size_t si = 0; si < S; ++si) {
        const QuerySet& s = sets[si];
        Samples& sm = samples[k][si];
        auto count = [&](size_t, const Query& q) { return idx.count(q.data(), q.size()); };
        time_each(s.present, SIZE_MAX, sm.present, count);
        time_each(s.absent, SIZE_MAX, sm.absent, count);
        double b0 = now_s();
        uint64_t sink = 0;
        for (auto* qs : {&s.present, &s.absent})
          for (auto& q : *qs) sink += idx.count(q.data(), q.size());
        sm.batch_seconds.push_back(now_s() - b0);
        sm.batch_queries = s.present.size() + s.absent.size();
        g_sink = g_sink + sink;

        if (r > 0) continue;
        // Round 0 only: correctness (identical answers from every kernel, checked against known facts) and
        // the other operations, whose answers are checked as they are timed.
        auto& cv = counts[k][si];
        for (auto& q : s.present) {
          cv.push_back(idx.count(q.data(), q.size()));
          present_found = present_found && cv.back() > 0;
        }
        for (auto& q : s.absent) {
          cv.push_back(idx.count(q.data(), q.size()));
          absent_zero = absent_zero && cv.back() == 0;
        }
        // The first kernel's budget fixes how many queries every kernel runs, so all p50s cover the same queries.
        auto& n = aux_n[si];
        const double budget = kk == 0 ? o.aux_budget : INFINITY;
        n[0] = time_each(s.present, kk == 0 ? o.aux_queries : n[0], sm.locate, [&](size_t i, const Query& q) {
          uint64_t total = 0;
          size_t got = idx.locate(q.data(), q.size(), 0, 10, &total).size();
          locate_ok = locate_ok && total == cv[i] && got == std::min<uint64_t>(10, total);
          return got + total;
        }, budget);
        n[1] = time_each(s.absent, kk == 0 ? o.aux_queries : n[1], sm.longest, [&](size_t, const Query& q) {
          size_t len = idx.longest_match(q.data(), q.size()).length;
          longest_ok = longest_ok && len == s.length - 1;
          return len;
        }, budget);
        n[2] = time_each(s.present, kk == 0 ? o.aux_queries : n[2], sm.next, [&](size_t, const Query& q) {
          nt_totals[k][si].push_back(idx.next_tokens(q.data(), q.size()).total);
          return nt_totals[k][si].back();
        }, budget);
      }
    }
  }
  ti::select_match_kernel(default_kernel);

  bool identical = true;
  for (size_t k = 1; k < K; ++k) identical = identical && counts[k] == counts[0] && nt_totals[k] == nt_totals[0];
  // (every kernel timed the same next_tokens queries: the first kernel's count bounds the others)
  const bool ok = identical && absent_zero && present_found && longest_ok && locate_ok;

  std::vector<Row> rows;
  for (size_t k = 0; k < K; ++k)
    for (size_t si = 0; si < S; ++si) {
      const Samples& sm = samples[k][si];
      double occ = 0;
      for (size_t i = 0; i < sets[si].present.size(); ++i) occ += double(counts[k][si][i]);
      rows.push_back({kernels[k], sets[si].length, percentile(sm.present, 0.5), percentile(sm.present, 0.99),
                      percentile(sm.absent, 0.5), percentile(sm.absent, 0.99), sm.batch_queries / sm.best_batch(),
                      percentile(sm.locate, 0.5), percentile(sm.longest, 0.5), percentile(sm.next, 0.5),
                      sm.best_batch() * 1e9 / double(sm.batch_queries), occ / double(sets[si].present.size()),
                      mean(sm.present), aux_n[si]});
    }
  auto row_of = [&](const std::string& kernel, size_t L) -> const Row* {
    for (auto& r : rows) if (r.kernel == kernel && r.length == L) return &r;
    return nullptr;
  };

  std::printf("Search over %s: %.1f MB, %llu tokens (width %d), %llu documents; %zu present + absent queries per "
              "length, %d rounds; default kernel %s\n\n",
              c.source.c_str(), c.bytes / 1e6, (unsigned long long)doc_tokens, c.width, (unsigned long long)D,
              o.queries, o.rounds, default_kernel.c_str());
  std::printf("| kernel | len | mean occurrences | count p50 ns | count p99 ns | absent p50 ns | absent p99 ns | "
              "count Mq/s | locate(10) p50 ns | longest_match p50 ns | next_tokens p50 ns | timed loc/lm/nt |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (auto& r : rows)
    std::printf("| %s | %zu | %s | %s | %s | %s | %s | %s | %s | %s | %s | %zu/%zu/%zu |\n", r.kernel.c_str(), r.length,
                fmt(r.mean_occ, 1).c_str(), fmt(r.p50).c_str(), fmt(r.p99).c_str(), fmt(r.ap50).c_str(),
                fmt(r.ap99).c_str(), fmt(r.qps / 1e6, 3).c_str(), fmt(r.loc50).c_str(), fmt(r.lm50).c_str(),
                fmt(r.nt50).c_str(), r.aux_n[0], r.aux_n[1], r.aux_n[2]);
  std::printf("\nlocate / longest_match (absent patterns) / next_tokens: round 0 only, up to %zu queries per length "
              "or %.2f s of calls, whichever comes first (the last column says how many).\n", o.aux_queries, o.aux_budget);
  std::printf("Per-call latencies include ~%.0f ns of steady_clock overhead; Mq/s: best of %d rounds of "
              "loops over the present + absent queries without per-call timing.\n", overhead, o.rounds);

  // Speed ratio: scalar time / kernel time (> 1: the kernel is faster). The p50 ratio comes first: medians of
  // thousands of calls shrug off preemption; the best-of-rounds loop ratio is shown in parentheses.
  const bool have_scalar = std::find(kernels.begin(), kernels.end(), "scalar") != kernels.end();
  std::printf("\nSpeed ratio vs scalar, count of present patterns: p50 (throughput), as scalar time / kernel time; "
              "> 1 = faster\n\n| kernel |");
  for (auto& s : sets) std::printf(" len %zu |", s.length);
  std::printf("\n|---|");
  for (size_t si = 0; si < S; ++si) std::printf("---|");
  std::printf("\n");
  for (auto& kname : kernels) {
    if (kname == "scalar" || !have_scalar) continue;
    std::printf("| %s |", kname.c_str());
    for (auto& s : sets) {
      const Row *a = row_of(kname, s.length), *b = row_of("scalar", s.length);
      std::printf(" %.2f (%.2f) |", b->p50 / a->p50, b->mean_ns / a->mean_ns);
    }
    std::printf("\n");
  }

  std::string verdict = std::string(identical ? "counts identical across kernels (" : "MISMATCH across kernels (") +
                        std::to_string(K) + " kernels x " + std::to_string(S) + " lengths, present + absent; next_tokens totals too)";
  if (!absent_zero) verdict += "; an absent pattern was counted";
  if (!present_found) verdict += "; a present pattern was not found";
  if (!longest_ok) verdict += "; longest_match of an absent pattern is not length - 1";
  if (!locate_ok) verdict += "; locate total differs from count";
  std::printf("\nCheck: %s -> %s\n", verdict.c_str(), ok ? "OK" : "FAILED");

  if (!o.json.empty()) {
    FILE* f = std::fopen(o.json.c_str(), "w");
    if (!f) { std::perror(o.json.c_str()); return 1; }
    std::string src;
    for (char ch : c.source) { if (ch == '"' || ch == '\\') src += '\\'; src += ch; }
    std::fprintf(f, "{\n  \"benchmark\": \"bench_search\",\n  \"corpus\": {\"source\": \"%s\", \"bytes\": %llu, "
                    "\"tokens\": %llu, \"documents\": %llu, \"token_width\": %d, \"vocab_size\": %llu},\n",
                 src.c_str(), (unsigned long long)c.bytes, (unsigned long long)doc_tokens, (unsigned long long)D,
                 c.width, (unsigned long long)c.vocab);
    std::fprintf(f, "  \"shard_build_seconds\": %.3f,\n  \"queries_per_length\": %zu,\n  \"aux_queries\": %zu,\n  \"aux_budget_seconds\": %.3f,\n"
                    "  \"rounds\": %d,\n  \"seed\": %llu,\n  \"default_kernel\": \"%s\",\n  \"timer_overhead_ns\": %.0f,\n"
                    "  \"kernels\": [",
                 build_s, o.queries, o.aux_queries, o.aux_budget, o.rounds, (unsigned long long)o.seed, default_kernel.c_str(), overhead);
    for (size_t k = 0; k < K; ++k) std::fprintf(f, "%s\"%s\"", k ? ", " : "", kernels[k].c_str());
    std::fprintf(f, "],\n  \"results\": [\n");
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      std::fprintf(f, "    {\"kernel\": \"%s\", \"length\": %zu, \"present\": %zu, \"absent\": %zu, "
                      "\"mean_occurrences\": %.2f, \"count_p50_ns\": %.0f, \"count_p99_ns\": %.0f, "
                      "\"absent_p50_ns\": %.0f, \"absent_p99_ns\": %.0f, \"count_qps\": %.0f, \"count_mean_ns\": %.1f, \"count_present_mean_ns\": %.1f, "
                      "\"locate10_p50_ns\": %.0f, \"longest_match_p50_ns\": %.0f, \"next_tokens_p50_ns\": %.0f, "
                      "\"timed_locate_longest_next\": [%zu, %zu, %zu]}%s\n",
                   r.kernel.c_str(), r.length, sets[i % S].present.size(), sets[i % S].absent.size(), r.mean_occ, r.p50,
                   r.p99, r.ap50, r.ap99, r.qps, r.mean_ns, r.present_mean, r.loc50, r.lm50, r.nt50, r.aux_n[0], r.aux_n[1], r.aux_n[2], i + 1 == rows.size() ? "" : ",");
    }
    std::fprintf(f, "  ],\n  \"speedup_vs_scalar\": [");
    bool first = true;
    for (auto& kname : kernels) {
      if (kname == "scalar" || !have_scalar) continue;
      for (auto& s : sets) {
        const Row *a = row_of(kname, s.length), *b = row_of("scalar", s.length);
        std::fprintf(f, "%s\n    {\"kernel\": \"%s\", \"length\": %zu, \"throughput_ratio\": %.3f, \"p50_ratio\": %.3f}",
                     first ? "" : ",", kname.c_str(), s.length, b->mean_ns / a->mean_ns, b->p50 / a->p50);
        first = false;
      }
    }
    std::fprintf(f, "\n  ],\n  \"check\": {\"ok\": %s, \"counts_identical\": %s, \"absent_zero\": %s, "
                    "\"present_found\": %s, \"longest_match_absent\": %s, \"locate_total\": %s, \"verdict\": \"%s\"}\n}\n",
                 ok ? "true" : "false", identical ? "true" : "false", absent_zero ? "true" : "false",
                 present_found ? "true" : "false", longest_ok ? "true" : "false", locate_ok ? "true" : "false",
                 verdict.c_str());
    std::fclose(f);
  }
  return ok ? 0 : 1;
}
