// Suffix-array benchmark: traceindex SA-IS at each thread count vs libsais (same thread counts) and
// libdivsufsort (32-bit index; u8 text, or u16 tokens with --u16 against libsais16).
//   bench_sais [--file PATH | --generate MB] [--mb 100] [--u16 | --u32] [--threads 1,2] [--repeat 3] [--json PATH]
//              [--no-verify] [--hugepages] [--no-peers] [--order ours|peer|alternate] [--stage1 hashed|induced]
// --stage1 induced: level 0 sorts its LMS substrings by induction (as every level below it) instead of naming them
// by hashing (the default for u8/u16 tokens); --stage1 hashed: by hashing, u32 tokens too (A/B in one binary).
// --u32: a file cut into words as --u16 but ids uncapped (an alphabet of a large vocabulary's size), against
// libsais_int.
// --order: which engine runs first in each round (default ours; alternate: ours in odd rounds, the peer in even).
// --no-peers: ours only (A/B runs of two builds of ours; the ratio to the peers needs them in the same run).
// --u16: --mb counts millions of tokens; a file is cut into words (runs of letters/digits, or single other
// bytes), numbered by first appearance (ids capped at 65535); --generate draws Zipfian word ids directly.
// Each engine runs in its own forked child so that peak RSS (ru_maxrss of the child) is per engine; it includes
// the text shared from the parent. Build (CMakeLists.txt): libdivsufsort is linked when installed, libsais when
// configured with -DLIBSAIS_SRC=/path/to/libsais (its public source, outside the repository).
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "sais.hpp"
#include <unordered_map>
#ifdef HAVE_DIVSUFSORT
#include <divsufsort.h>
#endif
#ifdef HAVE_LIBSAIS
#include <libsais.h>
#include <libsais16.h>
#endif

namespace traceindex::detail { extern uint64_t sais_hash_max; extern bool sais_hash_wide; }

