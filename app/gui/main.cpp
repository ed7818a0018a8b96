// ptq-workbench: the desktop application.
//   ptq-workbench                      reopens the last session, else the bundled demo model and demo sweep
//   ptq-workbench MODEL_DIR...         opens these checkpoint folders in the model library
//   ptq-workbench --headless --out DIR [--sweep SPEC] [--results DIR]   (no window; headless.h)
//   ptq-workbench --screenshots DIR [--results DIR]                      (PNGs of every panel and view)
#include <QApplication>
#include <QCommandLineParser>
#include <cstring>

#include "app/gui/demo.h"
#include "app/gui/headless.h"
#include "app/gui/main_window.h"
#include "app/gui/workbench_paths.h"
#include "core/runtime/host_allocator.h"
#include "core/runtime/omp_wait.h"

int main(int argc, char** argv) {
  ptq::reexec_with_passive_omp_wait(argv);  // libgomp's pool must not spin beside OpenBLAS's (as ptq)
  ptq::configure_host_allocator();  // the engine's jobs run in this process
  // Without a window there may be no display either.
  for (int i = 1; i < argc; ++i)
    if ((!std::strcmp(argv[i], "--headless") || !std::strcmp(argv[i], "--screenshots")) && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
      qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  QApplication::setApplicationName("PTQ Workbench");
  QApplication::setOrganizationName("ptq-workbench");

  QCommandLineParser cli;
  cli.setApplicationDescription("PTQ Workbench: post-training quantization of LLMs");
  cli.addHelpOption();
  cli.addOption({"headless", "Run the sweep without a window, then write every figure and table to --out."});
  cli.addOption({"out", "Folder for figures and tables (--headless).", "DIR"});
  cli.addOption({"sweep", "Sweep spec (default: the bundled demo sweep).", "SPEC"});
  cli.addOption({"results", "Results directory (default: ./demo-results).", "DIR"});
  cli.addOption({"screenshots", "Render the window, each panel and each view to PNGs in DIR.", "DIR"});
  cli.addPositionalArgument("models", "Checkpoint folders to open (default: the bundled demo model).");
  cli.process(app);

  using namespace ptq::gui;
  if (cli.isSet("headless")) return runHeadless({cli.value("out"), cli.value("sweep"), cli.value("results")});
  if (cli.isSet("screenshots")) return renderScreenshots(cli.value("screenshots"), cli.value("results"));

  MainWindow w;
  const QStringList models = cli.positionalArguments();
  if (models.isEmpty()) {
    // The last session (library, results folder, experiment form), else the bundled demo.
    if (!w.restoreSession()) openDemo(w, cli.isSet("results") ? cli.value("results") : defaultResultsDir());
  } else {
    for (const QString& dir : models) w.openModel(dir);
    w.openResults(cli.isSet("results") ? cli.value("results") : defaultResultsDir());
  }
  w.show();
  return app.exec();
}
