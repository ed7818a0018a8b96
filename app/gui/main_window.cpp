#include "app/gui/main_window.h"

#include "app/gui/engine.h"

#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QInputDialog>
#include <QLabel>
#include <QVBoxLayout>
#include <QMenuBar>
#include <QMessageBox>
#include <QSplitter>
#include <QStatusBar>
#include <QHeaderView>
#include <QTabWidget>
#include <QTableView>

#include "views/analyses/analysis_view.h"
#include "views/analyses/calibration_study_view.h"
#include "views/analyses/selection_link.h"
#include "views/analyses/tradeoff_view.h"
#include "views/charts/qt_chart_view_base.h"
#include "views/export/export_dialog.h"
#include "views/export/figure_export.h"
#include "eval/experiment/experiment_spec.h"
#include "views/jobs/job_queue.h"
#include "views/jobs/slurm_sweeps.h"
#include "views/panels/jobs_panel.h"
#include "views/panels/model_library_panel.h"
#include "views/panels/results_browser.h"
#include "views/records/results_model.h"
#include "views/panels/strategy_panel.h"
#include "views/panels/slurm_settings.h"
#include "views/panels/sweep_builder.h"
#include "views/panels/wheel_guard.h"
#include "views/export/table_export.h"
#include "views/analyses/view_catalog.h"

