#pragma once
// Per-layer quantization error: a heatmap of layer types × blocks (hover for the exact value)
// above bars along depth (the mean over layer types of each block; Qt Charts, hover for the value). The metric is switchable:
// weight relative error, output cosine, output relative MSE (the record's layers[] fields).
// Values a run did not measure (null: output errors without calibration text, the weight error of
// layers left in full precision) are grey cells labelled "not measured", never plotted as numbers;
// records written before null was used carry -1 sentinels and 0 weight errors, read the same way.
#include "views/charts/bar_chart.h"
#include "views/charts/qt_chart_view_base.h"
#include "views/charts/layer_grid.h"

class QCheckBox;

namespace ptq::views {

class HeatmapWidget;

class LayerErrorView : public QtChartViewBase {
  Q_OBJECT
 public:
  enum Metric { WeightRelError = 0, OutCosine = 1, OutRelMse = 2 };
  explicit LayerErrorView(QWidget* parent = nullptr);

  void setRecords(const std::vector<nlohmann::json>& records) override;
  QString noDataMessage() const override;
  TextTable dataTable() const override;

  void setMetric(Metric m);
  void selectRecord(int index);
  void setLogScale(bool on);
  int recordCount() const { return static_cast<int>(records_.size()); }
  const LayerGrid& grid() const { return grid_; }
  const BarChart& depthBars() const { return bars_; }
  HeatmapWidget* heatmap() const { return heatmap_; }
  // The record field behind a metric ("weight_rel_error", ...) and its axis label.
  static const char* metricKey(Metric m);
  static QString metricLabel(Metric m);
  // The record's layers with every value that was not measured set to null (see above).
  static nlohmann::json measuredLayers(const nlohmann::json& layers);

 protected:
  void rebuild() override;
  // The figure: the custom-painted heatmap above the depth bars (Qt Charts, its plot aligned
  // with the heatmap's columns).
  void paintFigure(QPainter& p, const QRectF& target) override;
  QChart* buildChart(const ChartStyle& s) const override;

 private:
  std::vector<Record> records_;  // those with per-layer errors
  LayerGrid grid_;
  BarChart bars_;
  QString title_;
  QComboBox *picker_, *metric_;
  QCheckBox* log_;
  HeatmapWidget* heatmap_;
};

}  // namespace ptq::views
