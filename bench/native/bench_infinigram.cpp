// Search cores side by side on the calling thread: traceindex's SearchableShard (through its infini-gram
// reader, so both read the very same files) against infini-gram's own Engine<U8>::_find_thread, compiled from
// its public source when the build is configured with -DINFINIGRAM_SRC=<infini-gram checkout>/pkg/infini_gram
// (never vendored here). Without it the bench measures our core alone and says so.
//   bench_infinigram --dir DIR [--generate MB] [--queries 2000] [--rounds 5] [--seed 1] [--infinigram] [--no-batch]
//                    [--next-queries 300] [--outputs 200]
// DIR receives (or, if tokenized.0 is there, reuses) one u8 shard in infini-gram's layout: tokenized.0 (a 0xFF
// separator before every document), table.0 (byte offsets, p = ceil(log2(bytes) / 8) bytes, built with our
// SA-IS; infini-gram's table for one part is the same suffix array), offset.0. Text: bench_corpus.hpp's Zipf
// words cut into documents at the first newline after every 64 KiB.
// Timed, rounds alternating which core goes first:
//   count     one call per query, p50 / p99 ns (infini-gram: _find_thread, prefetch depths 0 = off)
//   batch     count_part over all queries (the batch path, interleaved searches), ns per query, best round
//   single    count_part's previous form: find() per query in a loop, ns per query, best round
//   next      the exact next-token distribution after each present query (up to --next-queries of them), p50 /
//             p99 ns: ours find() + next_tokens(); infini-gram's _find_thread + _get_freq_by_token_id_approx
//             with unit 1 (exact), called directly (that core itself starts a thread per split of a range
//             holding more than one next token: its algorithm, not our harness)
//   spans     the maximal spans of each of --outputs 100-byte outputs spliced from the text (20-60 byte pieces and
//             fresh words, like bench/trace.ts), with their counts, p50 / p99 ns per output: ours trace() with no
//             sampled documents (an Index over the same files); infini-gram's `attribute` span finding without its
//             threads: per position compute_longest_prefix_len_thread, then _find_thread of the span for its
//             count, then its filter (ends that grow)
// Answers are compared query by query and output by output (every core and path must agree; infini-gram's
// end-of-document entries in its next-token counts are dropped, ours never count separators) and the bench
// fails otherwise.
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "batch.hpp"
#include "error.hpp"
#include "index.hpp"
#include "infinigram_shard.hpp"
#include "mapped_file.hpp"
#include "sais.hpp"
#include "shard_writer.hpp"
#include "trace.hpp"
#include "bench_corpus.hpp"

#ifdef HAVE_INFINIGRAM
#include "cpp_engine.h"  // infini-gram's engine (puts `using namespace std` in the global namespace)
#endif

namespace ti = traceindex;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string dir;
  double gen_mb = 200;
  size_t queries = 2000;
  int rounds = 5;
  uint64_t seed = 1;
  std::string ours;  // --ours DIR: also time our core on a traceindex-format shard of the same documents
  bool infinigram = false, batch = true;
  size_t next_queries = 300, outputs = 200;
};

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: bench_infinigram --dir DIR [--generate MB] [--queries 2000] [--rounds 5] [--seed 1] "
                       "[--infinigram] [--no-batch] [--next-queries 300] [--outputs 200] [--ours DIR]\n");
  std::exit(2);
}

double now_s() { return std::chrono::duration<double>(Clock::now().time_since_epoch()).count(); }

void write_bytes(const std::string& path, const void* data, size_t n) {
  std::ofstream f(path, std::ios::binary);
  f.write(static_cast<const char*>(data), std::streamsize(n));
  if (!f) { std::perror(path.c_str()); std::exit(1); }
}

