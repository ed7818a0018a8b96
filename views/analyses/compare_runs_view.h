#pragma once
// Several runs' per-layer error side by side (issue 15): small multiples of the layer types ×
// blocks heatmap, one per run, with one colour scale shared by all (so equal colours are equal
// errors), or the difference of two runs (B − A) on a diverging map centred on 0. Every panel is
// titled with the run it shows, on screen and in the exported figure. Fed the selected records
// (all of them when none is selected); at most kMaxPanels panels.
#include "views/analyses/layer_error_view.h"
#include "views/charts/chart_view_base.h"
#include "views/charts/heatmap_widget.h"

namespace ptq::views {

class CompareRunsView : public ChartViewBase {
  Q_OBJECT
 public:
  enum Mode { SmallMultiples = 0, Difference = 1 };
  static constexpr int kMaxPanels = 6;
  explicit CompareRunsView(QWidget* parent = nullptr);

  void setRecords(const std::vector<nlohmann::json>& records) override;
  QString noDataMessage() const override;
  TextTable dataTable() const override;

  void setMode(Mode m);
  void setMetric(LayerErrorView::Metric m);
  // The two runs of the difference (indices into the runs with per-layer errors).
  void selectPair(int a, int b);
  int runCount() const { return static_cast<int>(records_.size()); }
  // The grids shown: one per panel (small multiples) or the single difference B − A.
  const std::vector<LayerGrid>& grids() const { return grids_; }
  const QStringList& panelTitles() const { return titles_; }
  const HeatmapScale& scale() const { return scale_; }

 protected:
  void rebuild() override;
  void paintFigure(QPainter& p, const QRectF& target) override;

 private:
  LayerGrid gridOf(int record) const;
  std::vector<Record> records_;
  std::vector<LayerGrid> grids_;
  QStringList titles_;
  HeatmapScale scale_;
  QComboBox *mode_, *metric_, *a_, *b_;
};

// B − A cell by cell over the union of both grids' types and blocks (NaN where either is missing).
LayerGrid differenceGrid(const LayerGrid& a, const LayerGrid& b);

}  // namespace ptq::views
