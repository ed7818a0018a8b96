#include "views/jobs/job_worker.h"

#include <QThread>
#include <chrono>

#include "core/runtime/errors.h"
#include "core/records/result_store.h"
#include "eval/experiment/experiment.h"
#include "eval/experiment/sweep.h"

namespace ptq::views {

ExperimentRunner defaultRunner() {
  return [](const nlohmann::json& spec, ptq::Feedback& fb) {
    return ptq::run_experiment(ptq::ExperimentSpec::from_json(spec), &fb);
  };
}

QString deviceOf(const nlohmann::json& spec) {
  std::string d;
  try {
    d = ptq::ExperimentSpec::from_json(spec).device;
  } catch (const std::exception&) {
    d = "cpu";  // the job fails when it runs, with the spec's error
  }
  if (d == "cuda") d = "cuda:0";
  return QString::fromStdString(d);
}

QString runIdOf(const nlohmann::json& spec) {
  try {
    return QString::fromStdString(ptq::ExperimentSpec::from_json(spec).run_id());
  } catch (const std::exception&) {
    return {};
  }
}

nlohmann::json normaliseSpec(const nlohmann::json& spec) { return ptq::ExperimentSpec::from_json(spec).to_json(); }

std::vector<nlohmann::json> expandSweep(const nlohmann::json& sweep, const QString& baseDir) {
  std::vector<nlohmann::json> out;
  for (const auto& s : ptq::SweepSpec::from_json(sweep, baseDir.toStdString()).expand()) out.push_back(s.to_json());
  return out;
}

JobWorker::JobWorker(std::vector<nlohmann::json> specs, QString resultsDir, bool skipComplete,
                     ExperimentRunner runner, QObject* context, Hooks hooks)
    : specs_(std::move(specs)),
      dir_(resultsDir.toStdString()),
      skipComplete_(skipComplete),
      runner_(std::move(runner)),
      context_(context),
      hooks_(std::move(hooks)),
      fb_(std::make_shared<ptq::Feedback>()) {}

JobWorker::~JobWorker() {
  if (!thread_) return;
  fb_->cancel();
  thread_->wait();
  delete thread_;
}

void JobWorker::start() {
  thread_ = QThread::create([this] { run(); });
  thread_->setObjectName("ptq-job");
  thread_->start();
}

void JobWorker::cancel() { fb_->cancel(); }

template <class F>
void JobWorker::post(F&& f) {
  if (context_) QMetaObject::invokeMethod(context_, std::forward<F>(f), Qt::QueuedConnection);
}

void JobWorker::run() {
  using clock = std::chrono::steady_clock;
  int current = 0;
  clock::time_point last{};
  std::string lastStage;
  // Progress is posted at most every 50 ms (and at every stage change): a fast engine loop must
  // not flood the GUI thread's event queue.
  fb_->set_callback([&](const ptq::Progress& p) {
    auto now = clock::now();
    if (p.stage == lastStage && now - last < std::chrono::milliseconds(50) && p.step != p.total) return;
    last = now;
    lastStage = p.stage;
    post([h = hooks_.progress, run = current, p] { if (h) h(run, p); });
  });
  bool cancelled = false;
  for (size_t i = 0; i < specs_.size() && !cancelled; ++i) {
    current = int(i);
    RunOutcome out{RunOutcome::Failed, runIdOf(specs_[i]), {}, {}};
    try {
      fb_->check();
      fb_->set_stage_range(0.0, 1.0);
      ptq::ensure_results_dir(dir_);
      const std::string id = out.runId.toStdString();
      if (skipComplete_ && !id.empty() && ptq::record_complete(dir_, id)) {
        out.kind = RunOutcome::Skipped;
        out.path = QString::fromStdString(dir_ + "/" + id + ".json");
      } else {
        nlohmann::json record = runner_(specs_[i], *fb_);
        out.path = QString::fromStdString(ptq::write_record(dir_, record));
        out.runId = QString::fromStdString(record.value("run_id", id));
        out.kind = RunOutcome::Written;
      }
    } catch (const ptq::Cancelled&) {
      cancelled = true;
      break;
    } catch (const std::exception& e) {
      out.error = QString::fromUtf8(e.what());
      if (out.error.isEmpty()) out.error = QStringLiteral("unknown error");
    }
    post([h = hooks_.runDone, run = int(i), out] { if (h) h(run, out); });
  }
  fb_->set_callback(nullptr);
  post([h = hooks_.finished, cancelled] { if (h) h(cancelled); });
}

}  // namespace ptq::views
