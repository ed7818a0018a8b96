#pragma once
// `ptq-workbench --headless --out DIR [--sweep SPEC] [--results DIR]`: runs a sweep (default: the
// demo sweep) through the GUI's job queue without a window, reusing complete records, then writes
// every catalog view's figure (SVG, PNG, PDF) and the tables (CSV, LaTeX) to DIR and prints a JSON
// summary on stdout. `--screenshots DIR` renders the window and each panel to PNGs.
#include <QString>

namespace ptq::gui {

struct HeadlessOptions {
  QString out;      // figures and tables
  QString sweep;    // sweep spec; empty = resources/demo-sweep.json
  QString results;  // results directory; empty = defaultResultsDir()
};

// Exit status: 0 when every run and export succeeded, 1 when some failed (the summary says which),
// 2 on bad arguments.
int runHeadless(const HeadlessOptions& o);
int renderScreenshots(const QString& dir, const QString& results);

}  // namespace ptq::gui
