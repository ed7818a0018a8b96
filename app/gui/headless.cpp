#include "app/gui/headless.h"

#include <QApplication>
#include <QCheckBox>
#include <QScrollArea>
#include <QDir>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QTabWidget>
#include <iostream>
#include <memory>

#include "app/gui/demo.h"
#include "app/gui/engine.h"
#include "app/gui/main_window.h"
#include "app/gui/workbench_paths.h"
#include "core/records/json_util.h"
#include "core/records/result_store.h"
#include "core/runtime/errors.h"
#include "views/analyses/analysis_view.h"
#include "views/export/figure_export.h"
#include "views/jobs/job_queue.h"
#include "views/panels/jobs_panel.h"
#include "views/panels/results_browser.h"
#include "views/records/results_model.h"
#include "views/panels/strategy_panel.h"
#include "views/panels/sweep_builder.h"
#include "views/export/table_export.h"
#include "views/analyses/view_catalog.h"

namespace ptq::gui {

using namespace ptq::views;

namespace {

int fail(const QString& message) {
  std::cerr << "ptq-workbench: " << message.toStdString() << "\n";
  return 2;
}

// Runs `specs` through a job queue (complete records are reused) and waits for it.
const Job& runJob(JobQueue& queue, std::vector<nlohmann::json> specs, const QString& results, const QString& title) {
  QEventLoop loop;
  QObject::connect(&queue, &JobQueue::allFinished, &loop, &QEventLoop::quit);
  QObject::connect(&queue, &JobQueue::recordWritten, [](const QString& p) {
    std::cerr << "record written: " << p.toStdString() << "\n";
  });
  const int id = queue.enqueueRuns(std::move(specs), results, title);
  if (queue.busy()) loop.exec();
  return *queue.job(id);
}

// A record the job wrote or found: a JSON object of the result schema, else ptq::Error naming it.
nlohmann::json readRecord(const QString& path) {
  nlohmann::json r = ptq::read_json_file(path.toStdString());
  if (!r.is_object() || r.value("schema", std::string()) != ptq::kResultSchemaName)
    throw ptq::Error("'" + path.toStdString() + "' is not a result record of schema " + ptq::kResultSchemaName);
  return r;
}

}  // namespace

namespace {

int runHeadlessChecked(const HeadlessOptions& o) {
  if (o.out.isEmpty()) return fail("--headless needs --out DIR");
  const QString sweepPath = o.sweep.isEmpty() ? demoSweepPath() : o.sweep;
  const QString results = o.results.isEmpty() ? defaultResultsDir() : o.results;
  std::vector<nlohmann::json> specs;
  try {
    if (sweepPath.isEmpty()) throw std::runtime_error("the bundled resources (demo-sweep.json) were not found");
    specs = expandSweep(ptq::read_json_file(sweepPath.toStdString()), QFileInfo(sweepPath).absolutePath());
    if (!QDir().mkpath(o.out)) throw std::runtime_error("cannot create output folder '" + o.out.toStdString() + "'");
  } catch (const std::exception& e) {
    return fail(QString::fromUtf8(e.what()));
  }

  JobQueue queue(engineForJobs());
  std::vector<nlohmann::json> records;
  std::vector<ResultsModel::Entry> entries;
  const Job* ran = nullptr;
  try {
    ran = &runJob(queue, std::move(specs), results, QFileInfo(sweepPath).fileName());
    for (const QString& p : ran->paths) {  // a reused record may be anything the folder holds
      records.push_back(readRecord(p));
      entries.push_back({p, records.back()});
    }
  } catch (const std::exception& e) {
    return fail(QString::fromUtf8(e.what()));
  }
  const Job& job = *ran;

  nlohmann::json figures = nlohmann::json::array(), tables = nlohmann::json::array(), problems = nlohmann::json::array(),
                 noData = nlohmann::json::array();
  auto table = [&](const TextTable& t, const QString& stem) {
    for (const char* suffix : {".csv", ".tex"}) {
      QString path = QDir(o.out).absoluteFilePath(stem + suffix), err;
      if (exportTable(t, path, &err)) tables.push_back(path.toStdString());
      else problems.push_back((stem + suffix + ": " + err).toStdString());
    }
  };
  const FigureSize size = FigureSize::doubleColumn();
  for (const auto& entry : viewCatalog()) {
    std::unique_ptr<AnalysisView> view(entry.make(nullptr));
    view->setRecords(records);
    view->resize(size.widthPx(), size.heightPx());
    if (!view->hasData()) {  // e.g. the Samples view when no run of the sweep generated text
      noData.push_back({{"view", entry.id.toStdString()}, {"message", view->noDataMessage().toStdString()}});
      continue;
    }
    for (const QString& fmt : figureFormats()) {
      QString path = QDir(o.out).absoluteFilePath(entry.id + "." + fmt), err;
      if (exportFigure(*view, path, size, &err)) figures.push_back(path.toStdString());
      else problems.push_back((entry.id + "." + fmt + ": " + err).toStdString());
    }
    TextTable t = view->dataTable();
    if (!t.rows.empty()) table(t, entry.id);
  }
  ResultsModel model;
  model.setRecords(std::move(entries));
  table(tableFromModel(model), QStringLiteral("results"));

  nlohmann::json failed = nlohmann::json::array();
  for (const QString& e : job.errors) failed.push_back(e.toStdString());
  nlohmann::json summary = {{"sweep", QFileInfo(sweepPath).absoluteFilePath().toStdString()},
                            {"results", QFileInfo(results).absoluteFilePath().toStdString()},
                            {"out", QFileInfo(o.out).absoluteFilePath().toStdString()},
                            {"runs", job.specs.size()},
                            {"written", job.written},
                            {"reused", job.skipped},
                            {"failed", failed},
                            {"records", records.size()},
                            {"figures", figures},
                            {"tables", tables},
                            {"problems", problems},
                            {"views_without_data", noData}};
  std::cout << summary.dump(1) << std::endl;
  return failed.empty() && problems.empty() ? 0 : 1;
}

}  // namespace

int runHeadless(const HeadlessOptions& o) {
  try {
    return runHeadlessChecked(o);
  } catch (const std::exception& e) {  // a record the views cannot read, a folder that cannot be written
    return fail(QString::fromUtf8(e.what()));
  }
}

int renderScreenshots(const QString& dir, const QString& results) {
  if (!QDir().mkpath(dir)) return fail("cannot create folder '" + dir + "'");
  QSettings scratch(QDir(dir).absoluteFilePath(".screenshot-settings.ini"), QSettings::IniFormat);
  MainWindow w(&scratch);
  QString err;
  if (!openDemo(w, results.isEmpty() ? defaultResultsDir() : results, &err)) std::cerr << err.toStdString() << "\n";
  // The demo sweep through the queue as the Sweep tab queues it, a row per run: done (records
  // reused) in the jobs panel.
  {
    QEventLoop loop;
    QObject::connect(w.jobQueue(), &JobQueue::allFinished, &loop, &QEventLoop::quit);
    w.jobQueue()->enqueueSweep(w.sweepBuilder()->runs(), w.resultsBrowser()->directory(), QObject::tr("demo sweep"));
    if (w.jobQueue()->busy()) loop.exec();
  }
  w.resize(1500, 950);
  w.show();
  if (auto* setup = w.findChild<QDockWidget*>("setupDock")) w.resizeDocks({setup}, {620}, Qt::Horizontal);
  if (auto* jobs = w.findChild<QDockWidget*>("jobsDock")) w.resizeDocks({jobs}, {150}, Qt::Vertical);
  auto* browser = w.resultsBrowser();
  for (int r = 0; r < browser->model()->rowCount(); ++r)
    if (browser->model()->record(r).value("method", "fp") == "gptq") {
      browser->selectRunId(QString::fromStdString(browser->model()->record(r).value("run_id", "")));
      break;
    }
  auto save = [&](QWidget* widget, const QString& name) {
    QApplication::processEvents();
    QString path = QDir(dir).absoluteFilePath(name + ".png");
    if (!widget->grab().save(path)) std::cerr << "cannot write " << path.toStdString() << "\n";
    else std::cout << path.toStdString() << "\n";
  };
  save(&w, "workbench");
  for (int i = 0; i < w.setupTabs()->count(); ++i) {
    w.setupTabs()->setCurrentIndex(i);
    save(w.setupTabs(), "panel-" + QStringList{"models", "experiment", "sweep"}.value(i, QString::number(i)));
  }
  save(browser, "panel-results");
  save(w.jobsPanel(), "panel-jobs");
  // A sweep running, a row per run: the demo sweep again into a scratch folder (nothing to reuse),
  // grabbed once its second run is under way, then cancelled.
  {
    const QString scratchDir = QDir(dir).absoluteFilePath(".screenshot-sweep");
    QDir(scratchDir).removeRecursively();
    w.jobQueue()->removeFinished();
    w.resize(1500, 1250);  // room for the seven rows above the Slurm table
    if (auto* jobs = w.findChild<QDockWidget*>("jobsDock")) w.resizeDocks({jobs}, {560}, Qt::Vertical);
    const auto ids = w.jobQueue()->enqueueSweep(w.sweepBuilder()->runs(), scratchDir, QObject::tr("sweep"));
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < 600000 && ids.size() > 1 && w.jobQueue()->job(ids[1])->fraction < 0.3) QApplication::processEvents(QEventLoop::AllEvents, 100);
    save(w.jobsPanel(), "panel-jobs-sweep");
    w.jobQueue()->cancelAllAndWait();
    QDir(scratchDir).removeRecursively();
  }
  // The experiment form refusing a group that does not divide the demo model's widths (128, 384).
  w.setupTabs()->setCurrentWidget(w.strategyPanel());
  nlohmann::json spec = w.strategyPanel()->spec();
  spec["group"] = 256;
  if (w.strategyPanel()->setSpec(spec)) save(w.setupTabs(), "panel-experiment-invalid");
  auto* area = w.strategyPanel()->findChild<QScrollArea*>();  // the form's analyses, two to a row
  if (auto* box = w.strategyPanel()->findChild<QCheckBox*>("analysis.compare"); area && box)
    area->ensureWidgetVisible(box, 50, 300), save(w.setupTabs(), "panel-experiment-analyses");
  // Each analysis view alone: tests/views/render_views --screenshots (docs/screenshots/<id>.png).
  QFile::remove(scratch.fileName());
  return 0;
}

}  // namespace ptq::gui
