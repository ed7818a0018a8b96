#include "views/charts/pareto.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ptq::views {

std::vector<int> paretoFrontier(const std::vector<ParetoPoint>& points, bool maximizeY) {
  std::vector<int> idx;
  for (int i = 0; i < static_cast<int>(points.size()); ++i)
    if (std::isfinite(points[i].x) && std::isfinite(points[i].y)) idx.push_back(i);
  auto cost = [&](int i) { return maximizeY ? -points[i].y : points[i].y; };
  std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) {
    return points[a].x != points[b].x ? points[a].x < points[b].x : cost(a) < cost(b);
  });
  // Sweep by ascending x: a point is on the frontier when its cost is below every cost seen at a
  // smaller x, or equals the best at the same x and the same cost (a duplicate).
  std::vector<int> out;
  double best = INFINITY;
  for (size_t k = 0; k < idx.size(); ++k) {
    int i = idx[k];
    double c = cost(i);
    if (c < best) {
      out.push_back(i);
      best = c;
    } else if (c == best && !out.empty()) {
      int last = out.back();
      if (points[last].x == points[i].x && cost(last) == c) out.push_back(i);  // identical point
    }
  }
  return out;
}

}  // namespace ptq::views
