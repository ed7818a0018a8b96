#include "views/charts/interactive_chart.h"

#include <QApplication>
#include <QClipboard>
#include <QContextMenuEvent>
#include <QMenu>
#include <QResizeEvent>
#include <QRubberBand>
#include <QToolTip>
#include <QtCharts/QAbstractBarSeries>
#include <QtCharts/QBarLegendMarker>
#include <QtCharts/QBarSet>
#include <QtCharts/QLegend>
#include <QtCharts/QLegendMarker>
#include <QtCharts/QLogValueAxis>
#include <QtCharts/QScatterSeries>
#include <QtCharts/QValueAxis>
#include <QtCharts/QXYSeries>
#include <cmath>

#include "views/charts/chart_scene.h"

namespace ptq::views {
namespace {
constexpr int kDragThreshold = 4;  // pixels: below, a press and release is a click

struct Hit {
  QXYSeries* series = nullptr;
  int index = -1;
};

// The nearest visible point to scenePos within its marker radius plus a few pixels.
Hit nearestPoint(QChart* chart, const QPointF& scenePos) {
  Hit best;
  double bestD = INFINITY;
  if (!chart || !chart->plotArea().contains(scenePos)) return best;
  for (QAbstractSeries* s : chart->series()) {
    auto* xy = qobject_cast<QXYSeries*>(s);
    if (!xy || !xy->isVisible() || xy->property(chart_prop::passive).toBool()) continue;
    if (!xy->property(chart_prop::tips).isValid()) continue;
    auto* scatter = qobject_cast<QScatterSeries*>(xy);
    double radius = (scatter ? scatter->markerSize() / 2 : 2.0) + 4.0;
    const QList<QPointF> pts = xy->points();
    for (int i = 0; i < pts.size(); ++i) {
      QPointF c = chart->mapToPosition(pts[i], xy);
      double d = std::hypot(c.x() - scenePos.x(), c.y() - scenePos.y());
      if (d <= radius && d < bestD) { bestD = d; best = {xy, i}; }
    }
  }
  return best;
}

QString tipOf(const QObject* o, int i) {
  const QStringList tips = o->property(chart_prop::tips).toStringList();
  return i >= 0 && i < tips.size() ? tips[i] : QString();
}
}  // namespace

InteractiveChart::InteractiveChart(QWidget* parent) : QChartView(parent) {
  setRenderHint(QPainter::Antialiasing);
  setRubberBand(QChartView::NoRubberBand);  // our own band: a click must stay a click
  setMouseTracking(true);
  setFocusPolicy(Qt::StrongFocus);
  band_ = new QRubberBand(QRubberBand::Rectangle, viewport());
  band_->hide();
}

void InteractiveChart::replaceChart(QChart* chart) {
  QChart* old = this->chart();
  fitLegend(chart, viewport()->width());
  setChart(chart);
  if (old && old != chart) delete old;
  wireLegend();
}

void InteractiveChart::wireLegend() {
  QChart* c = chart();
  for (QLegendMarker* m : c->legend()->markers()) {
    if (m->series() && m->series()->property(chart_prop::passive).toBool()) {
      m->setVisible(false);
      continue;
    }
    connect(m, &QLegendMarker::clicked, this, [this, m] {
      QObject* target = m->series();
      if (auto* bar = qobject_cast<QBarLegendMarker*>(m)) target = bar->barset();
      const QString key = seriesKey(target);
      const bool shown = !seriesShown(chart(), key);
      setSeriesShown(chart(), key, shown);
      Q_EMIT seriesToggled(key, shown);
    });
  }
}

QString InteractiveChart::barTooltipAt(const QPointF& scenePos) const {
  QChart* c = chart();
  for (QAbstractSeries* s : c->series()) {
    auto* bars = qobject_cast<QAbstractBarSeries*>(s);
    if (!bars || !bars->isVisible()) continue;
    const QList<QBarSet*> sets = bars->barSets();
    const int n = int(sets.size());
    const double w = bars->barWidth();
    double base = 0;
    const auto vertical = c->axes(Qt::Vertical, bars);
    if (!vertical.isEmpty())
      if (auto* log = qobject_cast<QLogValueAxis*>(vertical.first())) base = log->min();
    for (int si = 0; si < n; ++si) {
      if (sets[si]->property("ptqHidden").toBool()) continue;
      for (int ci = 0; ci < sets[si]->count(); ++ci) {
        double left = ci - w / 2 + si * w / n, v = sets[si]->at(ci);
        if (!std::isfinite(v)) continue;
        QRectF r(c->mapToPosition(QPointF(left, v), bars), c->mapToPosition(QPointF(left + w / n, base), bars));
        if (r.normalized().contains(scenePos)) return tipOf(sets[si], ci);
      }
    }
  }
  return {};
}

QString InteractiveChart::tooltipAt(const QPointF& viewportPos) const {
  QChart* c = chart();
  QPointF scenePos = mapToScene(viewportPos.toPoint());
  Hit h = nearestPoint(c, scenePos);
  if (h.series) return tipOf(h.series, h.index);
  return c->plotArea().contains(scenePos) ? barTooltipAt(scenePos) : QString();
}

int InteractiveChart::recordAt(const QPointF& viewportPos) const {
  Hit h = nearestPoint(chart(), mapToScene(viewportPos.toPoint()));
  if (!h.series) return -1;
  const QVariantList ids = h.series->property(chart_prop::ids).toList();
  return h.index < ids.size() ? ids[h.index].toInt() : -1;
}

QPointF InteractiveChart::viewportPosition(const QString& key, int index) const {
  for (QAbstractSeries* s : chart()->series()) {
    auto* xy = qobject_cast<QXYSeries*>(s);
    if (!xy || seriesKey(xy) != key || index < 0 || index >= xy->count()) continue;
    return mapFromScene(chart()->mapToPosition(xy->at(index), xy));
  }
  return {NAN, NAN};
}

void InteractiveChart::zoomAround(const QPointF& viewportPos, double factor) {
  QRectF area = chart()->plotArea();
  QPointF m = mapToScene(viewportPos.toPoint());
  if (!area.contains(m)) m = area.center();
  QRectF r(QPointF(m.x() - (m.x() - area.left()) / factor, m.y() - (m.y() - area.top()) / factor),
           QSizeF(area.width() / factor, area.height() / factor));
  chart()->zoomIn(r);
  Q_EMIT rangesChanged();
}

void InteractiveChart::mousePressEvent(QMouseEvent* e) {
  pressPos_ = e->pos();
  lastPan_ = e->pos();
  panning_ = e->button() == Qt::MiddleButton || (e->button() == Qt::LeftButton && (e->modifiers() & Qt::ShiftModifier));
  banding_ = false;
  // Left presses reach the scene (legend markers are clicked there); right ones do not, since
  // QChartView zooms out on a right release.
  if (e->button() == Qt::LeftButton && !panning_) QChartView::mousePressEvent(e);
  e->accept();
}

void InteractiveChart::mouseMoveEvent(QMouseEvent* e) {
  if (panning_) {
    QPoint d = e->pos() - lastPan_;
    lastPan_ = e->pos();
    chart()->scroll(-d.x(), d.y());
    Q_EMIT rangesChanged();
    return;
  }
  if ((e->buttons() & Qt::LeftButton) && (e->pos() - pressPos_).manhattanLength() > kDragThreshold) {
    banding_ = true;
    band_->setGeometry(QRect(pressPos_, e->pos()).normalized());
    band_->show();
    return;
  }
  if (e->buttons() == Qt::NoButton) {
    QChartView::mouseMoveEvent(e);
    QString tip = tooltipAt(e->position());
    if (tip.isEmpty())
      QToolTip::hideText();
    else
      QToolTip::showText(e->globalPosition().toPoint(), tip, this);
  }
}

void InteractiveChart::mouseReleaseEvent(QMouseEvent* e) {
  if (panning_) {
    panning_ = false;
    return;
  }
  if (e->button() != Qt::LeftButton) return;
  QChartView::mouseReleaseEvent(e);
  if (banding_) {
    banding_ = false;
    band_->hide();
    QRectF r(mapToScene(band_->geometry().topLeft()), mapToScene(band_->geometry().bottomRight()));
    r = r.intersected(chart()->plotArea());
    if (r.width() > 1 && r.height() > 1) {
      chart()->zoomIn(r);
      Q_EMIT rangesChanged();
    }
    return;
  }
  int record = recordAt(e->position());
  if (record >= 0) Q_EMIT recordClicked(record);
}

void InteractiveChart::mouseDoubleClickEvent(QMouseEvent* e) {
  if (e->button() == Qt::LeftButton) Q_EMIT resetRequested();
}

void InteractiveChart::wheelEvent(QWheelEvent* e) {
  const double steps = e->angleDelta().y() / 120.0;
  if (steps == 0) return;
  zoomAround(e->position(), std::pow(1.25, steps));
  e->accept();
}

void InteractiveChart::keyPressEvent(QKeyEvent* e) {
  switch (e->key()) {
    case Qt::Key_Home: Q_EMIT resetRequested(); return;
    case Qt::Key_Plus: zoomAround(viewport()->rect().center(), 1.25); return;
    case Qt::Key_Minus: zoomAround(viewport()->rect().center(), 0.8); return;
    case Qt::Key_Left: chart()->scroll(-20, 0); Q_EMIT rangesChanged(); return;
    case Qt::Key_Right: chart()->scroll(20, 0); Q_EMIT rangesChanged(); return;
    case Qt::Key_Up: chart()->scroll(0, 20); Q_EMIT rangesChanged(); return;
    case Qt::Key_Down: chart()->scroll(0, -20); Q_EMIT rangesChanged(); return;
    default: QChartView::keyPressEvent(e);
  }
}

void InteractiveChart::resizeEvent(QResizeEvent* e) {
  fitLegend(chart(), e->size().width());
  QChartView::resizeEvent(e);
}

void InteractiveChart::contextMenuEvent(QContextMenuEvent* e) {
  QMenu menu(this);
  menu.addAction(tr("Copy as image"), this, [this] {
    QApplication::clipboard()->setImage(grab().toImage());
  });
  menu.addAction(tr("Export figure…"), this, &InteractiveChart::exportRequested);
  menu.addSeparator();
  menu.addAction(tr("Reset zoom"), this, &InteractiveChart::resetRequested);
  menu.addAction(tr("Axis ranges…"), this, &InteractiveChart::axisRangesRequested);
  menu.addAction(tr("Rename series…"), this, &InteractiveChart::renameRequested);
  menu.exec(e->globalPos());
}

}  // namespace ptq::views
