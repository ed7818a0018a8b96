#pragma once
// Results browser: the records of one results directory (written by the GUI's job queue or by
// the CLI) in a sortable, filterable table. The directory is watched, so records that appear
// later (another process, a job) show up. Selected rows and the filtered set feed the analysis
// views.
#include <QStringList>
#include <QWidget>
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

class QComboBox;
class QFileSystemWatcher;
class QLabel;
class QLineEdit;
class QAction;
class QTableView;
class QTimer;

namespace ptq::views {

class ResultsModel;
class ResultsFilter;

class ResultsBrowser : public QWidget {
  Q_OBJECT
 public:
  explicit ResultsBrowser(QWidget* parent = nullptr);

  // Shows the records of `dir` (created when missing) and watches it; on an unusable directory
  // returns false, keeps the previous one and error() names the problem.
  bool openDirectory(const QString& dir);
  QString directory() const { return dir_; }
  // A path typed into the directory field: one that does not exist is questioned ("create it?")
  // instead of silently created; declined, the field goes back to the open directory.
  bool openTypedDirectory(const QString& dir);
  // Tests answer instead of the QMessageBox: confirm(path) -> create?
  void setCreateConfirmation(std::function<bool(const QString&)> confirm) { confirmCreate_ = std::move(confirm); }
  // Rescans the directory (keeps the selection by run id).
  void reload();
  // A record file just written (the job queue's recordWritten): shown without a full rescan.
  void addRecordFile(const QString& path);

  ResultsModel* model() const { return model_; }
  ResultsFilter* filter() const { return filter_; }
  QTableView* table() const { return table_; }
  // Enabled while exactly one quantized (not full-precision) run is selected.
  QAction* exportAction() const { return export_; }
  std::vector<nlohmann::json> selectedRecords() const;
  std::vector<nlohmann::json> filteredRecords() const;
  void selectRunId(const QString& run_id);

  QString error() const { return error_; }
  // Files of the directory that are not readable records ("path: reason").
  QStringList problems() const { return problems_; }

 Q_SIGNALS:
  void directoryChanged(const QString& dir);
  void selectionChanged();    // selectedRecords() changed
  void filteredChanged();     // filteredRecords() changed (new records, filter edited)
  // "Export checkpoint…" on one selected quantized run (the table's context menu, exportAction()).
  void exportRequested(const nlohmann::json& record);

 private:
  void addExportAction();
  void refreshMethods();
  void updateStatus();

  QString dir_, error_;
  QStringList problems_;
  ResultsModel* model_;
  ResultsFilter* filter_;
  QTableView* table_;
  QAction* export_;
  QLineEdit* dirEdit_;
  QLineEdit* text_;
  QComboBox* method_;
  QLabel* status_;
  QFileSystemWatcher* watcher_;
  QTimer* rescan_;
  std::function<bool(const QString&)> confirmCreate_;
  bool asking_ = false;
};

}  // namespace ptq::views
