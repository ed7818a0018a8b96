#pragma once
// The workbench window: a frame that hosts the panels from views/ and wires them together.
#include <QMainWindow>

namespace ptq::views {
class ModelLibraryPanel;
}

namespace ptq::gui {

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  views::ModelLibraryPanel* modelLibrary() const { return library_; }

 private:
  views::ModelLibraryPanel* library_;
};

}  // namespace ptq::gui
