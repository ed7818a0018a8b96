#pragma once
// Where the workbench finds what it ships and where it writes by default.
#include <QString>

namespace ptq::gui {

// The bundled resources folder (demo-model/, demo-text/, demo-sweep.json): "resources" next to
// the executable or one of its parents, "share/ptq-workbench/resources" of an install, or the
// source tree's (PTQ_SOURCE_DIR, compiled in) when run from a build tree. Empty when none exists.
QString resourcesDir();
QString resourcePath(const QString& relative);  // resourcesDir()/relative
// ./demo-results when the current directory is writable, else the user's data folder's.
QString defaultResultsDir();

}  // namespace ptq::gui