// The shard in infini-gram's layout (bench/python/INFINIGRAM_FORMAT.md).
void build_index(const std::string& dir, double mb, uint64_t seed) {
  fs::create_directories(dir);
  double t0 = now_s();
  std::vector<uint8_t> text = bench::generate_text(uint64_t(mb * 1e6), seed);
  std::vector<uint8_t> stream;
  std::vector<uint64_t> offsets;
  stream.reserve(text.size() + text.size() / 65536 + 16);
  size_t in_doc = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (in_doc == 0) { offsets.push_back(stream.size()); stream.push_back(0xFF); }
    stream.push_back(text[i]);
    if (++in_doc >= 65536 && text[i] == '\n') in_doc = 0;
  }
  std::vector<uint8_t>().swap(text);
  const uint64_t n = stream.size();
  std::vector<uint32_t> sa(n);
  ti::build_suffix_array<uint8_t, uint32_t>(stream.data(), sa.data(), n, 256, 2);
  int p = 1;
  while (p < 8 && (uint64_t(1) << (8 * p)) < n) ++p;  // ceil(log2(bytes) / 8)
  std::vector<uint8_t> table(n * p);
  for (uint64_t i = 0; i < n; ++i) std::memcpy(&table[i * p], &sa[i], p);
  write_bytes(dir + "/tokenized.0", stream.data(), n);
  write_bytes(dir + "/table.0", table.data(), table.size());
  write_bytes(dir + "/offset.0", offsets.data(), offsets.size() * 8);
  std::fprintf(stderr, "built %s: %llu bytes, %zu documents, %d-byte pointers, %.1f s\n", dir.c_str(),
               (unsigned long long)n, offsets.size(), p, now_s() - t0);
}

// The same documents as a traceindex shard (docs/FORMAT.md) at DIR/shard-00000: infini-gram's stream puts the
// separator before each document, ours after, so ours is the stream shifted by one with a separator appended.
ti::ShardShape ours_shape(const std::vector<uint8_t>& stream, const std::vector<uint64_t>& offsets) {
  return {1, stream.size(), offsets.size(), 255};
}
void build_ours(const std::string& dir, const std::vector<uint8_t>& stream, const std::vector<uint64_t>& offsets) {
  fs::create_directories(dir);
  double t0 = now_s();
  std::vector<uint8_t> tokens(stream.begin() + 1, stream.end());
  tokens.push_back(0xFF);
  std::vector<uint64_t> starts(offsets.begin(), offsets.end()), meta_off{0};
  starts.push_back(tokens.size());
  std::string blob;
  for (size_t d = 0; d < offsets.size(); ++d) {
    blob += "{\"id\":\"" + std::to_string(d) + "\"}";
    meta_off.push_back(blob.size());
  }
  ti::ShardSource src;
  src.tokens = tokens.data();
  src.token_width = 1;
  src.tokens_count = tokens.size();
  src.doc_starts = starts.data();
  src.documents = offsets.size();
  src.meta_offsets = meta_off.data();
  src.meta_blob = reinterpret_cast<const uint8_t*>(blob.data());
  src.vocab_size = 255;
  src.threads = 2;
  ti::write_shard(dir + "/shard-00000", src);
  std::fprintf(stderr, "built %s/shard-00000 (traceindex format): %.1f s\n", dir.c_str(), now_s() - t0);
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  std::vector<uint8_t> v(size_t(f.tellg()));
  f.seekg(0);
  f.read(reinterpret_cast<char*>(v.data()), std::streamsize(v.size()));
  return v;
}

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  size_t k = size_t(std::ceil(q * double(v.size())));
  return v[std::min(v.size() - 1, k > 0 ? k - 1 : 0)];
}

volatile uint64_t g_sink;

