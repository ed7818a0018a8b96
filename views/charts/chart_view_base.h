#pragma once
// Shared plumbing of the chart views: a row of controls (record picker, switches) above a
// FigureCanvas that paints the view's exportPaint; any control change recomputes the chart data
// (rebuild()) and repaints. Subclasses implement rebuild() and paintFigure().
#include <QComboBox>
#include <QStringList>
#include <vector>

#include "views/analyses/analysis_view.h"
#include "views/charts/figure_canvas.h"
#include "views/records/record_fields.h"

class QCheckBox;
class QHBoxLayout;
class QVBoxLayout;

namespace ptq::views {

class ChartViewBase : public AnalysisView {
  Q_OBJECT
 public:
  explicit ChartViewBase(const QString& id, const QString& title, QWidget* parent = nullptr);
  QString viewId() const override { return id_; }
  QString title() const override { return title_; }
  void exportPaint(QPainter& p, const QRectF& target) override;
  bool hasData() const override { return noDataMessage().isEmpty(); }

 protected:
  // Recomputes the chart data from the records and the controls.
  virtual void rebuild() = 0;
  // Paints the figure (only called when hasData()).
  virtual void paintFigure(QPainter& p, const QRectF& target) = 0;
  // What the on-screen canvas shows: the exported figure unless a view shows parts of it in
  // widgets of their own (the heatmap).
  virtual void paintCanvas(QPainter& p, const QRectF& target) { exportPaint(p, target); }

  QComboBox* addCombo(const QString& objectName, const QString& label, const QStringList& items);
  QCheckBox* addCheck(const QString& objectName, const QString& text, bool on);
  // Refills a combo box without emitting, keeping the current item (matched by data, else by
  // text) when it is still there, else selecting the first; hidden with fewer than 2 items when
  // hideSingle. Callers refresh() afterwards.
  static void refill(QComboBox* combo, const QStringList& texts, const QStringList& data = {}, bool hideSingle = false);
  // A record picker: the labels of `records`.
  static void fillPicker(QComboBox* picker, const std::vector<Record>& records);
  // Rebuilds and repaints; emits figureChanged.
  void refresh();
  QVBoxLayout* body() { return body_; }
  FigureCanvas* canvas() { return canvas_; }

 private:
  QString id_, title_;
  QHBoxLayout* controls_;
  QVBoxLayout* body_;
  FigureCanvas* canvas_;
  bool refreshing_ = false;
};

}  // namespace ptq::views
