#pragma once
// A chart view drawn by Qt Charts (issue 15): the subclass builds a QChart from its data
// (buildChart, with the style's fonts and pens); the same builder serves the screen (an
// InteractiveChart: hover, zoom, pan, legend toggling, context menu) and the export, which renders
// a fresh chart laid out at the figure's physical size onto the export painter (chart_scene.h), so
// PNG, SVG and PDF stay the one path of figure_export.h. What the user changed on screen lives
// here and is applied to both: series renamed, series hidden, axis ranges zoomed, panned or typed.
#include <QHash>
#include <QSet>

#include "views/charts/chart_scene.h"
#include "views/charts/chart_view_base.h"

namespace ptq::views {

class InteractiveChart;

class QtChartViewBase : public ChartViewBase {
  Q_OBJECT
 public:
  explicit QtChartViewBase(const QString& id, const QString& title, QWidget* parent = nullptr);

  InteractiveChart* chartView() const { return chartView_; }
  // The Qt chart on screen (rebuilt on every change; do not keep the pointer).
  QChart* qchart() const;

  // Display name of a series (its key unless renamed: "gptq" -> "GPTQ"); an empty name restores it.
  void setSeriesName(const QString& key, const QString& name);
  QString displayName(const QString& key) const;
  void setSeriesHidden(const QString& key, bool hidden);
  bool seriesHidden(const QString& key) const { return hidden_.contains(key); }
  // Fixes the range of the axis of that orientation (kept per axis title, so choosing another
  // metric starts automatic again); lo >= hi goes back to automatic.
  void setAxisRange(Qt::Orientation o, double lo, double hi);
  AxisRange axisRange(Qt::Orientation o) const;
  // Back to automatic ranges on every axis shown.
  void resetZoom();

 Q_SIGNALS:
  void exportRequested();

 protected:
  // A new chart of the current data, styled with `s`; series and bar sets carry their key
  // (chart_prop::key) and display name (displayName), points their tooltips (chart_prop::tips).
  virtual QChart* buildChart(const ChartStyle& s) const = 0;
  void paintFigure(QPainter& p, const QRectF& target) override;
  // The chart with this view's state applied (hidden series, axis ranges).
  QChart* makeChart(const ChartStyle& s) const;
  ChartStyle screenStyle() const;
  void showChart();

 private:
  void rememberRanges();
  void askAxisRanges();
  void askRename();

  InteractiveChart* chartView_;
  QHash<QString, QString> names_;
  QSet<QString> hidden_;
  QHash<QString, AxisRange> ranges_;  // by axis title
};

}  // namespace ptq::views
