// The device pool (eval/experiment/sweep_devices.h): a sweep on N devices at once, tested with
// stand-in runners (N simulated workers) and, for the placement, the engine on the CPU.
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "core/records/json_util.h"
#include "core/records/result_store.h"
#include "core/runtime/errors.h"
#include "eval/experiment/engine_runner.h"
#include "eval/experiment/sweep_devices.h"
#include "tests/check.h"
#include "tests/fixture_paths.h"

using namespace ptq;
using json = nlohmann::json;

namespace {

json minimal_record(const std::string& run_id) {
  return {{"schema", kResultSchemaName}, {"schema_version", kResultSchemaVersion}, {"run_id", run_id},
          {"status", "complete"}, {"metrics", {{"ppl", 12.5}}}};
}

// Six distinct RTN runs of austen-tiny (bits 2..8 without 7).
std::vector<ExperimentSpec> six_runs() {
  std::vector<ExperimentSpec> runs;
  for (int bits : {2, 3, 4, 5, 6, 8}) {
    ExperimentSpec s;
    s.model_dir = test::tiny();
    s.method = "rtn";
    s.plan.spec.bits = bits;
    runs.push_back(s);
  }
  return runs;
}

// Counts the runs in flight; the first `wait_for` runs each wait (up to 10 s) until that many run
// at once, so the test sees the workers overlap however the threads are scheduled.
struct Overlap {
  std::atomic<int> now{0}, most{0}, started{0};
  int wait_for = 2;
  void enter() {
    const int n = ++now;
    int m = most.load();
    while (n > m && !most.compare_exchange_weak(m, n)) {
    }
    if (++started > wait_for) return;
    const auto t0 = std::chrono::steady_clock::now();
    while (most.load() < wait_for && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10))
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void leave() { --now; }
};

std::vector<DeviceWorker> workers_running(Overlap& o, std::mutex& mu, std::vector<std::pair<int, std::string>>& ran,
                                          int n) {
  std::vector<DeviceWorker> w;
  for (int k = 0; k < n; ++k)
    w.push_back({"cpu", [&o, &mu, &ran, k](const ExperimentSpec& s, Feedback& fb) {
                   o.enter();
                   fb.report("quantize", 1, 2);
                   {
                     std::lock_guard<std::mutex> lock(mu);
                     ran.emplace_back(k, s.run_id());
                   }
                   o.leave();
                   if (s.plan.spec.bits == 5) throw Error("bits 5 failed on purpose");
                   return minimal_record(s.run_id());
                 }});
  return w;
}

}  // namespace

TEST_CASE("device pool: runs overlap, one per worker; each run once; a failure does not stop the others") {
  const std::string dir = test::temp_dir("devices");
  const auto runs = six_runs();
  Overlap overlap;
  std::mutex mu;
  std::vector<std::pair<int, std::string>> ran;
  std::vector<SweepEvent> events;
  Feedback fb;
  SweepSummary sum = run_sweep_on_devices(runs, dir, workers_running(overlap, mu, ran, 2), SweepOptions{}, fb,
                                          [&](const SweepEvent& e) { events.push_back(e); });
  CHECK_MSG(sum.done == 5 && sum.failed.size() == 1 && sum.skipped.empty(), sum.to_json().dump());
  CHECK_MSG(sum.failed[0].second == "bits 5 failed on purpose", sum.failed[0].second);
  CHECK_MSG(overlap.most.load() == 2, "at most " + std::to_string(overlap.most.load()) + " at once");
  std::set<std::string> ids;
  std::set<int> used;
  for (const auto& r : ran) ids.insert(r.second), used.insert(r.first);
  CHECK(ran.size() == 6 && ids.size() == 6 && used.size() == 2);
  for (const auto& s : runs)
    CHECK(record_complete(dir, s.run_id()) == (s.plan.spec.bits != 5));
  for (const auto& e : events) CHECK(e.worker == 0 || e.worker == 1);
  // Finished runs count whole: the bar ends full (6 of 6 runs, failed ones included).
  CHECK_NEAR(fb.last().fraction, 1.0, 1e-12);
  // Again: complete records are skipped, the failed run is tried again (and fails again).
  ran.clear();
  SweepSummary again = run_sweep_on_devices(runs, dir, workers_running(overlap, mu, ran, 2), SweepOptions{}, fb);
  CHECK_MSG(again.done == 0 && again.skipped.size() == 5 && again.failed.size() == 1, again.to_json().dump());
  CHECK(ran.size() == 1);
}

