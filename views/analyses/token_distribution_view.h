#pragma once
// Token frequencies of the calibration text against the test text (LLMC's Figure 2): token ids
// ranked by calibration frequency, the calibration curve and the test frequency of the same ids,
// KL and JS divergences annotated; log options. On Qt Charts: the curves are decimated to at most
// kMaxPoints per series (the min and max of each rank bucket), so a 128k vocabulary stays light. Fed by analyses.token_kl (ptq token-kl).
#include "views/charts/qt_chart_view_base.h"

class QCheckBox;

namespace ptq::views {

struct TokenDistribution {
  QString calib, test, tokenizer;
  std::vector<int> ids;             // token ids, by descending calibration frequency
  std::vector<double> calibFreq;    // frequencies (sum 1 over the vocabulary), in `ids` order
  std::vector<double> testFreq;
  double kl = 0, klCalibTest = 0, js = 0;
  int64_t calibTokens = 0, testTokens = 0;
};

// From one analyses.token_kl object: full counts when present, else the "top" list.
TokenDistribution tokenDistribution(const nlohmann::json& tokenKl);

// Indices of `values` kept when decimating to about `maxPoints`: every index when there are
// fewer, else the first, the min and the max of each equal-width bucket of ranks, and the last.
std::vector<int> decimatedIndices(const std::vector<double>& values, int maxPoints);

class TokenDistributionView : public QtChartViewBase {
  Q_OBJECT
 public:
  explicit TokenDistributionView(QWidget* parent = nullptr);

  void setRecords(const std::vector<nlohmann::json>& records) override;
  QString noDataMessage() const override;
  TextTable dataTable() const override;

  void selectAnalysis(int index);
  void setLogFrequency(bool on);
  void setLogRank(bool on);
  // Distinct (tokenizer, calib, calibration windows drawn, test) analyses found in the records.
  int analysisCount() const { return static_cast<int>(analyses_.size()); }
  const TokenDistribution& distribution() const { return dist_; }

 protected:
  void rebuild() override;
  QChart* buildChart(const ChartStyle& s) const override;

 private:
  std::vector<nlohmann::json> analyses_;
  TokenDistribution dist_;
  QComboBox* picker_;
  QCheckBox *logY_, *logX_;
};

}  // namespace ptq::views
