#pragma once
// The workbench as it opens with no arguments: the bundled demo model in the library, the demo
// sweep (resources/demo-sweep.json) in the sweep builder, its first quantized run in the
// experiment panel, and the results directory.
#include <QString>

namespace ptq::gui {

class MainWindow;

QString demoSweepPath();  // resources/demo-sweep.json ("" when the resources are missing)
// Returns false (and the reason in *error) when a piece could not be loaded; the rest still is.
bool openDemo(MainWindow& w, const QString& resultsDir, QString* error = nullptr);

}  // namespace ptq::gui
