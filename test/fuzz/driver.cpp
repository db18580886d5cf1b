// Standalone driver for fuzz_index.cpp, for compilers without libFuzzer (gcc): replays every input file
// given (files or directories), then runs random structure-aware mutations of them (fuzz_case.hpp) until
// the time or run budget is spent. Inputs that open as an index join the pool, so mutations go deeper.
// A crash leaves the input that caused it in --crash-dir (sanitizer death callback or signal handler).
//
//   fuzz_index_driver [--seconds T] [--runs N] [--seed S] [--max-len B] [--crash-dir DIR] INPUT...
//
// Prints "fuzz: R runs (O opened) in T s over P inputs, no finding" and exits 0, or dies on a finding.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "fuzz_case.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" int traceindex_fuzz_opened;
extern "C" void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

namespace fs = std::filesystem;

namespace {

// The input being run, saved by the crash paths (prepared ahead: no allocation there).
std::string g_current;
char g_crash_path[4096];

void save_current() {
  int fd = ::open(g_crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  for (size_t at = 0; at < g_current.size();) {
    ssize_t w = ::write(fd, g_current.data() + at, g_current.size() - at);
    if (w <= 0) break;
    at += size_t(w);
  }
  ::close(fd);
  const char msg[] = "fuzz_index_driver: the failing input is saved as ";
  (void)!::write(2, msg, sizeof msg - 1);
  (void)!::write(2, g_crash_path, std::strlen(g_crash_path));
  (void)!::write(2, "\n", 1);
}

void on_fatal_signal(int sig) {
  save_current();
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void run(const std::string& input) {
  g_current = input;
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(g_current.data()), g_current.size());
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 10;
  uint64_t max_runs = ~0ULL, seed = 1;
  size_t max_len = 1 << 16;
  std::string crash_dir = ".";
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) { std::fprintf(stderr, "%s needs a value\n", a.c_str()); std::exit(2); }
      return argv[++i];
    };
    if (a == "--seconds") seconds = std::stod(value());
    else if (a == "--runs") max_runs = std::stoull(value());
    else if (a == "--seed") seed = std::stoull(value());
    else if (a == "--max-len") max_len = std::stoull(value());
    else if (a == "--crash-dir") crash_dir = value();
    else if (!a.empty() && a[0] == '-') { std::fprintf(stderr, "unknown option %s\n", a.c_str()); return 2; }
    else inputs.push_back(a);
  }
  std::snprintf(g_crash_path, sizeof g_crash_path, "%s/crash-%d.bin", crash_dir.c_str(), int(::getpid()));
  if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(save_current);
  else for (int sig : {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL}) ::signal(sig, on_fatal_signal);

  std::vector<std::string> pool;
  for (const fs::path& in : inputs) {
    if (fs::is_directory(in)) {
      std::vector<fs::path> files;
      for (auto& e : fs::directory_iterator(in)) if (e.is_regular_file()) files.push_back(e.path());
      std::sort(files.begin(), files.end());
      for (auto& f : files) pool.push_back(slurp(f));
    } else {
      pool.push_back(slurp(in));
    }
  }
  if (pool.empty()) { std::fprintf(stderr, "fuzz_index_driver: no inputs\n"); return 2; }
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  uint64_t runs = 0, opened = 0;
  const size_t seeds = pool.size();
  for (size_t i = 0; i < seeds && runs < max_runs; ++i, ++runs) {  // replay
    run(pool[i]);
    opened += traceindex_fuzz_opened;
  }
  std::mt19937_64 rng(seed);
  auto bytes = [&](uint8_t* d, size_t n, size_t m) { return fuzzcase::mutate_bytes(d, n, m, rng); };
  while (runs < max_runs && elapsed() < seconds) {
    std::string input = pool[rng() % pool.size()];
    for (int k = 0, stack = 1 + rng() % 4; k < stack; ++k) input = fuzzcase::mutate(input, max_len, rng, bytes);
    run(input);
    ++runs;
    if (traceindex_fuzz_opened) {
      ++opened;
      if (pool.size() < 4 * seeds + 1000) pool.push_back(input);
      else pool[seeds + rng() % (pool.size() - seeds)] = input;  // the seeds stay
    }
  }
  std::printf("fuzz: %llu runs (%llu opened) in %.1f s over %zu inputs, no finding\n", (unsigned long long)runs,
              (unsigned long long)opened, elapsed(), pool.size());
  return 0;
}
