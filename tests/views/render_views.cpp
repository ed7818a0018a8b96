// render_views RESULTS_DIR OUT_DIR [--screenshots] [--size single|double]: every analysis view of
// the catalog fed the records of RESULTS_DIR. Default: each view's figure as OUT_DIR/<id>.png,
// .svg and .pdf (exportFigure) plus the comparison table as comparison.csv / .tex. With
// --screenshots: a grab of each view's widget (controls included) as OUT_DIR/<id>.png, the
// images docs/screenshots/ holds. Views without data are reported and skipped (exit 1).
// --only ID renders that view alone; --set NAME=INDEX (repeatable) selects item INDEX of the
// view's combo box named NAME first (kurtosis: --set mode=1 for LLMC's Figure 3); --name STEM
// writes OUT_DIR/STEM.<ext> instead of <id>.<ext>.
#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QPixmap>
#include <cstdio>
#include <memory>

#include "core/runtime/errors.h"
#include "core/records/result_store.h"
#include "views/analyses/analysis_view.h"
#include "views/analyses/compare_runs_view.h"
#include "views/export/figure_export.h"
#include "views/analyses/view_catalog.h"

using namespace ptq::views;

// The view as on screen (PNG), and for the compare view its second mode: the first two runs'
// difference B − A. False when a file cannot be written.
bool writeScreenshots(AnalysisView& v, const QDir& out, const QString& stem, const QString& id) {
  v.resize(960, 640);
  v.show();
  QApplication::processEvents();
  QString path = out.filePath(stem + ".png");
  if (!v.grab().save(path)) { std::fprintf(stderr, "cannot write '%s'\n", qPrintable(path)); return false; }
  std::printf("%s\n", qPrintable(path));
  if (auto* compare = qobject_cast<CompareRunsView*>(&v); compare && compare->runCount() >= 2) {
    compare->setMode(CompareRunsView::Difference);
    compare->selectPair(0, 1);
    QApplication::processEvents();
    path = out.filePath(id + "-difference.png");
    if (!v.grab().save(path)) { std::fprintf(stderr, "cannot write '%s'\n", qPrintable(path)); return false; }
    std::printf("%s\n", qPrintable(path));
  }
  return true;
}

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  QStringList args = app.arguments().mid(1);
  bool shots = args.removeAll("--screenshots") > 0;
  FigureSize size = FigureSize::doubleColumn();
  int s = static_cast<int>(args.indexOf("--size"));
  if (s >= 0 && s + 1 < args.size()) {
    if (args[s + 1] == "single") size = FigureSize::singleColumn();
    args.remove(s, 2);
  }
  auto option = [&](const QString& flag) {
    QStringList values;
    for (int i = static_cast<int>(args.indexOf(flag)); i >= 0 && i + 1 < args.size();
         i = static_cast<int>(args.indexOf(flag))) {
      values << args[i + 1];
      args.remove(i, 2);
    }
    return values;
  };
  const QStringList only = option("--only"), sets = option("--set"), names = option("--name");
  if (args.size() != 2) {
    std::fprintf(stderr, "usage: render_views RESULTS_DIR OUT_DIR [--screenshots] [--size single|double] [--only ID]\n"
                         "       [--set NAME=INDEX]... [--name STEM]\n");
    return 2;
  }
  std::vector<nlohmann::json> records;
  try {
    std::vector<std::string> problems;
    for (auto& r : ptq::list_records(args[0].toStdString(), &problems)) records.push_back(std::move(r.record));
    for (const auto& p : problems) std::fprintf(stderr, "skipped %s\n", p.c_str());
  } catch (const ptq::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  if (!QDir().mkpath(args[1])) {
    std::fprintf(stderr, "cannot create '%s'\n", qPrintable(args[1]));
    return 2;
  }
  int missing = 0;
  for (const auto& e : viewCatalog()) {
    if (!only.isEmpty() && !only.contains(e.id)) continue;
    std::unique_ptr<AnalysisView> v(e.make(nullptr));
    v->setRecords(records);
    for (const auto& s : sets)
      if (auto* combo = v->findChild<QComboBox*>(s.section('=', 0, 0))) combo->setCurrentIndex(s.section('=', 1).toInt());
    const QString stem = names.isEmpty() ? e.id : names.front();
    if (!v->hasData()) {
      std::fprintf(stderr, "%s: %s\n", qPrintable(e.id), qPrintable(v->noDataMessage()));
      ++missing;
      continue;
    }
    QDir out(args[1]);
    if (shots) {
      if (!writeScreenshots(*v, out, stem, e.id)) return 2;
      continue;
    }
    for (const auto& fmt : figureFormats()) {
      QString path = out.filePath(stem + "." + fmt), error;
      if (!exportFigure(*v, path, size, &error)) { std::fprintf(stderr, "%s\n", qPrintable(error)); return 2; }
      std::printf("%s\n", qPrintable(path));
    }
    if (e.id == "comparison")
      for (const char* fmt : {"csv", "tex"}) {
        QString path = out.filePath(QStringLiteral("comparison.") + fmt), error;
        if (!exportTable(v->dataTable(), path, &error)) { std::fprintf(stderr, "%s\n", qPrintable(error)); return 2; }
        std::printf("%s\n", qPrintable(path));
      }
  }
  return missing ? 1 : 0;
}
