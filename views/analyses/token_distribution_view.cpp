#include "views/analyses/token_distribution_view.h"

#include <QCheckBox>
#include <QFileInfo>
#include <QPainter>
#include <QPainterPath>
#include <QSet>
#include <algorithm>
#include <cmath>
#include <numeric>

#include <QtCharts/QLineSeries>
#include <QtCharts/QScatterSeries>
#include <tuple>

#include "views/charts/plot_axis.h"
#include "views/charts/point_labels.h"

namespace ptq::views {
namespace {
std::vector<double> normalized(const nlohmann::json& counts) {
  std::vector<double> f;
  if (!counts.is_array()) return f;
  double sum = 0;
  for (const auto& c : counts) {
    double v = c.is_number() ? std::max(0.0, c.get<double>()) : 0.0;
    f.push_back(v);
    sum += v;
  }
  if (sum > 0)
    for (double& v : f) v /= sum;
  return f;
}

QString str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return (it != j.end() && it->is_string()) ? QString::fromStdString(it->get<std::string>()) : QString();
}

double num(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return (it != j.end() && it->is_number()) ? it->get<double>() : std::nan("");
}

// The calibration windows a run drew ("n128x512 seed 0 awq"), "" for whole files (ptq token-kl).
QString drawTag(const nlohmann::json& a) {
  auto it = a.find("calib_draw");
  if (it == a.end() || !it->is_object()) return {};
  QString tag = QObject::tr("n%1x%2 seed %3").arg(num(*it, "nsamples")).arg(num(*it, "seqlen")).arg(num(*it, "seed"));
  const QString sampling = str(*it, "sampling");
  if (!sampling.isEmpty() && sampling != "random") tag += " " + sampling;
  return tag;
}

QString analysisLabel(const nlohmann::json& a) {
  QString label = QObject::tr("calib %1 vs test %2").arg(QFileInfo(str(a, "calib")).fileName(), QFileInfo(str(a, "test")).fileName());
  const QString tag = drawTag(a);
  return tag.isEmpty() ? label : label + " (" + tag + ")";
}
}  // namespace

TokenDistribution tokenDistribution(const nlohmann::json& a) {
  TokenDistribution d;
  if (!a.is_object()) return d;
  d.calib = str(a, "calib");
  d.test = str(a, "test");
  d.tokenizer = str(a, "tokenizer");
  d.kl = num(a, "kl");
  d.klCalibTest = num(a, "kl_calib_test");
  d.js = num(a, "js");
  d.calibTokens = std::isnan(num(a, "calib_tokens")) ? 0 : static_cast<int64_t>(num(a, "calib_tokens"));
  d.testTokens = std::isnan(num(a, "test_tokens")) ? 0 : static_cast<int64_t>(num(a, "test_tokens"));
  std::vector<double> c = normalized(a.value("calib_counts", nlohmann::json())),
                      t = normalized(a.value("test_counts", nlohmann::json()));
  std::vector<int> ids;
  if (!c.empty() && c.size() == t.size()) {
    ids.resize(c.size());
    std::iota(ids.begin(), ids.end(), 0);
  } else {  // only the top list
    c.clear();
    t.clear();
    for (const auto& e : a.value("top", nlohmann::json::array())) {
      if (!e.is_object() || !e.contains("id") || !e["id"].is_number_integer()) continue;
      int id = e["id"].get<int>();
      if (id < 0) continue;
      if (static_cast<size_t>(id) >= c.size()) { c.resize(id + 1, 0.0); t.resize(id + 1, 0.0); }
      c[id] = std::max(0.0, num(e, "calib"));
      t[id] = std::max(0.0, num(e, "test"));
      ids.push_back(id);
    }
  }
  std::stable_sort(ids.begin(), ids.end(), [&](int x, int y) { return c[x] != c[y] ? c[x] > c[y] : t[x] > t[y]; });
  for (int id : ids) {
    d.ids.push_back(id);
    d.calibFreq.push_back(c[id]);
    d.testFreq.push_back(t[id]);
  }
  return d;
}

TokenDistributionView::TokenDistributionView(QWidget* parent)
    : QtChartViewBase("token_distribution", tr("Token distribution"), parent) {
  picker_ = addCombo("analysis", "", {});
  logY_ = addCheck("logFrequency", tr("log frequency"), true);
  logX_ = addCheck("logRank", tr("log rank"), false);
  refresh();
}

void TokenDistributionView::setRecords(const std::vector<nlohmann::json>& records) {
  analyses_.clear();
  QStringList seen, labels;
  for (const auto& r : records) {
    const auto& a = field(r, "analyses/token_kl");
    if (!a.is_object()) continue;
    // Calibration sets that differ in what was drawn (nsamples, seqlen, seed, sampling) are different analyses.
    QString key = str(a, "tokenizer") + "\n" + str(a, "calib") + "\n" + str(a, "test") + "\n" + drawTag(a);
    if (seen.contains(key)) continue;
    seen << key;
    analyses_.push_back(a);
    labels << analysisLabel(a);
  }
  refill(picker_, labels, seen, true);
  refresh();
}

QString TokenDistributionView::noDataMessage() const {
  if (analyses_.empty())
    return tr("no data: run an experiment with the analysis \"token_kl\" ticked (Experiment tab: calibration and eval text)");
  if (dist_.ids.empty()) return tr("no data: the token_kl analysis has neither counts nor a top list");
  return {};
}

void TokenDistributionView::selectAnalysis(int index) { picker_->setCurrentIndex(index); }
void TokenDistributionView::setLogFrequency(bool on) { logY_->setChecked(on); }
void TokenDistributionView::setLogRank(bool on) { logX_->setChecked(on); }

