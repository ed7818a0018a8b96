#pragma once
// A minimal test harness for the engine tests (core/, quant/, eval/ build without Qt, so Qt Test
// is kept for views/): named cases, tolerance compares, and the closing "N passed, M failed" line.
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace ptq {
void configure_threads();  // core/device.h
}

namespace ptq::test {

struct Case {
  std::string name;
  std::function<void()> fn;
};

inline std::vector<Case>& cases() {
  static std::vector<Case> c;
  return c;
}

struct Failure {
  std::string what;
};

struct Register {
  Register(const char* name, std::function<void()> fn) { cases().push_back({name, std::move(fn)}); }
};

inline std::string& shared_dir() {
  static std::string d = PTQ_SHARED_DIR;
  return d;
}

inline int run_all(int argc, char** argv) {
  ptq::configure_threads();
  if (argc > 1) shared_dir() = argv[1];
  std::string only = argc > 2 ? argv[2] : "";
  int passed = 0, failed = 0;
  for (auto& c : cases()) {
    if (!only.empty() && c.name.find(only) == std::string::npos) continue;
    try {
      c.fn();
      ++passed;
      std::printf("ok    %s\n", c.name.c_str());
    } catch (const Failure& f) {
      ++failed;
      std::printf("FAIL  %s: %s\n", c.name.c_str(), f.what.c_str());
    } catch (const std::exception& e) {
      ++failed;
      std::printf("FAIL  %s: exception: %s\n", c.name.c_str(), e.what());
    }
    std::fflush(stdout);
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

}  // namespace ptq::test

#define PTQ_CAT2(a, b) a##b
#define PTQ_CAT(a, b) PTQ_CAT2(a, b)
#define TEST_CASE(name)                                                              \
  static void PTQ_CAT(test_fn_, __LINE__)();                                         \
  static ptq::test::Register PTQ_CAT(test_reg_, __LINE__)(name, PTQ_CAT(test_fn_, __LINE__)); \
  static void PTQ_CAT(test_fn_, __LINE__)()

#undef CHECK
#define CHECK(cond)                                                                                         \
  do {                                                                                                      \
    if (!(cond)) throw ptq::test::Failure{std::string(__FILE__) + ":" + std::to_string(__LINE__) + ": " #cond}; \
  } while (0)

#define CHECK_MSG(cond, msg)                                                                                \
  do {                                                                                                      \
    if (!(cond))                                                                                            \
      throw ptq::test::Failure{std::string(__FILE__) + ":" + std::to_string(__LINE__) + ": " #cond " — " + (msg)}; \
  } while (0)

#undef CHECK_NEAR
#define CHECK_NEAR(a, b, tol)                                                                               \
  do {                                                                                                      \
    double _a = (a), _b = (b);                                                                              \
    if (!(std::fabs(_a - _b) <= (tol)))                                                                     \
      throw ptq::test::Failure{std::string(__FILE__) + ":" + std::to_string(__LINE__) + ": " #a " = " +     \
                               std::to_string(_a) + " vs " #b " = " + std::to_string(_b) + " (tol " +       \
                               std::to_string(double(tol)) + ")"};                                          \
  } while (0)

// Expects `expr` to throw ptq::Error whose message contains `needle`.
#define CHECK_THROWS_WITH(expr, needle)                                                                     \
  do {                                                                                                      \
    bool _thrown = false;                                                                                   \
    try {                                                                                                   \
      (void)(expr);                                                                                         \
    } catch (const ptq::Error& _e) {                                                                        \
      _thrown = true;                                                                                       \
      if (std::string(_e.what()).find(needle) == std::string::npos)                                         \
        throw ptq::test::Failure{std::string(__FILE__) + ":" + std::to_string(__LINE__) +                   \
                                 ": message '" + _e.what() + "' lacks '" + (needle) + "'"};                 \
    }                                                                                                       \
    if (!_thrown)                                                                                           \
      throw ptq::test::Failure{std::string(__FILE__) + ":" + std::to_string(__LINE__) + ": " #expr " did not throw"}; \
  } while (0)

#define TEST_MAIN() \
  int main(int argc, char** argv) { return ptq::test::run_all(argc, argv); }
