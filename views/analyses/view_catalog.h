#pragma once
// Every analysis view the workbench offers, in display order: the main window builds its tabs
// from this list and headless mode exports one figure per entry. Adding a view = one entry in
// view_catalog.cpp.
#include <QString>
#include <functional>
#include <vector>

class QWidget;

namespace ptq::views {

class AnalysisView;

struct ViewEntry {
  QString id, title;
  std::function<AnalysisView*(QWidget*)> make;
};

const std::vector<ViewEntry>& viewCatalog();
// The entry with this id, or nullptr.
const ViewEntry* findView(const QString& id);

}  // namespace ptq::views