TextTable TokenDistributionView::dataTable() const {
  TextTable t;
  if (dist_.ids.empty()) return t;
  t.headers << tr("rank") << tr("token id") << tr("calib frequency") << tr("test frequency");
  for (size_t i = 0; i < dist_.ids.size(); ++i)
    t.rows.push_back({QString::number(i + 1), QString::number(dist_.ids[i]), QString::number(dist_.calibFreq[i], 'g', 6),
                      QString::number(dist_.testFreq[i], 'g', 6)});
  return t;
}

void TokenDistributionView::rebuild() {
  int idx = picker_->currentIndex();
  dist_ = (idx >= 0 && idx < static_cast<int>(analyses_.size())) ? tokenDistribution(analyses_[idx]) : TokenDistribution{};
}

std::vector<int> decimatedIndices(const std::vector<double>& v, int maxPoints) {
  std::vector<int> out;
  const int n = int(v.size());
  if (n <= maxPoints) {
    for (int i = 0; i < n; ++i) out.push_back(i);
    return out;
  }
  const int buckets = std::max(1, maxPoints / 2);
  for (int b = 0; b < buckets; ++b) {
    int lo = int(int64_t(b) * n / buckets), hi = int(int64_t(b + 1) * n / buckets);
    int mn = lo, mx = lo;
    for (int i = lo; i < hi; ++i) {
      if (v[i] < v[mn]) mn = i;
      if (v[i] > v[mx]) mx = i;
    }
    out.push_back(std::min(mn, mx));
    if (mn != mx) out.push_back(std::max(mn, mx));
  }
  if (out.back() != n - 1) out.push_back(n - 1);
  return out;
}

namespace {
constexpr int kMaxPoints = 4000;

QXYSeries* frequencySeries(QXYSeries* ser, const TokenDistribution& d, const std::vector<double>& freq, bool logY,
                           const QString& which, const QAbstractAxis* ax, const QAbstractAxis* ay) {
  QStringList tips;
  for (int i : decimatedIndices(freq, kMaxPoints)) {
    if (logY && !(freq[i] > 0)) continue;
    ser->append(toAxis(ax, i + 1), toAxis(ay, freq[i]));
    tips << QObject::tr("token id %1 (rank %2)\n%3 frequency: %4\ncalibration: %5\ntest: %6")
                .arg(d.ids[i]).arg(i + 1).arg(which, formatNumber(freq[i], 6), QFileInfo(d.calib).fileName(),
                     QFileInfo(d.test).fileName());
  }
  ser->setProperty(chart_prop::tips, tips);
  return ser;
}
}  // namespace

QChart* TokenDistributionView::buildChart(const ChartStyle& s) const {
  auto* c = new QChart;
  styleChart(c, s, tr("Token frequencies, calibration vs test"));
  const bool logX = logX_->isChecked(), logY = logY_->isChecked();
  // The x range covers the ranks that have a point (on a log frequency axis, not the tail of
  // tokens neither text has).
  std::vector<double> ranks;
  for (size_t i = 0; i < dist_.ids.size(); ++i)
    if (!logY || dist_.calibFreq[i] > 0 || dist_.testFreq[i] > 0) ranks.push_back(double(i + 1));
  std::vector<double> all = dist_.calibFreq;
  all.insert(all.end(), dist_.testFreq.begin(), dist_.testFreq.end());
  PlotAxis fx = PlotAxis::fit(ranks, logX, false, 0.01), fy = PlotAxis::fit(all, logY, !logY, 0.05);
  QAbstractAxis* ax = makeValueAxis(s, tr("token rank by calibration frequency"), fx.lo, fx.hi, logX);
  QAbstractAxis* ay = makeValueAxis(s, tr("frequency"), fy.lo, fy.hi, logY);
  c->addAxis(ax, Qt::AlignBottom);
  c->addAxis(ay, Qt::AlignLeft);
  const QColor calibColor = ChartStyle::seriesColor(0), testColor = ChartStyle::seriesColor(5);
  const QString calibKey = tr("calibration: %1 (%2 tokens)").arg(QFileInfo(dist_.calib).fileName()).arg(dist_.calibTokens);
  const QString testKey = tr("test: %1 (%2 tokens)").arg(QFileInfo(dist_.test).fileName()).arg(dist_.testTokens);
  auto* test = new QScatterSeries;
  test->setMarkerSize(s.pt(2.2));
  QColor dot = testColor;
  dot.setAlphaF(0.6);
  test->setColor(dot);
  test->setBorderColor(dot);
  auto* calib = new QLineSeries;
  calib->setPen(s.seriesPen(calibColor, 1.2));
  for (auto [ser, key, freq, which] : {std::tuple<QXYSeries*, QString, const std::vector<double>*, QString>{calib, calibKey, &dist_.calibFreq, tr("calibration")},
                                       {test, testKey, &dist_.testFreq, tr("test")}}) {
    ser->setName(displayName(key));
    ser->setProperty(chart_prop::key, key);
    frequencySeries(ser, dist_, *freq, logY, which, ax, ay);
    c->addSeries(ser);
    ser->attachAxis(ax);
    ser->attachAxis(ay);
  }
  new NotesLayer(c, {tr("KL(test‖calib) = %1 nats").arg(formatNumber(dist_.kl, 3)),
                     tr("KL(calib‖test) = %1 nats").arg(formatNumber(dist_.klCalibTest, 3)),
                     tr("JS = %1 nats").arg(formatNumber(dist_.js, 3))},
                 s.font(0.85));
  return c;
}

}  // namespace ptq::views