namespace ptq::gui {

using namespace ptq::views;

namespace {
// Views that compare runs get every filtered record; the others the selected ones.
bool comparesRuns(const QString& id) { return id == "tradeoff" || id == "comparison" || id == "calibration_study"; }
}  // namespace

MainWindow::MainWindow(QSettings* settings, QWidget* parent) : QMainWindow(parent), settings_(settings) {
  setWindowTitle(tr("PTQ Workbench"));
  WheelGuard::install();  // the wheel scrolls the forms; only a focused input reacts to it
  queue_ = new JobQueue(engineForJobs(), this);
  library_ = new ModelLibraryPanel(checkpointReader());
  strategy_ = new StrategyPanel;
  sweep_ = new SweepBuilder;
  results_ = new ResultsBrowser;
  jobs_ = new JobsPanel(queue_);
  slurm_ = new SlurmSweeps(this);
  if (sweep_->target()->slurmAvailable()) jobs_->setSlurm(slurm_);

  setup_ = new QTabWidget;
  setup_->addTab(library_, tr("Models"));
  setup_->addTab(strategy_, tr("Experiment"));
  setup_->addTab(sweep_, tr("Sweep"));
  auto* setupDock = new QDockWidget(tr("Setup"), this);
  setupDock->setObjectName("setupDock");
  setupDock->setWidget(setup_);
  addDockWidget(Qt::LeftDockWidgetArea, setupDock);
  auto* jobsDock = new QDockWidget(tr("Jobs"), this);
  jobsDock->setObjectName("jobsDock");
  jobsDock->setWidget(jobs_);
  addDockWidget(Qt::BottomDockWidgetArea, jobsDock);

  viewTabs_ = new QTabWidget;
  viewTabs_->setObjectName("views");
  for (const auto& e : viewCatalog()) {
    AnalysisView* v = e.make(viewTabs_);
    views_.push_back(v);
    viewTabs_->addTab(v, e.title);
    if (auto* tradeoff = qobject_cast<TradeoffView*>(v)) linkSelection(tradeoff, results_);
    if (auto* study = qobject_cast<CalibrationStudyView*>(v)) linkSelection(study, results_);
    if (auto* chart = qobject_cast<QtChartViewBase*>(v))
      connect(chart, &QtChartViewBase::exportRequested, this, [this, v] {
        viewTabs_->setCurrentWidget(v);
        exportFigureAction_->trigger();
      });
  }
  setCentralWidget(buildCentre());

  connectPanels();
  buildMenus();
  resize(1400, 900);
  restoreGeometry(settings_.get(setting::windowGeometry));
  restoreState(settings_.get(setting::windowState));
}

// The results browser (under the first-run hint) above the analysis views.
QWidget* MainWindow::buildCentre() {
  auto* centre = new QSplitter(Qt::Vertical);
  centre->setObjectName("centre");
  hint_ = new QLabel;
  hint_->setObjectName("firstRunHint");
  hint_->setWordWrap(true);
  hint_->setTextFormat(Qt::RichText);
  hint_->setStyleSheet("QLabel { background: #eef4fb; border: 1px solid #9bbbe0; padding: 6px; }");
  hint_->hide();
  connect(hint_, &QLabel::linkActivated, this, [this](const QString& link) {
    if (link == "sweep") setup_->setCurrentWidget(sweep_);
    hint_->hide();
  });
  auto* top = new QWidget;
  auto* topLay = new QVBoxLayout(top);
  topLay->setContentsMargins(0, 0, 0, 0);
  topLay->addWidget(hint_);
  topLay->addWidget(results_, 1);
  centre->addWidget(top);
  centre->addWidget(viewTabs_);
  // A view opening must not squeeze the results table to two rows: it keeps room for about eight
  // and a third of the height to start with; neither side collapses.
  results_->table()->setMinimumHeight(results_->table()->verticalHeader()->defaultSectionSize() * 8);
  centre->setChildrenCollapsible(false);
  centre->setStretchFactor(0, 1);
  centre->setStretchFactor(1, 2);
  centre->setSizes({300, 600});
  return centre;
}

void MainWindow::connectPanels() {
  connect(library_, &ModelLibraryPanel::modelAdded, this, [this](const QString& dir) {
    strategy_->setModels(library_->modelDirs());
    sweep_->setModels(library_->modelDirs());
    settings_.pushRecent(setting::recentModels, dir);
    refreshRecentMenus();
  });
  connect(library_, &ModelLibraryPanel::modelRemoved, this, [this] {
    strategy_->setModels(library_->modelDirs());
    summaries_.forget();
  });
  connect(library_, &ModelLibraryPanel::selectionChanged, strategy_, &StrategyPanel::setModel);
  // The form checks each run against its model before queueing; the cost hint times it by the
  // records of the results folder.
  summaries_.setReader(checkpointReader());
  strategy_->setCheckpointReader(checkpointReader());
  auto timing = [this] { strategy_->setTimingRecords(results_->model()->records()); };
  connect(results_, &ResultsBrowser::filteredChanged, this, timing);
  connect(results_, &ResultsBrowser::directoryChanged, this, timing);
  connect(strategy_, &StrategyPanel::runRequested, this, &MainWindow::enqueueExperiment);
  connect(sweep_, &SweepBuilder::enqueueRequested, this, &MainWindow::enqueueSweep);
  connect(queue_, &JobQueue::recordWritten, results_, &ResultsBrowser::addRecordFile);
  connect(slurm_, &SlurmSweeps::recordLanded, results_, &ResultsBrowser::addRecordFile);
  connect(queue_, &JobQueue::jobFinished, this, [this](int id) {
    if (const Job* j = queue_->job(id)) report(j->title + ": " + j->statusText());
  });
  connect(results_, &ResultsBrowser::exportRequested, this, &MainWindow::exportCheckpoint);
  connect(results_, &ResultsBrowser::selectionChanged, this, &MainWindow::feedViews);
  connect(results_, &ResultsBrowser::filteredChanged, this, &MainWindow::feedViews);
  connect(results_, &ResultsBrowser::directoryChanged, this, [this](const QString& dir) {
    settings_.pushRecent(setting::recentResultsDirs, dir);
    refreshRecentMenus();
  });
}

void MainWindow::buildMenus() {
  auto* file = menuBar()->addMenu(tr("&File"));
  QAction* openModelAction = file->addAction(tr("Open &model…"), this, [this] {
    QString d = QFileDialog::getExistingDirectory(this, tr("Hugging Face checkpoint folder"));
    if (!d.isEmpty()) openModel(d);
  });
  openModelAction->setShortcut(QKeySequence::Open);
  file->addAction(tr("Open &results directory…"), this, [this] {
    QString d = QFileDialog::getExistingDirectory(this, tr("Results directory"), results_->directory());
    if (!d.isEmpty()) openResults(d);
  });
  recentModels_ = file->addMenu(tr("Recent models"));
  recentResults_ = file->addMenu(tr("Recent results directories"));
  file->addSeparator();
  exportFigureAction_ = file->addAction(tr("Export &figure…"), this, [this] {
    auto* v = qobject_cast<AnalysisView*>(viewTabs_->currentWidget());
    if (!v) return;
    ExportDialog dialog(*v, settings_, this);  // remembers format, preset, DPI and folder
    if (dialog.exec() == QDialog::Accepted) report(tr("figure written: %1").arg(dialog.path()));
  });
  file->addAction(tr("Export &table…"), this, [this] {
    QString dir = settings_.get(setting::lastExportDir);
    QString path = QFileDialog::getSaveFileName(this, tr("Export table"), dir, tr("Tables (*.csv *.tex)"));
    if (!path.isEmpty()) exportResultsTable(path);
  });
  file->addSeparator();
  file->addAction(tr("&Quit"), this, &QWidget::close)->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Q));  // QKeySequence::Quit is empty on some platforms
  // View: the docks back after closing them.
  auto* view = menuBar()->addMenu(tr("&View"));
  for (auto* dock : findChildren<QDockWidget*>()) view->addAction(dock->toggleViewAction());
  refreshRecentMenus();
}

