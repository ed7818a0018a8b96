#include "views/charts/chart_scene.h"

#include <QCoreApplication>
#include <QFontMetricsF>
#include <QGraphicsLayout>
#include <QGraphicsScene>
#include <QPaintDevice>
#include <QPainter>
#include <QtCharts/QAbstractBarSeries>
#include <QtCharts/QBarCategoryAxis>
#include <QtCharts/QScatterSeries>
#include <QtCharts/QBarSet>
#include <QtCharts/QCategoryAxis>
#include <QtCharts/QLegend>
#include <QtCharts/QLegendMarker>
#include <QtCharts/QLogValueAxis>
#include <QtCharts/QValueAxis>
#include <QtCharts/QXYSeries>
#include <cmath>

#include "views/charts/plot_axis.h"

namespace ptq::views {
namespace {
void styleAxis(QAbstractAxis* a, const ChartStyle& s, const QString& title) {
  a->setTitleText(title);
  a->setTitleFont(s.font(1.0));
  a->setLabelsFont(s.font(0.9));
  a->setLabelsColor(s.textColor());
  a->setTitleBrush(s.textColor());
  a->setLinePen(s.axisPen());
  a->setGridLinePen(s.gridPen());
  QPen minor = s.gridPen();
  minor.setColor(QColor(235, 235, 235));
  a->setMinorGridLinePen(minor);
}

QColor faded(QColor c) {
  c.setAlphaF(0.25);
  return c;
}
}  // namespace

void styleChart(QChart* chart, const ChartStyle& s, const QString& title) {
  chart->setAnimationOptions(QChart::NoAnimation);
  chart->setBackgroundRoundness(0);
  chart->setDropShadowEnabled(false);
  chart->setBackgroundBrush(Qt::white);
  chart->setBackgroundPen(Qt::NoPen);
  chart->setMargins(QMargins(int(s.pt(2)), int(s.pt(2)), int(s.pt(2)), int(s.pt(2))));
  chart->layout()->setContentsMargins(0, 0, 0, 0);
  chart->setTitle(title);
  chart->setTitleFont(s.font(1.15, true));
  chart->setTitleBrush(s.textColor());
  QLegend* legend = chart->legend();
  legend->setFont(s.font(0.9));
  legend->setLabelColor(s.textColor());
  legend->setAlignment(Qt::AlignTop);
  legend->setMarkerShape(QLegend::MarkerShapeFromSeries);
}

void relabelLog(QCategoryAxis* a) {
  const auto labels = a->categoriesLabels();
  for (const QString& l : labels) a->remove(l);
  PlotAxis range{std::pow(10.0, a->min()), std::pow(10.0, a->max()), true, {}};
  for (double t : range.ticks()) a->append(range.tickLabel(t), std::log10(t));
  a->setStartValue(a->min());
}

QAbstractAxis* makeValueAxis(const ChartStyle& s, const QString& title, double lo, double hi, bool log, bool nativeLog) {
  QAbstractAxis* axis;
  if (log && !nativeLog) {
    auto* a = new QCategoryAxis;
    a->setProperty(chart_prop::log, true);
    a->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    if (lo > 0 && hi > lo) a->setRange(std::log10(lo), std::log10(hi));
    relabelLog(a);
    QObject::connect(a, &QValueAxis::rangeChanged, a, [a] {
      if (a->property("ptqRelabelling").toBool()) return;
      a->setProperty("ptqRelabelling", true);
      relabelLog(a);
      a->setProperty("ptqRelabelling", false);
    });
    axis = a;
  } else if (log) {
    auto* a = new QLogValueAxis;
    a->setBase(10);
    a->setLabelFormat("%g");
    a->setMinorTickCount(8);
    if (lo > 0 && hi > lo) a->setRange(lo, hi);
    axis = a;
  } else {
    auto* a = new QValueAxis;
    if (hi > lo) {
      a->setRange(lo, hi);
      // Ticks at PlotAxis's 1-2-5 steps from 0, the range left as fitted (applyNiceNumbers would
      // widen it, up to a negative rank on the token axis).
      std::vector<double> ticks = PlotAxis{lo, hi, false, {}}.ticks();
      if (ticks.size() >= 2) {
        a->setTickType(QValueAxis::TicksDynamic);
        a->setTickAnchor(0);
        a->setTickInterval(ticks[1] - ticks[0]);
      }
    }
    a->setLabelFormat("%g");
    axis = a;
  }
  styleAxis(axis, s, title);
  return axis;
}

bool isLogAxis(const QAbstractAxis* axis) {
  return axis && (axis->property(chart_prop::log).toBool() || axis->type() == QAbstractAxis::AxisTypeLogValue);
}

double toAxis(const QAbstractAxis* axis, double value) {
  if (!axis || !axis->property(chart_prop::log).toBool()) return value;
  return value > 0 ? std::log10(value) : NAN;
}

double fromAxis(const QAbstractAxis* axis, double value) {
  return axis && axis->property(chart_prop::log).toBool() ? std::pow(10.0, value) : value;
}

QScatterSeries* makeMethodScatter(const QString& method, const QString& name, double radius) {
  auto* ser = new QScatterSeries;
  ser->setName(name);
  ser->setProperty(chart_prop::key, method);
  ser->setColor(ChartStyle::methodColor(method));
  ser->setBorderColor(ChartStyle::methodColor(method));
  ser->setMarkerSize(2 * radius);
  return ser;
}

QAbstractAxis* makeCategoryAxis(const ChartStyle& s, const QString& title, const QStringList& categories) {
  auto* a = new QBarCategoryAxis;
  a->append(categories);
  styleAxis(a, s, title);
  a->setGridLineVisible(false);
  return a;
}

QString seriesKey(const QObject* o) {
  QVariant k = o->property(chart_prop::key);
  if (k.isValid()) return k.toString();
  if (auto* set = qobject_cast<const QBarSet*>(o)) return set->label();
  if (auto* series = qobject_cast<const QAbstractSeries*>(o)) return series->name();
  return {};
}

void setSeriesShown(QChart* chart, const QString& key, bool shown) {
  for (QAbstractSeries* series : chart->series()) {
    if (auto* bars = qobject_cast<QAbstractBarSeries*>(series)) {
      for (QBarSet* set : bars->barSets()) {
        if (seriesKey(set) != key) continue;
        if (!set->property("ptqColor").isValid()) set->setProperty("ptqColor", set->color());
        QColor c = set->property("ptqColor").value<QColor>();
        set->setColor(shown ? c : QColor(Qt::transparent));
        set->setBorderColor(shown ? c : QColor(Qt::transparent));
        set->setProperty("ptqHidden", !shown);
        for (QLegendMarker* m : chart->legend()->markers(bars))
          if (seriesKey(m->series()) == seriesKey(bars) && m->label() == set->label()) m->setBrush(shown ? c : faded(c));
      }
      continue;
    }
    if (seriesKey(series) != key) continue;
    series->setVisible(shown);
    for (QLegendMarker* m : chart->legend()->markers(series)) {
      m->setVisible(true);
      QColor label = m->labelBrush().color();
      label.setAlphaF(shown ? 1.0 : 0.35);
      m->setLabelBrush(label);
    }
  }
}

bool seriesShown(QChart* chart, const QString& key) {
  for (QAbstractSeries* series : chart->series()) {
    if (auto* bars = qobject_cast<QAbstractBarSeries*>(series)) {
      for (QBarSet* set : bars->barSets())
        if (seriesKey(set) == key) return !set->property("ptqHidden").toBool();
    } else if (seriesKey(series) == key) {
      return series->isVisible();
    }
  }
  return false;
}

QSizeF exportSceneSize(const QPainter& p, const QRectF& target) {
  double dpi = p.device() ? p.device()->logicalDpiY() : 96.0;
  return target.size() * (144.0 / dpi);
}

ChartStyle exportStyle(const QPainter& p) { return ChartStyle(144.0, p.font()); }

void fitLegend(QChart* chart, double width) {
  QLegend* legend = chart->legend();
  if (!legend->isVisible()) return;
  QFontMetricsF fm(legend->font());
  double need = 0;
  for (QLegendMarker* m : legend->markers())
    if (m->isVisible()) need += fm.horizontalAdvance(m->label()) + 2.5 * fm.height();
  // Qt elides legend labels rather than wrap them: one row while it fits, else a column on the right.
  legend->setAlignment(need <= 0.92 * width ? Qt::AlignTop : Qt::AlignRight);
}

void renderChart(QChart* chart, const QSizeF& sceneSize, QPainter& p, const QRectF& target, const QRectF& plotArea) {
  QGraphicsScene scene;
  scene.addItem(chart);  // the scene owns the chart from here on
  fitLegend(chart, sceneSize.width());
  chart->setGeometry(QRectF(QPointF(0, 0), sceneSize));
  // Qt Charts lays out on the LayoutRequest event; deliver it now, offscreen, before painting
  // A wanted plot area: the margins moved by what the first layout missed it by (QChart::
  // setPlotArea moves the series but leaves the axes where the layout put them).
  chart->layout()->activate();
  QCoreApplication::sendPostedEvents(nullptr, QEvent::LayoutRequest);
  if (!plotArea.isNull()) {
    const QRectF got = chart->plotArea();
    QMargins m = chart->margins();
    m.setLeft(std::max(0, int(std::lround(m.left() + plotArea.left() - got.left()))));
    m.setRight(std::max(0, int(std::lround(m.right() + got.right() - plotArea.right()))));
    chart->setMargins(m);
    chart->layout()->invalidate();
    chart->layout()->activate();
    QCoreApplication::sendPostedEvents(nullptr, QEvent::LayoutRequest);
  }
  scene.setSceneRect(QRectF(QPointF(0, 0), sceneSize));
  p.save();
  p.setRenderHint(QPainter::Antialiasing);
  p.setRenderHint(QPainter::TextAntialiasing);
  scene.render(&p, target, scene.sceneRect(), Qt::IgnoreAspectRatio);
  p.restore();
}

}  // namespace ptq::views
