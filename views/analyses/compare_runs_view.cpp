#include "views/analyses/compare_runs_view.h"

#include <QFontMetricsF>
#include <QPainter>
#include <algorithm>
#include <cmath>
#include <set>

#include "views/charts/chart_style.h"
#include "views/charts/plot_frame.h"

namespace ptq::views {

LayerGrid differenceGrid(const LayerGrid& a, const LayerGrid& b) {
  LayerGrid d;
  QStringList types = a.types;
  for (const auto& t : b.types)
    if (!types.contains(t)) types << t;
  d.types = orderTypes(types);
  std::set<int> blocks(a.blocks.begin(), a.blocks.end());
  blocks.insert(b.blocks.begin(), b.blocks.end());
  d.blocks.assign(blocks.begin(), blocks.end());
  d.values.assign(d.types.size(), std::vector<double>(d.blocks.size(), NAN));
  d.names.assign(d.types.size(), std::vector<QStringList>(d.blocks.size()));
  for (int r = 0; r < d.types.size(); ++r)
    for (size_t c = 0; c < d.blocks.size(); ++c) {
      d.values[r][c] = b.at(d.blocks[c], d.types[r]) - a.at(d.blocks[c], d.types[r]);
      int br = b.typeIndex(d.types[r]), bc = b.blockIndex(d.blocks[c]);
      if (br >= 0 && bc >= 0) d.names[r][c] = b.names[br][bc];
    }
  return d;
}

CompareRunsView::CompareRunsView(QWidget* parent) : ChartViewBase("compare_runs", tr("Compare runs"), parent) {
  mode_ = addCombo("mode", tr("Show"), {tr("side by side (one colour scale)"), tr("difference B − A")});
  metric_ = addCombo("metric", tr("Metric"),
                     {LayerErrorView::metricLabel(LayerErrorView::WeightRelError), LayerErrorView::metricLabel(LayerErrorView::OutCosine),
                      LayerErrorView::metricLabel(LayerErrorView::OutRelMse)});
  a_ = addCombo("runA", tr("A"), {});
  b_ = addCombo("runB", tr("B"), {});
  refresh();
}

void CompareRunsView::setRecords(const std::vector<nlohmann::json>& records) {
  records_.clear();
  for (const auto& r : records)
    if (layerGrid(LayerErrorView::measuredLayers(field(r, "layers")), "weight_rel_error", true).hasValues() ||
        layerGrid(LayerErrorView::measuredLayers(field(r, "layers")), "out_rel_mse", true).hasValues())
      records_.push_back(r);
  QStringList labels;
  for (const auto& r : records_) labels << recordLabel(r);
  refill(a_, labels);
  refill(b_, labels);
  if (b_->currentIndex() == a_->currentIndex() && b_->count() > 1) {
    QSignalBlocker block(b_);
    b_->setCurrentIndex(a_->currentIndex() == 0 ? 1 : 0);
  }
  refresh();
}

QString CompareRunsView::noDataMessage() const {
  if (records_.empty()) return tr("no data: select runs with per-layer errors in the results table (quantized runs)");
  if (mode_->currentIndex() == Difference && records_.size() < 2) return tr("no data: the difference needs two runs with per-layer errors");
  if (grids_.empty() || std::none_of(grids_.begin(), grids_.end(), [](const LayerGrid& g) { return g.hasValues(); }))
    return tr("no data: this metric was not measured in these runs");
  return {};
}

void CompareRunsView::setMode(Mode m) { mode_->setCurrentIndex(m); }
void CompareRunsView::setMetric(LayerErrorView::Metric m) { metric_->setCurrentIndex(m); }
void CompareRunsView::selectPair(int a, int b) {
  { QSignalBlocker block(a_); a_->setCurrentIndex(a); }
  b_->setCurrentIndex(b);
  refresh();
}

LayerGrid CompareRunsView::gridOf(int i) const {
  auto metric = static_cast<LayerErrorView::Metric>(std::max(0, metric_->currentIndex()));
  return layerGrid(LayerErrorView::measuredLayers(field(records_[i], "layers")), LayerErrorView::metricKey(metric), true);
}

void CompareRunsView::rebuild() {
  grids_.clear();
  titles_.clear();
  scale_ = {};
  const bool diff = mode_->currentIndex() == Difference;
  a_->setVisible(diff);
  b_->setVisible(diff);
  if (records_.empty()) return;
  if (diff) {
    int a = a_->currentIndex(), b = b_->currentIndex();
    if (records_.size() < 2 || a < 0 || b < 0) return;
    grids_.push_back(differenceGrid(gridOf(a), gridOf(b)));
    titles_ << tr("B − A: %1 − %2").arg(recordLabel(records_[b], false), recordLabel(records_[a], false));
    // Symmetric about 0, so white is "no change" and the two colours weigh alike.
    double m = std::max(std::fabs(grids_[0].minValue()), std::fabs(grids_[0].maxValue()));
    scale_ = {-(m > 0 ? m : 1), m > 0 ? m : 1, true};
    return;
  }
  double lo = INFINITY, hi = -INFINITY;
  for (int i = 0; i < std::min<int>(kMaxPanels, int(records_.size())); ++i) {
    grids_.push_back(gridOf(i));
    titles_ << recordLabel(records_[i], false);
    if (grids_.back().hasValues()) {
      lo = std::min(lo, grids_.back().minValue());
      hi = std::max(hi, grids_.back().maxValue());
    }
  }
  if (std::isfinite(lo) && hi > lo) scale_ = {lo, hi, false};
}

TextTable CompareRunsView::dataTable() const {
  TextTable t;
  t.headers << tr("run") << tr("layer type");
  if (grids_.empty()) return t;
  for (int b : grids_[0].blocks) t.headers << tr("block %1").arg(b);
  for (size_t g = 0; g < grids_.size(); ++g)
    for (int r = 0; r < grids_[g].types.size(); ++r) {
      QStringList row{titles_[int(g)], grids_[g].types[r]};
      for (int b : grids_[0].blocks) row << formatNumber(grids_[g].at(b, grids_[g].types[r]), 6, "");
      t.rows.push_back(row);
    }
  return t;
}

void CompareRunsView::paintFigure(QPainter& p, const QRectF& target) {
  ChartStyle s(p);
  const auto metric = static_cast<LayerErrorView::Metric>(std::max(0, metric_->currentIndex()));
  const QString label = mode_->currentIndex() == Difference ? tr("Δ %1").arg(LayerErrorView::metricLabel(metric))
                                                            : LayerErrorView::metricLabel(metric);
  const int n = static_cast<int>(grids_.size());
  const int cols = n <= 1 ? 1 : n <= 4 ? 2 : 3, rows = (n + cols - 1) / cols;
  const double w = target.width() / cols, h = target.height() / rows;
  for (int i = 0; i < n; ++i) {
    QRectF cell(target.left() + (i % cols) * w, target.top() + (i / cols) * h, w, h);
    // The scale is shared: its label once per row, at the right.
    const bool lastInRow = i % cols == cols - 1 || i == n - 1;
    paintHeatmap(p, s, cell.adjusted(s.pt(2), s.pt(2), -s.pt(2), -s.pt(2)), grids_[i], titles_[i], lastInRow ? label : QString(),
                 scale_);
  }
}

}  // namespace ptq::views
