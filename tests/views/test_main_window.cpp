// Qt Test: the workbench window composes the panels and views, opens on the bundled demo (model,
// demo sweep, a ready experiment), keeps its geometry and recent folders in the settings, and
// exports the results table and the current figure.
#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QDockWidget>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTableView>
#include <QWheelEvent>
#include <QMenuBar>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QElapsedTimer>
#include <QThread>
#include <QtTest>
#include <atomic>

#include "app/gui/demo.h"
#include "app/gui/main_window.h"
#include "core/records/result_store.h"
#include "core/runtime/errors.h"
#include "views/jobs/job_queue.h"
#include "views/analyses/analysis_view.h"
#include "views/panels/model_library_panel.h"
#include "views/panels/results_browser.h"
#include "views/records/results_model.h"
#include "views/panels/strategy_panel.h"
#include "views/panels/sweep_builder.h"
#include "views/analyses/view_catalog.h"

using nlohmann::json;
using ptq::gui::MainWindow;

namespace {
json record(const std::string& id, const std::string& method, int bits, double ppl, double bytes) {
  json r = {{"schema", ptq::kResultSchemaName}, {"schema_version", ptq::kResultSchemaVersion}, {"run_id", id},
            {"status", "complete"}, {"method", method}, {"provenance", {{"model", {{"name", "austen-tiny"}}}}},
            {"metrics", {{"ppl", ppl}, {"eval", {{"text", "t"}, {"seqlen", 128}}},
                         {"size", {{"total_bytes", bytes}, {"bits_per_weight", 8.0 * bytes / 1.84e6}}}}}};
  if (method != "fp") r["quant"] = {{"bits", bits}, {"group", 128}, {"format", "int"}, {"sym", false}};
  return r;
}
QStringList actionTexts(QMenuBar* bar) {
  QStringList out;
  for (QAction* menu : bar->actions())
    for (QAction* a : menu->menu()->actions()) out << a->text().remove('&');
  return out;
}
}  // namespace

