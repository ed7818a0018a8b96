#pragma once
// Pareto frontier of (cost, quality) points: pure arithmetic, no Qt.
#include <vector>

namespace ptq::views {

struct ParetoPoint {
  double x, y;
};

// Indices of the points no other point dominates, sorted by ascending x (ties: better y first).
// x is always minimized (model size); y is minimized (perplexity) or, with maximizeY, maximized
// (accuracy). A point dominates another when it is no worse in both and better in one; equal
// points do not dominate each other (both stay). Points with a non-finite coordinate are ignored.
std::vector<int> paretoFrontier(const std::vector<ParetoPoint>& points, bool maximizeY = false);

}  // namespace ptq::views
