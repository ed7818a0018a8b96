#pragma once
// A numeric chart axis: linear or logarithmic range, "nice" tick positions (1-2-5 steps; decades
// on a log axis, with 2 and 5 when the range spans less than two decades) and value-to-pixel
// mapping. Pure arithmetic, no painting.
#include <QString>
#include <vector>

namespace ptq::views {

struct PlotAxis {
  double lo = 0, hi = 1;
  bool log = false;
  QString label;

  // Range covering the finite values (positive ones on a log axis), padded by `pad` of the span
  // (a factor on a log axis); `includeZero` extends a linear range to 0 (bar charts).
  static PlotAxis fit(const std::vector<double>& values, bool log, bool includeZero = false, double pad = 0.05);
  std::vector<double> ticks() const;
  QString tickLabel(double v) const;
  // Maps v in [lo, hi] linearly (or by log10) onto [a, b]; values outside extrapolate.
  double map(double v, double a, double b) const;
  bool valid(double v) const;  // finite, and > 0 on a log axis
};

}  // namespace ptq::views
