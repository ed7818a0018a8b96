#pragma once
// The Samples view (issue 17): what the quantized models write. Prompts on the left (and the runs
// to show, checkable), on the right the full-precision continuation and each shown run's side by
// side, token by token: each token's background shaded by the probability of the chosen token
// (white = 1, orange = 0), the first token where a run departs from full precision framed in red
// (in both columns). Hover shows a token's text and probability. Export: the samples as CSV or
// LaTeX (samplesTable), the figure as PNG / SVG / PDF like every view. Fed by records with a
// "samples" block (views/analyses/samples_data.h).
#include <QRectF>
#include <vector>

#include "views/analyses/analysis_view.h"
#include "views/analyses/samples_data.h"

class QListWidget;
class QPainter;

namespace ptq::views {

class FigureCanvas;

// One laid-out token of the figure (target coordinates).
struct SampleCell {
  QRectF rect;
  QString text;
  double prob;
  int column;       // 0 = full precision, then the shown runs in order
  int token;        // index in its continuation
  bool diverges;    // the column's first diverging token
};

// Background of a token of probability p: white at 1 to orange at 0; transparent for NaN.
QColor sampleShade(double p);

class SamplesView : public AnalysisView {
  Q_OBJECT
 public:
  explicit SamplesView(QWidget* parent = nullptr);
  QString viewId() const override { return QStringLiteral("samples"); }
  QString title() const override { return tr("Samples"); }
  void setRecords(const std::vector<nlohmann::json>& records) override;
  void exportPaint(QPainter& p, const QRectF& target) override;
  bool hasData() const override { return !data_.empty(); }
  QString noDataMessage() const override;
  TextTable dataTable() const override { return samplesTable(data_, shownRuns()); }

  const SamplesData& data() const { return data_; }
  void selectPrompt(int index);
  int currentPrompt() const;
  void setRunShown(int run, bool shown);
  std::vector<int> shownRuns() const;
  // The tokens as painted into `target` for the current prompt (what hover and tests read).
  std::vector<SampleCell> layout(const QRectF& target) const;
  bool exportTo(const QString& path, QString* error) const { return exportTable(dataTable(), path, error); }

 private:
  void refresh();
  void exportDialog(const QString& suffix);
  // Lays out (and paints when `draw`) the current prompt into `target`; returns the token cells.
  std::vector<SampleCell> paintPrompt(QPainter& p, const QRectF& target, bool draw) const;
  QString hoverText(const QPointF& pos) const;

  SamplesData data_;
  QListWidget *prompts_, *runs_;
  FigureCanvas* canvas_;
};

}  // namespace ptq::views
