#pragma once
// The workbench window: a thin frame that composes the panels from views/ and wires them
// together. Left: model library, experiment (strategy panel) and sweep builder; centre: results
// browser above the analysis views (one tab per view_catalog entry); bottom: the job queue.
#include <QMainWindow>
#include <nlohmann/json.hpp>
#include <functional>
#include <vector>

#include "views/panels/run_check.h"
#include "views/records/settings.h"

class QLabel;
class QTabWidget;

namespace ptq::views {
class AnalysisView;
class JobQueue;
class JobsPanel;
class SlurmSweeps;
class ModelLibraryPanel;
class ResultsBrowser;
class StrategyPanel;
class SweepBuilder;
}  // namespace ptq::views

namespace ptq::gui {

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  // settings: nullptr = the application's QSettings.
  explicit MainWindow(QSettings* settings = nullptr, QWidget* parent = nullptr);

  views::ModelLibraryPanel* modelLibrary() const { return library_; }
  views::StrategyPanel* strategyPanel() const { return strategy_; }
  views::SweepBuilder* sweepBuilder() const { return sweep_; }
  views::ResultsBrowser* resultsBrowser() const { return results_; }
  views::JobQueue* jobQueue() const { return queue_; }
  views::SlurmSweeps* slurmSweeps() const { return slurm_; }
  views::JobsPanel* jobsPanel() const { return jobs_; }
  QTabWidget* setupTabs() const { return setup_; }
  QTabWidget* viewTabs() const { return viewTabs_; }
  const std::vector<views::AnalysisView*>& analysisViews() const { return views_; }

  bool openModel(const QString& dir);
  bool openResults(const QString& dir);
  bool exportCurrentFigure(const QString& path);  // through views/figure_export.h
  bool exportResultsTable(const QString& path);   // .csv or .tex
  // The session of the last close (settings session/*): the library's models that still exist,
  // the results folder and the experiment form. False when there was none to restore.
  bool restoreSession();
  void saveSession();
  // The hint a first start shows above the results (openDemo): the demo sweep is ready in the
  // Sweep tab, what Enqueue does and where the records go. Dismissed by its button.
  void showFirstRunHint(const QString& resultsDir);
  QLabel* firstRunHint() const { return hint_; }
  // Every run of the sweep checked against its model and files (run_check.h) before any is
  // queued; empty when they all fit, else the first problem naming the run.
  QString checkSweepRuns(const std::vector<nlohmann::json>& runs);

  // Closing with jobs queued or running asks (a QMessageBox) whether to cancel them and quit;
  // tests answer instead: confirm(activeJobs) -> quit?
  void setQuitConfirmation(std::function<bool(int activeJobs)> confirm) { confirmQuit_ = std::move(confirm); }

 protected:
  void closeEvent(QCloseEvent* e) override;

 private:
  QWidget* buildCentre();
  void connectPanels();
  void buildMenus();
  void feedViews();
  void enqueueExperiment();
  void enqueueSweep();
  void exportCheckpoint(const nlohmann::json& record);  // asks for the folder and the format
  void refreshRecentMenus();
  void report(const QString& message);
  bool askToQuit(int activeJobs);

  views::Settings settings_;
  views::JobQueue* queue_;
  views::SlurmSweeps* slurm_;
  views::ModelLibraryPanel* library_;
  views::StrategyPanel* strategy_;
  views::SweepBuilder* sweep_;
  views::ResultsBrowser* results_;
  views::JobsPanel* jobs_;
  QTabWidget* setup_;
  QTabWidget* viewTabs_;
  std::vector<views::AnalysisView*> views_;
  QAction* exportFigureAction_ = nullptr;
  QLabel* hint_ = nullptr;
  views::ModelSummaries summaries_;
  QMenu* recentModels_ = nullptr;
  QMenu* recentResults_ = nullptr;
  std::function<bool(int)> confirmQuit_;
};

}  // namespace ptq::gui