// One comparison table: our core's p50/p99, then, when infini-gram ran, its row and the two ratios.
void print_pair(const char* head, const char* ours_label, const std::vector<double>& ours, const char* theirs_label,
                const std::vector<double>& theirs, const char* ratio_label = "infini-gram / traceindex") {
  std::printf("%s", head);
  std::printf("| %s | %.0f | %.0f |\n", ours_label, percentile(ours, 0.5), percentile(ours, 0.99));
  if (theirs.empty()) return;
  std::printf("| %s | %.0f | %.0f |\n", theirs_label, percentile(theirs, 0.5), percentile(theirs, 0.99));
  std::printf("\n%s: p50 %.2fx, p99 %.2fx\n", ratio_label, percentile(theirs, 0.5) / percentile(ours, 0.5),
              percentile(theirs, 0.99) / percentile(ours, 0.99));
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> const char* { if (i + 1 >= argc) usage(); return argv[++i]; };
    if (a == "--dir") o.dir = val();
    else if (a == "--generate") o.gen_mb = std::atof(val());
    else if (a == "--queries") o.queries = size_t(std::max(1L, std::atol(val())));
    else if (a == "--rounds") o.rounds = std::max(1, std::atoi(val()));
    else if (a == "--seed") o.seed = std::strtoull(val(), nullptr, 10);
    else if (a == "--infinigram") o.infinigram = true;
    else if (a == "--no-batch") o.batch = false;
    else if (a == "--next-queries") o.next_queries = size_t(std::max(0L, std::atol(val())));
    else if (a == "--outputs") o.outputs = size_t(std::max(0L, std::atol(val())));
    else if (a == "--ours") o.ours = val();
    else usage();
  }
  if (o.dir.empty()) usage();
#ifndef HAVE_INFINIGRAM
  if (o.infinigram) {
    std::fprintf(stderr, "bench_infinigram: built without infini-gram's engine. Bring its public source outside the "
                         "repository (git clone https://github.com/liujch1998/infini-gram) and configure with\n"
                         "  cmake -S . -B build/native -DINFINIGRAM_SRC=/path/to/infini-gram/pkg/infini_gram\n"
                         "Measuring traceindex's core alone.\n");
    o.infinigram = false;
  }
#endif
  if (!fs::exists(o.dir + "/tokenized.0")) build_index(o.dir, o.gen_mb, o.seed);

  // Queries: windows of 1..20 bytes inside documents (never a separator), half of them made absent by
  // changing the last byte until our core counts 0.
  const std::vector<uint8_t> stream = read_file(o.dir + "/tokenized.0");
  std::unique_ptr<ti::Shard> shard = ti::open_infinigram_shard(o.dir, ".0", 1);
  // --ours: the same documents as a traceindex shard, opened as a v1 reader would (no sampled keys) and as v2.
  std::unique_ptr<ti::Shard> ours_v1, ours_v2;
  if (!o.ours.empty()) {
    const std::vector<uint8_t> off_bytes = read_file(o.dir + "/offset.0");
    std::vector<uint64_t> offsets(off_bytes.size() / 8);
    std::memcpy(offsets.data(), off_bytes.data(), offsets.size() * 8);
    if (!fs::exists(o.ours + "/shard-00000/sa.bin")) build_ours(o.ours, stream, offsets);
    ti::ShardShape shape = ours_shape(stream, offsets);
    const std::string sd = o.ours + "/shard-00000";
    if (!fs::exists(sd + "/samples.bin")) {
      double t0 = now_s();
      const ti::MappedFile tokens = ti::MappedFile::open(sd + "/tokens.bin"), sa = ti::MappedFile::open(sd + "/sa.bin");
      ti::write_samples(sd, shape, tokens.data() + ti::kHeaderBytes, sa.data() + ti::kHeaderBytes);
      std::fprintf(stderr, "wrote %s/samples.bin: %.1f s\n", sd.c_str(), now_s() - t0);
    }
    ours_v1 = ti::Shard::open(sd, shape);
    shape.samples = true;
    ours_v2 = ti::Shard::open(sd, shape);
    std::fprintf(stderr, "warming %s\n", sd.c_str());
    ours_v1->warm();  // each Shard maps the files itself: both populate their own mappings
    ours_v2->warm();
    shard->warm();
    const double t0 = now_s();
    const uint32_t probe[3] = {'t', 'h', 'e'};
    g_sink = g_sink + ours_v2->find(probe, 3).size();
    std::fprintf(stderr, "first v2 find (builds the in-memory top over the sampled keys): %.1f ms\n", (now_s() - t0) * 1e3);
  }
  const size_t kLens[] = {1, 2, 3, 5, 8, 10, 20};
  std::mt19937_64 rng(o.seed * 0x9e3779b97f4a7c15ull + 13);
  std::vector<std::vector<uint32_t>> qs;
  while (qs.size() < o.queries) {
    const size_t len = kLens[qs.size() % 7];
    const uint64_t at = rng() % (stream.size() - len);
    if (std::find(stream.begin() + at, stream.begin() + at + len, 0xFF) != stream.begin() + at + len) continue;
    std::vector<uint32_t> q(stream.begin() + at, stream.begin() + at + len);
    if (qs.size() % 2)
      for (int k = 0; k < 16 && shard->find(q.data(), q.size()).size() > 0; ++k) q.back() = uint32_t(rng() % 255);
    qs.push_back(q);
  }
  std::vector<uint32_t> flat, offs{0};
  for (auto& q : qs) { flat.insert(flat.end(), q.begin(), q.end()); offs.push_back(uint32_t(flat.size())); }
  const ti::Queries batch(flat.data(), offs.data(), qs.size());
  std::vector<std::vector<uint8_t>> qbytes;
  for (auto& q : qs) qbytes.emplace_back(q.begin(), q.end());

