#pragma once
// Kurtosis of weights and of input activations (LLMC's Figure 3): grouped bars per layer type or
// per block, full precision vs after the method's transform (AWQ scales, rotation), log axis
// option. Fed by records carrying analyses.kurtosis ("ptq run --analysis kurtosis"). Two more
// modes for W-A runs (views/analyses/kurtosis_inputs.h): activation kurtosis by layer input
// (q/k/v, o, gate/up, down) before and after the transform, as LLMC's Figure 3, and the outlier
// channels (per-channel max|x|) of one chosen layer's input.
#include "views/charts/bar_chart.h"
#include "views/charts/chart_view_base.h"

class QCheckBox;

namespace ptq::views {

class KurtosisView : public ChartViewBase {
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
  void setMode(Mode m);
  // The layer of the outlier-channel mode, by full name ("layers.3.mlp.down_proj"); false if the
  // record has no channel data for it.
  bool selectLayer(const QString& name);
  void selectRecord(int index);
  int recordCount() const { return static_cast<int>(records_.size()); }
  const BarChart& chart() const { return chart_; }

 protected:
  void rebuild() override;
  void paintFigure(QPainter& p, const QRectF& target) override;

 private:
  std::vector<Record> records_;  // those with analyses.kurtosis
  BarChart chart_;
  void rebuildAllLayers(const Record& r);
  QComboBox *picker_, *grouping_, *quantity_, *mode_, *layer_;
  QCheckBox* log_;
};

}  // namespace ptq::views
