#include "views/charts/bar_chart.h"

#include <QPainter>
#include <cmath>
#include <limits>

#include "views/charts/plot_frame.h"
#include "views/records/record_fields.h"

namespace ptq::views {

int BarChart::barCount() const {
  int n = 0;
  for (const auto& s : series)
    for (double v : s.values)
      if (std::isfinite(v) && (!log || v > 0)) ++n;
  return n;
}

double BarChart::value(const QString& name, const QString& category) const {
  int c = static_cast<int>(categories.indexOf(category));
  for (const auto& s : series)
    if (s.name == name && c >= 0 && c < static_cast<int>(s.values.size())) return s.values[c];
  return std::numeric_limits<double>::quiet_NaN();
}

TextTable BarChart::table() const {
  TextTable t;
  t.headers << (categoryLabel.isEmpty() ? QStringLiteral("category") : categoryLabel);
  for (const auto& s : series) t.headers << s.name;
  for (int c = 0; c < categories.size(); ++c) {
    QStringList row{categories[c]};
    for (const auto& s : series) row << (c < static_cast<int>(s.values.size()) ? formatNumber(s.values[c], 6, "") : QString());
    t.rows.push_back(row);
  }
  return t;
}

void paintBarChart(QPainter& p, const ChartStyle& s, const QRectF& target, const BarChart& chart, double alignLeft,
                   double alignRight) {
  PlotFrame f(p, s, target);
  f.alignLeft = alignLeft;
  f.alignRight = alignRight;
  f.title = chart.title;
  f.categories = chart.categories;
  f.categoryLabel = chart.categoryLabel;
  std::vector<double> all;
  for (const auto& ser : chart.series) {
    all.insert(all.end(), ser.values.begin(), ser.values.end());
    if (chart.series.size() > 1) f.legend.push_back({ser.name, ser.color, LegendItem::Box});
  }
  f.y = PlotAxis::fit(all, chart.log, !chart.log, 0.06);
  if (!chart.log && f.y.lo == 0) f.y.lo = 0;
  f.y.label = chart.valueLabel;
  f.drawFrame();
  p.save();
  p.setClipRect(f.plotRect().adjusted(0, -1, 1, 0));
  int n = static_cast<int>(chart.series.size());
  for (int si = 0; si < n; ++si) {
    const auto& ser = chart.series[si];
    for (int c = 0; c < chart.categories.size() && c < static_cast<int>(ser.values.size()); ++c) {
      if (!f.y.valid(ser.values[c])) continue;
      p.fillRect(f.bar(c, si, n, ser.values[c]), ser.color);
    }
  }
  p.restore();
  f.finish();
}

}  // namespace ptq::views