#ifdef HAVE_INFINIGRAM
  std::unique_ptr<Engine<U8>> ig;
  if (o.infinigram)
    ig.reset(new Engine<U8>({o.dir}, 255, 255, 4, false, 0, 0, 0, {}, 512, false, {}));
  auto ig_count = [&](size_t i) {
    pair<U64, U64> seg;
    ig->_find_thread(0, qbytes[i].data(), qbytes[i].size(), {0, ig->get_tok_cnt(0)}, &seg);
    return seg.second - seg.first;
  };
#endif

  std::vector<uint64_t> truth(qs.size());
  for (size_t i = 0; i < qs.size(); ++i) truth[i] = shard->find(qs[i].data(), qs[i].size()).size();
  bool agree = true;
#ifdef HAVE_INFINIGRAM
  if (o.infinigram)
    for (size_t i = 0; i < qs.size(); ++i) agree = agree && ig_count(i) == truth[i];
#endif
  if (o.batch) agree = agree && ti::count_part(*shard, batch) == truth;
  for (const ti::Shard* s : {ours_v1.get(), ours_v2.get()}) {
    if (!s) continue;
    for (size_t i = 0; i < qs.size(); ++i) agree = agree && s->find(qs[i].data(), qs[i].size()).size() == truth[i];
    if (o.batch) agree = agree && ti::count_part(*s, batch) == truth;
  }
  if (!agree) std::fprintf(stderr, "count: the cores or paths disagree\n");
  // --ours: count p50/p99 of our core on our own shard, v1 (no sampled keys) and v2, in the same rotation.
  std::vector<double> v1_ns, v2_ns, v1_batch, v2_batch;
  auto time_finds = [&](const ti::Shard& s, std::vector<double>& into) {
    for (size_t i = 0; i < qs.size(); ++i) {
      auto t0 = Clock::now();
      g_sink = g_sink + s.find(qs[i].data(), qs[i].size()).size();
      into.push_back(double(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count()));
    }
  };
  auto time_batch = [&](const ti::Shard& s, std::vector<double>& into) {
    double t0 = now_s();
    auto v = ti::count_part(s, batch);
    into.push_back((now_s() - t0) * 1e9 / double(qs.size()));
    agree = agree && v == truth;
  };

  std::vector<double> ours, theirs, batch_ns, single_ns;
  for (int r = 0; r < o.rounds; ++r) {
    for (int turn = 0; turn < 6; ++turn) {
      const int which = (turn + r) % 6;  // rotate who goes first
      if (which == 4) {
        if (!ours_v1) continue;
        time_finds(*ours_v1, v1_ns);
        if (o.batch) time_batch(*ours_v1, v1_batch);
      } else if (which == 5) {
        if (!ours_v2) continue;
        time_finds(*ours_v2, v2_ns);
        if (o.batch) time_batch(*ours_v2, v2_batch);
      } else if (which == 0) {
        for (size_t i = 0; i < qs.size(); ++i) {
          auto t0 = Clock::now();
          g_sink = g_sink + shard->find(qs[i].data(), qs[i].size()).size();
          ours.push_back(double(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count()));
        }
      } else if (which == 1) {
#ifdef HAVE_INFINIGRAM
        if (!o.infinigram) continue;
        for (size_t i = 0; i < qs.size(); ++i) {
          auto t0 = Clock::now();
          g_sink = g_sink + ig_count(i);
          theirs.push_back(double(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count()));
        }
#endif
      } else if (which == 2 && o.batch) {
        double t0 = now_s();
        auto v = ti::count_part(*shard, batch);
        batch_ns.push_back((now_s() - t0) * 1e9 / double(qs.size()));
        agree = agree && v == truth;
      } else if (which == 3 && o.batch) {
        double t0 = now_s();
        uint64_t sink = 0;
        for (size_t i = 0; i < qs.size(); ++i) sink += shard->find(qs[i].data(), qs[i].size()).size();
        single_ns.push_back((now_s() - t0) * 1e9 / double(qs.size()));
        g_sink = g_sink + sink;
      }
    }
  }

  std::printf("Search cores on the calling thread: %s (%llu bytes, u8, infini-gram layout), %zu queries of 1-20 "
              "bytes (half absent), %d rounds\n\n", o.dir.c_str(), (unsigned long long)stream.size(), qs.size(), o.rounds);
  print_pair("| core | count p50 ns | count p99 ns |\n|---|---:|---:|\n", "traceindex find()", ours,
             "infini-gram _find_thread (prefetch off)", theirs);
  if (ours_v2) {
    std::printf("\nThe same documents as a traceindex shard (%s), sampled keys off (v1) and on (v2):\n\n", o.ours.c_str());
    print_pair("| core | count p50 ns | count p99 ns |\n|---|---:|---:|\n", "traceindex find(), v2 shard", v2_ns,
               "traceindex find(), same shard read as v1", v1_ns, "v1 / v2");
    if (!theirs.empty())
      std::printf("infini-gram _find_thread / traceindex v2 find(): p50 %.2fx, p99 %.2fx\n", percentile(theirs, 0.5) / percentile(v2_ns, 0.5),
                  percentile(theirs, 0.99) / percentile(v2_ns, 0.99));
    // By pattern length (the layer's cases differ: within a key, longer than a key) and presence.
    std::printf("\n| length | present or absent | v2 p50 / p99 ns | v1 p50 / p99 ns |\n|---:|---|---|---|\n");
    for (size_t len : kLens)
      for (int present = 1; present >= 0; --present) {
        std::vector<double> a, b;
        for (size_t k = 0; k < v2_ns.size(); ++k) {
          const size_t i = k % qs.size();
          if (qs[i].size() == len && (truth[i] > 0) == bool(present)) { a.push_back(v2_ns[k]); b.push_back(v1_ns[k]); }
        }
        if (a.empty()) continue;
        std::printf("| %zu | %s | %.0f / %.0f | %.0f / %.0f |\n", len, present ? "present" : "absent", percentile(a, 0.5), percentile(a, 0.99),
                    percentile(b, 0.5), percentile(b, 0.99));
      }
    if (o.batch)
      std::printf("count_part (batch) ns/query, best of %d: v1 %.0f, v2 %.0f\n", o.rounds, *std::min_element(v1_batch.begin(), v1_batch.end()),
                  *std::min_element(v2_batch.begin(), v2_batch.end()));
  }
  if (o.batch) {
    const double b = *std::min_element(batch_ns.begin(), batch_ns.end());
    const double s = *std::min_element(single_ns.begin(), single_ns.end());
    std::printf("\ncount_part (batch path) %.0f ns/query; find() in a loop %.0f ns/query (best of %d): %.2fx\n", b, s,
                o.rounds, s / b);
  }
  // ---- next tokens after each present query ----
  std::vector<size_t> nt;
  for (size_t i = 0; i < qs.size() && nt.size() < o.next_queries; ++i)
    if (truth[i] > 0) nt.push_back(i);
  std::vector<ti::TokenCount> nt_out;
  auto ours_next = [&](size_t i) {
    nt_out.clear();
    shard->next_tokens(shard->find(qs[i].data(), qs[i].size()), qs[i].size(), nt_out);
    return nt_out.size();
  };
