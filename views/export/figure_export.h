#pragma once
// One export routine behind PNG, SVG and PDF: the view paints itself (AnalysisView::exportPaint)
// into a device of the figure's physical size. PNG: width_px = round(width_mm / 25.4 * dpi)
// (likewise height); SVG: QSvgGenerator with the size in mm and viewBox in px at `dpi`; PDF:
// QPdfWriter, one page whose size is the figure size. Fonts are in points, so they keep their
// printed size at any DPI.
#include <QString>
#include <QStringList>

namespace ptq::views {

class AnalysisView;

struct FigureSize {
  double width_mm = 88.9;   // 3.5 in
  double height_mm = 66.7;  // 4:3
  int dpi = 300;
  double font_pt = 8.0;     // base font size in print points (titles a little larger)

  static FigureSize singleColumn();  // 3.5 in wide, 8 pt
  static FigureSize doubleColumn();  // 7 in wide, 9 pt
  int widthPx() const;   // round(width_mm / 25.4 * dpi)
  int heightPx() const;
};

// Formats by suffix (case-insensitive): png, svg, pdf. Writes atomically (temp file + rename).
// On failure returns false and sets *error to a message naming the problem (unknown suffix,
// unwritable directory, view without data, bad size).
bool exportFigure(AnalysisView& view, const QString& path, const FigureSize& size, QString* error);

// The suffixes exportFigure understands: {"png", "svg", "pdf"}.
const QStringList& figureFormats();

}  // namespace ptq::views
