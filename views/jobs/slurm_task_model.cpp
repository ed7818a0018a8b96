#include "views/jobs/slurm_task_model.h"

#include "views/jobs/slurm_sweeps.h"

namespace ptq::views {

SlurmTaskModel::SlurmTaskModel(SlurmSweeps* sweeps, QObject* parent) : QAbstractTableModel(parent), sweeps_(sweeps) {
  connect(sweeps, &SlurmSweeps::sweepAdded, this, &SlurmTaskModel::rebuild);
  connect(sweeps, &SlurmSweeps::sweepChanged, this, &SlurmTaskModel::rebuild);
  rebuild();
}

void SlurmTaskModel::rebuild() {
  beginResetModel();
  rows_.clear();
  const auto& all = sweeps_->sweeps();
  for (size_t s = 0; s < all.size(); ++s)
    for (size_t r = 0; r < all[s].status.runs.size(); ++r) rows_.emplace_back(s, r);
  endResetModel();
}

int SlurmTaskModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(rows_.size()); }
int SlurmTaskModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

int SlurmTaskModel::sweepIdAt(int row) const {
  return row >= 0 && row < rowCount() ? sweeps_->sweeps()[rows_[size_t(row)].first].id : -1;
}

QVariant SlurmTaskModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount()) return {};
  const auto [si, ri] = rows_[size_t(index.row())];
  const SlurmSweep& s = sweeps_->sweeps()[si];
  const ptq::SlurmTaskStatus& t = s.status.runs[ri];
  if (role == SweepIdRole) return s.id;
  if (role == Qt::ToolTipRole) {
    QString tip = QString::fromStdString(t.run_id);
    if (!t.log.empty()) tip += "\nlog: " + QString::fromStdString(t.log);
    if (!t.record.empty()) tip += "\nrecord: " + QString::fromStdString(t.record);
    if (!s.error.isEmpty()) tip += "\n" + s.error;
    if (!s.status.notes.empty()) tip += "\n" + QString::fromStdString(s.status.notes);
    return tip;
  }
  if (role != Qt::DisplayRole) return {};
  switch (index.column()) {
    case Sweep: return s.title;
    case Run: return QString::fromStdString(t.run_id);
    case State: return QString::fromStdString(t.state);
    case Job: return QString::fromStdString(t.job);
    case Detail: return !s.error.isEmpty() ? s.error : QString::fromStdString(t.detail);
  }
  return {};
}

QVariant SlurmTaskModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return QAbstractTableModel::headerData(section, o, role);
  static const char* names[ColumnCount] = {"sweep", "run", "state", "Slurm job", "detail"};
  return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

}  // namespace ptq::views
