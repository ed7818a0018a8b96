#include "views/analyses/tradeoff_view.h"

#include <QCheckBox>
#include <QFontMetricsF>
#include <QPainter>
#include <algorithm>
#include <cmath>

#include "views/charts/pareto.h"
#include "views/charts/plot_frame.h"

namespace ptq::views {

TradeoffView::TradeoffView(QWidget* parent) : ChartViewBase("tradeoff", tr("Size vs quality"), parent) {
  x_ = addCombo("xAxis", tr("x"), {tr("model size"), tr("bits per weight")});
  quality_ = addCombo("quality", tr("y"), {});
  log_ = addCheck("log", tr("log scale (perplexity)"), true);
  rebuild();
}

QStringList TradeoffView::qualities() const {
  QStringList q;
  for (const auto& r : records_)
    if (!std::isnan(number(r, "metrics/ppl"))) { q << "ppl"; break; }
  for (const auto& t : taskNames(records_)) q << t;
  return q;
}

void TradeoffView::setRecords(const std::vector<nlohmann::json>& records) {
  records_.clear();
  for (const auto& r : records)
    if (!std::isnan(number(r, "metrics/size/total_bytes"))) records_.push_back(r);
  QStringList keys = qualities(), texts;
  for (const auto& q : keys) texts << (q == "ppl" ? tr("perplexity") : tr("accuracy: %1").arg(q));
  refill(quality_, texts, keys);
  refresh();
}

QString TradeoffView::noDataMessage() const {
  if (records_.empty()) return tr("no data: run experiments (ptq run / ptq sweep) that measure model size");
  if (points_.empty()) return tr("no data: no record has both a model size and a perplexity or task accuracy");
  return {};
}

void TradeoffView::setXAxis(XAxis x) { x_->setCurrentIndex(x); }
void TradeoffView::setLogScale(bool on) { log_->setChecked(on); }

bool TradeoffView::setQuality(const QString& quality) {
  int i = quality_->findData(quality);
  if (i < 0) return false;
  quality_->setCurrentIndex(i);
  return true;
}

QStringList TradeoffView::methods() const {
  QStringList m;
  for (const auto& p : points_)
    if (!m.contains(p.method)) m << p.method;
  return m;
}

void TradeoffView::rebuild() {
  points_.clear();
  frontier_.clear();
  QString quality = quality_->currentData().toString();
  if (quality.isEmpty()) return;
  double maxBytes = 0;
  for (const auto& r : records_) maxBytes = std::max(maxBytes, number(r, "metrics/size/total_bytes"));
  unit_ = maxBytes >= 1e9 ? 1e9 : 1e6;
  bool bpw = x_->currentIndex() == BitsPerWeight;
  for (size_t i = 0; i < records_.size(); ++i) {
    const Record& r = records_[i];
    double x = bpw ? number(r, "metrics/size/bits_per_weight") : number(r, "metrics/size/total_bytes") / unit_;
    double y = quality == "ppl" ? number(r, "metrics/ppl") : taskAccuracy(r, quality);
    if (!std::isfinite(x) || !std::isfinite(y)) continue;
    // One series per method and activation width: "rtn" (weights only), "rtn a8", "rtn a4".
    const double a = actBits(r);
    const QString series = a > 0 ? methodName(r) + QStringLiteral(" a%1").arg(a) : methodName(r);
    points_.push_back({series, pointLabel(r), x, y, static_cast<int>(i)});
  }
  std::stable_sort(points_.begin(), points_.end(), [](const TradeoffPoint& a, const TradeoffPoint& b) {
    return a.method != b.method ? a.method < b.method : a.x < b.x;
  });
  std::vector<ParetoPoint> pp;
  for (const auto& p : points_) pp.push_back({p.x, p.y});
  frontier_ = paretoFrontier(pp, quality != "ppl");
}

TextTable TradeoffView::dataTable() const {
  TextTable t;
  if (points_.empty()) return t;
  bool bpw = x_->currentIndex() == BitsPerWeight;
  t.headers << tr("run") << tr("method")
            << (bpw ? tr("bits per weight") : unit_ == 1e9 ? tr("size (GB)") : tr("size (MB)")) << quality_->currentText()
            << tr("pareto");
  for (size_t i = 0; i < points_.size(); ++i) {
    const auto& p = points_[i];
    bool onFrontier = std::find(frontier_.begin(), frontier_.end(), static_cast<int>(i)) != frontier_.end();
    t.rows.push_back({recordLabel(records_[p.record]), p.method, QString::number(p.x, 'g', 6), QString::number(p.y, 'g', 6),
                      onFrontier ? "yes" : "no"});
  }
  return t;
}

void TradeoffView::paintFigure(QPainter& p, const QRectF& target) {
  ChartStyle s(p);
  PlotFrame f(p, s, target);
  bool ppl = quality_->currentData().toString() == "ppl";
  bool bpw = x_->currentIndex() == BitsPerWeight;
  f.title = tr("Model size vs %1").arg(ppl ? tr("perplexity") : quality_->currentText());
  std::vector<double> xs, ys;
  for (const auto& pt : points_) { xs.push_back(pt.x); ys.push_back(pt.y); }
  f.x = PlotAxis::fit(xs, false, false, 0.12);
  f.x.label = bpw ? tr("bits per weight") : unit_ == 1e9 ? tr("model size (GB)") : tr("model size (MB)");
  f.y = PlotAxis::fit(ys, ppl && log_->isChecked(), false, 0.1);
  f.y.label = ppl ? tr("perplexity") : quality_->currentText();
  for (const auto& m : methods()) f.legend.push_back({m, ChartStyle::methodColor(m), LegendItem::Point});
  f.legend.push_back({tr("Pareto frontier"), QColor(90, 90, 90), LegendItem::Line});
  f.drawFrame();
  p.save();
  p.setClipRect(f.plotRect());
  QPen frontierPen = s.seriesPen(QColor(90, 90, 90), 1.0);
  frontierPen.setStyle(Qt::DashLine);
  p.setPen(frontierPen);
  for (size_t k = 1; k < frontier_.size(); ++k) {
    const auto &a = points_[frontier_[k - 1]], &b = points_[frontier_[k]];
    p.drawLine(f.map(a.x, a.y), f.map(b.x, b.y));
  }
  double r = s.pt(2.6);
  QFontMetricsF fm(s.font(0.8));
  p.setFont(s.font(0.8));
  std::vector<QRectF> taken;  // points, then labels as they are placed
  for (const auto& pt : points_) {
    QPointF c = f.map(pt.x, pt.y);
    taken.emplace_back(c.x() - r, c.y() - r, 2 * r, 2 * r);
  }
  for (size_t i = 0; i < points_.size(); ++i) {
    const auto& pt = points_[i];
    QPointF c = f.map(pt.x, pt.y);
    bool onFrontier = std::find(frontier_.begin(), frontier_.end(), static_cast<int>(i)) != frontier_.end();
    p.setPen(onFrontier ? QPen(Qt::black, s.pt(0.8)) : Qt::NoPen);
    p.setBrush(ChartStyle::methodColor(pt.method));
    p.drawEllipse(c, r, r);
  }
  // Labels: the first of eight positions around the point that stays inside the plot and clear of
  // every point and earlier label; the first inside position when none is clear.
  p.setPen(s.textColor());
  for (const auto& pt : points_) {
    QPointF c = f.map(pt.x, pt.y);
    QSizeF sz(fm.horizontalAdvance(pt.label) + 2, fm.height());
    double g = r + s.pt(1);
    const QPointF corners[] = {{c.x() + g, c.y() - sz.height()}, {c.x() + g, c.y()}, {c.x() - g - sz.width(), c.y() - sz.height()},
                               {c.x() - g - sz.width(), c.y()},  {c.x() - sz.width() / 2, c.y() - g - sz.height()},
                               {c.x() - sz.width() / 2, c.y() + g}, {c.x() + g, c.y() - sz.height() / 2},
                               {c.x() - g - sz.width(), c.y() - sz.height() / 2}};
    QRectF best, fallback;
    for (const auto& corner : corners) {
      QRectF box(corner, sz);
      if (!f.plotRect().contains(box)) continue;
      if (fallback.isNull()) fallback = box;
      bool clear = std::none_of(taken.begin(), taken.end(), [&](const QRectF& t) { return t.intersects(box); });
      if (clear) { best = box; break; }
    }
    if (best.isNull()) best = fallback.isNull() ? QRectF(corners[0], sz) : fallback;
    taken.push_back(best);
    p.drawText(best, Qt::AlignLeft | Qt::AlignVCenter, pt.label);
  }
  p.restore();
  f.finish();
}

}  // namespace ptq::views
