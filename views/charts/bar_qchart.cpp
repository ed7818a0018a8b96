#include "views/charts/bar_qchart.h"

#include <QtCharts/QBarSeries>
#include <QtCharts/QBarSet>
#include <QtCharts/QLegend>
#include <QtCharts/QLegendMarker>
#include <QtCharts/QLineSeries>
#include <cmath>

#include "views/charts/plot_axis.h"
#include "views/records/record_fields.h"

namespace ptq::views {

QChart* barQChart(const BarChart& chart, const ChartStyle& s, const std::function<QString(const QString&)>& displayName,
                  const QString& context, const std::vector<ReferenceLine>& references) {
  auto* c = new QChart;
  styleChart(c, s, chart.title);
  auto* bars = new QBarSeries;
  bars->setBarWidth(0.8);
  std::vector<double> all;
  for (const auto& ser : chart.series) {
    auto* set = new QBarSet(displayName(ser.name));
    set->setProperty(chart_prop::key, ser.name);
    set->setColor(ser.color);
    set->setBorderColor(ser.color);
    QStringList tips;
    for (int i = 0; i < chart.categories.size(); ++i) {
      double v = i < int(ser.values.size()) ? ser.values[i] : NAN;
      bool drawn = std::isfinite(v) && (!chart.log || v > 0);
      // A bar the axis cannot show (missing, or not positive on a log axis) has no height.
      set->append(drawn ? v : (chart.log ? NAN : 0.0));
      if (drawn) all.push_back(v);
      QString tip = QObject::tr("%1\n%2 %3: %4").arg(displayName(ser.name), chart.categoryLabel, chart.categories[i],
                                                    drawn ? formatNumber(v, 6) : QObject::tr("not shown"));
      tips << (context.isEmpty() ? tip : tip + "\n" + context);
    }
    set->setProperty(chart_prop::tips, tips);
    bars->append(set);
  }
  for (const auto& ref : references) all.push_back(ref.value);
  c->addSeries(bars);
  c->legend()->setVisible(chart.series.size() > 1 || !references.empty());
  c->legend()->setMarkerShape(QLegend::MarkerShapeRectangle);  // filled boxes (the bars' colours)
  QAbstractAxis* ax = makeCategoryAxis(s, chart.categoryLabel, chart.categories);
  PlotAxis fit = PlotAxis::fit(all, chart.log, !chart.log, 0.06);
  QAbstractAxis* ay = makeValueAxis(s, chart.valueLabel, chart.log ? fit.lo : std::min(0.0, fit.lo), fit.hi, chart.log, true);
  c->addAxis(ax, Qt::AlignBottom);
  c->addAxis(ay, Qt::AlignLeft);
  bars->attachAxis(ax);
  bars->attachAxis(ay);
  for (const auto& ref : references) {
    auto* line = new QLineSeries;
    line->setName(displayName(ref.name));
    line->setProperty(chart_prop::key, ref.name);
    QPen pen = s.seriesPen(ref.color, 1.0);
    pen.setStyle(Qt::DashLine);
    line->setPen(pen);
    line->append(-0.5, ref.value);
    line->append(chart.categories.size() - 0.5, ref.value);
    line->setProperty(chart_prop::tips, QStringList{ref.name, ref.name});
    c->addSeries(line);
    line->attachAxis(ax);
    line->attachAxis(ay);
    for (QLegendMarker* m : c->legend()->markers(line)) m->setShape(QLegend::MarkerShapeFromSeries);  // a dashed line, as drawn
  }
  return c;
}

}  // namespace ptq::views
