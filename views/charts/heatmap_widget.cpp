#include "views/charts/heatmap_widget.h"

#include <QFontMetricsF>
#include <QPainter>
#include <algorithm>
#include <cmath>

#include "views/charts/chart_style.h"
#include "views/charts/plot_axis.h"
#include "views/charts/plot_frame.h"
#include "views/records/record_fields.h"

namespace ptq::views {
namespace {
PlotAxis colorAxis(const LayerGrid& g, const QString& label, const HeatmapScale& scale) {
  PlotAxis a = scale.fixed() ? PlotAxis{scale.lo, scale.hi, false, {}} : PlotAxis::fit({g.minValue(), g.maxValue()}, false, false, 0.0);
  a.label = label;
  return a;
}
}  // namespace

QRectF HeatmapGeometry::cell(int row, int col) const {
  double w = grid.width() / std::max(1, cols), h = grid.height() / std::max(1, rows);
  return QRectF(grid.left() + col * w, grid.top() + row * h, w, h);
}

std::pair<int, int> HeatmapGeometry::hit(const QPointF& pos) const {
  if (!grid.contains(pos) || rows == 0 || cols == 0) return {-1, -1};
  int col = std::min(cols - 1, static_cast<int>((pos.x() - grid.left()) / grid.width() * cols));
  int row = std::min(rows - 1, static_cast<int>((pos.y() - grid.top()) / grid.height() * rows));
  return {row, col};
}

static QColor cellColor(const HeatmapScale& scale, double t) {
  return scale.diverging ? ChartStyle::divergingMap(t) : ChartStyle::colorMap(t);
}

HeatmapGeometry heatmapGeometry(const ChartStyle& s, const QRectF& target, const LayerGrid& g, const QString& title,
                                const HeatmapScale& scale) {
  QFontMetricsF tick(s.font(0.9)), lab(s.font(1.0)), tit(s.font(1.15, true));
  double pad = s.pt(4);
  double typeW = 0;
  for (const auto& t : g.types) typeW = std::max(typeW, tick.horizontalAdvance(t));
  double barTickW = 0;
  PlotAxis a = colorAxis(g, "", scale);
  for (double t : a.ticks()) barTickW = std::max(barTickW, tick.horizontalAdvance(a.tickLabel(t)));
  double top = target.top() + pad + (title.isEmpty() ? 0 : tit.height() + pad);
  double bottom = target.bottom() - pad - lab.height() - tick.height() - pad;
  double barW = s.pt(8);
  double right = target.right() - pad - lab.height() - pad - barTickW - s.pt(3) - barW - 2 * pad;
  HeatmapGeometry geo;
  geo.rows = static_cast<int>(g.types.size());
  geo.cols = static_cast<int>(g.blocks.size());
  geo.grid = QRectF(QPointF(target.left() + pad + lab.height() + pad + typeW + s.pt(3), top),
                    QPointF(std::max(right, target.left() + 10), std::max(bottom, top + 10)));
  geo.colorBar = QRectF(geo.grid.right() + 2 * pad, top, barW, geo.grid.height());
  return geo;
}

void paintHeatmap(QPainter& p, const ChartStyle& s, const QRectF& target, const LayerGrid& g, const QString& title,
                  const QString& valueLabel, const HeatmapScale& scale) {
  HeatmapGeometry geo = heatmapGeometry(s, target, g, title, scale);
  PlotAxis a = colorAxis(g, valueLabel, scale);
  p.save();
  QFontMetricsF tick(s.font(0.9)), lab(s.font(1.0));
  p.setPen(s.textColor());
  if (!title.isEmpty()) {
    p.setFont(s.font(1.15, true));
    drawElided(p, QRectF(target.left(), target.top() + s.pt(4), target.width(), target.height()), Qt::AlignHCenter | Qt::AlignTop, title);
  }
  for (int r = 0; r < geo.rows; ++r)
    for (int c = 0; c < geo.cols; ++c) {
      double v = g.values[r][c];
      QRectF cell = geo.cell(r, c);
      if (std::isfinite(v))
        p.fillRect(cell, cellColor(scale, (v - a.lo) / (a.hi - a.lo)));
      else
        p.fillRect(cell, QColor(235, 235, 235));
    }
  p.setPen(QPen(Qt::white, s.pt(0.5)));
  for (int c = 1; c < geo.cols; ++c) p.drawLine(geo.cell(0, c).topLeft(), QPointF(geo.cell(0, c).left(), geo.grid.bottom()));
  for (int r = 1; r < geo.rows; ++r) p.drawLine(geo.cell(r, 0).topLeft(), QPointF(geo.grid.right(), geo.cell(r, 0).top()));
  p.setFont(s.font(0.9));
  p.setPen(s.textColor());
  for (int r = 0; r < geo.rows; ++r) {
    QRectF cell = geo.cell(r, 0);
    p.drawText(QRectF(target.left(), cell.top(), cell.left() - s.pt(3) - target.left(), cell.height()),
               Qt::AlignRight | Qt::AlignVCenter, g.types[r]);
  }
  double widest = tick.horizontalAdvance(QString::number(g.blocks.empty() ? 0 : g.blocks.back()));
  double cw = geo.grid.width() / std::max(1, geo.cols);
  int every = std::max(1, static_cast<int>(std::ceil((widest + s.pt(3)) / std::max(1.0, cw))));
  for (int c = 0; c < geo.cols; c += every) {
    QRectF cell = geo.cell(geo.rows - 1, c);
    p.drawText(QRectF(cell.center().x() - cw * every / 2, geo.grid.bottom() + s.pt(2), cw * every, tick.height()),
               Qt::AlignHCenter | Qt::AlignTop, QString::number(g.blocks[c]));
  }
  p.setFont(s.font(1.0));
  p.drawText(QRectF(geo.grid.left(), geo.grid.bottom() + s.pt(2) + tick.height(), geo.grid.width(), lab.height()),
             Qt::AlignHCenter | Qt::AlignTop, QObject::tr("block"));
  drawRotated(p, QPointF(target.left() + s.pt(4), geo.grid.center().y()), geo.grid.height(), -90, QObject::tr("layer type"));
  // Colour bar: gradient strips, ticks, label.
  const int strips = 64;
  for (int i = 0; i < strips; ++i) {
    double y0 = geo.colorBar.bottom() - geo.colorBar.height() * (i + 1) / strips;
    p.fillRect(QRectF(geo.colorBar.left(), y0, geo.colorBar.width(), geo.colorBar.height() / strips + 0.5),
               cellColor(scale, (i + 0.5) / strips));
  }
  p.setPen(s.axisPen());
  p.setFont(s.font(0.9));
  for (double t : a.ticks()) {
    double y = a.map(t, geo.colorBar.bottom(), geo.colorBar.top());
    p.drawLine(QPointF(geo.colorBar.right(), y), QPointF(geo.colorBar.right() + s.pt(2), y));
    p.drawText(QRectF(geo.colorBar.right() + s.pt(3), y - tick.height() / 2, target.right(), tick.height()),
               Qt::AlignLeft | Qt::AlignVCenter, a.tickLabel(t));
  }
  p.setFont(s.font(1.0));
  drawRotated(p, QPointF(target.right() - s.pt(4), geo.colorBar.center().y()), geo.colorBar.height(), 90, valueLabel);
  p.restore();
}

HeatmapWidget::HeatmapWidget(QWidget* parent)
    : FigureCanvas([this](QPainter& p, const QRectF& r) {
        if (!grid_.empty()) paintHeatmap(p, ChartStyle(p), r, grid_, title_, valueLabel_);
      }, parent) {
  setObjectName("heatmap");
  setHover([this](const QPointF& pos) { return tooltipAt(pos); });
}

void HeatmapWidget::setGrid(const LayerGrid& grid, const QString& title, const QString& valueLabel) {
  grid_ = grid;
  title_ = title;
  valueLabel_ = valueLabel;
  update();
}

HeatmapGeometry HeatmapWidget::geometry() const {
  return heatmapGeometry(ChartStyle(logicalDpiY(), font()), QRectF(rect()), grid_, title_);
}

QPointF HeatmapWidget::cellCenter(int block, const QString& type) const {
  int r = grid_.typeIndex(type), c = grid_.blockIndex(block);
  if (r < 0 || c < 0) return {};
  return geometry().cell(r, c).center();
}

QString HeatmapWidget::tooltipAt(const QPointF& pos) const {
  auto [r, c] = geometry().hit(pos);
  if (r < 0) return {};
  double v = grid_.values[r][c];
  QString where = tr("block %1, %2").arg(grid_.blocks[c]).arg(grid_.types[r]);
  const QStringList& names = grid_.names[r][c];
  if (!std::isfinite(v) && !grid_.notMeasured(r, c)) return where + tr(": no layer");
  QString tip = where + (std::isfinite(v) ? ": " + valueLabel_ + " = " + QString::number(v, 'g', 6) : tr(": not measured"));
  if (names.size() == 1) tip += "\n" + names.front();
  if (names.size() > 1) tip += "\n" + (std::isfinite(v) ? tr("mean of %1 layers") : tr("%1 layers")).arg(names.size());
  return tip;
}

}  // namespace ptq::views
