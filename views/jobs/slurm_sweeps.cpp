#include "views/jobs/slurm_sweeps.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QTimer>

#include "core/runtime/errors.h"
#include "core/runtime/subprocess.h"

namespace ptq::views {

int SlurmSweep::count(const std::string& state) const {
  int n = 0;
  for (const auto& r : status.runs) n += r.state == state;
  return n;
}

bool SlurmSweep::finished() const {
  return !status.runs.empty() && count("pending") + count("running") + count("unknown") == 0;
}

QString findPtqExecutable() {
  const QString env = qEnvironmentVariable("PTQ_EXECUTABLE");
  if (!env.isEmpty()) return QFileInfo(env).absoluteFilePath();
  const QDir app(QCoreApplication::applicationDirPath());
  for (const QString& c : {app.filePath("ptq"), app.filePath("../ptq")}) {
    const QFileInfo f(c);
    if (f.isFile() && f.isExecutable()) return f.canonicalFilePath();
  }
  return QString::fromStdString(ptq::find_on_path("ptq"));
}

SlurmSweeps::SlurmSweeps(QObject* parent) : QObject(parent), timer_(new QTimer(this)), ptq_(findPtqExecutable()) {
  timer_->setInterval(5000);
  connect(timer_, &QTimer::timeout, this, &SlurmSweeps::poll);
}

void SlurmSweeps::setPollInterval(int ms) { timer_->setInterval(ms); }

const SlurmSweep* SlurmSweeps::sweep(int id) const {
  for (const auto& s : sweeps_)
    if (s.id == id) return &s;
  return nullptr;
}

int SlurmSweeps::submit(const std::vector<nlohmann::json>& specs, const QString& resultsDir, const QString& title,
                        ptq::SlurmOptions options) {
  if (specs.empty()) throw ptq::Error("a sweep needs at least one experiment spec");
  if (ptq_.isEmpty())
    throw ptq::Error("no ptq executable for the Slurm tasks (set PTQ_EXECUTABLE, or put ptq next to the workbench)");
  if (resultsDir.isEmpty()) throw ptq::Error("no results directory: open one first (File → Open results directory)");
  SlurmSweep s;
  for (size_t i = 0; i < specs.size(); ++i) {
    try {
      s.runs.push_back(ptq::ExperimentSpec::from_json(specs[i]));
    } catch (const ptq::Error& e) {
      throw ptq::Error("run " + std::to_string(i + 1) + " of " + std::to_string(specs.size()) + ": " + e.what());
    }
  }
  if (!QDir().mkpath(resultsDir)) throw ptq::Error("cannot create results directory '" + resultsDir.toStdString() + "'");
  s.resultsDir = QFileInfo(resultsDir).canonicalFilePath();
  options.ptq = ptq_.toStdString();
  const ptq::SlurmPlan plan = ptq::plan_slurm(s.runs, s.resultsDir.toStdString(), options);
  if (plan.runs.empty())
    throw ptq::Error("nothing to submit: every run of the sweep has a complete record or is queued already");
  ptq::submit_slurm(plan);
  s.id = nextId_++;
  s.sweepId = QString::fromStdString(plan.sweep_id);
  s.title = title.isEmpty() ? QStringLiteral("sweep %1").arg(s.sweepId) : title;
  for (const auto& id : plan.complete) s.announced.insert(id);  // there before: not new
  const int row = int(sweeps_.size());
  Q_EMIT sweepAboutToBeAdded(row);
  sweeps_.push_back(std::move(s));
  Q_EMIT sweepAdded(row);
  refresh(sweeps_.back());
  if (!timer_->isActive()) timer_->start();
  return sweeps_.back().id;
}

void SlurmSweeps::cancel(int id) {
  for (auto& s : sweeps_) {
    if (s.id != id) continue;
    try {
      ptq::slurm_cancel(s.runs, s.resultsDir.toStdString());
      s.error.clear();
    } catch (const ptq::Error& e) {
      s.error = QString::fromUtf8(e.what());
      Q_EMIT sweepChanged(id);
      throw;
    }
    refresh(s);
  }
}

void SlurmSweeps::poll() {
  bool active = false;
  for (auto& s : sweeps_) {
    // A sweep with failed runs is read again too: squeue may have missed a task for a moment.
    if (s.count("complete") == int(s.runs.size())) continue;
    refresh(s);
    active |= !s.finished();
  }
  if (!active) timer_->stop();
}

void SlurmSweeps::refresh(SlurmSweep& s) {
  try {
    s.status = ptq::slurm_status(s.runs, s.resultsDir.toStdString());
    s.error.clear();
  } catch (const std::exception& e) {
    s.error = QString::fromUtf8(e.what());
  }
  std::vector<QString> landed;
  for (const auto& r : s.status.runs)
    if (r.state == "complete" && s.announced.insert(r.run_id).second) landed.push_back(QString::fromStdString(r.record));
  const int id = s.id;
  Q_EMIT sweepChanged(id);  // `s` may not outlive a slot that adds a sweep: nothing of it is used below
  for (const QString& p : landed) Q_EMIT recordLanded(p);
}

}  // namespace ptq::views
