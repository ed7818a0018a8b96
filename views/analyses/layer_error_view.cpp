#include "views/analyses/layer_error_view.h"

#include <QCheckBox>
#include <QFontMetricsF>
#include <QPainter>
#include <QVBoxLayout>

#include "views/analyses/run_description.h"
#include "views/charts/bar_qchart.h"
#include "views/charts/chart_style.h"
#include "views/charts/heatmap_widget.h"
#include "views/charts/interactive_chart.h"
#include "views/charts/plot_frame.h"

namespace ptq::views {

const char* LayerErrorView::metricKey(Metric m) {
  switch (m) {
    case OutCosine: return "out_cosine";
    case OutRelMse: return "out_rel_mse";
    default: return "weight_rel_error";
  }
}

QString LayerErrorView::metricLabel(Metric m) {
  switch (m) {
    case OutCosine: return tr("output cosine");
    case OutRelMse: return tr("output relative MSE");
    default: return tr("weight relative error");
  }
}

nlohmann::json LayerErrorView::measuredLayers(const nlohmann::json& layers) {
  if (!layers.is_array()) return layers;
  nlohmann::json out = layers;
  for (auto& l : out) {
    if (!l.is_object()) continue;
    const bool quantized = l.value("quantized", true);
    const bool noTokens = l.contains("calib_tokens") && l["calib_tokens"].is_number() && l["calib_tokens"].get<double>() == 0;
    for (Metric m : {WeightRelError, OutCosine, OutRelMse}) {
      auto it = l.find(metricKey(m));
      if (it == l.end() || !it->is_number()) continue;
      const bool sentinel = m != WeightRelError && it->get<double>() == -1.0 && (m == OutRelMse || noTokens);
      if (!quantized || sentinel) *it = nullptr;  // a layer left in full precision has no quantization error
    }
  }
  return out;
}

LayerErrorView::LayerErrorView(QWidget* parent) : QtChartViewBase("layer_error", tr("Per-layer error"), parent) {
  picker_ = addCombo("record", "", {});
  metric_ = addCombo("metric", tr("Metric"), {metricLabel(WeightRelError), metricLabel(OutCosine), metricLabel(OutRelMse)});
  log_ = addCheck("log", tr("log scale (bars)"), false);
  heatmap_ = new HeatmapWidget(this);
  body()->insertWidget(0, heatmap_, 3);
  body()->setStretchFactor(chartView(), 2);
  refresh();
}

void LayerErrorView::setRecords(const std::vector<nlohmann::json>& records) {
  records_.clear();
  for (const auto& r : records) {
    bool any = false;
    const nlohmann::json layers = measuredLayers(field(r, "layers"));
    for (Metric m : {WeightRelError, OutCosine, OutRelMse}) any = any || layerGrid(layers, metricKey(m)).hasValues();
    if (any) records_.push_back(r);
  }
  fillPicker(picker_, records_);
  refresh();
}

QString LayerErrorView::noDataMessage() const {
  if (records_.empty()) return tr("no data: quantize a model (Experiment tab, method rtn, gptq, ...) and select its row in the results table");
  const char* key = metricKey(static_cast<Metric>(metric_->currentIndex()));
  if (grid_.empty()) return tr("no data: this record has no \"%1\" per layer").arg(key);
  if (!grid_.hasValues())
    return tr("no data: \"%1\" was not measured in this run (output errors need calibration text)").arg(key);
  return {};
}

void LayerErrorView::setMetric(Metric m) { metric_->setCurrentIndex(m); }
void LayerErrorView::selectRecord(int index) { picker_->setCurrentIndex(index); }
void LayerErrorView::setLogScale(bool on) { log_->setChecked(on); }

TextTable LayerErrorView::dataTable() const {
  TextTable t;
  if (grid_.empty()) return t;
  t.headers << tr("layer type");
  for (int b : grid_.blocks) t.headers << tr("block %1").arg(b);
  for (int r = 0; r < grid_.types.size(); ++r) {
    QStringList row{grid_.types[r]};
    for (size_t c = 0; c < grid_.values[r].size(); ++c)
      row << (grid_.notMeasured(r, int(c)) ? tr("not measured") : formatNumber(grid_.values[r][c], 6, ""));
    t.rows.push_back(row);
  }
  return t;
}

void LayerErrorView::rebuild() {
  grid_ = LayerGrid{};
  bars_ = BarChart{};
  title_.clear();
  int idx = picker_->currentIndex();
  auto metric = static_cast<Metric>(std::max(0, metric_->currentIndex()));
  if (idx >= 0 && idx < static_cast<int>(records_.size())) {
    const Record& r = records_[idx];
    grid_ = layerGrid(measuredLayers(field(r, "layers")), metricKey(metric), true);
    title_ = tr("%1: %2").arg(metricLabel(metric), recordLabel(r, false));
    bool unmeasured = false;
    for (int t = 0; t < grid_.types.size(); ++t)
      for (size_t c = 0; c < grid_.blocks.size(); ++c) unmeasured = unmeasured || grid_.notMeasured(t, int(c));
    if (unmeasured) title_ += tr(" (grey: not measured)");
    bars_.categoryLabel = tr("block");
    bars_.valueLabel = tr("mean");
    bars_.log = log_->isChecked();
    for (int b : grid_.blocks) bars_.categories << QString::number(b);
    bars_.series.push_back({metricLabel(metric), ChartStyle::seriesColor(0), grid_.blockMeans()});
  }
  heatmap_->setGrid(grid_, "", metricLabel(metric));
  heatmap_->setHidden(!grid_.hasValues());
}

void LayerErrorView::paintFigure(QPainter& p, const QRectF& target) {
  ChartStyle s(p);
  const ChartStyle es = exportStyle(p);  // before the title's pixel-sized font replaces the base one
  QFontMetricsF tit(s.font(1.15, true));
  double titleH = tit.height() + s.pt(4);
  p.setPen(s.textColor());
  p.setFont(s.font(1.15, true));
  drawElided(p, QRectF(target.left(), target.top() + s.pt(4), target.width(), titleH), Qt::AlignHCenter | Qt::AlignTop, title_);
  double top = target.top() + titleH;
  double split = top + (target.bottom() - top) * 0.55;
  // The title names the metric, so the colour bar goes unlabelled; the bars line up with the columns.
  QRectF heat(QPointF(target.left(), top), QPointF(target.right(), split));
  paintHeatmap(p, s, heat, grid_, "", "");
  HeatmapGeometry geo = heatmapGeometry(s, heat, grid_, "");
  // The bars below, their plot area lined up with the heatmap's columns (scene units: exportStyle).
  const QRectF below(QPointF(target.left(), split), target.bottomRight());
  const QSizeF scene = exportSceneSize(p, below);
  const double k = scene.width() / below.width();
  QChart* c = makeChart(es);
  c->setTitle(QString());
  QFontMetricsF fm(es.font(0.9));
  const double plotTop = es.pt(6), plotBottom = scene.height() - 2.6 * fm.height() - es.pt(8);
  renderChart(c, scene, p, below,
              QRectF(QPointF((geo.grid.left() - below.left()) * k, plotTop), QPointF((geo.grid.right() - below.left()) * k, plotBottom)));
}

QChart* LayerErrorView::buildChart(const ChartStyle& s) const {
  int idx = picker_->currentIndex();
  const QString context = idx >= 0 && idx < int(records_.size()) ? runDescription(records_[idx]) : QString();
  BarChart bars = bars_;
  bars.title = title_;
  return barQChart(bars, s, [this](const QString& k) { return displayName(k); }, context);
}

}  // namespace ptq::views
