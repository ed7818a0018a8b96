#pragma once
// A BarChart (bar_chart.h: categories along x, one bar set per series) as a Qt Charts chart
// (issue 15): a QBarSeries on a category axis and a value or log axis; every bar carries its
// tooltip (series, category, exact value, and `context`: the run it belongs to). Reference lines
// (the Gaussian kurtosis 3) are dashed line series across all categories, in the legend.
#include <QString>
#include <functional>
#include <vector>

#include "views/charts/bar_chart.h"
#include "views/charts/chart_scene.h"

namespace ptq::views {

struct ReferenceLine {
  QString name;   // legend entry and key
  double value;
  QColor color;
};

// displayName: series key -> name shown (the view's renames).
QChart* barQChart(const BarChart& chart, const ChartStyle& s, const std::function<QString(const QString&)>& displayName,
                  const QString& context, const std::vector<ReferenceLine>& references = {});

}  // namespace ptq::views
