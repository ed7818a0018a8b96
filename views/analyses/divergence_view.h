#pragma once
// Where the quantized model diverges from full precision (issue 15): the eval text's first tokens
// as the chosen run recorded them (analyses.divergence), each token's background shaded by the
// KL(p_fp ‖ p_q) of the prediction that produced it (white = 0 to red = the run's largest, on a
// square-root scale so the middle stays visible; grey text: a window's first token, predicted by
// nothing), and below the text the worst tokens listed with their context. Hover: the token, its
// KL and Δp of the correct token. Export: the figure (PNG / SVG / PDF) and the worst tokens as a
// table (CSV / LaTeX). Custom-painted (Qt Charts has no text series).
#include <vector>

#include "views/analyses/divergence_data.h"
#include "views/charts/chart_view_base.h"

namespace ptq::views {

// One laid-out token of the figure (target coordinates).
struct DivergenceCell {
  QRectF rect;
  int token;  // index into DivergenceData::tokens
};

// Background of a token of KL `kl` on a scale to `klMax`: white at 0 to red at klMax (sqrt).
QColor divergenceShade(double kl, double klMax);

class DivergenceView : public ChartViewBase {
  Q_OBJECT
 public:
  static constexpr int kWorstShown = 12;
  explicit DivergenceView(QWidget* parent = nullptr);

  void setRecords(const std::vector<nlohmann::json>& records) override;
  QString noDataMessage() const override;
  TextTable dataTable() const override { return worstTokenTable(data_, kWorstShown); }

  int runCount() const { return int(records_.size()); }
  void selectRun(int index);
  const DivergenceData& data() const { return data_; }
  // The text's tokens as painted into `target` (what hover and the tests read).
  std::vector<DivergenceCell> layout(const QRectF& target) const;
  QString hoverText(const QPointF& canvasPos) const;

 protected:
  void rebuild() override;
  void paintFigure(QPainter& p, const QRectF& target) override;

 private:
  // Lays out (and paints when `draw`) the whole figure into `target`; returns the token cells.
  std::vector<DivergenceCell> paintAll(QPainter& p, const QRectF& target, bool draw) const;
  double paintWorst(QPainter& p, const QRectF& area, bool draw) const;

  std::vector<Record> records_;
  DivergenceData data_;
  QComboBox* run_;
  FigureCanvas* canvas_;
};

}  // namespace ptq::views
