#include "views/charts/plot_frame.h"

#include <QFontMetricsF>
#include <QPainter>
#include <algorithm>
#include <cmath>

namespace ptq::views {
namespace {
double legendItemWidth(const ChartStyle& s, const QFontMetricsF& fm, const LegendItem& it) {
  return s.pt(14) + fm.horizontalAdvance(it.name) + s.pt(8);
}
}  // namespace

int legendRows(const ChartStyle& s, const std::vector<LegendItem>& items, double width) {
  if (items.empty()) return 0;
  QFontMetricsF fm(s.font(0.9));
  int rows = 1;
  double x = 0;
  for (const auto& it : items) {
    double w = legendItemWidth(s, fm, it);
    if (x > 0 && x + w > width) { ++rows; x = 0; }
    x += w;
  }
  return rows;
}

PlotFrame::PlotFrame(QPainter& p, const ChartStyle& s, const QRectF& target) : p_(p), s_(s), target_(target) {}

void PlotFrame::layout() {
  QFontMetricsF tick(s_.font(0.9)), lab(s_.font(1.0)), tit(s_.font(1.15, true));
  double pad = s_.pt(4);
  double top = target_.top() + pad;
  titleH_ = title.isEmpty() ? 0 : tit.height() + pad;
  top += titleH_;
  int rows = legendRows(s_, legend, target_.width() - 2 * pad);
  double legendH = rows * tick.height() * 1.2;
  legendArea_ = QRectF(target_.left() + pad, top, target_.width() - 2 * pad, legendH);
  top += legendH + (rows ? pad : 0) + tick.height() / 2;
  double yTickW = 0;
  for (double t : y.ticks()) yTickW = std::max(yTickW, tick.horizontalAdvance(y.tickLabel(t)));
  double left = target_.left() + pad + (y.label.isEmpty() ? 0 : lab.height() + pad) + yTickW + s_.pt(4);
  QString xLabel = categories.isEmpty() ? x.label : categoryLabel;
  double bottom = target_.bottom() - pad - (xLabel.isEmpty() ? 0 : lab.height() + pad) - tick.height() - s_.pt(4);
  double right = target_.right() - pad - (categories.isEmpty() ? tick.horizontalAdvance(x.tickLabel(x.hi)) / 2 : 0);
  if (std::isfinite(alignLeft)) left = std::max(left, alignLeft);
  if (std::isfinite(alignRight)) right = alignRight;
  plot_ = QRectF(QPointF(left, top), QPointF(std::max(left + 1, right), std::max(top + 1, bottom)));
}

double PlotFrame::mapY(double vy) const { return y.map(vy, plot_.bottom(), plot_.top()); }

QPointF PlotFrame::map(double vx, double vy) const { return {x.map(vx, plot_.left(), plot_.right()), mapY(vy)}; }

double PlotFrame::categoryCenter(int c) const {
  double w = plot_.width() / std::max<qsizetype>(1, categories.size());
  return plot_.left() + (c + 0.5) * w;
}

QRectF PlotFrame::bar(int c, int s, int n, double value) const {
  double band = plot_.width() / std::max<qsizetype>(1, categories.size());
  double inner = band * 0.8, bw = inner / std::max(1, n);
  double left = plot_.left() + c * band + (band - inner) / 2 + s * bw;
  double base = y.log ? plot_.bottom() : mapY(std::clamp(0.0, y.lo, y.hi));
  double top = y.valid(value) ? mapY(std::clamp(value, y.lo, y.hi)) : base;
  return QRectF(QPointF(left, std::min(base, top)), QPointF(left + bw, std::max(base, top)));
}

void PlotFrame::drawFrame() {
  layout();
  p_.save();
  QFont tickFont = s_.font(0.9), labFont = s_.font(1.0);
  QFontMetricsF tick(tickFont), lab(labFont);
  if (!title.isEmpty()) {
    p_.setFont(s_.font(1.15, true));
    p_.setPen(s_.textColor());
    drawElided(p_, QRectF(target_.left(), target_.top() + s_.pt(4), target_.width(), titleH_), Qt::AlignHCenter | Qt::AlignTop, title);
  }
  drawLegend(legendArea_);
  p_.setFont(tickFont);
  // y grid, ticks and labels
  for (double t : y.ticks()) {
    double py = mapY(t);
    p_.setPen(s_.gridPen());
    p_.drawLine(QPointF(plot_.left(), py), QPointF(plot_.right(), py));
    p_.setPen(s_.axisPen());
    p_.drawLine(QPointF(plot_.left() - s_.pt(3), py), QPointF(plot_.left(), py));
    p_.drawText(QRectF(target_.left(), py - tick.height() / 2, plot_.left() - s_.pt(4) - target_.left(), tick.height()),
                Qt::AlignRight | Qt::AlignVCenter, y.tickLabel(t));
  }
  double labelTop = plot_.bottom() + s_.pt(4);
  if (categories.isEmpty()) {
    for (double t : x.ticks()) {
      double px = x.map(t, plot_.left(), plot_.right());
      p_.setPen(s_.gridPen());
      p_.drawLine(QPointF(px, plot_.top()), QPointF(px, plot_.bottom()));
      p_.setPen(s_.axisPen());
      p_.drawLine(QPointF(px, plot_.bottom()), QPointF(px, plot_.bottom() + s_.pt(3)));
      QString l = x.tickLabel(t);
      double w = tick.horizontalAdvance(l);
      p_.drawText(QRectF(px - w, labelTop, 2 * w, tick.height()), Qt::AlignHCenter | Qt::AlignTop, l);
    }
  } else {
    double band = plot_.width() / categories.size();
    double widest = 0;
    for (const auto& c : categories) widest = std::max(widest, tick.horizontalAdvance(c));
    int every = std::max(1, static_cast<int>(std::ceil((widest + s_.pt(3)) / std::max(1.0, band))));
    p_.setPen(s_.axisPen());
    for (int c = 0; c < categories.size(); c += every)
      p_.drawText(QRectF(categoryCenter(c) - band * every / 2, labelTop, band * every, tick.height()),
                  Qt::AlignHCenter | Qt::AlignTop, categories[c]);
  }
  p_.setPen(s_.axisPen());
  p_.drawLine(plot_.bottomLeft(), plot_.bottomRight());
  p_.drawLine(plot_.bottomLeft(), plot_.topLeft());
  p_.setFont(labFont);
  p_.setPen(s_.textColor());
  QString xLabel = categories.isEmpty() ? x.label : categoryLabel;
  if (!xLabel.isEmpty())
    drawElided(p_, QRectF(plot_.left(), labelTop + tick.height() + s_.pt(2), plot_.width(), lab.height()), Qt::AlignHCenter | Qt::AlignTop, xLabel);
  if (!y.label.isEmpty()) drawRotated(p_, QPointF(target_.left() + s_.pt(4), plot_.center().y()), plot_.height(), -90, y.label);
  p_.restore();
}

void PlotFrame::drawLegend(const QRectF& area) {
  if (legend.empty()) return;
  p_.setFont(s_.font(0.9));
  QFontMetricsF fm(p_.font());
  double rowH = fm.height() * 1.2;
  double widths = 0;
  for (const auto& it : legend) widths += legendItemWidth(s_, fm, it);
  double x0 = legendRows(s_, legend, area.width()) == 1 ? area.left() + (area.width() - widths) / 2 : area.left();
  double px = x0, py = area.top();
  for (const auto& it : legend) {
    double w = legendItemWidth(s_, fm, it);
    if (px > x0 && px + w > area.right()) { px = area.left(); py += rowH; }
    QRectF swatch(px, py + rowH / 2 - s_.pt(3), s_.pt(10), s_.pt(6));
    if (it.kind == LegendItem::Box) {
      p_.fillRect(swatch, it.color);
    } else if (it.kind == LegendItem::Line) {
      p_.setPen(s_.seriesPen(it.color, 1.2));
      p_.drawLine(QPointF(swatch.left(), swatch.center().y()), QPointF(swatch.right(), swatch.center().y()));
    } else {
      p_.setPen(Qt::NoPen);
      p_.setBrush(it.color);
      p_.drawEllipse(swatch.center(), s_.pt(2.5), s_.pt(2.5));
      p_.setBrush(Qt::NoBrush);
    }
    p_.setPen(s_.textColor());
    p_.drawText(QRectF(swatch.right() + s_.pt(3), py, w, rowH), Qt::AlignLeft | Qt::AlignVCenter, it.name);
    px += w;
  }
}

void PlotFrame::finish() {
  if (notes.isEmpty()) return;
  p_.save();
  p_.setFont(s_.font(0.9));
  QFontMetricsF fm(p_.font());
  double w = 0;
  for (const auto& n : notes) w = std::max(w, fm.horizontalAdvance(n));
  double pad = s_.pt(3);
  QRectF box(plot_.right() - w - 3 * pad, plot_.top() + pad, w + 2 * pad, notes.size() * fm.height() + 2 * pad);
  p_.setPen(s_.gridPen());
  p_.setBrush(QColor(255, 255, 255, 230));
  p_.drawRect(box);
  p_.setPen(s_.textColor());
  for (int i = 0; i < notes.size(); ++i)
    p_.drawText(QRectF(box.left() + pad, box.top() + pad + i * fm.height(), w, fm.height()), Qt::AlignLeft | Qt::AlignVCenter, notes[i]);
  p_.restore();
}

void drawElided(QPainter& p, const QRectF& r, int align, const QString& text) {
  QFontMetricsF fm(p.font());
  p.drawText(r, align, fm.elidedText(text, Qt::ElideRight, r.width()));
}

void drawRotated(QPainter& p, const QPointF& anchor, double length, double degrees, const QString& text) {
  p.save();
  p.translate(anchor);
  p.rotate(degrees);
  // A label longer than its axis (a colour bar in a grid of small panels) shrinks to as little as 3/4
  // of its size before it is elided, so the metric's name stays readable in exported figures.
  const double width = QFontMetricsF(p.font()).horizontalAdvance(text);
  if (width > length && length > 0) {
    QFont f = p.font();  // ChartStyle's fonts are sized in pixels
    const double k = std::max(0.75, length / width);
    if (f.pixelSize() > 0)
      f.setPixelSize(std::max(1, int(std::floor(f.pixelSize() * k))));
    else
      f.setPointSizeF(f.pointSizeF() * k);
    p.setFont(f);
  }
  drawElided(p, QRectF(-length / 2, 0, length, QFontMetricsF(p.font()).height()), Qt::AlignHCenter | Qt::AlignTop, text);
  p.restore();
}

void paintMessage(QPainter& p, const QRectF& target, const QString& message) {
  ChartStyle s(p);
  p.save();
  p.fillRect(target, Qt::white);
  p.setFont(s.font(1.0));
  p.setPen(QColor(110, 110, 110));
  p.drawText(target.adjusted(s.pt(8), s.pt(8), -s.pt(8), -s.pt(8)), Qt::AlignCenter | Qt::TextWordWrap, message);
  p.restore();
}

}  // namespace ptq::views
