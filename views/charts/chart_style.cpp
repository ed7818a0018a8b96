#include "views/charts/chart_style.h"

#include <QHash>
#include <QPaintDevice>
#include <QPainter>
#include <algorithm>
#include <cmath>

namespace ptq::views {

ChartStyle::ChartStyle(const QPainter& p)
    : ChartStyle(p.device() ? p.device()->logicalDpiY() : 96.0, p.font()) {}

ChartStyle::ChartStyle(double dpi, const QFont& base) : dpi_(dpi > 0 ? dpi : 96.0), family_(base.family()) {
  basePt_ = base.pointSizeF() > 0 ? base.pointSizeF() : base.pixelSize() * 72.0 / dpi_;
  if (!(basePt_ > 0)) basePt_ = 9.0;
}

QFont ChartStyle::font(double scale, bool bold) const {
  QFont f(family_);
  // Pixel sizes: every paint device (image, SVG, PDF, screen) honours them the same way.
  f.setPixelSize(std::max(1, static_cast<int>(std::lround(pt(basePt_ * scale)))));
  f.setBold(bold);
  return f;
}

QPen ChartStyle::axisPen() const {
  QPen pen(textColor());
  pen.setWidthF(pt(0.6));
  return pen;
}

QPen ChartStyle::gridPen() const {
  QPen pen(QColor(215, 215, 215));
  pen.setWidthF(pt(0.4));
  return pen;
}

QPen ChartStyle::seriesPen(const QColor& c, double widthPt) const {
  QPen pen(c);
  pen.setWidthF(pt(widthPt));
  pen.setCapStyle(Qt::RoundCap);
  pen.setJoinStyle(Qt::RoundJoin);
  return pen;
}

QColor ChartStyle::seriesColor(int i) {
  static const QColor palette[] = {QColor(0, 114, 178),  QColor(230, 159, 0),  QColor(0, 158, 115),
                                   QColor(204, 121, 167), QColor(86, 180, 233), QColor(213, 94, 0),
                                   QColor(160, 140, 0),  QColor(0, 0, 0)};
  constexpr int n = sizeof(palette) / sizeof(palette[0]);
  return palette[((i % n) + n) % n];
}

QColor ChartStyle::methodColor(const QString& method) {
  static const QHash<QString, int> known = {{"fp", 7},       {"rtn", 1},  {"gptq", 0},      {"awq", 2},
                                            {"rotate", 3},   {"omniquant", 5}, {"rotate+gptq", 4},
                                            {"awq+gptq", 6}};
  auto it = known.find(method);
  if (it != known.end()) return seriesColor(*it);
  return seriesColor(static_cast<int>(qHash(method) % 8));
}

namespace {

// Linear interpolation between n RGB anchors at t in [0, 1] (NaN and below 0 give the first).
QColor interpolateAnchors(const double (*anchors)[3], int n, double t) {
  if (!(t >= 0)) t = 0;
  t = std::min(1.0, t);
  double pos = t * (n - 1);
  int i = std::min(n - 2, static_cast<int>(pos));
  double f = pos - i;
  auto mix = [&](int c) { return static_cast<int>(std::lround(anchors[i][c] * (1 - f) + anchors[i + 1][c] * f)); };
  return QColor(mix(0), mix(1), mix(2));
}

}  // namespace

QColor ChartStyle::colorMap(double t) {
  // Viridis, 9 anchors, linear interpolation.
  static const double anchors[][3] = {{68, 1, 84},    {72, 40, 120},  {62, 74, 137},  {49, 104, 142}, {38, 130, 142},
                                      {31, 158, 137}, {53, 183, 121}, {109, 205, 89}, {253, 231, 37}};
  return interpolateAnchors(anchors, 9, t);
}

QColor ChartStyle::divergingMap(double t) {
  // ColorBrewer RdBu (11 classes), reversed so that negative differences are blue.
  static const double anchors[][3] = {{5, 48, 97},     {33, 102, 172},  {67, 147, 195},  {146, 197, 222},
                                      {209, 229, 240}, {247, 247, 247}, {253, 219, 199}, {244, 165, 130},
                                      {214, 96, 77},   {178, 24, 43},   {103, 0, 31}};
  return interpolateAnchors(anchors, 11, t);
}

}  // namespace ptq::views
