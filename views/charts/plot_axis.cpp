#include "views/charts/plot_axis.h"

#include <algorithm>
#include <cmath>

namespace ptq::views {

bool PlotAxis::valid(double v) const { return std::isfinite(v) && (!log || v > 0); }

PlotAxis PlotAxis::fit(const std::vector<double>& values, bool log, bool includeZero, double pad) {
  PlotAxis a;
  a.log = log;
  double lo = INFINITY, hi = -INFINITY;
  for (double v : values) {
    if (!a.valid(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (!(lo <= hi)) {  // nothing plottable
    a.lo = log ? 1 : 0;
    a.hi = log ? 10 : 1;
    return a;
  }
  if (log) {
    double l = std::log10(lo), h = std::log10(hi);
    if (h - l < 1e-9) { l -= 0.5; h += 0.5; }
    double p = (h - l) * pad;
    a.lo = std::pow(10.0, l - p);
    a.hi = std::pow(10.0, h + p);
    return a;
  }
  if (includeZero) { lo = std::min(lo, 0.0); hi = std::max(hi, 0.0); }
  if (hi - lo < 1e-12 * std::max(1.0, std::fabs(hi))) { double d = std::max(std::fabs(hi) * 0.05, 1e-9); lo -= d; hi += d; }
  double p = (hi - lo) * pad;
  a.lo = (includeZero && lo == 0) ? 0 : lo - p;
  a.hi = (includeZero && hi == 0) ? 0 : hi + p;
  return a;
}

std::vector<double> PlotAxis::ticks() const {
  std::vector<double> t;
  if (!(hi > lo)) return t;
  if (log) {
    int d0 = static_cast<int>(std::floor(std::log10(lo))), d1 = static_cast<int>(std::ceil(std::log10(hi)));
    double decades = std::log10(hi) - std::log10(lo);
    int stride = std::max(1, static_cast<int>(std::ceil(decades / 6)));
    for (int d = d0; d <= d1; ++d) {
      if ((d - d0) % stride) continue;
      for (double m : decades < 2 ? std::vector<double>{1, 2, 5} : std::vector<double>{1}) {
        double v = m * std::pow(10.0, d);
        if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) t.push_back(v);
      }
    }
    if (t.size() < 2) {  // less than a decade without a 1-2-5 value inside: fall back to linear ticks
      PlotAxis lin = *this;
      lin.log = false;
      return lin.ticks();
    }
    return t;
  }
  double raw = (hi - lo) / 5;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) { step = m * mag; break; }
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step)
    t.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
  return t;
}

QString PlotAxis::tickLabel(double v) const {
  if (v == 0) return QStringLiteral("0");
  double a = std::fabs(v);
  if (a >= 1e5 || a < 1e-3) return QString::number(v, 'g', 2);
  return QString::number(v, 'g', 6);
}

double PlotAxis::map(double v, double a, double b) const {
  double f = log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) : (v - lo) / (hi - lo);
  return a + f * (b - a);
}

}  // namespace ptq::views
