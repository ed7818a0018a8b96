#pragma once
// Jobs panel: the job queue as a table (job, device, status, progress bar, stage, ETA), with
// Cancel for the selected jobs and Clear for finished ones. A failed job's error is its status
// text and tooltip. With setSlurm: below it, the array tasks of the sweeps submitted to the Slurm
// cluster (views/jobs/slurm_task_model.h), with "Cancel on cluster" (scancel).
#include <QWidget>

class QLabel;
class QTableView;

namespace ptq::views {

class JobQueue;
class JobTableModel;
class SlurmSweeps;
class SlurmTaskModel;

class JobsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit JobsPanel(JobQueue* queue, QWidget* parent = nullptr);
  QTableView* table() const { return table_; }
  JobTableModel* model() const { return model_; }
  void cancelSelected();
  // Shows the Slurm sweeps' tasks (once; the panel does not own `sweeps`).
  void setSlurm(SlurmSweeps* sweeps);
  QTableView* slurmTable() const { return slurmTable_; }
  void cancelSelectedOnCluster();

 private:
  JobQueue* queue_;
  JobTableModel* model_;
  QTableView* table_;
  SlurmSweeps* slurm_ = nullptr;
  QTableView* slurmTable_ = nullptr;
  QLabel* slurmMessage_ = nullptr;
};

}  // namespace ptq::views
