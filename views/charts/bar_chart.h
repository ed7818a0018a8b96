#pragma once
// Grouped bar charts (categories along x, one bar per series in each category): the data the
// kurtosis and per-layer error views compute, and the one routine that paints it.
#include <QColor>
#include <QString>
#include <QStringList>
#include <cmath>
#include <vector>

#include "views/export/table_export.h"

class QPainter;
class QRectF;

namespace ptq::views {

class ChartStyle;

struct BarSeries {
  QString name;
  QColor color;
  std::vector<double> values;  // one per category; NaN = no bar
};

struct BarChart {
  QString title, categoryLabel, valueLabel;
  QStringList categories;
  std::vector<BarSeries> series;
  bool log = false;

  // Bars actually drawn (finite values; positive ones on a log axis).
  int barCount() const;
  // NaN when the series or category is unknown.
  double value(const QString& series, const QString& category) const;
  // Categories as rows, series as columns (the data behind the figure).
  TextTable table() const;
};

// alignLeft / alignRight: see PlotFrame (NaN: from the layout).
void paintBarChart(QPainter& p, const ChartStyle& s, const QRectF& target, const BarChart& chart, double alignLeft = NAN,
                   double alignRight = NAN);

}  // namespace ptq::views
