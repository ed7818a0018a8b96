#include "views/jobs/job_queue.h"

#include <QFileInfo>
#include <algorithm>

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

JobQueue::JobQueue(QObject* parent) : QAbstractTableModel(parent), runner_(defaultRunner()) {}

JobQueue::~JobQueue() {
  for (auto& w : workers_) w.second->cancel();
  workers_.clear();  // each waits for its thread
}

int JobQueue::enqueue(const nlohmann::json& spec, const QString& resultsDir, const QString& title) {
  return enqueueRuns({spec}, resultsDir, title);
}

int JobQueue::enqueueRuns(std::vector<nlohmann::json> specs, const QString& resultsDir, const QString& title,
                          bool skipComplete) {
  if (specs.empty()) throw ptq::Error("a job needs at least one experiment spec");
  Job j;
  j.id = nextId_++;
  j.device = deviceOf(specs.front());
  j.resultsDir = resultsDir;
  j.skipComplete = skipComplete;
  j.title = title;
  if (j.title.isEmpty()) {
    QString id = runIdOf(specs.front());
    j.title = specs.size() == 1 ? (id.isEmpty() ? QStringLiteral("experiment") : id)
                                : QStringLiteral("%1 runs").arg(specs.size());
  }
  j.specs = std::move(specs);
  beginInsertRows({}, rowCount(), rowCount());
  jobs_.push_back(std::move(j));
  endInsertRows();
  schedule();
  return jobs_.back().id;
}

Job* JobQueue::find(int id) {
  for (auto& j : jobs_)
    if (j.id == id) return &j;
  return nullptr;
}

const Job* JobQueue::job(int id) const { return const_cast<JobQueue*>(this)->find(id); }

int JobQueue::rowOf(int id) const {
  for (size_t i = 0; i < jobs_.size(); ++i)
    if (jobs_[i].id == id) return int(i);
  return -1;
}

int JobQueue::jobIdAt(int row) const { return row >= 0 && row < rowCount() ? jobs_[size_t(row)].id : -1; }

bool JobQueue::busy() const {
  for (const auto& j : jobs_)
    if (!j.finished()) return true;
  return false;
}

void JobQueue::schedule() {
  // First queued job of each idle device starts, in submission order.
  for (auto& j : jobs_) {
    if (j.status != JobStatus::Queued) continue;
    bool deviceBusy = false;
    for (const auto& o : jobs_)
      deviceBusy |= o.device == j.device && (o.status == JobStatus::Running || o.status == JobStatus::Cancelling);
    if (!deviceBusy) start(j);
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
  auto w = std::make_unique<JobWorker>(j.specs, j.resultsDir, j.skipComplete, runner_, this, std::move(hooks));
  w->start();
  workers_[id] = std::move(w);
  changed(id);
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
  const double elapsed = j->clock.elapsed() / 1000.0;
  j->etaSeconds = j->fraction > 0.005 ? elapsed * (1.0 - j->fraction) / j->fraction : -1;
  changed(id);
}

void JobQueue::onRunDone(int id, int run, const RunOutcome& o) {
  Job* j = find(id);
  if (!j) return;
  j->run = run;
  j->fraction = double(run + 1) / double(j->specs.size());
  switch (o.kind) {
    case RunOutcome::Written: ++j->written; j->paths << o.path; break;
    case RunOutcome::Skipped: ++j->skipped; j->paths << o.path; break;
    case RunOutcome::Failed:
      ++j->failed;
      j->errors << (j->specs.size() > 1 && !o.runId.isEmpty() ? o.runId + ": " + o.error : o.error);
      break;
  }
  changed(id);
  if (o.kind == RunOutcome::Written) Q_EMIT recordWritten(o.path);
}

void JobQueue::onFinished(int id, bool cancelled) {
  Job* j = find(id);
  if (!j) return;
  workers_.erase(id);  // joins the (already returning) thread
  j->status = cancelled ? JobStatus::Cancelled : j->failed ? JobStatus::Failed : JobStatus::Done;
  if (j->status == JobStatus::Done) j->fraction = 1.0;
  j->etaSeconds = -1;
  changed(id);
  Q_EMIT jobFinished(id);
  schedule();
  if (!busy()) Q_EMIT allFinished();
}

void JobQueue::cancel(int id) {
  Job* j = find(id);
  if (!j || j->finished()) return;
  if (j->status == JobStatus::Queued) {
    j->status = JobStatus::Cancelled;
    changed(id);
    Q_EMIT jobFinished(id);
    if (!busy()) Q_EMIT allFinished();
    return;
  }
  j->status = JobStatus::Cancelling;
  if (auto it = workers_.find(id); it != workers_.end()) it->second->cancel();
  changed(id);
}

void JobQueue::cancelAll() {
  for (int row = rowCount() - 1; row >= 0; --row) cancel(jobs_[size_t(row)].id);
}

void JobQueue::removeFinished() {
  for (int row = rowCount() - 1; row >= 0; --row) {
    if (!jobs_[size_t(row)].finished()) continue;
    beginRemoveRows({}, row, row);
    jobs_.erase(jobs_.begin() + row);
    endRemoveRows();
  }
}

void JobQueue::changed(int id) {
  int row = rowOf(id);
  if (row >= 0) Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
  Q_EMIT jobChanged(id);
}

int JobQueue::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(jobs_.size()); }
int JobQueue::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

namespace {
QString etaText(double s) {
  if (s < 0) return {};
  if (s < 60) return QStringLiteral("%1 s").arg(int(s + 0.5));
  if (s < 3600) return QStringLiteral("%1 min %2 s").arg(int(s) / 60).arg(int(s) % 60);
  return QStringLiteral("%1 h %2 min").arg(int(s) / 3600).arg((int(s) % 3600) / 60);
}
}  // namespace

QVariant JobQueue::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount()) return {};
  const Job& j = jobs_[size_t(index.row())];
  if (role == FractionRole) return j.fraction;
  if (role == JobIdRole) return j.id;
  if (role == Qt::ToolTipRole) {
    if (!j.errors.isEmpty()) return j.errors.join('\n');
    return j.title + "\n" + QFileInfo(j.resultsDir).absoluteFilePath();
  }
  if (role != Qt::DisplayRole) return {};
  switch (index.column()) {
    case Title: return j.title;
    case Device: return j.device;
    case Status: return j.statusText();
    case Progress: return QStringLiteral("%1%").arg(int(j.fraction * 100));
    case Stage: {
      if (j.status != JobStatus::Running && j.status != JobStatus::Cancelling) return {};
      QString s = j.specs.size() > 1 ? QStringLiteral("run %1/%2 · ").arg(j.run + 1).arg(j.specs.size()) : QString();
      s += j.stage;
      if (j.total > 0) s += QStringLiteral(" %1/%2").arg(j.step).arg(j.total);
      return s;
    }
    case Eta: return j.status == JobStatus::Running ? etaText(j.etaSeconds) : QString();
  }
  return {};
}

QVariant JobQueue::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return QAbstractTableModel::headerData(section, o, role);
  static const char* names[ColumnCount] = {"job", "device", "status", "progress", "stage", "ETA"};
  return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

}  // namespace ptq::views