#ifdef HAVE_INFINIGRAM
  map<U8, U64> ig_out;
  auto ig_next = [&](size_t i) {
    ig_out.clear();
    pair<U64, U64> seg;
    ig->_find_thread(0, qbytes[i].data(), qbytes[i].size(), {0, ig->get_tok_cnt(0)}, &seg);
    ig->_get_freq_by_token_id_approx(0, qbytes[i].size(), seg, 1, nullptr, nullptr, &ig_out);
    return ig_out.size();
  };
  bool next_agree = true;
  size_t ig_stream_end = 0;
  if (o.infinigram)
    for (size_t i : nt) {
      ours_next(i);
      ig_next(i);
      // infini-gram's shortcut takes a range whose first and last suffixes have the same next token as all that
      // token; at the stream end (no separator after the last document) it reads that next token as 255, so a
      // query ending the stream whose largest continuation is 255 (a separator) comes back as one 255 run. Its
      // answer, not a comparison to make: counted and left out.
      const ti::SaRange r = shard->find(qs[i].data(), qs[i].size());
      if (ig_out.size() == 1 && ig_out.begin()->first == U8(255) && !nt_out.empty() &&
          shard->suffix(r.lo) + qs[i].size() == stream.size()) {
        ++ig_stream_end;
        continue;
      }
      ig_out.erase(U8(255));  // end of document (or of the stream): not a token
      std::vector<std::pair<uint32_t, uint64_t>> a, b;
      for (const auto& tc : nt_out) a.push_back({tc.token, tc.count});
      for (const auto& [t, c] : ig_out) b.push_back({t, c});
      if (a != b && next_agree) {  // the first disagreement, for the record
        std::fprintf(stderr, "next tokens after query %zu: ours %zu tokens, infini-gram %zu\n", i, a.size(), b.size());
        for (size_t k = 0; k < std::max(a.size(), b.size()); ++k) {
          const auto x = k < a.size() ? a[k] : std::pair<uint32_t, uint64_t>{0, 0}, y = k < b.size() ? b[k] : std::pair<uint32_t, uint64_t>{0, 0};
          if (x != y) { std::fprintf(stderr, "  first difference at %zu: ours (%u, %llu), infini-gram (%u, %llu)\n", k, x.first,
                                     (unsigned long long)x.second, y.first, (unsigned long long)y.second); break; }
        }
      }
      next_agree = next_agree && a == b;
    }
  if (ig_stream_end)
    std::printf("next tokens: %zu queries left out, infini-gram's shortcut at the stream end (see the source)\n", ig_stream_end);
  if (!next_agree) std::fprintf(stderr, "next tokens: the cores disagree\n");
  agree = agree && next_agree;
