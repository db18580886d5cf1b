// Minimal test harness for the C++ core tests: TEST(name) { CHECK(cond); CHECK_EQ(a, b); }.
// Prints one line per failure and a closing "N passed, N failed" line; exit code 1 on any failure.
#pragma once
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace check {
struct Case { const char* name; std::function<void()> fn; };
inline std::vector<Case>& cases() { static std::vector<Case> v; return v; }
inline int& failures() { static int f = 0; return f; }
struct Register { Register(const char* n, std::function<void()> f) { cases().push_back({n, std::move(f)}); } };
struct Failure {};
template <class A, class B> void eq(const A& a, const B& b, const char* ea, const char* eb, const char* file, int line) {
  if (!(a == b)) {
    std::ostringstream os; os << a << " != " << b;
    std::fprintf(stderr, "  %s:%d: CHECK_EQ(%s, %s) failed: %s\n", file, line, ea, eb, os.str().c_str());
    throw Failure{};
  }
}
// Iteration counts of the randomized batteries, times TRACEINDEX_TEST_SCALE (default 1; the sanitizer run
// uses a fraction to stay within its time budget). At least 1.
inline int scaled(int iterations) {
  static const double scale = [] {
    const char* s = std::getenv("TRACEINDEX_TEST_SCALE");
    double v = s ? std::atof(s) : 1.0;
    return v > 0 ? v : 1.0;
  }();
  return std::max(1, static_cast<int>(iterations * scale));
}
inline int run_all(int argc, char** argv) {
  int passed = 0, failed = 0;
  for (auto& c : cases()) {
    if (argc > 1 && std::string(c.name).find(argv[1]) == std::string::npos) continue;
    try { c.fn(); ++passed; }
    catch (Failure&) { ++failed; std::fprintf(stderr, "FAIL %s\n", c.name); }
    catch (std::exception& e) { ++failed; std::fprintf(stderr, "FAIL %s: uncaught %s\n", c.name, e.what()); }
  }
  std::printf("native: %d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
}  // namespace check

#define CHECK_CAT2(a, b) a##b
#define CHECK_CAT(a, b) CHECK_CAT2(a, b)
#define TEST(name) static void name(); static check::Register CHECK_CAT(reg_, name)(#name, name); static void name()
#define CHECK(cond) do { if (!(cond)) { std::fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); throw check::Failure{}; } } while (0)
#define CHECK_EQ(a, b) check::eq((a), (b), #a, #b, __FILE__, __LINE__)
#define CHECK_THROWS_CODE(expr, code_) do { bool thrown_ = false; try { expr; } catch (traceindex::Error& e_) { thrown_ = true; if (e_.code != (code_)) { std::fprintf(stderr, "  %s:%d: expected %s, got %s: %s\n", __FILE__, __LINE__, code_, e_.code.c_str(), e_.what()); throw check::Failure{}; } } if (!thrown_) { std::fprintf(stderr, "  %s:%d: %s did not throw\n", __FILE__, __LINE__, #expr); throw check::Failure{}; } } while (0)
