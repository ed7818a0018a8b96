#include "views/analyses/divergence_view.h"

#include <QFontMetricsF>
#include <QImage>
#include <QLinearGradient>
#include <QPainter>
#include <algorithm>
#include <cmath>

#include "views/charts/chart_style.h"
#include "views/charts/plot_frame.h"

namespace ptq::views {

namespace {

const QColor kHot(200, 30, 30);  // the largest KL

}  // namespace

QColor divergenceShade(double kl, double klMax) {
  if (!std::isfinite(kl) || !(klMax > 0)) return Qt::transparent;
  const double t = std::sqrt(std::clamp(kl / klMax, 0.0, 1.0));
  return QColor(int(std::lround(255 + t * (kHot.red() - 255))), int(std::lround(255 + t * (kHot.green() - 255))),
                int(std::lround(255 + t * (kHot.blue() - 255))));
}

DivergenceView::DivergenceView(QWidget* parent) : ChartViewBase("divergence", tr("Per-token divergence"), parent) {
  run_ = addCombo("run", tr("Run"), {});
  canvas_ = canvas();
  canvas_->setHover([this](const QPointF& pos) { return hoverText(pos); });
  refresh();
}

void DivergenceView::setRecords(const std::vector<nlohmann::json>& records) {
  records_.clear();
  for (const auto& r : records)
    if (!divergenceData(r).empty()) records_.push_back(r);
  fillPicker(run_, records_);
  refresh();
}

QString DivergenceView::noDataMessage() const {
  if (records_.empty())
    return tr("no data: select quantized runs made with the analysis \"divergence\" ticked (Experiment tab, Analyses; "
              "needs an eval text)");
  return {};
}

void DivergenceView::selectRun(int index) { run_->setCurrentIndex(index); }

void DivergenceView::rebuild() {
  const int i = run_->currentIndex();
  data_ = i >= 0 && i < int(records_.size()) ? divergenceData(records_[size_t(i)]) : DivergenceData{};
}

void DivergenceView::paintFigure(QPainter& p, const QRectF& target) { paintAll(p, target, true); }

std::vector<DivergenceCell> DivergenceView::layout(const QRectF& target) const {
  // Measured on an image with the canvas's resolution, so the cells are where the screen has them.
  QImage img(1, 1, QImage::Format_ARGB32);
  img.setDotsPerMeterX(int(std::lround(canvas_->logicalDpiX() / 0.0254)));
  img.setDotsPerMeterY(int(std::lround(canvas_->logicalDpiY() / 0.0254)));
  QPainter p(&img);
  return paintAll(p, target, false);
}

QString DivergenceView::hoverText(const QPointF& pos) const {
  for (const auto& c : layout(QRectF(canvas_->rect())))
    if (c.rect.contains(pos)) {
      const DivergenceToken& t = data_.tokens[size_t(c.token)];
      QString s = tr("token %1: \"%2\" (id %3)").arg(c.token).arg(shownPiece(t.text)).arg(t.id);
      if (std::isnan(t.kl)) return s + tr("\na window's first token: predicted by nothing");
      return s + tr("\nKL(p_fp‖p_q) = %1 nats\nΔp(correct) = %2").arg(formatNumber(t.kl, 4), formatNumber(t.dp, 3));
    }
  return {};
}

}  // namespace ptq::views
