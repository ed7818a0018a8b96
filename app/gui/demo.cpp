#include "app/gui/demo.h"

#include <QFileInfo>

#include "app/gui/main_window.h"
#include "app/gui/workbench_paths.h"
#include "views/panels/model_library_panel.h"
#include "views/panels/results_browser.h"
#include "views/panels/strategy_panel.h"
#include "views/panels/sweep_builder.h"

namespace ptq::gui {

QString demoSweepPath() { return resourcePath("demo-sweep.json"); }

bool openDemo(MainWindow& w, const QString& resultsDir, QString* error) {
  QStringList problems;
  const QString model = resourcePath("demo-model");
  if (model.isEmpty()) problems << QObject::tr("the bundled resources folder was not found");
  else if (!w.openModel(model)) problems << w.modelLibrary()->error();
  w.strategyPanel()->setDefaultTexts(resourcePath("demo-text/austen-valid.txt"), resourcePath("demo-text/austen-test.txt"));
  QString err;
  const QString sweep = demoSweepPath();
  if (!sweep.isEmpty() && QFileInfo::exists(sweep)) {
    if (w.sweepBuilder()->loadFile(sweep, &err)) {
      for (const auto& run : w.sweepBuilder()->runs())
        if (run.value("method", "fp") != "fp") {
          w.strategyPanel()->setSpec(run);
          break;
        }
    } else {
      problems << sweep + ": " + err;
    }
  }
  if (!w.openResults(resultsDir)) problems << resultsDir;
  w.showFirstRunHint(w.resultsBrowser()->directory());
  if (error) *error = problems.join("; ");
  return problems.isEmpty();
}

}  // namespace ptq::gui
