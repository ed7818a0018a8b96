#pragma once
// The base of every analysis view: a widget fed only by result records (docs/results-schema.md),
// which can paint its whole figure into any paint device (LabPlot's exportPaint), so one routine
// (figure_export.h) writes PNG, SVG and PDF for every view. Views read records, never tensors.
#include <QRectF>
#include <QString>
#include <QWidget>
#include <nlohmann/json.hpp>
#include <vector>

#include "views/export/table_export.h"

class QPainter;

namespace ptq::views {

class AnalysisView : public QWidget {
  Q_OBJECT
 public:
  explicit AnalysisView(QWidget* parent = nullptr) : QWidget(parent) {}
  ~AnalysisView() override = default;

  // Stable identifier ("kurtosis", "layer_error", ...): file names of exported figures.
  virtual QString viewId() const { return objectName(); }
  // Human-readable title (tab label, figure caption).
  virtual QString title() const { return viewId(); }
  // Replaces the data shown. Records without the analysis the view needs are ignored; with none
  // left the view shows "no data: run X with analysis Y" (noDataMessage()).
  virtual void setRecords(const std::vector<nlohmann::json>& records) = 0;
  // Paints the whole figure (as currently configured: metric, axes, switches) into `target`
  // of any device. Fonts are taken from the painter's device DPI (chart_style.h), so the same
  // call serves the screen, a 600-dpi PNG, an SVG and a PDF.
  virtual void exportPaint(QPainter& p, const QRectF& target) = 0;
  // True when the records hold something this view can draw.
  virtual bool hasData() const = 0;
  // Empty when hasData(); else the message shown instead of a figure.
  virtual QString noDataMessage() const = 0;
  // The numbers behind the figure as a table (for CSV / LaTeX next to the figure); empty
  // without data.
  virtual TextTable dataTable() const { return {}; }

 Q_SIGNALS:
  // Emitted when the figure changes (new records, a switch toggled).
  void figureChanged();
};

}  // namespace ptq::views
