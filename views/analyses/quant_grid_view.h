#pragma once
// Histograms with the quantization grid (issue 15), from analyses.quant_grid of one run:
//   weights: the histogram of one layer's weights as its quantizer saw them (after the run's
//     transforms), with the grid levels of the group holding the layer's largest |w| drawn as
//     vertical lines. Each group has its own scale and zero, so one grid cannot stand for all: the
//     widest one (the group the largest |w| sets) is the one outliers stretch, which is what a
//     researcher looks for; the figure names its row and group.
//   codes: how many of the layer's weights took each code, over every group: the grid in units
//     of the scale, the same for every group (unused codes at the ends are range wasted on outliers).
//   activations: the histogram of the layer's input on the calibration windows (at the same point
//     of the pipeline). No grid lines: weight-only runs keep activations in full precision, and a
//     W-A run's activation scales (per token, or static per tensor) are not in this record.
#include "views/charts/qt_chart_view_base.h"

class QCheckBox;

namespace ptq::views {

struct GridHistogram {
  std::vector<double> edges;    // bins + 1 edges
  std::vector<double> counts;   // per bin
  std::vector<double> levels;   // grid lines (weights mode), empty otherwise
  QString title, xLabel, note;
  double total() const;
};

// The histogram of `layer` of one record's analyses.quant_grid in mode "weights", "codes" or
// "activations"; empty counts when the record has none.
GridHistogram gridHistogram(const Record& record, const QString& layer, const QString& mode);

class QuantGridView : public QtChartViewBase {
  Q_OBJECT
 public:
  explicit QuantGridView(QWidget* parent = nullptr);

  void setRecords(const std::vector<nlohmann::json>& records) override;
  QString noDataMessage() const override;
  TextTable dataTable() const override;

  void selectRun(int index);
  void selectLayer(const QString& layer);
  void setMode(const QString& mode);  // "weights", "codes", "activations"
  void setLog(bool on);
  int runCount() const { return int(records_.size()); }
  const GridHistogram& histogram() const { return hist_; }

 protected:
  void rebuild() override;
  QChart* buildChart(const ChartStyle& s) const override;

 private:
  void fillLayers();
  std::vector<Record> records_;
  GridHistogram hist_;
  QComboBox *run_, *layer_, *mode_;
  QCheckBox* log_;
};

}  // namespace ptq::views