#endif

  // ---- maximal spans of outputs spliced from the text ----
  std::vector<std::vector<uint32_t>> outs;
  {
    const char* fresh[] = {"zebra", "quantum", "marmalade", "ostensibly", "Kilimanjaro", "serendipity", "xylophone", "pangolin"};
    std::mt19937_64 orng(o.seed * 31 + 7);
    while (outs.size() < o.outputs) {
      std::vector<uint32_t> out;
      while (out.size() < 100) {
        if (orng() % 10 < 6) {
          const size_t len = 20 + orng() % 40;
          const uint64_t at = orng() % (stream.size() - len);
          if (std::find(stream.begin() + at, stream.begin() + at + len, 0xFF) != stream.begin() + at + len) continue;
          out.insert(out.end(), stream.begin() + at, stream.begin() + at + len);
        } else {
          const std::string w = std::string(" ") + fresh[orng() % 8] + " ";
          out.insert(out.end(), w.begin(), w.end());
        }
      }
      out.resize(100);
      outs.push_back(out);
    }
  }
  ti::ShardSpec spec;
  spec.dir = o.dir;
  spec.shape.token_width = 1;
  spec.format = "infini-gram";
  spec.suffix = ".0";
  const ti::Index index({spec});
  ti::TraceOptions topt;
  topt.max_documents = 0;
  using SpanList = std::vector<std::tuple<uint32_t, uint32_t, uint64_t>>;
  auto ours_spans = [&](const std::vector<uint32_t>& out) {
    SpanList r;
    for (const ti::Span& sp : ti::trace(index, out.data(), out.size(), topt)) r.push_back({sp.start, sp.end, sp.count});
    return r;
  };
