#include "views/analyses/token_distribution_view.h"

#include <QCheckBox>
#include <QFileInfo>
#include <QPainter>
#include <QPainterPath>
#include <QSet>
#include <algorithm>
#include <cmath>
#include <numeric>

#include "views/charts/plot_frame.h"

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
    : ChartViewBase("token_distribution", tr("Token distribution"), parent) {
  picker_ = addCombo("analysis", "", {});
  logY_ = addCheck("logFrequency", tr("log frequency"), true);
  logX_ = addCheck("logRank", tr("log rank"), false);
  rebuild();
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
    return tr("no data: run an experiment with analysis \"token_kl\" (ptq token-kl --calib FILE --test FILE)");
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

void TokenDistributionView::paintFigure(QPainter& p, const QRectF& target) {
  ChartStyle s(p);
  PlotFrame f(p, s, target);
  f.title = tr("Token frequencies, calibration vs test");
  std::vector<double> ranks(dist_.ids.size());
  std::iota(ranks.begin(), ranks.end(), 1.0);
  f.x = PlotAxis::fit(ranks, logX_->isChecked(), false, 0.01);
  f.x.label = tr("token rank by calibration frequency");
  std::vector<double> all = dist_.calibFreq;
  all.insert(all.end(), dist_.testFreq.begin(), dist_.testFreq.end());
  f.y = PlotAxis::fit(all, logY_->isChecked(), !logY_->isChecked(), 0.05);
  f.y.label = tr("frequency");
  const QColor calibColor = ChartStyle::seriesColor(0), testColor = ChartStyle::seriesColor(5);
  f.legend = {{tr("calibration: %1 (%2 tokens)").arg(QFileInfo(dist_.calib).fileName()).arg(dist_.calibTokens), calibColor, LegendItem::Line},
              {tr("test: %1 (%2 tokens)").arg(QFileInfo(dist_.test).fileName()).arg(dist_.testTokens), testColor, LegendItem::Point}};
  f.notes << tr("KL(test‖calib) = %1 nats").arg(formatNumber(dist_.kl, 3))
          << tr("KL(calib‖test) = %1 nats").arg(formatNumber(dist_.klCalibTest, 3))
          << tr("JS = %1 nats").arg(formatNumber(dist_.js, 3));
  f.drawFrame();
  p.save();
  p.setClipRect(f.plotRect());
  // The calibration curve decimated to one device column (the min and max of the values it
  // covers), so a 128k vocabulary stays a few thousand primitives in SVG and PDF.
  auto columns = [&](const std::vector<double>& v, auto&& emit) {
    double col = NAN, lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < v.size(); ++i) {
      if (!f.y.valid(v[i])) continue;
      double px = std::floor(f.x.map(ranks[i], f.plotRect().left(), f.plotRect().right()));
      if (px != col && std::isfinite(col)) { emit(col, lo, hi); lo = INFINITY; hi = -INFINITY; }
      col = px;
      lo = std::min(lo, v[i]);
      hi = std::max(hi, v[i]);
    }
    if (std::isfinite(col)) emit(col, lo, hi);
  };
  // Test frequencies as dots, one per occupied device pixel.
  double dot = s.pt(0.9);
  QColor dotColor = testColor;
  dotColor.setAlphaF(0.6);
  p.setPen(Qt::NoPen);
  p.setBrush(dotColor);
  QSet<qint64> drawn;
  for (size_t i = 0; i < dist_.testFreq.size(); ++i) {
    if (!f.y.valid(dist_.testFreq[i])) continue;
    QPointF c = f.map(ranks[i], dist_.testFreq[i]);
    qint64 key = (static_cast<qint64>(std::floor(c.x() / dot)) << 32) ^ static_cast<qint64>(std::floor(c.y() / dot));
    if (drawn.contains(key)) continue;
    drawn.insert(key);
    p.drawEllipse(c, dot / 2, dot / 2);
  }
  QPainterPath path;
  columns(dist_.calibFreq, [&](double px, double lo, double hi) {
    QPointF a(px + 0.5, f.mapY(hi)), b(px + 0.5, f.mapY(lo));
    if (path.elementCount() == 0) path.moveTo(a); else path.lineTo(a);
    if (lo != hi) path.lineTo(b);
  });
  p.setBrush(Qt::NoBrush);
  p.setPen(s.seriesPen(calibColor, 1.2));
  p.drawPath(path);
  p.restore();
  f.finish();
}

}  // namespace ptq::views
