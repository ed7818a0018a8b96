#include "app/gui/main_window.h"

#include "app/gui/engine.h"

#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QInputDialog>
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
  auto* centre = new QSplitter(Qt::Vertical);
  centre->setObjectName("centre");
  centre->addWidget(results_);
  centre->addWidget(viewTabs_);
  // A view opening must not squeeze the results table to two rows: it keeps room for about eight
  // and a third of the height to start with; neither side collapses.
  results_->table()->setMinimumHeight(results_->table()->verticalHeader()->defaultSectionSize() * 8);
  centre->setChildrenCollapsible(false);
  centre->setStretchFactor(0, 1);
  centre->setStretchFactor(1, 2);
  centre->setSizes({300, 600});
  setCentralWidget(centre);

  connect(library_, &ModelLibraryPanel::modelAdded, this, [this](const QString& dir) {
    strategy_->setModels(library_->modelDirs());
    sweep_->setModels(library_->modelDirs());
    settings_.pushRecent(setting::recentModels, dir);
    refreshRecentMenus();
  });
  connect(library_, &ModelLibraryPanel::selectionChanged, strategy_, &StrategyPanel::setModel);
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

  buildMenus();
  resize(1400, 900);
  restoreGeometry(settings_.get(setting::windowGeometry));
  restoreState(settings_.get(setting::windowState));
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
  try {
    queue_->enqueue(strategy_->spec(), results_->directory());
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
    queue_->enqueueRuns(sweep_->runs(), results_->directory(), tr("sweep (%1 runs)").arg(sweep_->runCount()));
    report(tr("sweep queued: %1 runs").arg(sweep_->runCount()));
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
  return true;
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
