#pragma once
// One dialog for exporting a figure (issue 15): file name (with a browse button), format, paper
// preset and DPI (enabled for PNG only, the one raster format), remembered in the settings; an
// export error is shown in the dialog, which stays open to fix it, not only in the status bar.
#include <QDialog>

#include "views/export/figure_export.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace ptq::views {

class AnalysisView;
class Settings;

class ExportDialog : public QDialog {
  Q_OBJECT
 public:
  ExportDialog(AnalysisView& view, Settings& settings, QWidget* parent = nullptr);

  // The path with the chosen format's suffix (replacing another figure suffix).
  QString path() const;
  FigureSize size() const;
  QString error() const;
  QComboBox* format() const { return format_; }
  QComboBox* preset() const { return preset_; }
  QSpinBox* dpi() const { return dpi_; }
  QLineEdit* fileName() const { return file_; }
  // Exports with the dialog's choices; on success remembers them and accepts, else shows the error.
  bool exportNow();

 private:
  void updateDpi();
  AnalysisView& view_;
  Settings& settings_;
  QLineEdit* file_;
  QComboBox *format_, *preset_;
  QSpinBox* dpi_;
  QLabel* error_;
};

}  // namespace ptq::views
