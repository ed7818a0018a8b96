#pragma once
// The frame every chart is drawn in: title, legend row, axes with ticks, grid and labels, and a
// plot rectangle with value-to-device mapping; numeric or categorical x. Callers set the fields,
// call drawFrame(), draw their data with map()/bar(), then finish() (annotations on top).
#include <QColor>
#include <QPointF>
#include <QRectF>
#include <QStringList>
#include <cmath>
#include <vector>

#include "views/charts/chart_style.h"
#include "views/charts/plot_axis.h"

class QPainter;

namespace ptq::views {

struct LegendItem {
  enum Kind { Box, Line, Point };
  QString name;
  QColor color;
  Kind kind = Box;
};

class PlotFrame {
 public:
  PlotFrame(QPainter& p, const ChartStyle& s, const QRectF& target);

  QString title;
  PlotAxis x, y;
  QStringList categories;         // non-empty: categorical x axis (x is ignored)
  QString categoryLabel;          // axis title for a categorical x
  std::vector<LegendItem> legend;
  QStringList notes;              // annotation lines, top right inside the plot
  // When set, the plot's horizontal extent (aligns charts stacked in one figure).
  double alignLeft = NAN, alignRight = NAN;

  void drawFrame();
  void finish();
  const QRectF& plotRect() const { return plot_; }
  QPointF map(double vx, double vy) const;
  double mapY(double vy) const;
  // The bar of series `s` of `n` in category `c`, from the axis bottom (or 0) to `value`.
  QRectF bar(int c, int s, int n, double value) const;
  double categoryCenter(int c) const;

 private:
  void layout();
  void drawLegend(const QRectF& area);
  QPainter& p_;
  ChartStyle s_;
  QRectF target_, plot_, legendArea_;
  double titleH_ = 0;
};

// drawText that elides `text` (with "…") to the width of `r` in the painter's current font.
void drawElided(QPainter& p, const QRectF& r, int align, const QString& text);
// Text turned by `degrees` (-90: read bottom to top) whose top edge is centred on `anchor`,
// shrunk to as little as 3/4 of its size to fit `length`, then elided to it.
void drawRotated(QPainter& p, const QPointF& anchor, double length, double degrees, const QString& text);
// Paints `message` centred in `target` (the "no data" figure).
void paintMessage(QPainter& p, const QRectF& target, const QString& message);
// Legend rows needed for `items` in `width` device pixels (exposed for layout tests).
int legendRows(const ChartStyle& s, const std::vector<LegendItem>& items, double width);

}  // namespace ptq::views
