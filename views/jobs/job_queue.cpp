#include "views/jobs/job_queue.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <algorithm>

#include "core/runtime/device_names.h"
#include "core/runtime/errors.h"

namespace ptq::views {

QString statusName(JobStatus s) {
  switch (s) {
    case JobStatus::Queued: return QStringLiteral("queued");
    case JobStatus::Running: return QStringLiteral("running");
    case JobStatus::Cancelling: return QStringLiteral("cancelling");
    case JobStatus::Done: return QStringLiteral("done");
    case JobStatus::Failed: return QStringLiteral("failed");
    case JobStatus::Cancelled: return QStringLiteral("cancelled");
  }
  return {};
}

QString Job::statusText() const {
  QString s = statusName(status);
  if (status == JobStatus::Failed && !errors.isEmpty()) {
    if (specs.size() > 1) s += QStringLiteral(" (%1 of %2 runs)").arg(failed).arg(specs.size());
    return s + ": " + errors.first();
  }
  if (finished() && (specs.size() > 1 || skipped > 0)) {
    QStringList parts;
    if (written) parts << QStringLiteral("%1 written").arg(written);
    if (skipped) parts << QStringLiteral("%1 already there").arg(skipped);
    if (!parts.isEmpty()) s += " (" + parts.join(", ") + ")";
  }
  return s;
}

QString jobTitleOf(const ptq::ExperimentSpec& s) {
  QString t = QString::fromStdString(s.method);
  if (s.method != "fp") {
    const auto& q = s.plan.spec;
    t += QStringLiteral(" w%1").arg(q.element_bits());
    if (s.plan.act.enabled()) t += QStringLiteral("a%1").arg(s.plan.act.bits);
    t += q.group_size < 0 ? QStringLiteral(" per-channel") : QStringLiteral("g%1").arg(q.group_size);
    if (q.format != ptq::WeightFormat::Int) t += " " + QString::fromStdString(ptq::format_name(q.format));
    else t += q.symmetric ? QStringLiteral(" sym") : QStringLiteral(" asym");
  }
  if (s.kv.enabled()) t += " " + QString::fromStdString(s.kv.label());
  t += QStringLiteral(" · ") + QFileInfo(QString::fromStdString(s.model_dir)).fileName();
  if (!s.calib.files.empty())
    t += QStringLiteral(" · calib %1×%2").arg(s.calib.nsamples).arg(s.calib.seqlen);
  if (!s.label.empty()) t += QStringLiteral(" (%1)").arg(QString::fromStdString(s.label));
  return t;
}

double Job::etaNow() const {
  if (etaSeconds < 0 || !clock.isValid()) return -1;
  return std::max(0.0, etaSeconds - double(clock.elapsed() - etaStampMs) / 1000.0);
}

namespace {
// Without a resolver "auto" may be any device: it waits for every other job, and they for it.
bool sameDevice(const QString& a, const QString& b) { return a == b || a == "auto" || b == "auto"; }
}  // namespace

JobQueue::JobQueue(JobEngine engine, QObject* parent) : QObject(parent), engine_(std::move(engine)) {}

JobQueue::~JobQueue() {
  for (auto& w : workers_) w.second->cancel();
  workers_.clear();  // each waits for its thread
}

int JobQueue::enqueue(const nlohmann::json& spec, const QString& resultsDir, const QString& title) {
  return enqueueRuns({spec}, resultsDir, title);
}

QString JobQueue::deviceFor(const ptq::ExperimentSpec& spec) const {
  std::string d = ptq::canonical_device(spec.device);  // valid: from_json checked it
  if (engine_.resolveDevice) d = ptq::canonical_device(engine_.resolveDevice(d));
  return QString::fromStdString(d);
}

int JobQueue::enqueueRuns(const std::vector<nlohmann::json>& specs, const QString& resultsDir, const QString& title,
                          bool skipComplete, ptq::RecordRunner runner) {
  if (specs.empty()) throw ptq::Error("a job needs at least one experiment spec");
  Job j;
  for (size_t i = 0; i < specs.size(); ++i) {
    try {
      j.specs.push_back(ptq::ExperimentSpec::from_json(specs[i]));
    } catch (const ptq::Error& e) {
      throw ptq::Error(specs.size() > 1 ? "run " + std::to_string(i + 1) + " of " + std::to_string(specs.size()) + ": " + e.what()
                                        : std::string(e.what()));
    }
  }
  j.id = nextId_++;
  j.device = deviceFor(j.specs.front());
  for (const auto& s : j.specs)
    if (deviceFor(s) != j.device)
      throw ptq::Error("the runs of one job must share a device, got '" + j.device.toStdString() + "' and '" +
                       deviceFor(s).toStdString() + "'");
  j.anyGpu = j.device.startsWith("cuda");
  for (const auto& s : specs) {
    const std::string asked = s.value("device", std::string("cpu"));
    j.anyGpu &= asked == "cuda" || asked == "auto";
  }
  j.resultsDir = resultsDir;
  j.skipComplete = skipComplete;
  j.runner = std::move(runner);
  j.title = title;
  if (j.title.isEmpty())
    j.title = j.specs.size() == 1 ? jobTitleOf(j.specs.front()) : QStringLiteral("%1 runs").arg(j.specs.size());
  const int row = int(jobs_.size());
  Q_EMIT jobAboutToBeAdded(row);
  jobs_.push_back(std::move(j));
  Q_EMIT jobAdded(row);
  const int id = jobs_.back().id;
  schedule();
  return id;
}

std::vector<int> JobQueue::enqueueSweep(const std::vector<nlohmann::json>& specs, const QString& resultsDir,
                                        const QString& name) {
  if (specs.empty()) throw ptq::Error("the sweep has no runs");
  std::vector<ptq::ExperimentSpec> parsed;
  for (size_t i = 0; i < specs.size(); ++i) {
    try {
      parsed.push_back(ptq::ExperimentSpec::from_json(specs[i]));
    } catch (const ptq::Error& e) {
      throw ptq::Error("run " + std::to_string(i + 1) + " of " + std::to_string(specs.size()) + ": " + e.what());
    }
  }
  std::vector<int> ids;
  for (size_t i = 0; i < specs.size(); ++i)
    ids.push_back(enqueueRuns({specs[i]}, resultsDir,
                              QStringLiteral("%1 %2/%3 · %4").arg(name).arg(i + 1).arg(specs.size()).arg(jobTitleOf(parsed[i]))));
  return ids;
}

int JobQueue::enqueueExport(const nlohmann::json& spec, const QString& exportDir, const QString& format) {
  if (!engine_.exportRun) throw ptq::Error("this workbench has no checkpoint exporter");
  if (spec.value("method", std::string("fp")) == "fp")
    throw ptq::Error("a full-precision run has no quantized weights to export");
  const QDir target(exportDir);
  if (target.exists() && !target.isEmpty())
    throw ptq::Error("'" + exportDir.toStdString() + "' exists and is not empty: choose a new or empty folder");
  nlohmann::json s = spec;  // quantize only: the export needs neither the evaluation nor the analyses
  s.erase("eval");
  s.erase("samples");
  s["analyses"] = nlohmann::json::array();
  s["tasks"] = nlohmann::json::array();
  const QString scratch = QDir::temp().filePath(QStringLiteral("ptq-export-%1-%2").arg(QCoreApplication::applicationPid()).arg(nextId_));
  ptq::RecordRunner runner = engine_.exportRun(exportDir.toStdString(), format.toStdString());  // checks the format
  const int id = enqueueRuns({s}, scratch, QStringLiteral("export %1 as %2").arg(runIdOf(spec), format), false,
                             std::move(runner));
  if (Job* j = find(id)) j->scratchRecords = true;  // a queued or running job: its first record comes later
  return id;
}

Job* JobQueue::find(int id) {
  for (auto& j : jobs_)
    if (j.id == id) return &j;
  return nullptr;
}

const Job* JobQueue::job(int id) const { return const_cast<JobQueue*>(this)->find(id); }

bool JobQueue::busy() const { return activeCount() > 0; }

int JobQueue::activeCount() const {
  return int(std::count_if(jobs_.begin(), jobs_.end(), [](const Job& j) { return !j.finished(); }));
}

bool JobQueue::deviceBusy(const QString& device) const {
  for (const auto& o : jobs_)
    if (o.active() && sameDevice(o.device, device)) return true;
  return false;
}

QString JobQueue::freeGpuFor(const Job& j) const {
  if (!j.anyGpu) return {};
  for (const auto& g : engine_.gpus) {
    const QString gpu = QString::fromStdString(ptq::canonical_device(g));
    if (!deviceBusy(gpu)) return gpu;
  }
  return {};
}

void JobQueue::schedule() {
  // First queued job of each idle device starts, in submission order; a job that may take any GPU
  // moves to a free one (the device is not part of a run's identity: the record names where it ran).
  for (auto& j : jobs_) {
    if (j.status != JobStatus::Queued) continue;
    if (!deviceBusy(j.device)) {
      start(j);
      continue;
    }
    const QString gpu = freeGpuFor(j);
    if (gpu.isEmpty()) continue;
    j.device = gpu;
    for (auto& s : j.specs) s.device = gpu.toStdString();
    start(j);
  }
}

void JobQueue::start(Job& j) {
  j.status = JobStatus::Running;
  j.clock.start();
  const int id = j.id;
  JobWorker::Hooks hooks;
  hooks.progress = [this, id](int run, const ptq::Progress& p) { onProgress(id, run, p); };
  hooks.runDone = [this, id](int run, const RunOutcome& o) { onRunDone(id, run, o); };
  hooks.finished = [this, id](bool cancelled) { onFinished(id, cancelled); };
  auto w = std::make_unique<JobWorker>(j.specs, j.resultsDir, j.skipComplete, j.runner ? j.runner : engine_.run, this,
                                       std::move(hooks));
  w->start();
  workers_[id] = std::move(w);
  Q_EMIT jobChanged(id);
}

void JobQueue::onProgress(int id, int run, const ptq::Progress& p) {
  Job* j = find(id);
  if (!j || j->finished()) return;
  j->run = run;
  j->stage = QString::fromStdString(p.stage);
  j->step = p.step;
  j->total = p.total;
  const double n = double(j->specs.size());
  j->fraction = std::clamp((run + std::clamp(p.fraction, 0.0, 1.0)) / n, 0.0, 1.0);
  const double elapsed = j->clock.elapsed() / 1000.0, f = j->fraction;
  // The measured rate's total (elapsed / f) is noisy while little is done: an expected duration
  // (the cost hint's, from a similar run) weighs (1 - f) against it, so the estimate starts from
  // the prior and ends on the measurement.
  double total = f > 0.005 ? elapsed / f : -1;
  if (j->expectedSeconds > 0) total = total > 0 ? (1 - f) * j->expectedSeconds + f * total : j->expectedSeconds;
  j->etaSeconds = total > 0 ? std::max(0.0, total - elapsed) : -1;
  j->etaStampMs = j->clock.elapsed();
  Q_EMIT jobChanged(id);
}

void JobQueue::onRunDone(int id, int run, const RunOutcome& o) {
  Job* j = find(id);
  if (!j) return;
  j->run = run;
  // A failed run of a single-run job has not got further than it reached: no full bar. The stage
  // of a finished run is over: cleared, not left showing until the next run reports.
  if (o.kind != RunOutcome::Failed || j->specs.size() > 1) j->fraction = double(run + 1) / double(j->specs.size());
  j->stage.clear();
  j->step = j->total = 0;
  switch (o.kind) {
    case RunOutcome::Written: ++j->written; j->paths << o.path; break;
    case RunOutcome::Skipped: ++j->skipped; j->paths << o.path; break;
    case RunOutcome::Failed:
      ++j->failed;
      j->errors << (j->specs.size() > 1 && !o.runId.isEmpty() ? o.runId + ": " + o.error : o.error);
      break;
  }
  Q_EMIT jobChanged(id);
  if (o.kind == RunOutcome::Written && !j->scratchRecords) Q_EMIT recordWritten(o.path);
}

void JobQueue::onFinished(int id, bool cancelled) {
  Job* j = find(id);
  if (!j) return;
  workers_.erase(id);  // joins the (already returning) thread
  j->status = cancelled ? JobStatus::Cancelled : j->failed ? JobStatus::Failed : JobStatus::Done;
  if (j->status == JobStatus::Done) j->fraction = 1.0;
  j->etaSeconds = -1;
  Q_EMIT jobChanged(id);
  Q_EMIT jobFinished(id);
  schedule();
  if (!busy()) Q_EMIT allFinished();
}

void JobQueue::setExpectedSeconds(int id, double seconds) {
  if (Job* j = find(id)) j->expectedSeconds = seconds;
}

void JobQueue::cancel(int id) {
  Job* j = find(id);
  if (!j || j->finished()) return;
  if (j->status == JobStatus::Queued) {
    j->status = JobStatus::Cancelled;
    Q_EMIT jobChanged(id);
    Q_EMIT jobFinished(id);
    if (!busy()) Q_EMIT allFinished();
    return;
  }
  j->status = JobStatus::Cancelling;
  if (auto it = workers_.find(id); it != workers_.end()) it->second->cancel();
  Q_EMIT jobChanged(id);
}

void JobQueue::cancelAll() {
  // Queued ones first, so that a cancelled running job does not start the next.
  for (int pass = 0; pass < 2; ++pass)
    for (size_t row = jobs_.size(); row-- > 0;)
      if ((jobs_[row].status == JobStatus::Queued) == (pass == 0)) cancel(jobs_[row].id);
}

void JobQueue::cancelAllAndWait() {
  cancelAll();
  for (auto& w : workers_) w.second->wait();
  // The workers posted their last outcomes and "finished" to this thread: deliver them.
  while (busy()) QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
}

void JobQueue::removeFinished() {
  for (size_t row = jobs_.size(); row-- > 0;) {
    if (!jobs_[row].finished()) continue;
    Q_EMIT jobAboutToBeRemoved(int(row));
    jobs_.erase(jobs_.begin() + long(row));
    Q_EMIT jobRemoved(int(row));
  }
}

}  // namespace ptq::views