#ifdef HAVE_INFINIGRAM
  auto ig_spans = [&](const std::vector<uint32_t>& out) {
    SpanList r;
    size_t last_r = 0;
    for (size_t l = 0; l < out.size(); ++l) {
      const vector<U8> suffix(out.begin() + l, out.end());
      size_t len = 0;
      ig->compute_longest_prefix_len_thread(&suffix, 0, &len);
      if (len < 1) continue;
      pair<U64, U64> seg;
      ig->_find_thread(0, suffix.data(), len, {0, ig->get_tok_cnt(0)}, &seg);
      if (l + len > last_r) {
        last_r = l + len;
        r.push_back({uint32_t(l), uint32_t(l + len), seg.second - seg.first});
      }
    }
    return r;
  };
  bool spans_agree = true;
  if (o.infinigram)
    for (const auto& out : outs) spans_agree = spans_agree && ours_spans(out) == ig_spans(out);
  if (!spans_agree) std::fprintf(stderr, "maximal spans: the cores disagree\n");
  agree = agree && spans_agree;
#endif

  std::vector<double> next_ours, next_theirs, spans_ours, spans_theirs;
  size_t span_total = 0;
  auto ns_since = [](Clock::time_point t0) { return double(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count()); };
  for (int r = 0; r < o.rounds; ++r) {
    for (int turn = 0; turn < 2; ++turn) {
      const bool ours_first = (r % 2) == 0;
      if ((turn == 0) == ours_first) {
        for (size_t i : nt) { auto t0 = Clock::now(); g_sink = g_sink + ours_next(i); next_ours.push_back(ns_since(t0)); }
        for (const auto& out : outs) { auto t0 = Clock::now(); const size_t n = ours_spans(out).size(); spans_ours.push_back(ns_since(t0)); span_total += n; }
      } else {
#ifdef HAVE_INFINIGRAM
        if (!o.infinigram) continue;
        for (size_t i : nt) { auto t0 = Clock::now(); g_sink = g_sink + ig_next(i); next_theirs.push_back(ns_since(t0)); }
        for (const auto& out : outs) { auto t0 = Clock::now(); g_sink = g_sink + ig_spans(out).size(); spans_theirs.push_back(ns_since(t0)); }
#endif
      }
    }
  }
  if (!nt.empty()) {
    std::printf("\nNext tokens (exact) after %zu present queries, %d rounds alternating who goes first:\n\n", nt.size(), o.rounds);
    print_pair("| core | p50 ns | p99 ns |\n|---|---:|---:|\n", "traceindex find() + next_tokens()", next_ours,
               "infini-gram _find_thread + _get_freq_by_token_id_approx", next_theirs);
  }
  if (!outs.empty()) {
    std::printf("\nMaximal spans with counts of %zu outputs of 100 bytes (%.1f spans each), %d rounds alternating:\n\n", outs.size(),
                double(span_total) / double(spans_ours.size()), o.rounds);
    print_pair("| core | p50 ns | p99 ns |\n|---|---:|---:|\n", "traceindex trace(), no documents sampled", spans_ours,
               "infini-gram attribute's span finding, no threads", spans_theirs);
  }

  std::printf("\nCheck: %s\n", agree ? "every core and path gave the same counts, next tokens and spans -> OK" : "MISMATCH -> FAILED");
  return agree ? 0 : 1;
}
