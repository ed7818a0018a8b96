#pragma once
// Calibration study (issue 15, LLMC's Table 1 relation): each run's quality (perplexity, or the
// mean per-token KL to full precision) against its calibration windows' token-distribution KL to
// the test text (analyses.token_kl.kl, KL(test ‖ calib) in nats), one point per run, a colour per
// method, tooltips naming the run and its calibration set. With at least 3 points at 2 or more
// distinct KLs a method gets its least-squares line and Pearson r (in the notes): a line is only
// drawn where it can say something. The demo sweep resources/calib-sweep.json produces the figure.
#include <cmath>

#include "views/charts/qt_chart_view_base.h"

class QCheckBox;

namespace ptq::views {

struct CalibrationPoint {
  double kl = 0, y = 0;
  QString method, calibration;
  int record = -1;
};

struct LineFit {
  double slope = 0, intercept = 0, r = NAN;
  bool valid = false;
};
// Least squares y = slope·x + intercept and Pearson r; invalid below 3 points or 2 distinct x.
LineFit fitLine(const std::vector<double>& x, const std::vector<double>& y);

// y: "ppl" (metrics.ppl) or "kl" (metrics.compare.kl_mean). Records without token_kl or y are left out.
std::vector<CalibrationPoint> calibrationPoints(const std::vector<Record>& records, const QString& y);

class CalibrationStudyView : public QtChartViewBase {
  Q_OBJECT
 public:
  explicit CalibrationStudyView(QWidget* parent = nullptr);

  void setRecords(const std::vector<nlohmann::json>& records) override;
  QString noDataMessage() const override;
  TextTable dataTable() const override;

  void setQuality(const QString& y);  // "ppl" or "kl"
  void setLogX(bool on);
  const std::vector<CalibrationPoint>& points() const { return points_; }
  QStringList methods() const;
  LineFit fitOf(const QString& method) const;

 Q_SIGNALS:
  void runClicked(const QString& runId);

 protected:
  void rebuild() override;
  QChart* buildChart(const ChartStyle& s) const override;

 private:
  QString yLabel() const;
  std::vector<Record> records_;
  std::vector<CalibrationPoint> points_;
  QComboBox* quality_;
  QCheckBox* logX_;
};

}  // namespace ptq::views
