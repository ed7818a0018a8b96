#pragma once
// The job queue (after QGIS' QgsTaskManager): a job is one experiment spec or a whole sweep's
// specs plus a results directory. Each job runs on its own worker thread (job_worker.h); jobs of
// one device ("cpu", "cuda:0") run one at a time in submission order, jobs of different devices
// overlap. Progress (stage, step/total, fraction, ETA from elapsed/fraction), cancel, and a failed
// job's error (status column + tooltip) are shown; a failure never stops the queue. Each record
// written emits recordWritten(path) on the GUI thread. The queue is also the jobs panel's model.
#include <QAbstractTableModel>
#include <QElapsedTimer>
#include <QString>
#include <QStringList>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "views/jobs/job_worker.h"

namespace ptq::views {

enum class JobStatus { Queued, Running, Cancelling, Done, Failed, Cancelled };
QString statusName(JobStatus s);

struct Job {
  int id = 0;
  QString title, device, resultsDir;
  std::vector<nlohmann::json> specs;
  bool skipComplete = true;
  JobStatus status = JobStatus::Queued;
  // Progress of the current run: engine stage and its step/total; fraction and ETA of the job.
  QString stage;
  int64_t step = 0, total = 0;
  int run = 0;
  double fraction = 0;
  double etaSeconds = -1;  // -1: unknown
  int written = 0, skipped = 0, failed = 0;
  QStringList errors;  // "run_id: message" of each failed run
  QStringList paths;   // records written or found complete
  QElapsedTimer clock;

  bool finished() const { return status == JobStatus::Done || status == JobStatus::Failed || status == JobStatus::Cancelled; }
  QString statusText() const;  // "running", "failed: <error>", "done (2 written, 1 skipped)"
};

class JobQueue : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { Title, Device, Status, Progress, Stage, Eta, ColumnCount };
  static constexpr int FractionRole = Qt::UserRole + 1;
  static constexpr int JobIdRole = Qt::UserRole + 2;

  explicit JobQueue(QObject* parent = nullptr);
  ~JobQueue() override;  // cancels running jobs and waits for their threads

  // Replaces how a spec is run (tests); default: ptq::run_experiment.
  void setRunner(ExperimentRunner runner) { runner_ = std::move(runner); }

  // Returns the job id. An empty spec list is an error (ptq::Error). A sweep is enqueued as its
  // runs (expandSweep in job_worker.h); runs whose complete record exists are skipped.
  int enqueue(const nlohmann::json& spec, const QString& resultsDir, const QString& title = {});
  int enqueueRuns(std::vector<nlohmann::json> specs, const QString& resultsDir, const QString& title,
                  bool skipComplete = true);

  void cancel(int id);
  void cancelAll();
  void removeFinished();

  const Job* job(int id) const;
  int jobIdAt(int row) const;
  bool busy() const;  // a job is queued or running

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation o, int role) const override;

 Q_SIGNALS:
  void jobChanged(int id);
  void jobFinished(int id);
  void recordWritten(const QString& path);
  void allFinished();  // the queue became idle

 private:
  Job* find(int id);
  int rowOf(int id) const;
  void schedule();
  void start(Job& j);
  void onProgress(int id, int run, const ptq::Progress& p);
  void onRunDone(int id, int run, const RunOutcome& o);
  void onFinished(int id, bool cancelled);
  void changed(int id);

  ExperimentRunner runner_;
  std::vector<Job> jobs_;
  std::map<int, std::unique_ptr<JobWorker>> workers_;
  int nextId_ = 1;
};

}  // namespace ptq::views
