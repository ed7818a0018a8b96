#pragma once
// A custom-painted heatmap of layer types (rows) × blocks (columns) with a colour bar; hovering a
// cell shows the exact value and the layer name(s) in a tooltip. paintHeatmap is the same code
// the per-layer error view uses when it exports its figure.
#include <QRectF>

#include "views/charts/figure_canvas.h"
#include "views/charts/layer_grid.h"

class QPainter;

namespace ptq::views {

class ChartStyle;

struct HeatmapGeometry {
  QRectF grid, colorBar;
  int rows = 0, cols = 0;
  QRectF cell(int row, int col) const;
  // {row, col} under `pos`, or {-1, -1}.
  std::pair<int, int> hit(const QPointF& pos) const;
};

// The colour scale: from the grid's own range (default) or a given one, shared by several
// heatmaps (small multiples); diverging: a blue-white-red map centred on 0 (differences).
struct HeatmapScale {
  double lo = NAN, hi = NAN;
  bool diverging = false;
  bool fixed() const { return std::isfinite(lo) && std::isfinite(hi) && lo < hi; }
};

HeatmapGeometry heatmapGeometry(const ChartStyle& s, const QRectF& target, const LayerGrid& grid, const QString& title,
                                const HeatmapScale& scale = {});
void paintHeatmap(QPainter& p, const ChartStyle& s, const QRectF& target, const LayerGrid& grid, const QString& title,
                  const QString& valueLabel, const HeatmapScale& scale = {});

class HeatmapWidget : public FigureCanvas {
  Q_OBJECT
 public:
  explicit HeatmapWidget(QWidget* parent = nullptr);
  void setGrid(const LayerGrid& grid, const QString& title, const QString& valueLabel);
  const LayerGrid& grid() const { return grid_; }
  double value(int block, const QString& type) const { return grid_.at(block, type); }
  // Centre of the cell on screen (for tests), invalid point when absent.
  QPointF cellCenter(int block, const QString& type) const;
  // The tooltip text for a widget position, empty outside the cells.
  QString tooltipAt(const QPointF& pos) const;
  QSize sizeHint() const override { return {640, 260}; }

 private:
  HeatmapGeometry geometry() const;
  LayerGrid grid_;
  QString title_, valueLabel_;
};

}  // namespace ptq::views
