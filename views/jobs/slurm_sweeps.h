#pragma once
// Sweeps submitted to a Slurm cluster from the workbench (eval/experiment/slurm_backend.h, the
// same files and job array as `ptq sweep --slurm`): submit, the state of each array task polled
// from squeue / sacct and the records (every pollInterval ms, and on poll()), each complete record
// announced once by recordLanded (the results browser adds it), cancel by scancel. The tasks run
// the `ptq` CLI on the nodes; nothing here calls the engine. QtCore only.
#include <QObject>
#include <QString>
#include <QStringList>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "eval/experiment/slurm_backend.h"

class QTimer;

namespace ptq::views {

struct SlurmSweep {
  int id = 0;
  QString title, resultsDir, sweepId;
  std::vector<ptq::ExperimentSpec> runs;  // the whole sweep
  ptq::SlurmStatus status;                // the latest poll
  QString error;                          // the latest poll's or cancel's problem
  std::set<std::string> announced;        // run ids whose complete record was announced
  int count(const std::string& state) const;
  bool finished() const;  // no run pending, running or unknown
};

// The ptq executable the tasks run: $PTQ_EXECUTABLE, else `ptq` next to this program or in its
// parent folder (a build tree: app/gui/ptq-workbench, app/ptq), else ptq on PATH; "" when none.
QString findPtqExecutable();

class SlurmSweeps : public QObject {
  Q_OBJECT
 public:
  explicit SlurmSweeps(QObject* parent = nullptr);

  void setPtqExecutable(const QString& path) { ptq_ = path; }
  QString ptqExecutable() const { return ptq_; }
  void setPollInterval(int ms);

  // Submits the runs (ExperimentSpec JSON each) as a job array; returns the sweep's id. Throws
  // ptq::Error (a bad spec, sbatch's refusal, no ptq executable, nothing left to run).
  int submit(const std::vector<nlohmann::json>& specs, const QString& resultsDir, const QString& title,
             ptq::SlurmOptions options);
  // scancel on the sweep's queued tasks; throws ptq::Error when scancel fails.
  void cancel(int id);
  void poll();

  const std::vector<SlurmSweep>& sweeps() const { return sweeps_; }
  const SlurmSweep* sweep(int id) const;

 Q_SIGNALS:
  void sweepAboutToBeAdded(int row);
  void sweepAdded(int row);
  void sweepChanged(int id);
  void recordLanded(const QString& path);

 private:
  void refresh(SlurmSweep& s);
  std::vector<SlurmSweep> sweeps_;
  QTimer* timer_;
  QString ptq_;
  int nextId_ = 1;
};

}  // namespace ptq::views
