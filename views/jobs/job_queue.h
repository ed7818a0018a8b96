#pragma once
// The job queue (after QGIS' QgsTaskManager; its table model is job_table_model.h, as
// QgsTaskManagerModel is separate from the manager): a job is one experiment spec or a whole
// sweep's specs plus a results directory. Specs are checked when they are enqueued (a bad key or
// value is a ptq::Error then, not a job that fails later). Each job runs on its own worker thread
// (job_worker.h) through the injected JobEngine; jobs of one device run one at a time in
// submission order, jobs of different devices overlap ("auto" is resolved to the device it runs
// on first, so it cannot share a GPU with a "cuda" job). A failure never stops the queue. Each
// record written emits recordWritten(path) on the GUI thread. QtCore only.
#include <QElapsedTimer>
#include <QObject>
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
// A readable name of a run for the jobs table: "gptq w3g128 asym · demo-model · calib 8×512"
// (the run id, with its hash and file-safe spelling, stays in the tooltip).
QString jobTitleOf(const ptq::ExperimentSpec& spec);

struct Job {
  int id = 0;
  QString title, device, resultsDir;
  std::vector<ptq::ExperimentSpec> specs;
  bool skipComplete = true;
  ptq::RecordRunner runner;  // unset: the engine's
  bool scratchRecords = false;  // its records are by-products (an export job): no recordWritten
  bool anyGpu = false;  // its runs asked for "cuda" or "auto": it may start on any free GPU (JobEngine::gpus)
  JobStatus status = JobStatus::Queued;
  // Progress of the current run: engine stage and its step/total; fraction and ETA of the job.
  QString stage;
  int64_t step = 0, total = 0;
  int run = 0;
  double fraction = 0;
  double etaSeconds = -1;  // -1: unknown; as estimated at etaStampMs of `clock`
  qint64 etaStampMs = 0;
  double expectedSeconds = -1;  // the cost hint's estimate of the whole job (-1: none), a prior for the ETA
  // The seconds left now: the last estimate counted down since it was made (so it falls while a
  // long stage reports nothing), never below 0; -1 when unknown.
  double etaNow() const;
  int written = 0, skipped = 0, failed = 0;
  QStringList errors;  // "run_id: message" of each failed run
  QStringList paths;   // records written or found complete
  QElapsedTimer clock;

  bool finished() const { return status == JobStatus::Done || status == JobStatus::Failed || status == JobStatus::Cancelled; }
  bool active() const { return status == JobStatus::Running || status == JobStatus::Cancelling; }
  QString statusText() const;  // "running", "failed: <error>", "done (2 written, 1 skipped)"
};

class JobQueue : public QObject {
  Q_OBJECT
 public:
  explicit JobQueue(JobEngine engine = {}, QObject* parent = nullptr);
  ~JobQueue() override;  // cancels running jobs and waits for their threads

  // Replaces what runs the specs (tests). A job started without a runner fails with that error.
  void setEngine(JobEngine engine) { engine_ = std::move(engine); }

  // Returns the job id. Throws ptq::Error for an empty list or a spec that does not parse (naming
  // the run and the problem). Runs whose complete record exists are skipped (skipComplete).
  int enqueue(const nlohmann::json& spec, const QString& resultsDir, const QString& title = {});
  // `runner` (set) runs this job's specs instead of the engine's.
  int enqueueRuns(const std::vector<nlohmann::json>& specs, const QString& resultsDir, const QString& title,
                  bool skipComplete = true, ptq::RecordRunner runner = {});
  // A sweep: one job (one row, its own progress, cancel and status) per run, titled
  // "<name> 2/14 · <jobTitleOf>". Every spec is checked first: a bad one queues nothing.
  std::vector<int> enqueueSweep(const std::vector<nlohmann::json>& specs, const QString& resultsDir, const QString& name);

  // Exports a run as a quantized checkpoint folder: the run's spec quantized again (without its
  // evaluation and analyses, which the export does not need), the model written to `exportDir` in
  // `format`; the job's own record goes to a scratch folder. Throws ptq::Error when the engine
  // cannot export, the spec does not parse or is full precision, or `exportDir` exists and is not empty.
  int enqueueExport(const nlohmann::json& spec, const QString& exportDir, const QString& format);

  // The expected duration of a job (the cost hint's), which the ETA leans on while little is done.
  void setExpectedSeconds(int id, double seconds);

  void cancel(int id);
  void cancelAll();
  // Cancels every job and waits until the running ones have returned (nothing half written).
  void cancelAllAndWait();
  void removeFinished();

  const Job* job(int id) const;
  const std::vector<Job>& jobs() const { return jobs_; }
  bool busy() const;      // a job is queued or running
  int activeCount() const;  // jobs queued or running

 Q_SIGNALS:
  void jobAboutToBeAdded(int row);
  void jobAdded(int row);
  void jobAboutToBeRemoved(int row);
  void jobRemoved(int row);
  void jobChanged(int id);
  void jobFinished(int id);
  void recordWritten(const QString& path);
  void allFinished();  // the queue became idle

 private:
  Job* find(int id);
  void schedule();
  void start(Job& j);
  void onProgress(int id, int run, const ptq::Progress& p);
  void onRunDone(int id, int run, const RunOutcome& o);
  void onFinished(int id, bool cancelled);
  QString deviceFor(const ptq::ExperimentSpec& spec) const;
  bool deviceBusy(const QString& device) const;
  // A free GPU of the engine's for a job that may take any (empty: none free, or not such a job).
  QString freeGpuFor(const Job& j) const;

  JobEngine engine_;
  std::vector<Job> jobs_;
  std::map<int, std::unique_ptr<JobWorker>> workers_;
  int nextId_ = 1;
};

}  // namespace ptq::views
