#pragma once
// Jobs panel: the job queue as a table (job, device, status, progress bar, stage, ETA), with
// Cancel for the selected jobs and Clear for finished ones. A failed job's error is its status
// text and tooltip.
#include <QWidget>

class QTableView;

namespace ptq::views {

class JobQueue;
class JobTableModel;

class JobsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit JobsPanel(JobQueue* queue, QWidget* parent = nullptr);
  QTableView* table() const { return table_; }
  JobTableModel* model() const { return model_; }
  void cancelSelected();

 private:
  JobQueue* queue_;
  JobTableModel* model_;
  QTableView* table_;
};

}  // namespace ptq::views
