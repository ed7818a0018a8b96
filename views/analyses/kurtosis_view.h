#pragma once
// Kurtosis of weights and of input activations (LLMC's Figure 3): grouped bars per layer type or
// per block, full precision vs after the method's transform (AWQ scales, rotation), log axis
// option (default linear: a log axis draws bars from an arbitrary floor), and the Gaussian's
// kurtosis 3 as a dashed reference line (Pearson's definition; 0 under Fisher's). Fed by records
// carrying analyses.kurtosis ("ptq run --analysis kurtosis"). Two more modes for W-A runs
// (views/analyses/kurtosis_inputs.h): activation kurtosis by layer input (q/k/v, o, gate/up, down)
// before and after the transform, as LLMC's Figure 3, and the outlier channels (per-channel
// max|x|) of one chosen layer's input.
#include "views/charts/bar_chart.h"
#include "views/charts/qt_chart_view_base.h"

class QCheckBox;

namespace ptq::views {

class KurtosisView : public QtChartViewBase {
  Q_OBJECT
 public:
  enum Grouping { ByType = 0, ByBlock = 1 };
  enum Quantity { Both = 0, Weights = 1, Activations = 2 };
  enum Mode { AllLayers = 0, InputsByType = 1, OutlierChannels = 2 };
  explicit KurtosisView(QWidget* parent = nullptr);

  void setRecords(const std::vector<nlohmann::json>& records) override;
  QString noDataMessage() const override;
  TextTable dataTable() const override;

  void setGrouping(Grouping g);
  void setQuantity(Quantity q);
  void setLogScale(bool on);
  void selectRecord(int index);
  void setMode(Mode m);
  // The layer of the outlier-channel mode, by full name ("layers.3.mlp.down_proj"); false if the
  // record has no channel data for it.
  bool selectLayer(const QString& name);
  int recordCount() const { return static_cast<int>(records_.size()); }
  const BarChart& chart() const { return chart_; }
  // The reference line drawn: 3 for Pearson's kurtosis, 0 for Fisher's (excess) kurtosis.
  double gaussianReference() const;

 protected:
  void rebuild() override;
  QChart* buildChart(const ChartStyle& s) const override;

 private:
  std::vector<Record> records_;  // those with analyses.kurtosis
  BarChart chart_;
  void rebuildAllLayers(const Record& r);
  QComboBox *picker_, *grouping_, *quantity_, *mode_, *layer_;
  QCheckBox* log_;
};

}  // namespace ptq::views
