#pragma once
// The jobs panel's table over a JobQueue (after QGIS' QgsTaskManagerModel): one row per job,
// columns title, device, status, progress (FractionRole for a bar), stage and ETA. QtCore only.
#include <QAbstractTableModel>

namespace ptq::views {

class JobQueue;

class JobTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { Title, Device, Status, Progress, Stage, Eta, ColumnCount };
  static constexpr int FractionRole = Qt::UserRole + 1;
  static constexpr int JobIdRole = Qt::UserRole + 2;
  static constexpr int StatusRole = Qt::UserRole + 3;  // int(JobStatus): the bar of a failed job is red

  explicit JobTableModel(JobQueue* queue, QObject* parent = nullptr);

  JobQueue* queue() const { return queue_; }
  int jobIdAt(int row) const;
  // The ETA column of the running jobs changed (it counts down between progress reports): the
  // jobs panel calls this every second.
  void refreshEta();

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation o, int role) const override;

 private:
  void jobChanged(int id);
  JobQueue* queue_;
};

}  // namespace ptq::views
