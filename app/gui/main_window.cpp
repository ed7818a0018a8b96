#include "app/gui/main_window.h"

#include <QMenuBar>

#include "views/model_library_panel.h"

namespace ptq::gui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setWindowTitle(tr("PTQ Workbench"));
  library_ = new views::ModelLibraryPanel(this);
  setCentralWidget(library_);
  auto* file = menuBar()->addMenu(tr("&File"));
  file->addAction(tr("&Quit"), this, &QWidget::close);
  resize(1000, 700);
}

}  // namespace ptq::gui
