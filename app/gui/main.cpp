// ptq-workbench: the desktop application. Arguments: model folders to open in the library.
#include <QApplication>

#include "app/gui/main_window.h"
#include "views/model_library_panel.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName("PTQ Workbench");
  QApplication::setOrganizationName("ptq-workbench");
  ptq::gui::MainWindow w;
  for (const QString& dir : QApplication::arguments().mid(1)) w.modelLibrary()->addModel(dir);
  w.show();
  return app.exec();
}
