#pragma once
// Point labels of a Qt Charts scatter plot that do not overlap (issue 15): painted on top of the
// chart at paint time (so they follow zoom, pan and the export layout), each placed at the first of
// eight positions around its point that stays inside the plot and clear of every point and of the
// labels placed before it, and hidden when there is none. Points at the same position are drawn
// stacked: one ring, one label listing them all ("×2").
#include <QFont>
#include <QGraphicsItem>
#include <QPointF>
#include <QStringList>
#include <vector>

QT_BEGIN_NAMESPACE
class QAbstractSeries;
class QChart;
QT_END_NAMESPACE

namespace ptq::views {

struct PointLabel {
  QPointF value;               // in the series' domain
  QAbstractSeries* series;     // for the mapping
  QString text;
  bool hiddenSeries = false;   // label skipped when its series is hidden
};

// The placement, pure geometry: for each point (device position, label size), the label's box or
// a null rect when it is hidden. `radius`: the point marker's radius; `gap` between point and label.
std::vector<QRectF> placeLabels(const std::vector<QPointF>& points, const std::vector<QSizeF>& sizes, const QRectF& plot,
                                double radius, double gap);

class PointLabelLayer : public QGraphicsItem {
 public:
  PointLabelLayer(QChart* chart, std::vector<PointLabel> labels, const QFont& font, double markerRadius);
  QRectF boundingRect() const override;
  void paint(QPainter* p, const QStyleOptionGraphicsItem*, QWidget*) override;
  // The labels as last painted (text and box), for tests; hidden ones are absent.
  const std::vector<std::pair<QString, QRectF>>& placed() const { return placed_; }

 private:
  QChart* chart_;
  std::vector<PointLabel> labels_;
  QFont font_;
  double radius_;
  std::vector<std::pair<QString, QRectF>> placed_;
};

// Annotation lines in the top right corner of the plot area (the KL / JS of the token view).
class NotesLayer : public QGraphicsItem {
 public:
  NotesLayer(QChart* chart, QStringList lines, const QFont& font);
  QRectF boundingRect() const override;
  void paint(QPainter* p, const QStyleOptionGraphicsItem*, QWidget*) override;
  const QStringList& lines() const { return lines_; }

 private:
  QChart* chart_;
  QStringList lines_;
  QFont font_;
};

}  // namespace ptq::views
