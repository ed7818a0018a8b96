#pragma once
// The part of a job that runs off the GUI thread (after QGIS' QgsTask): a QThread that runs the
// job's experiment specs through ptq::run_sweep (eval/experiment/sweep_runner.h, the same
// skip/run/write loop as `ptq sweep`) with the runner it is given, and hands progress and outcomes
// back to the GUI thread (queued calls on `context`). Cancel is cooperative (ptq::Feedback::cancel:
// the engine stops between units of work; nothing half written). QtCore only, no engine here.
#include <QObject>
#include <QPointer>
#include <QString>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/runtime/feedback.h"
#include "eval/experiment/experiment_spec.h"
#include "eval/experiment/sweep_runner.h"

class QThread;

namespace ptq::views {

// What runs a spec, injected by the application (app/gui: the engine) or a test.
struct JobEngine {
  ptq::RecordRunner run;  // spec -> complete record
  // The device a canonical device name runs on ("auto" -> "cpu" or "cuda:0"); unset: unchanged.
  std::function<std::string(const std::string&)> resolveDevice;
  // A runner that, besides the record, exports the quantized model as a checkpoint folder `dir` in
  // `format` (gptq | gptq_v2 | awq | compressed-tensors; quant/export/hf_export.h). Unset: the
  // workbench cannot export.
  std::function<ptq::RecordRunner(const std::string& dir, const std::string& format)> exportRun;
  // The GPUs of the host ("cuda:0" … "cuda:N-1"): a job whose runs ask for "cuda" or "auto" (resolved
  // to a GPU) starts on whichever of them is free, one job per GPU at a time, so a sweep's rows
  // spread over every GPU. A job asking for "cuda:1" stays there. Empty: jobs run where they ask.
  std::vector<std::string> gpus;
};

// ExperimentSpec::run_id of a spec; empty when the spec does not parse.
QString runIdOf(const nlohmann::json& spec);
// A sweep spec (eval/experiment/sweep.h SweepSpec; relative paths against baseDir) expanded into
// the specs of its runs. Throws ptq::Error naming a bad key or value.
std::vector<nlohmann::json> expandSweep(const nlohmann::json& sweep, const QString& baseDir);
// Checks an experiment spec (ExperimentSpec::from_json) and returns it normalised (to_json).
// Throws ptq::Error naming a bad key or value.
nlohmann::json normaliseSpec(const nlohmann::json& spec);

struct RunOutcome {
  enum Kind { Written, Skipped, Failed } kind;
  QString runId, path, error;  // path: the record (written or existing); error: when Failed
};

class JobWorker {
 public:
  struct Hooks {  // each called on the GUI thread (the thread of `context`)
    std::function<void(int run, const ptq::Progress&)> progress;
    std::function<void(int run, const RunOutcome&)> runDone;
    std::function<void(bool cancelled)> finished;
  };
  // skipComplete: a run whose complete record is already in resultsDir is not run again.
  JobWorker(std::vector<ptq::ExperimentSpec> specs, QString resultsDir, bool skipComplete, ptq::RecordRunner runner,
            QObject* context, Hooks hooks);
  ~JobWorker();  // cancels and waits for the thread
  JobWorker(const JobWorker&) = delete;
  JobWorker& operator=(const JobWorker&) = delete;

  void start();
  void cancel();
  bool cancelRequested() const { return fb_->is_cancelled(); }
  void wait();  // until the thread has returned

 private:
  void run();  // on the worker thread
  template <class F>
  void post(F&& f);

  std::vector<ptq::ExperimentSpec> specs_;
  std::string dir_;
  bool skipComplete_;
  ptq::RecordRunner runner_;
  QPointer<QObject> context_;
  Hooks hooks_;
  std::shared_ptr<ptq::Feedback> fb_;
  QThread* thread_ = nullptr;
};

}  // namespace ptq::views
