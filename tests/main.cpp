// ptq_tests: runs the engine test cases of every tests/test_*.cpp (see check.h).
//   ptq_tests [--shared DIR] [--suite S]... [--fast | --slow] [--skip TEXT]... [--list] [TEXT]...
// TEXT selects the cases whose name contains it; ctest runs one suite's fast or slow part per
// test (tests/CMakeLists.txt). Exit status: 0 all passed, 1 a case failed, 2 bad arguments or
// nothing selected.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "core/runtime/device.h"
#include "core/runtime/errors.h"
#include "tests/check.h"

namespace {

using ptq::test::Case;
using ptq::test::Speed;

struct Selection {
  std::set<std::string> suites;
  std::vector<std::string> names, skips;
  bool fast = false, slow = false, list = false;

  bool contains_any(const std::string& s, const std::vector<std::string>& parts) const {
    for (const auto& p : parts)
      if (s.find(p) != std::string::npos) return true;
    return false;
  }
  bool selects(const Case& c) const {
    if (!suites.empty() && !suites.count(c.suite)) return false;
    if (fast && c.speed != Speed::Fast) return false;
    if (slow && c.speed != Speed::Slow) return false;
    if (!names.empty() && !contains_any(c.name, names)) return false;
    return !contains_any(c.name, skips);
  }
};

void usage() {
  std::printf(
      "usage: ptq_tests [--shared DIR] [--suite S]... [--fast | --slow] [--skip TEXT]... [--list] [TEXT]...\n"
      "  --shared DIR  the shared fixtures (default %s)\n"
      "  --suite S     only the cases of tests/test_S.cpp (repeatable)\n"
      "  --fast/--slow only the cases declared TEST_CASE / SLOW_TEST_CASE\n"
      "  --skip TEXT   leave out cases whose name contains TEXT (repeatable)\n"
      "  --list        print suite, speed and name of the selected cases instead of running them\n"
      "  TEXT          only cases whose name contains one of the TEXTs\n",
      PTQ_SHARED_DIR);
}

// Returns false (after printing why) on a bad argument.
bool parse(int argc, char** argv, Selection* sel) {
  std::set<std::string> known;
  for (const auto& c : ptq::test::cases()) known.insert(c.suite);
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if ((a == "--shared" || a == "--suite" || a == "--skip") && !has_value) {
      std::fprintf(stderr, "ptq_tests: %s needs a value\n", a.c_str());
      return false;
    }
    if (a == "--shared") {
      ptq::test::shared_dir() = argv[++i];
    } else if (a == "--suite") {
      const std::string s = argv[++i];
      if (!known.count(s)) {
        std::string all;
        for (const auto& k : known) all += (all.empty() ? "" : ", ") + k;
        std::fprintf(stderr, "ptq_tests: unknown suite '%s' (suites: %s)\n", s.c_str(), all.c_str());
        return false;
      }
      sel->suites.insert(s);
    } else if (a == "--skip") {
      sel->skips.push_back(argv[++i]);
    } else if (a == "--fast" || a == "--slow") {
      (a == "--fast" ? sel->fast : sel->slow) = true;
    } else if (a == "--list") {
      sel->list = true;
    } else if (a == "--help" || a == "-h") {
      usage();
      std::exit(0);
    } else if (a.rfind("--", 0) == 0) {
      std::fprintf(stderr, "ptq_tests: unknown option %s\n", a.c_str());
      return false;
    } else {
      sel->names.push_back(a);
    }
  }
  if (sel->fast && sel->slow) {
    std::fprintf(stderr, "ptq_tests: --fast and --slow exclude each other\n");
    return false;
  }
  return true;
}

// Runs one case; returns whether it passed.
bool run_case(const Case& c) {
  const auto t0 = std::chrono::steady_clock::now();
  std::string failure;
  try {
    c.fn();
  } catch (const ptq::test::Failure& f) {
    failure = f.what;
  } catch (const std::exception& e) {
    failure = std::string("exception: ") + e.what();
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (failure.empty())
    std::printf("ok    %s: %s (%.1f s)\n", c.suite.c_str(), c.name.c_str(), s);
  else
    std::printf("FAIL  %s: %s (%.1f s): %s\n", c.suite.c_str(), c.name.c_str(), s, failure.c_str());
  std::fflush(stdout);
  return failure.empty();
}

}  // namespace

int main(int argc, char** argv) {
  Selection sel;
  if (!parse(argc, argv, &sel)) return 2;
  std::vector<const Case*> chosen;
  for (const auto& c : ptq::test::cases())
    if (sel.selects(c)) chosen.push_back(&c);
  if (chosen.empty()) {
    std::fprintf(stderr, "ptq_tests: no case matches the selection\n");
    return 2;
  }
  if (sel.list) {
    for (const Case* c : chosen)
      std::printf("%s\t%s\t%s\n", c->suite.c_str(), c->speed == Speed::Slow ? "slow" : "fast", c->name.c_str());
    return 0;
  }
  try {
    ptq::configure_threads();
  } catch (const ptq::Error& e) {
    std::fprintf(stderr, "ptq_tests: %s\n", e.what());
    return 2;
  }
  int passed = 0, failed = 0;
  for (const Case* c : chosen) (run_case(*c) ? passed : failed)++;
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
