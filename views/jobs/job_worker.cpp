#include "views/jobs/job_worker.h"

#include <QThread>
#include <atomic>
#include <chrono>

#include "core/runtime/errors.h"
#include "eval/experiment/sweep.h"

namespace ptq::views {

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

JobWorker::JobWorker(std::vector<ptq::ExperimentSpec> specs, QString resultsDir, bool skipComplete,
                     ptq::RecordRunner runner, QObject* context, Hooks hooks)
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

void JobWorker::wait() {
  if (thread_) thread_->wait();
}

template <class F>
void JobWorker::post(F&& f) {
  if (context_) QMetaObject::invokeMethod(context_, std::forward<F>(f), Qt::QueuedConnection);
}

void JobWorker::run() {
  using clock = std::chrono::steady_clock;
  std::atomic<int> current{0};
  clock::time_point last{};
  std::string lastStage;
  // Progress is posted at most every 50 ms (and at every stage change): a fast engine loop must
  // not flood the GUI thread's event queue.
  fb_->set_callback([&](const ptq::Progress& p) {
    auto now = clock::now();
    if (p.stage == lastStage && now - last < std::chrono::milliseconds(50) && p.step != p.total) return;
    last = now;
    lastStage = p.stage;
    post([h = hooks_.progress, run = current.load(), p] { if (h) h(run, p); });
  });
  auto onEvent = [&](const ptq::SweepEvent& e) {
    current = int(e.index);
    if (e.state == "started") return;
    RunOutcome out{RunOutcome::Failed, QString::fromStdString(e.run_id), QString::fromStdString(e.path),
                   QString::fromUtf8(e.error.c_str())};
    if (e.state == "done") out.kind = RunOutcome::Written;
    if (e.state == "skipped") out.kind = RunOutcome::Skipped;
    if (out.kind == RunOutcome::Failed) out.path.clear();
    post([h = hooks_.runDone, run = int(e.index), out] { if (h) h(run, out); });
  };
  ptq::SweepOptions options;
  options.skip_complete = skipComplete_;
  options.resume = true;  // a job redoes a run whose record is incomplete (a crash mid-run)
  options.rethrow_cancel = false;
  bool cancelled = false;
  try {
    cancelled = ptq::run_sweep(specs_, dir_, runner_, options, *fb_, onEvent).cancelled;
  } catch (const std::exception& e) {  // the results directory cannot be used: every run fails
    for (size_t i = 0; i < specs_.size(); ++i) {
      RunOutcome out{RunOutcome::Failed, QString::fromStdString(specs_[i].run_id()), {}, QString::fromUtf8(e.what())};
      post([h = hooks_.runDone, run = int(i), out] { if (h) h(run, out); });
    }
  }
  fb_->set_callback(nullptr);
  post([h = hooks_.finished, cancelled] { if (h) h(cancelled); });
}

}  // namespace ptq::views
