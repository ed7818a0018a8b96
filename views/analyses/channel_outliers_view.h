#pragma once
// Activation outliers (issue 15): the per-channel max |x| of one layer input, full precision
// against after each run's transform (SmoothQuant / AWQ / OS+ scales, QuaRot's rotation): the
// channels a transform moves. Fed by analyses.outliers (the whole vector per distinct input; the
// kurtosis view's outlier-channel mode shows only the top 8 channels of one run). The full-precision
// curve is the first record's that has the input (every run of one model and calibration draw has
// the same one); each record with a transformed stage adds its curve, named by transform and
// settings, the run in the tooltip. Options: channels in index order or ranked by the fp max |x|
// (the transformed curves follow the same channel order), log y.
#include <QColor>

#include "views/charts/qt_chart_view_base.h"

class QCheckBox;

namespace ptq::views {

struct ChannelCurve {
  QString key;                // legend: "fp", "after rotate (w3g64)"
  QColor color;
  std::vector<double> values;  // max |x| by channel index
  int record = -1;             // index into the records given
  double ratio() const;        // max / mean over channels (NaN when empty)
};

// The inputs of the records' analyses.outliers fp stages, in record order without repeats:
// (layer name of the first reader, label naming every reader and the input's type).
std::vector<std::pair<QString, QString>> outlierInputs(const std::vector<Record>& records);
// The fp curve and one curve per record with a transformed stage, for the input read first by `layer`.
std::vector<ChannelCurve> channelCurves(const std::vector<Record>& records, const QString& layer);

class ChannelOutliersView : public QtChartViewBase {
  Q_OBJECT
 public:
  explicit ChannelOutliersView(QWidget* parent = nullptr);

  void setRecords(const std::vector<nlohmann::json>& records) override;
  QString noDataMessage() const override;
  TextTable dataTable() const override;

  void selectLayer(const QString& layer);
  void setSorted(bool on);
  void setLog(bool on);
  QStringList layers() const;
  const std::vector<ChannelCurve>& curves() const { return curves_; }
  // Channel order on the x axis (identity, or ranked by the fp curve).
  const std::vector<int>& order() const { return order_; }

 protected:
  void rebuild() override;
  QChart* buildChart(const ChartStyle& s) const override;

 private:
  std::vector<Record> records_;
  std::vector<ChannelCurve> curves_;
  std::vector<int> order_;
  QComboBox* layer_;
  QCheckBox *sorted_, *log_;
};

}  // namespace ptq::views
