#pragma once
// Fonts, colours and line widths shared by every chart. All sizes are physical (points), turned
// into device pixels from the painter's device DPI, so the same paint code gives readable text on
// the screen, in a 600-dpi PNG, an SVG and a PDF. The base font size is the painter's font at
// the time the style is made (exportFigure sets FigureSize::font_pt).
#include <QColor>
#include <QFont>
#include <QPen>
#include <QString>

class QPainter;

namespace ptq::views {

class ChartStyle {
 public:
  explicit ChartStyle(const QPainter& p);
  ChartStyle(double dpi, const QFont& base);

  double dpi() const { return dpi_; }
  double pt(double points) const { return points * dpi_ / 72.0; }  // points -> device pixels
  double basePt() const { return basePt_; }
  // The base font scaled by `scale` (titles 1.15, tick labels 0.9), optionally bold.
  QFont font(double scale = 1.0, bool bold = false) const;
  QPen axisPen() const;
  QPen gridPen() const;
  QPen seriesPen(const QColor& c, double widthPt = 1.0) const;
  QColor textColor() const { return QColor(30, 30, 30); }

  // Categorical palette (Okabe-Ito, colour-blind safe); wraps around.
  static QColor seriesColor(int i);
  // A stable colour per quantization method (fp, rtn, gptq, awq, rotate, omniquant, ...).
  static QColor methodColor(const QString& method);
  // Sequential colour map (viridis), t in [0, 1].
  static QColor colorMap(double t);
  // Diverging colour map (ColorBrewer RdBu reversed: blue below the middle, white at 0.5, red
  // above), t in [0, 1]: differences centred on 0.
  static QColor divergingMap(double t);

 private:
  double dpi_;
  double basePt_;
  QString family_;
};

}  // namespace ptq::views