TEST_CASE("device pool: a cancel stops every worker's run and starts no other") {
  const std::string dir = test::temp_dir("devices-cancel");
  const auto runs = six_runs();
  std::atomic<int> started{0};
  std::vector<DeviceWorker> w;
  for (int k = 0; k < 2; ++k)
    w.push_back({"cpu", [&started](const ExperimentSpec& s, Feedback& fb) {
                   ++started;
                   const auto t0 = std::chrono::steady_clock::now();
                   while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20)) {
                     fb.check();  // as the engine does between units of work
                     std::this_thread::sleep_for(std::chrono::milliseconds(2));
                   }
                   return minimal_record(s.run_id());
                 }});
  for (bool rethrow : {true, false}) {
    started = 0;
    Feedback fb;
    struct Joined : std::thread {  // joined on every way out, failed checks included
      using std::thread::thread;
      ~Joined() { join(); }
    } canceller([&] {
      while (started.load() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      fb.cancel();
    });
    SweepOptions opt;
    opt.rethrow_cancel = rethrow;
    const auto t0 = std::chrono::steady_clock::now();
    if (rethrow) {
      CHECK_THROWS_WITH(run_sweep_on_devices(runs, dir, w, opt, fb), "");
    } else {
      SweepSummary s = run_sweep_on_devices(runs, dir, w, opt, fb);
      CHECK_MSG(s.cancelled && s.done == 0 && s.failed.empty(), s.to_json().dump());
    }
    // Both running runs stopped well before their 20 s, and the four others never started.
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
    CHECK(started.load() == 2);
    CHECK(list_records(dir).empty());
  }
}

TEST_CASE("--devices lists: one kind, no GPU twice, names checked") {
  CHECK(parse_device_list("cuda:0,cuda:1", "cuda:0") == std::vector<std::string>({"cuda:0", "cuda:1"}));
  CHECK(parse_device_list("cuda,cuda:3", "cuda:0") == std::vector<std::string>({"cuda:0", "cuda:3"}));
  CHECK(parse_device_list("cpu,cpu", "cpu") == std::vector<std::string>({"cpu", "cpu"}));
  CHECK_THROWS_WITH(parse_device_list("cuda:0,cpu", "cuda:0"), "'cpu' is not of the kind the runs ask for");
  CHECK_THROWS_WITH(parse_device_list("cuda:0", "cpu"), "'cuda:0' is not of the kind the runs ask for");
  CHECK_THROWS_WITH(parse_device_list("cuda:1,cuda:1", "cuda:0"), "names 'cuda:1' twice");
  CHECK_THROWS_WITH(parse_device_list("cuda:0,,cuda:1", "cuda:0"), "has an empty entry");
  CHECK_THROWS_WITH(parse_device_list("auto", "cpu"), "'auto' is not one");
  CHECK_THROWS_WITH(parse_device_list("gpu1", "cpu"), "unknown device 'gpu1'");
}

// The placement is not part of the identity: a run whose spec names cuda:0, placed on the CPU
// (the only device here), keeps its run_id and spec, and its provenance names the CPU.
TEST_CASE("engine_runner(device) runs where it is placed and keeps the run's identity") {
  ExperimentSpec s;
  s.model_dir = test::tiny();
  s.method = "fp";
  s.device = "cuda:0";
  Feedback fb;
  const json r = engine_runner("cpu")(s, fb);
  CHECK(r["run_id"] == s.run_id());
  CHECK(r["spec"]["device"] == "cuda:0");
  CHECK_MSG(r["provenance"]["device"] == "cpu", r["provenance"].dump());
}
