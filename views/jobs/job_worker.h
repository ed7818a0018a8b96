#pragma once
// The part of a job that runs off the GUI thread (after QGIS' QgsTask): a QThread that runs the
// job's experiment specs one after another through ptq::run_experiment, writes each record with
// ptq::write_record, and hands progress and outcomes back to the GUI thread (queued calls on
// `context`). Cancel is cooperative (ptq::Feedback::cancel: the engine stops between units of
// work). No torch here: specs and records are JSON.
#include <QObject>
#include <QPointer>
#include <QString>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/runtime/feedback.h"

class QThread;

namespace ptq::views {

// spec JSON (ExperimentSpec::to_json) → complete record. Throws ptq::Error / ptq::Cancelled.
using ExperimentRunner = std::function<nlohmann::json(const nlohmann::json& spec, ptq::Feedback& fb)>;
ExperimentRunner defaultRunner();  // ExperimentSpec::from_json + ptq::run_experiment

// The device a spec runs on, normalised ("cpu", "cuda:0"): jobs of one device run one at a time.
QString deviceOf(const nlohmann::json& spec);
// ExperimentSpec::run_id of a spec; empty when the spec does not parse.
QString runIdOf(const nlohmann::json& spec);
// A sweep spec (eval/sweep.h SweepSpec; relative paths against baseDir) expanded into the specs
// of its runs. Throws ptq::Error naming a bad key or value.
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
  JobWorker(std::vector<nlohmann::json> specs, QString resultsDir, bool skipComplete, ExperimentRunner runner,
            QObject* context, Hooks hooks);
  ~JobWorker();  // cancels and waits for the thread
  JobWorker(const JobWorker&) = delete;
  JobWorker& operator=(const JobWorker&) = delete;

  void start();
  void cancel();
  bool cancelRequested() const { return fb_->is_cancelled(); }

 private:
  void run();  // on the worker thread
  template <class F>
  void post(F&& f);

  std::vector<nlohmann::json> specs_;
  std::string dir_;
  bool skipComplete_;
  ExperimentRunner runner_;
  QPointer<QObject> context_;
  Hooks hooks_;
  std::shared_ptr<ptq::Feedback> fb_;
  QThread* thread_ = nullptr;
};

}  // namespace ptq::views