void MainWindow::refreshRecentMenus() {
  if (!recentModels_) return;
  recentModels_->clear();
  for (const QString& d : settings_.get(setting::recentModels))
    recentModels_->addAction(d, this, [this, d] { openModel(d); });
  recentResults_->clear();
  for (const QString& d : settings_.get(setting::recentResultsDirs))
    recentResults_->addAction(d, this, [this, d] { openResults(d); });
}

bool MainWindow::openModel(const QString& dir) {
  if (library_->addModel(dir)) return true;
  report(library_->error());
  return false;
}

bool MainWindow::openResults(const QString& dir) {
  if (results_->openDirectory(dir)) return true;
  report(results_->error());
  return false;
}

void MainWindow::feedViews() {
  const auto selected = results_->selectedRecords();
  const auto filtered = results_->filteredRecords();
  for (AnalysisView* v : views_)
    v->setRecords(comparesRuns(v->viewId()) || selected.empty() ? filtered : selected);
}

void MainWindow::enqueueExperiment() {
  QString problem = strategy_->validationError();  // the spec, its model and its files
  // Then the engine's own check before queueing (token counts of the texts, calibration memory).
  if (problem.isEmpty()) problem = runProblems({strategy_->spec()});
  if (!problem.isEmpty()) {
    report(problem);
    return;
  }
  try {
    const nlohmann::json spec = strategy_->spec();
    const int id = queue_->enqueue(spec, results_->directory());
    const auto s = ptq::ExperimentSpec::from_json(spec);
    const auto cost = estimateCost(s, summaries_.get(QString::fromStdString(s.model_dir), nullptr), results_->model()->records());
    if (cost.seconds > 0) queue_->setExpectedSeconds(id, cost.seconds);
    report(tr("experiment queued"));
  } catch (const std::exception& e) {
    report(QString::fromUtf8(e.what()));
  }
}

void MainWindow::exportCheckpoint(const nlohmann::json& record) {
  const QString runId = QString::fromStdString(record.value("run_id", std::string()));
  const QStringList formats = {"gptq", "gptq_v2", "awq", "compressed-tensors"};
  bool ok = false;
  const QString format = QInputDialog::getItem(this, tr("Export checkpoint"), tr("Format of %1:").arg(runId), formats, 0,
                                               false, &ok);
  if (!ok) return;
  const QString dir = QFileDialog::getSaveFileName(this, tr("New folder for the %1 checkpoint").arg(format),
                                                   QDir(results_->directory()).filePath(runId + "-" + format));
  if (dir.isEmpty()) return;
  try {
    queue_->enqueueExport(record.at("spec"), dir, format);
    report(tr("export queued: %1 as %2 into %3").arg(runId, format, dir));
  } catch (const std::exception& e) {
    QMessageBox::warning(this, tr("Export checkpoint"), QString::fromUtf8(e.what()));
  }
}

void MainWindow::enqueueSweep() {
  try {
    if (sweep_->target()->slurmChosen()) {
      slurm_->submit(sweep_->runs(), results_->directory(), tr("sweep (%1 runs)").arg(sweep_->runCount()),
                     sweep_->target()->options());
      report(tr("sweep submitted to Slurm: %1 runs").arg(sweep_->runCount()));
      return;
    }
    const auto runs = sweep_->runs();
    const QString problem = checkSweepRuns(runs);
    if (!problem.isEmpty()) {
      report(problem);
      return;
    }
    const auto ids = queue_->enqueueSweep(runs, results_->directory(), tr("sweep"));  // one row per run
    for (size_t i = 0; i < ids.size(); ++i) {
      const auto s = ptq::ExperimentSpec::from_json(runs[i]);
      const auto cost = estimateCost(s, summaries_.get(QString::fromStdString(s.model_dir), nullptr), results_->model()->records());
      if (cost.seconds > 0) queue_->setExpectedSeconds(ids[i], cost.seconds);
    }
    report(tr("sweep queued: %1 runs").arg(runs.size()));
  } catch (const std::exception& e) {
    report(QString::fromUtf8(e.what()));
  }
}

bool MainWindow::exportCurrentFigure(const QString& path) {
  auto* v = qobject_cast<AnalysisView*>(viewTabs_->currentWidget());
  if (!v) return false;
  const QString preset = settings_.get(setting::lastExportPreset);
  FigureSize size = preset == "double-column" ? FigureSize::doubleColumn() : FigureSize::singleColumn();
  size.dpi = settings_.get(setting::lastExportDpi);
  QString error;
  bool ok = exportFigure(*v, path, size, &error);
  if (ok) settings_.set(setting::lastExportDir, QFileInfo(path).absolutePath());
  report(ok ? tr("figure written: %1").arg(path) : error);
  return ok;
}

