// Suffix-array benchmark: traceindex SA-IS at each thread count vs libdivsufsort (u8 text, 32-bit index).
//   bench_sais [--file PATH | --generate MB] [--mb 100] [--threads 1,2] [--repeat 3] [--json PATH] [--no-verify] [--hugepages]
// Each engine runs in its own forked child so that peak RSS (ru_maxrss of the child) is per engine; it includes
// the text shared from the parent. Build: see the compile lines in the kernel's brief; add -DHAVE_DIVSUFSORT
// -ldivsufsort to compare.
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "sais.hpp"
#ifdef HAVE_DIVSUFSORT
#include <divsufsort.h>
#endif

namespace {

struct Result {
  std::string engine;
  int threads = 0;
  bool ok = false;
  double seconds = 0;
  double rss_mib = 0;
  uint64_t checksum = 0;
};

struct ChildReport { double seconds; uint64_t checksum; int ok; };

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
    ChildReport rep{1e300, 0, 1};
    uint32_t* sa = static_cast<uint32_t*>(alloc_buffer(sizeof(uint32_t) * n));
    if (!sa) rep.ok = 0;
    if (rep.ok) {
      double t0 = now();
      if (!engine(sa)) rep.ok = 0;
      rep.seconds = now() - t0;
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
               "[--json PATH] [--no-verify] [--hugepages]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string file, json;
  double gen_mb = 0, mb = 100;
  std::vector<int> threads = {1, 2};
  int repeat = 3;
  bool verify = true;
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
    else usage();
  }
  if (file.empty() && gen_mb <= 0) usage();
  (void)verify;  // only used with divsufsort

  std::vector<uint8_t> text;
  std::string source;
  if (!file.empty()) {
    FILE* f = std::fopen(file.c_str(), "rb");
    if (!f) { perror(file.c_str()); return 1; }
    text.resize(uint64_t(mb * 1e6));
    text.resize(std::fread(text.data(), 1, text.size(), f));
    std::fclose(f);
    source = file;
  } else {
    text = generate(uint64_t(std::min(gen_mb, mb) * 1e6));
    source = "generated";
  }
  const uint64_t n = text.size();
  uint8_t* t = static_cast<uint8_t*>(alloc_buffer(n));
  if (!t) { std::fprintf(stderr, "cannot allocate the text buffer\n"); return 1; }
  std::memcpy(t, text.data(), n);
  std::vector<uint8_t>().swap(text);
  std::fprintf(stderr, "input: %s, %llu bytes\n", source.c_str(), (unsigned long long)n);

