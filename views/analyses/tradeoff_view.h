#pragma once
// Size against quality (PTQ-Bench's "higher-bit small model or lower-bit large model?"), on Qt
// Charts: model size (GB / MB, or bits per weight) against perplexity, ΔPPL, KL to full
// precision, top-1 agreement or a task's accuracy; one scatter series per method, the Pareto
// frontier over all runs as a dashed line (and so in the legend), each point labelled with the
// method, model and bits where the label fits. Hover names the run; clicking a point emits its
// run id (the results table selects it); highlightRuns rings the points of the selected runs.
#include "views/charts/qt_chart_view_base.h"

class QCheckBox;

namespace ptq::views {

struct TradeoffPoint {
  QString method, label;  // method: the series ("gptq", "rtn a8"); label: "austen-tiny 3b"
  double x = 0, y = 0;
  int record = -1;        // index into the records given to setRecords
};

class TradeoffView : public QtChartViewBase {
  Q_OBJECT
 public:
  // Bits per weight with the embeddings and head counted, or over the linear layers alone.
  enum XAxis { SizeBytes = 0, BitsPerWeight = 1, LinearBitsPerWeight = 2 };
  explicit TradeoffView(QWidget* parent = nullptr);

  void setRecords(const std::vector<nlohmann::json>& records) override;
  QString noDataMessage() const override;
  TextTable dataTable() const override;

  void setXAxis(XAxis x);
  // "ppl", "dppl", "kl", "top1" or a task name from metrics.tasks (its accuracy); false when unknown.
  bool setQuality(const QString& quality);
  void setLogScale(bool on);
  // The y choices the records support: "ppl", "dppl", "kl", "top1", then the tasks.
  QStringList qualities() const;
  const std::vector<TradeoffPoint>& points() const { return points_; }
  // Indices into points(), by ascending x.
  const std::vector<int>& frontier() const { return frontier_; }
  QStringList methods() const;  // series, in legend order
  // Size unit of the x axis in bytes (1e9 for GB, 1e6 for MB), chosen from the largest model.
  double sizeUnit() const { return unit_; }
  QString xLabel() const;
  QString yLabel() const;
  QString figureTitle() const;  // "<y> vs <x>", following the axes chosen
  // Rings the points of these runs (the rows selected in the results table).
  void highlightRuns(const QStringList& runIds);
  QStringList highlightedRuns() const { return highlighted_; }
  // The run id of a record given to setRecords.
  QString runIdOf(int record) const;

 Q_SIGNALS:
  void runClicked(const QString& runId);

 protected:
  void rebuild() override;
  QChart* buildChart(const ChartStyle& s) const override;

 private:
  double qualityOf(const Record& r, const QString& quality) const;
  void addFrontierAndRings(QChart* c, const ChartStyle& s, QAbstractAxis* ax, QAbstractAxis* ay) const;
  std::vector<Record> records_;
  std::vector<TradeoffPoint> points_;
  std::vector<int> frontier_;
  QStringList highlighted_;
  double unit_ = 1e9;
  QComboBox *x_, *quality_;
  QCheckBox* log_;
};

}  // namespace ptq::views