namespace {

struct Result {
  std::string engine;
  int threads = 0;
  bool ok = false;
  double seconds = 0;
  double cpu = 0;  // CPU seconds of the engine (all threads): on a busy machine, 1-thread runs compare by it
  double rss_mib = 0;
  uint64_t checksum = 0;
};

struct ChildReport { double seconds, cpu; uint64_t checksum; int ok; };

double cpu_now() {
  struct rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

uint64_t checksum(const uint32_t* sa, uint64_t n) {  // order-sensitive 64-bit mix of every entry
  uint64_t h = 0x9e3779b97f4a7c15ull;
  for (uint64_t i = 0; i < n; ++i) { h ^= sa[i] + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2); }
  return h;
}

// Every engine gets the same kind of buffer for its text copy and its suffix array: malloc'd, or with
// --hugepages anonymous memory advised for transparent huge pages as the shard writer allocates its suffix
// array (fewer TLB misses, but faulting huge pages in may stall on compaction: measured a wash here).
bool g_hugepages = false;
void* alloc_buffer(size_t bytes) {
  if (!g_hugepages) return std::malloc(bytes ? bytes : 1);
  void* p = mmap(nullptr, bytes ? bytes : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
#ifdef MADV_HUGEPAGE
  madvise(p, bytes ? bytes : 1, MADV_HUGEPAGE);
#endif
  return p;
}

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Runs `engine` once in a child; returns its time, the SA checksum and the child's peak RSS.
template <class F> Result in_child(const char* name, int threads, uint64_t n, F&& engine) {
  Result r;
  r.engine = name;
  r.threads = threads;
  int fd[2];
  if (pipe(fd) != 0) { perror("pipe"); return r; }
  std::fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) { perror("fork"); return r; }
  if (pid == 0) {
    close(fd[0]);
    ChildReport rep{1e300, 0, 0, 1};
    uint32_t* sa = static_cast<uint32_t*>(alloc_buffer(sizeof(uint32_t) * n));
    if (!sa) rep.ok = 0;
    if (rep.ok) {
      double t0 = now(), c0 = cpu_now();
      if (!engine(sa)) rep.ok = 0;
      rep.seconds = now() - t0;
      rep.cpu = cpu_now() - c0;
    }
    if (rep.ok) rep.checksum = checksum(sa, n);
    if (write(fd[1], &rep, sizeof rep) != sizeof rep) _exit(2);
    _exit(0);
  }
  close(fd[1]);
  ChildReport rep{};
  bool got = read(fd[0], &rep, sizeof rep) == sizeof rep;
  close(fd[0]);
  int status = 0;
  struct rusage ru{};
  wait4(pid, &status, 0, &ru);
  r.ok = got && rep.ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  r.seconds = rep.seconds;
  r.cpu = rep.cpu;
  r.checksum = rep.checksum;
  r.rss_mib = double(ru.ru_maxrss) / 1024.0;  // KiB on Linux
  return r;
}

// Word-like text: Zipf-distributed words from a random vocabulary, with line breaks and indentation.
std::vector<uint8_t> generate(uint64_t bytes) {
  std::mt19937_64 rng(42);
  std::vector<std::string> vocab(20000);
  for (auto& w : vocab) {
    size_t len = 1 + rng() % 10;
    for (size_t i = 0; i < len; ++i) w.push_back(char('a' + rng() % 26));
  }
  std::vector<uint8_t> t;
  t.reserve(bytes);
  while (t.size() < bytes) {
    double u = std::uniform_real_distribution<double>(0, 1)(rng);
    size_t idx = size_t(std::pow(double(vocab.size()), u)) - 1;  // ~Zipf
    const std::string& w = vocab[idx];
    t.insert(t.end(), w.begin(), w.end());
    uint64_t r = rng() % 16;
    t.push_back(r == 0 ? '\n' : r == 1 ? ';' : ' ');
  }
  t.resize(bytes);
  return t;
}

// u16 tokens: Zipfian word ids (3 separators + 20000 words), the generated corpus's shape at word level.
std::vector<uint16_t> generate_u16(uint64_t tokens) {
  std::mt19937_64 rng(42);
  std::vector<uint16_t> t;
  t.reserve(tokens);
  while (t.size() < tokens) {
    double u = std::uniform_real_distribution<double>(0, 1)(rng);
    t.push_back(uint16_t(3 + size_t(std::pow(20000.0, u)) - 1));
    uint64_t r = rng() % 16;
    if (t.size() < tokens && r < 3) t.push_back(uint16_t(r));
  }
  return t;
}

// Tokens from bytes: words (runs of [A-Za-z0-9_]) and single other bytes, ids by first appearance (capped at the
// largest T).
template <class T> std::vector<T> words(const std::vector<uint8_t>& text, uint64_t tokens) {
  std::unordered_map<std::string, T> ids;
  std::vector<T> t;
  t.reserve(tokens);
  auto word = [](uint8_t c) { return std::isalnum(c) || c == '_'; };
  for (size_t i = 0; i < text.size() && t.size() < tokens;) {
    size_t j = i + 1;
    if (word(text[i])) while (j < text.size() && word(text[j])) ++j;
    auto it = ids.emplace(std::string(reinterpret_cast<const char*>(&text[i]), j - i),
                          T(std::min<size_t>(ids.size(), std::numeric_limits<T>::max()))).first;
    t.push_back(it->second);
    i = j;
  }
  return t;
}

std::vector<int> parse_threads(const char* s) {
  std::vector<int> v;
  for (const char* p = s; *p;) {
    v.push_back(std::atoi(p));
    while (*p && *p != ',') ++p;
    if (*p == ',') ++p;
  }
  return v;
}

void usage() {
  std::fprintf(stderr,
               "usage: bench_sais [--file PATH | --generate MB] [--mb 100] [--threads 1,2] [--repeat 3] "
               "[--u16 | --u32] [--json PATH] [--no-verify] [--hugepages] [--no-peers] [--order ours|peer|alternate] "
               "[--stage1 hashed|induced]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string file, json;
  double gen_mb = 0, mb = 100;
  std::vector<int> threads = {1, 2};
  int repeat = 3;
  bool verify = true, u16 = false, u32 = false, peers = true;
  std::string order = "ours";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> const char* { if (i + 1 >= argc) usage(); return argv[++i]; };
    if (a == "--file") file = val();
    else if (a == "--generate") gen_mb = std::atof(val());
    else if (a == "--mb") mb = std::atof(val());
    else if (a == "--threads") threads = parse_threads(val());
    else if (a == "--repeat") repeat = std::max(1, std::atoi(val()));
    else if (a == "--json") json = val();
    else if (a == "--no-verify") verify = false;
    else if (a == "--hugepages") g_hugepages = true;
    else if (a == "--u16") u16 = true;
    else if (a == "--u32") u32 = true;
    else if (a == "--no-peers") peers = false;
    else if (a == "--order") order = val();
    else if (a == "--stage1") {
      const std::string v = val();
      if (v == "induced") traceindex::detail::sais_hash_max = 0;
      else if (v == "hashed") traceindex::detail::sais_hash_wide = true;
      else usage();
    }
    else usage();
  }
  if ((file.empty() && gen_mb <= 0) || (u16 && u32)) usage();
  (void)verify;  // only used with divsufsort

  std::vector<uint8_t> text;
  std::vector<uint16_t> tokens;
  std::vector<uint32_t> tokens32;
  std::string source;
  const uint64_t want = uint64_t(mb * 1e6);
  if (!file.empty()) {
    FILE* f = std::fopen(file.c_str(), "rb");
    if (!f) { perror(file.c_str()); return 1; }
    text.resize(u16 || u32 ? 16 * want : want);  // words stops at `want` tokens
    text.resize(std::fread(text.data(), 1, text.size(), f));
    std::fclose(f);
    source = file;
    if (u16) tokens = words<uint16_t>(text, want);
    if (u32) tokens32 = words<uint32_t>(text, want);
  } else {
    const uint64_t len = uint64_t(std::min(gen_mb, mb) * 1e6);
    if (u16 || u32) tokens = generate_u16(len);
    else text = generate(len);
    if (u32) tokens32.assign(tokens.begin(), tokens.end());
    source = "generated";
  }
  const uint64_t n = u32 ? tokens32.size() : u16 ? tokens.size() : text.size();
  const size_t width = u32 ? 4 : u16 ? 2 : 1;
  const uint64_t k32 = u32 && n ? uint64_t(*std::max_element(tokens32.begin(), tokens32.end())) + 1 : 0;
  void* tbuf = alloc_buffer(n * width);
  if (!tbuf) { std::fprintf(stderr, "cannot allocate the text buffer\n"); return 1; }
  std::memcpy(tbuf, u32 ? static_cast<const void*>(tokens32.data()) : u16 ? static_cast<const void*>(tokens.data()) : text.data(), n * width);
  std::vector<uint32_t>().swap(tokens32);
  std::vector<uint8_t>().swap(text);
  std::vector<uint16_t>().swap(tokens);
  const uint8_t* t = static_cast<const uint8_t*>(tbuf);
  const uint16_t* t16 = static_cast<const uint16_t*>(tbuf);
  uint32_t* t32 = static_cast<uint32_t*>(tbuf);
  const char* kind = u32 ? "u32 tokens" : u16 ? "u16 tokens" : "u8 tokens";
  std::fprintf(stderr, "input: %s, %llu %s\n", source.c_str(), (unsigned long long)n, kind);
  auto ours = [&](uint32_t* sa, int th) {
    if (u32) traceindex::build_suffix_array<uint32_t, uint32_t>(t32, sa, n, k32, th);
    else if (u16) traceindex::build_suffix_array<uint16_t, uint32_t>(t16, sa, n, 65536, th);
    else traceindex::build_suffix_array<uint8_t, uint32_t>(t, sa, n, 256, th);
    return true;
  };

  // Rounds interleave the engines (one fresh child per engine and round, page faults included, as in a real
  // build) and each engine keeps its best round: on a shared VM, interference comes and goes, and the minimum
  // over interleaved rounds is the figure least skewed against either side.
  std::vector<Result> results(threads.size()), sais(threads.size());
  bool have_dss = false, have_sais = false;
  Result dss;
#ifdef HAVE_DIVSUFSORT
  have_dss = peers && !u16 && !u32 && n < (uint64_t(1) << 31);
#endif
#ifdef HAVE_LIBSAIS
  have_sais = peers && n < (uint64_t(1) << 31);
#endif
  auto keep_best = [](Result& best, const Result& r) {
    bool first = best.engine.empty();
    const double cpu = first ? r.cpu : std::min(best.cpu, r.cpu);  // best CPU time, kept on its own
    if (first || (r.ok && r.seconds < best.seconds)) {
      double rss = std::max(best.rss_mib, r.rss_mib);
      bool ok = first ? r.ok : best.ok && r.ok;
      best = r;
      best.rss_mib = rss;
      best.ok = ok;
      best.cpu = cpu;
    } else {
      best.cpu = cpu;
      best.ok = best.ok && r.ok && r.checksum == best.checksum;
      best.rss_mib = std::max(best.rss_mib, r.rss_mib);
    }
  };
  if (order != "ours" && order != "peer" && order != "alternate") usage();
  auto peer_first = [&](int round) { return order == "peer" || (order == "alternate" && round % 2 == 1); };
  for (int round = 0; round < repeat; ++round) {
    for (size_t k = 0; k < threads.size(); ++k) {
      const int th = threads[k];
      auto run_ours = [&] {
        Result r = in_child("traceindex", th, n, [&](uint32_t* sa) { return ours(sa, th); });
        std::fprintf(stderr, "round %d: traceindex threads=%d: %.3f s (cpu %.3f s)\n", round + 1, th, r.seconds, r.cpu);
        keep_best(results[k], r);
      };
      auto run_peer = [&] {
#ifdef HAVE_LIBSAIS
        if (!have_sais) return;
        Result q = in_child(u32 ? "libsais_int" : u16 ? "libsais16" : "libsais", th, n, [&](uint32_t* sa) {
          auto* out = reinterpret_cast<int32_t*>(sa);
          auto* ti = reinterpret_cast<int32_t*>(t32);  // modified and restored by libsais_int (a child's copy)
          if (u32) return (th > 1 ? libsais_int_omp(ti, out, int32_t(n), int32_t(k32), 0, th) : libsais_int(ti, out, int32_t(n), int32_t(k32), 0)) == 0;
          if (u16) return (th > 1 ? libsais16_omp(t16, out, int32_t(n), 0, nullptr, th) : libsais16(t16, out, int32_t(n), 0, nullptr)) == 0;
          return (th > 1 ? libsais_omp(t, out, int32_t(n), 0, nullptr, th) : libsais(t, out, int32_t(n), 0, nullptr)) == 0;
        });
        std::fprintf(stderr, "round %d: %s threads=%d: %.3f s (cpu %.3f s)\n", round + 1, q.engine.c_str(), th, q.seconds, q.cpu);
        keep_best(sais[k], q);
#endif
      };
      if (peer_first(round)) { run_peer(); run_ours(); }
      else { run_ours(); run_peer(); }
    }
#ifdef HAVE_DIVSUFSORT
    if (have_dss) {
      Result r = in_child("divsufsort", 1, n, [&](uint32_t* sa) {
        return divsufsort(t, reinterpret_cast<saidx_t*>(sa), saidx_t(n)) == 0;
      });
      std::fprintf(stderr, "round %d: divsufsort: %.3f s\n", round + 1, r.seconds);
      keep_best(dss, r);
    }
#endif
  }

  // Verification: every run's checksum must agree (ours at every thread count, the peers); with a peer, the
  // full arrays of ours (1 thread) and the first peer's are also compared in one child.
  std::string verdict, peer = have_sais ? sais[0].engine : have_dss ? "divsufsort" : "";
  bool equal = true;
  for (auto& r : results) equal = equal && r.ok && r.checksum == results[0].checksum;
  if (have_sais)
    for (auto& r : sais) equal = equal && r.ok && r.checksum == results[0].checksum;
  if (have_dss) equal = equal && dss.ok && dss.checksum == results[0].checksum;
  if (!peer.empty()) {
    if (verify) {
      Result v = in_child("verify", 1, n, [&](uint32_t* sa) {
        std::vector<uint32_t> ref(n);
        bool ok = false;
#ifdef HAVE_LIBSAIS
        if (have_sais)
          ok = (u32   ? libsais_int(reinterpret_cast<int32_t*>(t32), reinterpret_cast<int32_t*>(ref.data()), int32_t(n), int32_t(k32), 0)
                : u16 ? libsais16(t16, reinterpret_cast<int32_t*>(ref.data()), int32_t(n), 0, nullptr)
                      : libsais(t, reinterpret_cast<int32_t*>(ref.data()), int32_t(n), 0, nullptr)) == 0;
#endif
#ifdef HAVE_DIVSUFSORT
        if (!have_sais) ok = divsufsort(t, reinterpret_cast<saidx_t*>(ref.data()), saidx_t(n)) == 0;
#endif
        if (!ok) return false;
        ours(sa, 1);
        return std::memcmp(ref.data(), sa, n * sizeof(uint32_t)) == 0;
      });
      equal = equal && v.ok;
      verdict = equal ? "SA identical to " + peer + "'s (full array compare + checksums of every run)"
                      : "MISMATCH with " + peer;
    } else {
      verdict = equal ? "SA identical to " + peer + "'s (checksums of the full arrays)" : "MISMATCH with " + peer;
    }
  } else {
    verdict = equal ? "thread counts agree (checksums)" : "MISMATCH between thread counts";
  }

  std::printf("Suffix array of %s: %.1f M %s (uint32 index), %s buffers, best of %d interleaved rounds%s\n\n",
              source.c_str(), n / 1e6, kind, g_hugepages ? "huge-page" : "malloc", repeat,
              !traceindex::detail::sais_hash_max ? ", our level 0 induced (--stage1 induced)"
              : traceindex::detail::sais_hash_wide ? ", our level 0 hashed (--stage1 hashed)" : "");
  // Ratio: the peer's time over ours, libsais at the same thread count when built in, else divsufsort.
  std::printf("| engine | threads | seconds | CPU s | M tokens/s | peak RSS MiB | %s / ours |\n",
              have_sais ? "libsais" : "divsufsort");
  std::printf("|---|---|---|---|---|---|---|\n");
  auto ratio_of = [&](size_t k) { return have_sais ? sais[k].seconds / results[k].seconds : dss.seconds / results[k].seconds; };
  auto row = [&](const Result& r, double ratio) {
    std::string rs = ratio > 0 ? std::to_string(ratio) : "";
    if (rs.size() > 5) rs.resize(5);
    std::printf("| %s | %d | %.3f | %.3f | %.1f | %.1f | %s |\n", r.engine.c_str(), r.threads, r.seconds, r.cpu,
                n / 1e6 / r.seconds, r.rss_mib, rs.c_str());
  };
  for (size_t k = 0; k < results.size(); ++k) row(results[k], peer.empty() ? 0 : ratio_of(k));
  if (have_sais) for (auto& r : sais) row(r, 0);
  if (have_dss) row(dss, 0);
  if (!have_sais) std::printf("\nlibsais: skipped (configure with -DLIBSAIS_SRC=DIR)\n");
  if (!have_dss && !u16 && !u32) std::printf("\ndivsufsort: skipped (libdivsufsort-dev not installed)\n");
  std::printf("\n%s\n", verdict.c_str());

  if (!json.empty()) {
    FILE* f = std::fopen(json.c_str(), "w");
    if (!f) { perror(json.c_str()); return 1; }
    std::fprintf(f, "{\n  \"input\": \"%s\",\n  \"tokens\": %llu,\n  \"token_bytes\": %zu,\n  \"rounds\": %d,\n  \"hugepages\": %s,\n  \"results\": [\n",
                 source.c_str(), (unsigned long long)n, width, repeat, g_hugepages ? "true" : "false");
    std::vector<std::string> rows;
    auto obj = [&](const Result& r, const char* key, double ratio) {
      char buf[512];
      int len = std::snprintf(buf, sizeof buf, "    {\"engine\": \"%s\", \"threads\": %d, \"seconds\": %.4f, \"cpu_seconds\": %.4f, "
                              "\"m_tokens_per_s\": %.2f, \"peak_rss_mib\": %.1f", r.engine.c_str(), r.threads, r.seconds,
                              r.cpu, n / 1e6 / r.seconds, r.rss_mib);
      if (ratio > 0) len += std::snprintf(buf + len, sizeof buf - len, ", \"%s\": %.4f", key, ratio);
      std::snprintf(buf + len, sizeof buf - len, "}");
      rows.push_back(buf);
    };
    for (size_t k = 0; k < results.size(); ++k)
      obj(results[k], have_sais ? "libsais_over_ours" : "divsufsort_over_ours", peer.empty() ? 0 : ratio_of(k));
    if (have_sais) for (auto& r : sais) obj(r, "", 0);
    if (have_dss) obj(dss, "", 0);
    for (size_t i = 0; i < rows.size(); ++i) std::fprintf(f, "%s%s\n", rows[i].c_str(), i + 1 < rows.size() ? "," : "");
    std::fprintf(f, "  ],\n  \"libsais\": %s,\n  \"divsufsort\": %s,\n  \"sa_equal\": %s,\n  \"verdict\": \"%s\"\n}\n",
                 have_sais ? "\"compared\"" : "\"skipped (not configured)\"",
                 have_dss ? "\"compared\"" : "\"skipped\"", equal ? "true" : "false", verdict.c_str());
    std::fclose(f);
  }
  return equal ? 0 : 1;
}