bool MainWindow::exportResultsTable(const QString& path) {
  QString error;
  bool ok = exportTable(*results_->filter(), path, &error);
  if (ok) settings_.set(setting::lastExportDir, QFileInfo(path).absolutePath());
  report(ok ? tr("table written: %1").arg(path) : error);
  return ok;
}

void MainWindow::saveSession() {
  settings_.set(setting::sessionModels, library_->modelDirs());
  settings_.set(setting::sessionResultsDir, results_->directory());
  try {
    settings_.set(setting::sessionExperiment, QString::fromStdString(strategy_->spec().dump()));
  } catch (const std::exception&) {
    // A form that does not validate is not saved; the last valid one stays.
  }
  settings_.set(setting::sessionSweep, QString::fromStdString(sweep_->sweepJson().dump()));
}

bool MainWindow::restoreSession() {
  const QStringList models = settings_.get(setting::sessionModels);
  const QString results = settings_.get(setting::sessionResultsDir);
  if (models.isEmpty() && results.isEmpty()) return false;
  for (const QString& dir : models)
    if (QFileInfo(dir).isDir()) openModel(dir);
  if (!results.isEmpty() && QFileInfo(results).isDir()) openResults(results);
  const QString experiment = settings_.get(setting::sessionExperiment);
  if (!experiment.isEmpty()) {
    nlohmann::json spec = nlohmann::json::parse(experiment.toStdString(), nullptr, false);
    QString error;
    if (spec.is_discarded() || !strategy_->setSpec(spec, &error)) report(tr("experiment form not restored: %1").arg(error));
  }
  const QString sweep = settings_.get(setting::sessionSweep);
  if (!sweep.isEmpty()) {
    nlohmann::json spec = nlohmann::json::parse(sweep.toStdString(), nullptr, false);
    QString error;
    if (spec.is_discarded() || !sweep_->setSweepJson(spec, QDir::currentPath(), &error))
      report(tr("sweep form not restored: %1").arg(error));
  }
  return true;
}

QString MainWindow::checkSweepRuns(const std::vector<nlohmann::json>& runs) {
  for (size_t i = 0; i < runs.size(); ++i) {
    const auto s = ptq::ExperimentSpec::from_json(runs[i]);
    QString problem = missingInputFiles(s);
    if (problem.isEmpty()) {
      const ptq::ModelSummary* m = summaries_.get(QString::fromStdString(s.model_dir), &problem);
      if (m) problem = checkRunAgainstModel(s, *m);
    }
    if (!problem.isEmpty()) return tr("sweep run %1 of %2 (%3): %4").arg(i + 1).arg(runs.size()).arg(QString::fromStdString(s.run_id()), problem);
  }
  return runProblems(runs);  // the engine's check of the whole sweep (texts' token counts, memory)
}

void MainWindow::showFirstRunHint(const QString& resultsDir) {
  hint_->setText(tr("<b>First time here?</b> The demo sweep (full precision, RTN, GPTQ and AWQ at 3 and 4 bits on the "
                    "bundled 1.8 M-parameter model) is ready in the <a href=\"sweep\">Sweep tab</a>: press <i>Enqueue "
                    "sweep</i> and follow each run in the Jobs dock; the records land in %1 and fill this table and the "
                    "views below. &nbsp;<a href=\"dismiss\">Dismiss</a>").arg(resultsDir.toHtmlEscaped()));
  hint_->show();
}

void MainWindow::report(const QString& message) { statusBar()->showMessage(message, 10000); }

bool MainWindow::askToQuit(int activeJobs) {
  if (confirmQuit_) return confirmQuit_(activeJobs);
  const auto answer = QMessageBox::question(
      this, tr("Quit PTQ Workbench"),
      tr("%n job(s) are queued or running. Quit and cancel them? Runs that have not finished write no record.", "",
         activeJobs),
      QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
  return answer == QMessageBox::Yes;
}

void MainWindow::closeEvent(QCloseEvent* e) {
  if (queue_->busy()) {
    if (!askToQuit(queue_->activeCount())) {
      e->ignore();
      return;
    }
    statusBar()->showMessage(tr("Cancelling jobs…"));
    queue_->cancelAllAndWait();  // the current runs stop between units of work; nothing half written
  }
  saveSession();
  settings_.set(setting::windowGeometry, saveGeometry());
  settings_.set(setting::windowState, saveState());
  settings_.sync();
  QMainWindow::closeEvent(e);
}

}  // namespace ptq::gui
