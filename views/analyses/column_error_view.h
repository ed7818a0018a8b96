#pragma once
// Column-wise weight error of one layer (LLMC Fig. 5): e_j = ‖W[:,j] − Q(W)[:,j]‖ / ‖W[:,j]‖ along
// the input columns j of the chosen layer, one line per selected run, overlaid (run names in the
// legend and in the exported figure). GPTQ quantizes left to right and pushes its compensation
// onto the columns not yet quantized, so its error grows toward the last columns; RTN is flat; a
// rotation flattens the weights before rounding. With GPTQ's act_order the columns were processed
// by descending Hessian diagonal, not left to right: the figure says so for such runs. Fed by
// analyses.column_error (float16 base64 per layer, docs/results-schema.md). On Qt Charts.
#include <string>
#include <vector>

#include "views/charts/qt_chart_view_base.h"

class QCheckBox;

namespace ptq::views {

// The float16 little-endian base64 vector of analyses.column_error; empty when malformed.
std::vector<double> decodeFloat16Base64(const std::string& s);
// Running mean over the centred window i − ⌊width/2⌋ … i + ⌊width/2⌋ (shorter at the ends); width < 2: as is.
std::vector<double> runningMean(const std::vector<double>& v, int width);

struct ColumnErrorSeries {
  QString key;               // the run's label (legend)
  int record = -1;           // index into the view's records
  bool actOrder = false;
  std::vector<double> values;  // e_j, j = 0..columns-1
};

class ColumnErrorView : public QtChartViewBase {
  Q_OBJECT
 public:
  static constexpr int kMaxRuns = 8;
  explicit ColumnErrorView(QWidget* parent = nullptr);

  void setRecords(const std::vector<nlohmann::json>& records) override;
  QString noDataMessage() const override;
  TextTable dataTable() const override;

  // The layers any record has (block order as recorded).
  QStringList layers() const;
  bool selectLayer(const QString& name);
  QString currentLayer() const;
  void setSmoothing(bool on);
  const std::vector<ColumnErrorSeries>& series() const { return series_; }

 protected:
  void rebuild() override;
  QChart* buildChart(const ChartStyle& s) const override;

 private:
  std::vector<Record> records_;
  std::vector<ColumnErrorSeries> series_;
  QComboBox* layer_;
  QCheckBox* smooth_;
};

}  // namespace ptq::views
