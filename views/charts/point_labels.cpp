#include "views/charts/point_labels.h"

#include <QFontMetricsF>
#include <QPainter>
#include <QtCharts/QAbstractSeries>
#include <QtCharts/QChart>
#include <algorithm>
#include <cmath>
#include <map>

namespace ptq::views {

std::vector<QRectF> placeLabels(const std::vector<QPointF>& points, const std::vector<QSizeF>& sizes, const QRectF& plot,
                                double radius, double gap) {
  std::vector<QRectF> taken, out(points.size());
  for (const auto& c : points) taken.emplace_back(c.x() - radius, c.y() - radius, 2 * radius, 2 * radius);
  for (size_t i = 0; i < points.size(); ++i) {
    const QPointF c = points[i];
    const QSizeF sz = sizes[i];
    const double g = radius + gap;
    const QPointF corners[] = {{c.x() + g, c.y() - sz.height()}, {c.x() + g, c.y()},
                               {c.x() - g - sz.width(), c.y() - sz.height()}, {c.x() - g - sz.width(), c.y()},
                               {c.x() - sz.width() / 2, c.y() - g - sz.height()}, {c.x() - sz.width() / 2, c.y() + g},
                               {c.x() + g, c.y() - sz.height() / 2}, {c.x() - g - sz.width(), c.y() - sz.height() / 2}};
    for (const auto& corner : corners) {
      QRectF box(corner, sz);
      if (!plot.contains(box)) continue;
      if (std::any_of(taken.begin(), taken.end(), [&](const QRectF& t) { return t.intersects(box); })) continue;
      out[i] = box;
      taken.push_back(box);
      break;
    }
  }
  return out;
}

PointLabelLayer::PointLabelLayer(QChart* chart, std::vector<PointLabel> labels, const QFont& font, double markerRadius)
    : QGraphicsItem(chart), chart_(chart), labels_(std::move(labels)), font_(font), radius_(markerRadius) {
  setZValue(1000);
  setAcceptedMouseButtons(Qt::NoButton);
}

QRectF PointLabelLayer::boundingRect() const { return chart_->rect(); }

void PointLabelLayer::paint(QPainter* p, const QStyleOptionGraphicsItem*, QWidget*) {
  placed_.clear();
  const QRectF plot = chart_->plotArea();
  // Stack the points that land on the same device pixel: one ring and one label for all.
  std::map<std::pair<long, long>, size_t> at;
  std::vector<QPointF> points;
  std::vector<QStringList> texts;
  for (const auto& l : labels_) {
    if (l.hiddenSeries || !l.series->isVisible()) continue;
    QPointF c = chart_->mapToPosition(l.value, l.series);
    if (!plot.contains(c)) continue;
    auto key = std::make_pair(std::lround(c.x()), std::lround(c.y()));
    auto it = at.find(key);
    if (it == at.end()) {
      at[key] = points.size();
      points.push_back(c);
      texts.push_back({l.text});
    } else {
      texts[it->second] << l.text;
    }
  }
  QFontMetricsF fm(font_);
  std::vector<QSizeF> sizes;
  std::vector<QString> joined;
  for (const auto& t : texts) {
    // "×2: awq 4b, gptq 4b"; the same run twice (two records of one setting) reads "×2: rtn 3b".
    QStringList distinct = t;
    distinct.removeDuplicates();
    QString s = t.size() > 1 ? QStringLiteral("×%1: %2").arg(t.size()).arg(distinct.join(", ")) : t.first();
    joined.push_back(s);
    sizes.emplace_back(fm.horizontalAdvance(s) + 2, fm.height());
  }
  const double gap = fm.height() * 0.15;
  std::vector<QRectF> boxes = placeLabels(points, sizes, plot, radius_, gap);
  p->save();
  p->setFont(font_);
  for (size_t i = 0; i < points.size(); ++i) {
    if (texts[i].size() > 1) {  // the stack: a ring around the shared position
      p->setPen(QPen(QColor(30, 30, 30), std::max(1.0, radius_ * 0.25)));
      p->setBrush(Qt::NoBrush);
      p->drawEllipse(points[i], radius_ * 1.8, radius_ * 1.8);
    }
    if (boxes[i].isNull()) continue;
    p->setPen(QColor(30, 30, 30));
    p->drawText(boxes[i], Qt::AlignLeft | Qt::AlignVCenter, joined[i]);
    placed_.emplace_back(joined[i], boxes[i]);
  }
  p->restore();
}

NotesLayer::NotesLayer(QChart* chart, QStringList lines, const QFont& font)
    : QGraphicsItem(chart), chart_(chart), lines_(std::move(lines)), font_(font) {
  setZValue(1000);
  setAcceptedMouseButtons(Qt::NoButton);
}

QRectF NotesLayer::boundingRect() const { return chart_->rect(); }

void NotesLayer::paint(QPainter* p, const QStyleOptionGraphicsItem*, QWidget*) {
  const QRectF plot = chart_->plotArea();
  QFontMetricsF fm(font_);
  double w = 0;
  for (const auto& l : lines_) w = std::max(w, fm.horizontalAdvance(l));
  const double pad = fm.height() * 0.3;
  QRectF box(plot.right() - w - 3 * pad, plot.top() + pad, w + 2 * pad, fm.height() * lines_.size() + pad);
  p->save();
  p->setPen(Qt::NoPen);
  p->setBrush(QColor(255, 255, 255, 220));
  p->drawRect(box);
  p->setFont(font_);
  p->setPen(QColor(30, 30, 30));
  for (int i = 0; i < lines_.size(); ++i)
    p->drawText(QRectF(box.left() + pad, box.top() + pad / 2 + i * fm.height(), w, fm.height()), Qt::AlignLeft | Qt::AlignVCenter,
                lines_[i]);
  p->restore();
}

}  // namespace ptq::views