class TestMainWindow : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void opensOnTheDemo() {
    QTemporaryDir dir;
    QSettings settings(dir.filePath("s.ini"), QSettings::IniFormat);
    MainWindow w(&settings);
    QString err;
    QVERIFY2(ptq::gui::openDemo(w, dir.filePath("demo-results"), &err), qPrintable(err));
    QCOMPARE(w.modelLibrary()->modelCount(), 1);
    QVERIFY(w.modelLibrary()->modelDirs().first().endsWith("resources/demo-model"));
    QVERIFY2(w.sweepBuilder()->runCount() > 1, qPrintable(w.sweepBuilder()->validationError()));
    QVERIFY(w.strategyPanel()->method() != "fp");
    QCOMPARE(w.strategyPanel()->validationError(), QString());
    QCOMPARE(w.resultsBrowser()->directory(), dir.filePath("demo-results"));
    QCOMPARE(w.setupTabs()->count(), 3);
    QCOMPARE(size_t(w.viewTabs()->count()), ptq::views::viewCatalog().size());
    const QStringList actions = actionTexts(w.menuBar());
    for (const char* a : {"Open model…", "Open results directory…", "Export figure…", "Export table…"})
      QVERIFY2(actions.contains(a), a);
    // The recent lists remember what was opened.
    QCOMPARE(ptq::views::Settings(&settings).get(ptq::views::setting::recentResultsDirs).value(0),
             dir.filePath("demo-results"));
    QVERIFY(ptq::views::Settings(&settings).get(ptq::views::setting::recentModels).value(0).endsWith("demo-model"));
  }

  // Closing with a job running asks first: "no" keeps the window and the job; "yes" cancels the
  // job, waits for it and closes, with no record and no temporary left in the results folder.
  void quittingWithJobsRunningAsksAndCancelsCleanly() {
    QTemporaryDir dir;
    QSettings settings(dir.filePath("s.ini"), QSettings::IniFormat);
    MainWindow w(&settings);
    std::atomic<bool> cancelled{false};
    ptq::views::JobEngine slow;
    slow.run = [&](const ptq::ExperimentSpec& spec, ptq::Feedback& fb) -> json {
      for (int i = 0; i < 1000; ++i) {  // 10 s unless cancelled
        try {
          fb.check();
        } catch (const ptq::Cancelled&) {
          cancelled = true;
          throw;
        }
        fb.report("work", i + 1, 1000);
        QThread::msleep(10);
      }
      return json{{"schema", ptq::kResultSchemaName}, {"schema_version", ptq::kResultSchemaVersion},
                  {"run_id", spec.run_id()}, {"status", "complete"}};
    };
    w.jobQueue()->setEngine(slow);
    const QString results = dir.filePath("results");
    const int id = w.jobQueue()->enqueue(json{{"model", "/nowhere/m"}, {"method", "fp"}}, results);
    w.show();
    QTRY_VERIFY_WITH_TIMEOUT(w.jobQueue()->job(id)->fraction > 0, 5000);
    int asked = 0, activeWhenAsked = 0;
    w.setQuitConfirmation([&](int active) {
      ++asked;
      activeWhenAsked = active;
      return false;
    });
    QVERIFY(!w.close());
    QCOMPARE(asked, 1);
    QCOMPARE(activeWhenAsked, 1);
    QVERIFY(w.isVisible());
    QCOMPARE(w.jobQueue()->job(id)->status, ptq::views::JobStatus::Running);
    w.setQuitConfirmation([&](int) {
      ++asked;
      return true;
    });
    QElapsedTimer t;
    t.start();
    QVERIFY(w.close());
    QVERIFY2(t.elapsed() < 2000, "closing waited too long for the cancel");
    QCOMPARE(asked, 2);
    QVERIFY(cancelled);
    QCOMPARE(w.jobQueue()->job(id)->status, ptq::views::JobStatus::Cancelled);
    QCOMPARE(QDir(results).entryList(QDir::Files | QDir::Hidden).size(), 0);
    // Nothing running: closes without asking.
    MainWindow idle(&settings);
    idle.setQuitConfirmation([&](int) {
      ++asked;
      return false;
    });
    idle.show();
    QVERIFY(idle.close());
    QCOMPARE(asked, 2);
  }

  void geometryPersists() {
    QTemporaryDir dir;
    QSettings settings(dir.filePath("s.ini"), QSettings::IniFormat);
    QSize closedAt;
    {
      MainWindow w(&settings);
      w.show();
      w.resize(1234, 777);
      QVERIFY(QTest::qWaitForWindowExposed(&w));
      closedAt = w.size();
      QVERIFY(closedAt != QSize(1400, 900));  // not the default size
      w.close();
    }
    QVERIFY(!ptq::views::Settings(&settings).get(ptq::views::setting::windowGeometry).isEmpty());
    MainWindow again(&settings);
    QCOMPARE(again.size(), closedAt);
  }

  // Reopening restores the library, the results folder and the experiment form.
  void sessionRoundTrip() {
    QTemporaryDir dir;
    QSettings settings(dir.filePath("s.ini"), QSettings::IniFormat);
    QString model, results = dir.filePath("demo-results");
    {
      MainWindow w(&settings);
      QString err;
      QVERIFY2(ptq::gui::openDemo(w, results, &err), qPrintable(err));
      model = w.modelLibrary()->modelDirs().first();
      json spec = w.strategyPanel()->spec();
      spec["bits"] = 2;
      spec["group"] = 32;
      QVERIFY2(w.strategyPanel()->setSpec(spec, &err), qPrintable(err));
      json sweep = w.sweepBuilder()->sweepJson();  // the sweep form comes back too
      sweep["bits"] = {2};
      QVERIFY2(w.sweepBuilder()->setSweepJson(sweep, QString(), &err), qPrintable(err));
      w.close();
    }
    MainWindow again(&settings);
    QCOMPARE(again.modelLibrary()->modelCount(), 0);
    QVERIFY(again.restoreSession());
    QCOMPARE(again.modelLibrary()->modelDirs(), QStringList{model});
    QCOMPARE(again.resultsBrowser()->directory(), results);
    QCOMPARE(again.strategyPanel()->spec()["bits"].get<int>(), 2);
    QCOMPARE(again.strategyPanel()->spec()["group"].get<int>(), 32);
    QCOMPARE(again.sweepBuilder()->sweepJson()["bits"], json({2}));
    QVERIFY(!again.firstRunHint()->isVisibleTo(&again));  // a returning user gets no first-run hint
    QTemporaryDir empty;
    QSettings fresh(empty.filePath("s.ini"), QSettings::IniFormat);
    MainWindow first(&fresh);
    QVERIFY(!first.restoreSession());  // nothing saved yet: the caller opens the demo
  }

  // An empty view says what to do in the workbench, not on the command line.
  void emptyViewsPointAtTheGui() {
    QTemporaryDir dir;
    QSettings settings(dir.filePath("s.ini"), QSettings::IniFormat);
    MainWindow w(&settings);
    for (auto* v : w.analysisViews()) {
      v->setRecords({});
      const QString m = v->noDataMessage();
      QVERIFY2(m.startsWith("no data"), qPrintable(v->viewId() + ": " + m));
      QVERIFY2(!m.contains("ptq ") && !m.contains("--"), qPrintable(v->viewId() + ": " + m));
      QVERIFY2(m.contains("tab") || m.contains("File") || m.contains("results table"), qPrintable(v->viewId() + ": " + m));
    }
  }

  // A first start points at the demo sweep; the link opens the Sweep tab and the hint goes.
  void firstRunHintPointsAtTheDemoSweep() {
    QTemporaryDir dir;
    QSettings settings(dir.filePath("s.ini"), QSettings::IniFormat);
    MainWindow w(&settings);
    QVERIFY(!w.firstRunHint()->isVisibleTo(&w));
    QVERIFY(ptq::gui::openDemo(w, dir.filePath("demo-results")));
    QVERIFY(w.firstRunHint()->isVisibleTo(&w));
    const QString hint = w.firstRunHint()->text();
    QVERIFY2(hint.contains("demo sweep") && hint.contains("Sweep tab") && hint.contains("Enqueue") &&
                 hint.contains(dir.filePath("demo-results")), qPrintable(hint));
    w.setupTabs()->setCurrentIndex(0);
    Q_EMIT w.firstRunHint()->linkActivated("sweep");
    QCOMPARE(w.setupTabs()->currentWidget(), static_cast<QWidget*>(w.sweepBuilder()));
    QVERIFY(!w.firstRunHint()->isVisibleTo(&w));
  }

  // A model can be taken out of the library; the experiment form no longer offers it.
  void removableModel() {
    QTemporaryDir dir;
    QSettings settings(dir.filePath("s.ini"), QSettings::IniFormat);
    MainWindow w(&settings);
    QVERIFY(ptq::gui::openDemo(w, dir.filePath("demo-results")));
    const QString model = w.modelLibrary()->modelDirs().first();
    auto* box = w.strategyPanel()->findChild<QComboBox*>("model");
    QVERIFY(box->findText(model) >= 0);
    QVERIFY(!w.modelLibrary()->removeModel("/not/in/the/library"));
    auto* button = w.modelLibrary()->findChild<QPushButton*>("removeModel");
    QVERIFY(button);
    button->click();  // the selected (only) model
    QCOMPARE(w.modelLibrary()->modelCount(), 0);
    QCOMPARE(box->findText(model), -1);
    w.close();
    QVERIFY(ptq::views::Settings(&settings).get(ptq::views::setting::sessionModels).isEmpty());
  }

  // A sweep whose group does not fit the model's widths is refused before any run is queued,
  // naming the run and the layer; a fitting one is queued one row per run.
  void sweepRunsAreCheckedAgainstTheirModel() {
    QTemporaryDir dir;
    QSettings settings(dir.filePath("s.ini"), QSettings::IniFormat);
    MainWindow w(&settings);
    QVERIFY(ptq::gui::openDemo(w, dir.filePath("demo-results")));
    QCOMPARE(w.checkSweepRuns(w.sweepBuilder()->runs()), QString());
    json sweep = w.sweepBuilder()->sweepJson();
    sweep["groups"] = {256};  // the demo model's widths are 128 and 384
    QString err;
    QVERIFY2(w.sweepBuilder()->setSweepJson(sweep, QString(), &err), qPrintable(err));
    const QString problem = w.checkSweepRuns(w.sweepBuilder()->runs());
    QVERIFY2(problem.contains("sweep run ") && problem.contains("group_size 256 does not divide in_features 128"),
             qPrintable(problem));
    Q_EMIT w.sweepBuilder()->enqueueRequested();
    QCOMPARE(w.jobQueue()->jobs().size(), size_t(0));
    // The engine's own check too (ptq::run_problems): an eval window longer than the text.
    sweep["groups"] = {128};
    sweep["eval"]["seqlen"] = 1 << 20;
    QVERIFY2(w.sweepBuilder()->setSweepJson(sweep, QString(), &err), qPrintable(err));
    const QString tooLong = w.checkSweepRuns(w.sweepBuilder()->runs());
    QVERIFY2(tooLong.contains("fewer than one window of eval seqlen 1048576"), qPrintable(tooLong));
  }

  // Ctrl+O / Ctrl+Q, and a View menu that brings closed docks back.
  void menusAndShortcuts() {
    QTemporaryDir dir;
    QSettings settings(dir.filePath("s.ini"), QSettings::IniFormat);
    MainWindow w(&settings);
    QStringList shortcuts, view;
    for (QAction* menu : w.menuBar()->actions()) {
      for (QAction* a : menu->menu()->actions()) {
        if (!a->shortcut().isEmpty()) shortcuts << a->shortcut().toString();
        if (menu->text().remove('&') == "View") view << a->text();
      }
    }
    QVERIFY2(shortcuts.contains("Ctrl+O") && shortcuts.contains("Ctrl+Q"), qPrintable(shortcuts.join(",")));
    QCOMPARE(view, (QStringList{"Setup", "Jobs"}));
    auto* dock = w.findChild<QDockWidget*>("jobsDock");
    w.show();
    dock->close();
    QVERIFY(!dock->isVisible());
    for (QAction* menu : w.menuBar()->actions())
      if (menu->text().remove('&') == "View")
        for (QAction* a : menu->menu()->actions())
          if (a->text() == "Jobs") a->trigger();
    QVERIFY(dock->isVisible());
  }

  // Over the form, the wheel changes only the input that has the focus.
  void wheelIgnoredByUnfocusedInputs() {
    QTemporaryDir dir;
    QSettings settings(dir.filePath("s.ini"), QSettings::IniFormat);
    MainWindow w(&settings);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QComboBox* combo = nullptr;
    for (auto* c : w.strategyPanel()->findChildren<QComboBox*>())
      if (c->count() > 1 && c->isEnabled()) { combo = c; break; }
    QVERIFY(combo);
    QCOMPARE(combo->focusPolicy(), Qt::StrongFocus);  // the wheel does not focus it
    combo->setCurrentIndex(0);
    auto wheel = [&] {
      QPoint c = combo->rect().center();
      QWheelEvent e(c, combo->mapToGlobal(c), {}, {0, -120}, Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
      QApplication::sendEvent(combo, &e);
    };
    w.setFocus();
    QVERIFY(!combo->hasFocus());
    wheel();
    QCOMPARE(combo->currentIndex(), 0);
    w.activateWindow();
    combo->setFocus();
    QTRY_VERIFY(combo->hasFocus());
    wheel();
    QCOMPARE(combo->currentIndex(), 1);
  }

  // Opening a view leaves the results table room for rows.
  void resultsTableIsNotSqueezed() {
    QTemporaryDir dir;
    QSettings settings(dir.filePath("s.ini"), QSettings::IniFormat);
    MainWindow w(&settings);
    w.resize(1200, 800);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    for (int i = 0; i < w.viewTabs()->count(); ++i) w.viewTabs()->setCurrentIndex(i);
    QTableView* table = w.resultsBrowser()->table();
    QVERIFY2(table->height() >= 6 * table->verticalHeader()->defaultSectionSize(), qPrintable(QString::number(table->height())));
  }

  void recordsFeedTheViewsAndExport() {
    QTemporaryDir dir;
    QSettings settings(dir.filePath("s.ini"), QSettings::IniFormat);
    const std::string results = dir.filePath("results").toStdString();
    ptq::ensure_results_dir(results);
    ptq::write_record(results, record("fp", "fp", 16, 96.5, 3.68e6));
    ptq::write_record(results, record("rtn-w4", "rtn", 4, 99.0, 1.2e6));
    ptq::write_record(results, record("rtn-w3", "rtn", 3, 110.0, 0.95e6));
    MainWindow w(&settings);
    QVERIFY(w.openResults(QString::fromStdString(results)));
    QCOMPARE(w.resultsBrowser()->model()->rowCount(), 3);
    // The size/quality trade-off view gets every filtered record.
    ptq::views::AnalysisView* tradeoff = nullptr;
    for (auto* v : w.analysisViews())
      if (v->viewId() == "tradeoff") tradeoff = v;
    QVERIFY(tradeoff);
    QVERIFY2(tradeoff->hasData(), qPrintable(tradeoff->noDataMessage()));
    w.viewTabs()->setCurrentWidget(tradeoff);
    const QString svg = dir.filePath("tradeoff.svg"), csv = dir.filePath("results.csv");
    QVERIFY(w.exportCurrentFigure(svg));
    QVERIFY(QFileInfo(svg).size() > 1000);
    QVERIFY(w.exportResultsTable(csv));
    QFile f(csv);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QStringList lines = QString::fromUtf8(f.readAll()).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 4);  // header + 3 records
    QVERIFY(lines[0].startsWith("model,method,bits"));
    QCOMPARE(ptq::views::Settings(&settings).get(ptq::views::setting::lastExportDir), dir.path());
  }
};

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
