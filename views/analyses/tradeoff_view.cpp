#include "views/analyses/tradeoff_view.h"

#include <QCheckBox>
#include <QtCharts/QLegend>
#include <QtCharts/QLegendMarker>
#include <QtCharts/QLineSeries>
#include <QtCharts/QScatterSeries>
#include <algorithm>
#include <cmath>
#include <set>

#include "views/analyses/run_description.h"
#include "views/charts/interactive_chart.h"
#include "views/charts/pareto.h"
#include "views/charts/plot_axis.h"
#include "views/charts/point_labels.h"

namespace ptq::views {
namespace {
const QString kFrontier = QStringLiteral("Pareto frontier");

bool maximized(const QString& quality) { return quality != "ppl" && quality != "dppl" && quality != "kl"; }
bool logCapable(const QString& quality) { return quality == "ppl" || quality == "kl"; }

QString qualityText(const QString& q) {
  if (q == "ppl") return QObject::tr("perplexity");
  if (q == "dppl") return QObject::tr("ΔPPL (vs full precision)");
  if (q == "kl") return QObject::tr("KL to full precision (nats)");
  if (q == "top1") return QObject::tr("top-1 agreement");
  return QObject::tr("accuracy: %1").arg(q);
}
}  // namespace

TradeoffView::TradeoffView(QWidget* parent) : QtChartViewBase("tradeoff", tr("Size vs quality"), parent) {
  x_ = addCombo("xAxis", tr("x"), {tr("model size"), tr("bits per weight (all)"), tr("bits per weight (linear)")});
  quality_ = addCombo("quality", tr("y"), {});
  log_ = addCheck("log", tr("log scale (perplexity, KL)"), true);
  connect(chartView(), &InteractiveChart::recordClicked, this, [this](int record) {
    const QString id = runIdOf(record);
    if (!id.isEmpty()) Q_EMIT runClicked(id);
  });
  refresh();
}

double TradeoffView::qualityOf(const Record& r, const QString& quality) const {
  if (quality == "ppl") return number(r, "metrics/ppl");
  if (quality == "dppl") return deltaPpl(r, records_);
  if (quality == "kl") return number(r, "metrics/compare/kl_mean");
  if (quality == "top1") return number(r, "metrics/compare/top1_agreement");
  return taskAccuracy(r, quality);
}

QStringList TradeoffView::qualities() const {
  QStringList q;
  for (const char* key : {"ppl", "dppl", "kl", "top1"})
    for (const auto& r : records_)
      if (std::isfinite(qualityOf(r, key)) && (std::string(key) != "dppl" || !isBaseline(r))) { q << key; break; }
  for (const auto& t : taskNames(records_)) q << t;
  return q;
}

void TradeoffView::setRecords(const std::vector<nlohmann::json>& records) {
  records_.clear();
  for (const auto& r : records)
    if (!std::isnan(number(r, "metrics/size/total_bytes"))) records_.push_back(r);
  QStringList keys = qualities(), texts;
  for (const auto& q : keys) texts << qualityText(q);
  refill(quality_, texts, keys);
  refresh();
}

QString TradeoffView::noDataMessage() const {
  if (records_.empty())
    return tr("no data: open a results folder (File ▸ Open results directory) or run a sweep (Sweep tab) whose runs measure model size");
  if (points_.empty()) return tr("no data: no record has both a model size and a perplexity, KL or task accuracy");
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

QString TradeoffView::runIdOf(int record) const {
  return record >= 0 && record < int(records_.size()) ? text(records_[record], "run_id") : QString();
}

void TradeoffView::highlightRuns(const QStringList& runIds) {
  if (runIds == highlighted_) return;
  highlighted_ = runIds;
  showChart();
}

QString TradeoffView::xLabel() const {
  if (x_->currentIndex() == BitsPerWeight) return tr("bits per weight (embeddings counted)");
  if (x_->currentIndex() == LinearBitsPerWeight) return tr("bits per weight (linear layers)");
  return unit_ == 1e9 ? tr("model size (GB)") : tr("model size (MB)");
}

QString TradeoffView::yLabel() const { return qualityText(quality_->currentData().toString()); }

QString TradeoffView::figureTitle() const {
  QString y = yLabel();
  if (!y.isEmpty()) y[0] = y[0].toUpper();
  return tr("%1 vs %2").arg(y, xLabel());
}

void TradeoffView::rebuild() {
  points_.clear();
  frontier_.clear();
  QString quality = quality_->currentData().toString();
  if (quality.isEmpty()) return;
  double maxBytes = 0;
  for (const auto& r : records_) maxBytes = std::max(maxBytes, number(r, "metrics/size/total_bytes"));
  unit_ = maxBytes >= 1e9 ? 1e9 : 1e6;
  const int xAxis = x_->currentIndex();
  for (size_t i = 0; i < records_.size(); ++i) {
    const Record& r = records_[i];
    double x = xAxis == BitsPerWeight         ? number(r, "metrics/size/bits_per_weight")
               : xAxis == LinearBitsPerWeight ? number(r, "metrics/size/linear_bits_per_weight")
                                              : number(r, "metrics/size/total_bytes") / unit_;
    double y = qualityOf(r, quality);
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
  frontier_ = paretoFrontier(pp, maximized(quality));
}

TextTable TradeoffView::dataTable() const {
  TextTable t;
  if (points_.empty()) return t;
  t.headers << tr("run") << tr("method") << xLabel() << yLabel() << tr("pareto");
  for (size_t i = 0; i < points_.size(); ++i) {
    const auto& p = points_[i];
    bool onFrontier = std::find(frontier_.begin(), frontier_.end(), static_cast<int>(i)) != frontier_.end();
    t.rows.push_back({recordLabel(records_[p.record]), displayName(p.method), QString::number(p.x, 'g', 6),
                      QString::number(p.y, 'g', 6), onFrontier ? "yes" : "no"});
  }
  return t;
}

QChart* TradeoffView::buildChart(const ChartStyle& s) const {
  auto* c = new QChart;
  styleChart(c, s, figureTitle());
  const QString quality = quality_->currentData().toString();
  std::vector<double> xs, ys;
  for (const auto& pt : points_) { xs.push_back(pt.x); ys.push_back(pt.y); }
  const bool log = logCapable(quality) && log_->isChecked();
  PlotAxis fx = PlotAxis::fit(xs, false, false, 0.12), fy = PlotAxis::fit(ys, log, false, 0.1);
  QAbstractAxis* ax = makeValueAxis(s, xLabel(), fx.lo, fx.hi, false);
  QAbstractAxis* ay = makeValueAxis(s, yLabel(), fy.lo, fy.hi, log);
  c->addAxis(ax, Qt::AlignBottom);
  c->addAxis(ay, Qt::AlignLeft);
  std::set<QString> models;
  for (const auto& pt : points_) models.insert(modelName(records_[pt.record]));
  std::vector<PointLabel> labels;
  const double radius = s.pt(2.6);
  for (const QString& m : methods()) {
    QScatterSeries* ser = makeMethodScatter(m, displayName(m), radius);
    QStringList tips;
    QVariantList ids;
    for (const auto& pt : points_) {
      if (pt.method != m) continue;
      ser->append(pt.x, toAxis(ay, pt.y));
      const Record& r = records_[pt.record];
      tips << tr("%1\n%2: %3\n%4: %5").arg(runDescription(r), xLabel(), formatNumber(pt.x, 6), yLabel(), formatNumber(pt.y, 6));
      ids << pt.record;
      QString tag = models.size() > 1 ? pt.label : pt.label.section(' ', -1);
      labels.push_back({{pt.x, toAxis(ay, pt.y)}, ser, tag == m ? displayName(m) : displayName(m) + " " + tag});
    }
    ser->setProperty(chart_prop::tips, tips);
    ser->setProperty(chart_prop::ids, ids);
    c->addSeries(ser);
    ser->attachAxis(ax);
    ser->attachAxis(ay);
    QObject::connect(ser, &QAbstractSeries::visibleChanged, c, [c] { c->update(); });
  }
  addFrontierAndRings(c, s, ax, ay);
  new PointLabelLayer(c, std::move(labels), s.font(0.8), radius);
  return c;
}

void TradeoffView::addFrontierAndRings(QChart* c, const ChartStyle& s, QAbstractAxis* ax, QAbstractAxis* ay) const {
  auto* frontier = new QLineSeries;
  frontier->setName(displayName(kFrontier));
  frontier->setProperty(chart_prop::key, kFrontier);
  QPen pen = s.seriesPen(QColor(90, 90, 90), 1.0);
  pen.setStyle(Qt::DashLine);
  frontier->setPen(pen);
  for (int i : frontier_) frontier->append(points_[i].x, toAxis(ay, points_[i].y));
  c->addSeries(frontier);
  frontier->attachAxis(ax);
  frontier->attachAxis(ay);
  if (highlighted_.isEmpty()) return;
  auto* rings = new QScatterSeries;
  rings->setName(tr("selected"));
  rings->setProperty(chart_prop::passive, true);
  rings->setColor(Qt::transparent);
  rings->setBorderColor(Qt::black);
  rings->setPen(QPen(Qt::black, s.pt(1.2)));
  rings->setMarkerSize(s.pt(9));
  for (const auto& pt : points_)
    if (highlighted_.contains(runIdOf(pt.record))) rings->append(pt.x, toAxis(ay, pt.y));
  c->addSeries(rings);
  rings->attachAxis(ax);
  rings->attachAxis(ay);
  c->legend()->markers(rings).value(0)->setVisible(false);
}

}  // namespace ptq::views
