#pragma once
// The jobs panel's table of Slurm array tasks (views/jobs/slurm_sweeps.h): one row per run of
// every submitted sweep, columns sweep, run, state (pending / running / complete / failed),
// Slurm job "<job>_<task>", and the detail (the queue's reason, how it ended, the log). QtCore only.
#include <QAbstractTableModel>
#include <utility>
#include <vector>

namespace ptq::views {

class SlurmSweeps;

class SlurmTaskModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { Sweep, Run, State, Job, Detail, ColumnCount };
  static constexpr int SweepIdRole = Qt::UserRole + 1;

  explicit SlurmTaskModel(SlurmSweeps* sweeps, QObject* parent = nullptr);
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation o, int role) const override;
  int sweepIdAt(int row) const;

 private:
  void rebuild();
  SlurmSweeps* sweeps_;
  std::vector<std::pair<size_t, size_t>> rows_;  // (sweep index, run index)
};

}  // namespace ptq::views
