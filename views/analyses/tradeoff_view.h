#pragma once
// Size against quality (PTQ-Bench's "higher-bit small model or lower-bit large model?"): model
// size (GB, or bits per weight) against perplexity (log axis) or a task's accuracy, one series per
// method, the Pareto frontier over all runs drawn, each point labelled with model and bits.
#include "views/charts/chart_view_base.h"

class QCheckBox;

namespace ptq::views {

struct TradeoffPoint {
  QString method, label;  // label: "austen-tiny 3b"
  double x = 0, y = 0;
  int record = -1;        // index into the records given to setRecords
};

class TradeoffView : public ChartViewBase {
  Q_OBJECT
 public:
  enum XAxis { SizeBytes = 0, BitsPerWeight = 1 };
  explicit TradeoffView(QWidget* parent = nullptr);

  void setRecords(const std::vector<nlohmann::json>& records) override;
  QString noDataMessage() const override;
  TextTable dataTable() const override;

  void setXAxis(XAxis x);
  // "ppl" or a task name from metrics.tasks (its accuracy); false when unknown.
  bool setQuality(const QString& quality);
  void setLogScale(bool on);
  QStringList qualities() const;  // "ppl" first when any record has it, then the tasks
  const std::vector<TradeoffPoint>& points() const { return points_; }
  // Indices into points(), by ascending x.
  const std::vector<int>& frontier() const { return frontier_; }
  QStringList methods() const;  // series, in legend order
  // Size unit of the x axis in bytes (1e9 for GB, 1e6 for MB), chosen from the largest model.
  double sizeUnit() const { return unit_; }

 protected:
  void rebuild() override;
  void paintFigure(QPainter& p, const QRectF& target) override;

 private:
  std::vector<Record> records_;
  std::vector<TradeoffPoint> points_;
  std::vector<int> frontier_;
  double unit_ = 1e9;
  QComboBox *x_, *quality_;
  QCheckBox* log_;
};

}  // namespace ptq::views
