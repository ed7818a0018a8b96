#pragma once
// A minimal test harness for the engine tests (core/, quant/, eval/ build without Qt, so Qt Test
// is kept for views/): named cases grouped in suites, tolerance compares, and the closing
// "N passed, M failed" line. Every tests/test_<suite>.cpp is compiled into one executable,
// ptq_tests, whose main is tests/main.cpp; the suite of a case is its file's name without
// "test_" and ".cpp" (`ptq_tests --suite awq`). `ptq_tests --help` lists the options.
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace ptq::test {

enum class Speed { Fast, Slow };

struct Case {
  std::string suite;  // from the file name: tests/test_awq.cpp -> "awq"
  std::string name;
  Speed speed = Speed::Fast;
  std::function<void()> fn;
};

inline std::vector<Case>& cases() {
  static std::vector<Case> c;
  return c;
}

struct Failure {
  std::string what;
};

inline std::string suite_of_file(const std::string& file) {
  std::string base = file.substr(file.find_last_of("/\\") + 1);
  if (base.rfind("test_", 0) == 0) base = base.substr(5);
  const size_t dot = base.find('.');
  return dot == std::string::npos ? base : base.substr(0, dot);
}

struct Register {
  Register(const char* file, const char* name, Speed speed, std::function<void()> fn) {
    cases().push_back({suite_of_file(file), name, speed, std::move(fn)});
  }
};

// The shared fixtures folder: the build's PTQ_SHARED_DIR unless --shared names another.
inline std::string& shared_dir() {
  static std::string d = PTQ_SHARED_DIR;
  return d;
}

// 12 significant digits: std::to_string's 6 decimals printed a failing kurtosis compare as
// "15.244229 vs 15.244230".
inline std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.12g", v);
  return buf;
}

// Two record fields agree: equal, or both NaN (a record's "not measured").
inline bool same_record_value(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

inline std::string where(const char* file, int line) {
  return std::string(file).substr(std::string(file).find_last_of('/') + 1) + ":" + std::to_string(line) + ": ";
}

}  // namespace ptq::test

#define PTQ_CAT2(a, b) a##b
#define PTQ_CAT(a, b) PTQ_CAT2(a, b)
#define PTQ_TEST_CASE(name, speed)                                                                      \
  static void PTQ_CAT(test_fn_, __LINE__)();                                                            \
  static ptq::test::Register PTQ_CAT(test_reg_, __LINE__)(__FILE__, name, speed, PTQ_CAT(test_fn_, __LINE__)); \
  static void PTQ_CAT(test_fn_, __LINE__)()

// A case of the suite's fast part (ctest label `fast`).
#define TEST_CASE(name) PTQ_TEST_CASE(name, ptq::test::Speed::Fast)
// A case that needs minutes (the published-finding checks on austen-small): ctest runs a
// suite's slow cases as a test of their own, labelled `slow`, when tests/CMakeLists.txt gives
// the suite a SLOW_COST; otherwise they run with the rest of the suite.
#define SLOW_TEST_CASE(name) PTQ_TEST_CASE(name, ptq::test::Speed::Slow)

// Kept so that branches written before the single executable still compile and merge; main is
// tests/main.cpp. New files leave it out.
#define TEST_MAIN() static_assert(true, "");

#undef CHECK
#define CHECK(cond)                                                                      \
  do {                                                                                   \
    if (!(cond)) throw ptq::test::Failure{ptq::test::where(__FILE__, __LINE__) + #cond}; \
  } while (0)

#define CHECK_MSG(cond, msg)                                                                        \
  do {                                                                                              \
    if (!(cond)) throw ptq::test::Failure{ptq::test::where(__FILE__, __LINE__) + #cond " — " + (msg)}; \
  } while (0)

// |a - b| <= tol: for values whose scale is known (probabilities, cosines, values near 1 or 0).
#undef CHECK_NEAR
#define CHECK_NEAR(a, b, tol)                                                                        \
  do {                                                                                               \
    const double _a = (a), _b = (b), _t = (tol);                                                     \
    if (!(std::fabs(_a - _b) <= _t))                                                                 \
      throw ptq::test::Failure{ptq::test::where(__FILE__, __LINE__) + #a " = " + ptq::test::num(_a) + \
                               " vs " #b " = " + ptq::test::num(_b) + " (|diff| " +                  \
                               ptq::test::num(std::fabs(_a - _b)) + " > tol " + ptq::test::num(_t) + ")"}; \
  } while (0)

// |a - b| <= rel * max(|a|, |b|): for values of any magnitude (kurtosis, PPL, byte counts);
// rel is the relative rounding error the computation can accumulate.
#define CHECK_REL(a, b, rel)                                                                           \
  do {                                                                                                 \
    const double _a = (a), _b = (b), _r = (rel);                                                       \
    const double _d = std::fabs(_a - _b), _m = std::fmax(std::fabs(_a), std::fabs(_b));                \
    if (!(_d <= _r * _m))                                                                              \
      throw ptq::test::Failure{ptq::test::where(__FILE__, __LINE__) + #a " = " + ptq::test::num(_a) +   \
                               " vs " #b " = " + ptq::test::num(_b) + " (relative diff " +             \
                               ptq::test::num(_m > 0 ? _d / _m : _d) + " > " + ptq::test::num(_r) + ")"}; \
  } while (0)

// Expects `expr` to throw ptq::Error whose message contains `needle`.
#define CHECK_THROWS_WITH(expr, needle)                                                              \
  do {                                                                                               \
    bool _thrown = false;                                                                            \
    try {                                                                                            \
      (void)(expr);                                                                                  \
    } catch (const ptq::Error& _e) {                                                                 \
      _thrown = true;                                                                                \
      if (std::string(_e.what()).find(needle) == std::string::npos)                                  \
        throw ptq::test::Failure{ptq::test::where(__FILE__, __LINE__) + "message '" + _e.what() +     \
                                 "' lacks '" + (needle) + "'"};                                      \
    }                                                                                                \
    if (!_thrown) throw ptq::test::Failure{ptq::test::where(__FILE__, __LINE__) + #expr " did not throw"}; \
  } while (0)