  // Rounds interleave the engines (one fresh child per engine and round, page faults included, as in a real
  // build) and each engine keeps its best round: on a shared VM, interference comes and goes, and the minimum
  // over interleaved rounds is the figure least skewed against either side.
  std::vector<Result> results(threads.size());
  bool have_dss = false;
  Result dss;
#ifdef HAVE_DIVSUFSORT
  have_dss = n < (uint64_t(1) << 31);
#endif
  auto keep_best = [](Result& best, const Result& r) {
    bool first = best.engine.empty();
    if (first || (r.ok && r.seconds < best.seconds)) {
      double rss = std::max(best.rss_mib, r.rss_mib);
      bool ok = first ? r.ok : best.ok && r.ok;
      best = r;
      best.rss_mib = rss;
      best.ok = ok;
    } else {
      best.ok = best.ok && r.ok && r.checksum == best.checksum;
      best.rss_mib = std::max(best.rss_mib, r.rss_mib);
    }
  };
  for (int round = 0; round < repeat; ++round) {
    for (size_t k = 0; k < threads.size(); ++k) {
      const int th = threads[k];
      Result r = in_child("traceindex", th, n, [&](uint32_t* sa) {
        traceindex::build_suffix_array<uint8_t, uint32_t>(t, sa, n, 256, th);
        return true;
      });
      std::fprintf(stderr, "round %d: traceindex threads=%d: %.3f s\n", round + 1, th, r.seconds);
      keep_best(results[k], r);
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

  // Verification: the full arrays of ours (1 thread) and divsufsort compared in one child; without
  // divsufsort, every thread count must give the same checksum.
  std::string verdict;
  bool equal = true;
  for (auto& r : results) equal = equal && r.ok && r.checksum == results[0].checksum;
  if (have_dss) {
    equal = equal && dss.ok && dss.checksum == results[0].checksum;
#ifdef HAVE_DIVSUFSORT
    if (verify) {
      Result v = in_child("verify", 1, n, [&](uint32_t* sa) {
        std::vector<uint32_t> ref(n);
        if (divsufsort(t, reinterpret_cast<saidx_t*>(ref.data()), saidx_t(n)) != 0) return false;
        traceindex::build_suffix_array<uint8_t, uint32_t>(t, sa, n, 256, 1);
        return std::memcmp(ref.data(), sa, n * sizeof(uint32_t)) == 0;
      });
      equal = equal && v.ok;
      verdict = equal ? "SA identical to divsufsort's (full array compare + checksums of every run)"
                      : "MISMATCH with divsufsort";
    } else
#endif
    verdict = equal ? "SA identical to divsufsort's (checksums of the full arrays)" : "MISMATCH with divsufsort";
  } else {
    verdict = equal ? "thread counts agree (checksums)" : "MISMATCH between thread counts";
  }

  std::printf("Suffix array of %s: %.1f MB (u8 tokens, uint32 index), %s buffers, best of %d interleaved rounds\n\n",
              source.c_str(), n / 1e6, g_hugepages ? "huge-page" : "malloc", repeat);
  std::printf("| engine | threads | seconds | MB/s | peak RSS MiB | divsufsort / ours |\n");
  std::printf("|---|---|---|---|---|---|\n");
  auto row = [&](const Result& r) {
    std::string ratio = have_dss && r.engine != "divsufsort" ? std::to_string(dss.seconds / r.seconds) : "";
    if (ratio.size() > 5) ratio.resize(5);
    std::printf("| %s | %d | %.3f | %.1f | %.1f | %s |\n", r.engine.c_str(), r.threads, r.seconds,
                n / 1e6 / r.seconds, r.rss_mib, ratio.c_str());
  };
  for (auto& r : results) row(r);
  if (have_dss) row(dss);
  else std::printf("\ndivsufsort: skipped (libdivsufsort-dev not installed)\n");
  std::printf("\n%s\n", verdict.c_str());

  if (!json.empty()) {
    FILE* f = std::fopen(json.c_str(), "w");
    if (!f) { perror(json.c_str()); return 1; }
    std::fprintf(f, "{\n  \"input\": \"%s\",\n  \"bytes\": %llu,\n  \"rounds\": %d,\n  \"hugepages\": %s,\n  \"results\": [\n",
                 source.c_str(), (unsigned long long)n, repeat, g_hugepages ? "true" : "false");
    auto obj = [&](const Result& r, bool last) {
      std::fprintf(f, "    {\"engine\": \"%s\", \"threads\": %d, \"seconds\": %.4f, \"mb_per_s\": %.2f, "
                      "\"peak_rss_mib\": %.1f", r.engine.c_str(), r.threads, r.seconds, n / 1e6 / r.seconds, r.rss_mib);
      if (have_dss && r.engine != "divsufsort") std::fprintf(f, ", \"divsufsort_over_ours\": %.4f", dss.seconds / r.seconds);
      std::fprintf(f, "}%s\n", last ? "" : ",");
    };
    for (size_t i = 0; i < results.size(); ++i) obj(results[i], !have_dss && i + 1 == results.size());
    if (have_dss) obj(dss, true);
    std::fprintf(f, "  ],\n  \"divsufsort\": %s,\n  \"sa_equal\": %s,\n  \"verdict\": \"%s\"\n}\n",
                 have_dss ? "\"compared\"" : "\"skipped (libdivsufsort-dev not installed)\"", equal ? "true" : "false",
                 verdict.c_str());
    std::fclose(f);
  }
  return equal ? 0 : 1;
}
