#include "eval/experiment/sweep_devices.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/records/result_store.h"
#include "core/runtime/device_names.h"
#include "core/runtime/errors.h"

namespace ptq {

namespace {

// The shared state of the workers: the next run to take, each run's outcome, the progress of the
// running ones.
class DevicePool {
 public:
  DevicePool(const std::vector<ExperimentSpec>& runs, const std::string& dir, const SweepOptions& options,
             Feedback& fb, const std::function<void(const SweepEvent&)>& on_event, size_t workers)
      : runs_(runs), dir_(dir), options_(options), fb_(fb), on_event_(on_event), outcomes_(runs.size()),
        finished_run_(runs.size(), 0), fraction_(workers, 0.0), worker_fb_(workers) {}

  void work(size_t k, const DeviceWorker& w) {
    Feedback& wfb = worker_fb_[k];
    wfb.set_callback([this, k, &w](const Progress& p) { progress(k, w.device, p); });
    auto emit = [this](const SweepEvent& e) {
      std::lock_guard<std::mutex> lock(event_mu_);
      if (on_event_) on_event_(e);
    };
    for (;;) {
      const size_t i = next_.fetch_add(1);
      if (i >= runs_.size() || stop_.load()) return;
      try {
        outcomes_[i] = run_sweep_entry(runs_[i], i, runs_.size(), dir_, w.runner, options_, wfb, emit, int(k));
        finished_run_[i] = 1;
      } catch (const Cancelled&) {  // abandoned: neither done nor failed
        cancelled_.store(true);
        stop_.store(true);
        return;
      }
      finish(k);
    }
  }

  // Passes a cancel of the sweep on to the workers until they have all stopped.
  void watch(std::vector<std::thread>& threads) {
    while (running_.load() > 0) {
      if (fb_.is_cancelled()) {
        stop_.store(true);
        for (auto& f : worker_fb_) f.cancel();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (auto& t : threads) t.join();
  }

  void worker_done() { running_.fetch_sub(1); }
  void set_running(size_t n) { running_.store(int(n)); }

  SweepSummary summary() const {
    SweepSummary s;
    s.runs = runs_.size();
    s.results_dir = dir_;
    for (size_t i = 0; i < runs_.size(); ++i)
      if (finished_run_[i]) s.add(outcomes_[i]);
    s.cancelled = cancelled_.load() || fb_.is_cancelled();
    return s;
  }

 private:
  void progress(size_t k, const std::string& device, const Progress& p) {
    std::lock_guard<std::mutex> lock(progress_mu_);
    fraction_[k] = p.fraction;
    report(device + ": " + p.stage);
  }
  void finish(size_t k) {
    std::lock_guard<std::mutex> lock(progress_mu_);
    fraction_[k] = 0.0;
    ++finished_;
    report("");
  }
  // Under progress_mu_: the overall fraction in thousandths of a run.
  void report(const std::string& stage) {
    double units = double(finished_);
    for (double f : fraction_) units += f;
    fb_.report(stage, int64_t(units * 1000.0), int64_t(runs_.size()) * 1000);
  }

  const std::vector<ExperimentSpec>& runs_;
  const std::string dir_;
  const SweepOptions options_;
  Feedback& fb_;
  const std::function<void(const SweepEvent&)>& on_event_;
  std::vector<RunOutcome> outcomes_;
  // Runs that ended done, skipped or failed; each index written by the one worker that took it
  // (not vector<bool>: its bits share words).
  std::vector<char> finished_run_;
  std::vector<double> fraction_;
  std::vector<Feedback> worker_fb_;
  std::atomic<size_t> next_{0};
  std::atomic<bool> stop_{false}, cancelled_{false};
  std::atomic<int> running_{0};
  size_t finished_ = 0;
  std::mutex event_mu_, progress_mu_;
};

}  // namespace

SweepSummary run_sweep_on_devices(const std::vector<ExperimentSpec>& runs, const std::string& results_dir,
                                  const std::vector<DeviceWorker>& workers, const SweepOptions& options, Feedback& fb,
                                  const std::function<void(const SweepEvent&)>& on_event) {
  if (workers.empty()) throw Error("run_sweep_on_devices: no devices given");
  for (const auto& w : workers)
    if (!w.runner) throw Error("run_sweep_on_devices: no runner for device '" + w.device + "'");
  ensure_results_dir(results_dir);
  remove_stale_temp_files(results_dir);
  DevicePool pool(runs, results_dir, options, fb, on_event, workers.size());
  std::vector<std::thread> threads;
  pool.set_running(workers.size());
  for (size_t k = 0; k < workers.size(); ++k)
    threads.emplace_back([&pool, &workers, k] {
      pool.work(k, workers[k]);
      pool.worker_done();
    });
  pool.watch(threads);
  SweepSummary sum = pool.summary();
  if (sum.cancelled && options.rethrow_cancel) throw Cancelled();
  return sum;
}

std::vector<std::string> parse_device_list(const std::string& list, const std::string& spec_device) {
  std::vector<std::string> out;
  std::stringstream ss(list);
  std::string item;
  const bool want_cuda = spec_device.rfind("cuda", 0) == 0;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) throw Error("--devices '" + list + "' has an empty entry");
    const std::string d = canonical_device(item);
    if (d == "auto") throw Error("--devices '" + list + "': name the devices ('auto' is not one)");
    if ((d.rfind("cuda", 0) == 0) != want_cuda)
      throw Error("--devices '" + list + "': '" + d + "' is not of the kind the runs ask for ('" + spec_device +
                  "'); CPU runs go on CPU workers, CUDA runs on GPUs");
    out.push_back(d);
  }
  if (out.empty()) throw Error("--devices is empty");
  for (size_t i = 0; i < out.size(); ++i)
    for (size_t j = i + 1; j < out.size(); ++j)
      if (out[i] == out[j] && out[i] != "cpu")
        throw Error("--devices '" + list + "' names '" + out[i] + "' twice (one run per GPU at a time)");
  return out;
}

}  // namespace ptq
