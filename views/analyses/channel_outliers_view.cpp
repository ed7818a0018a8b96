#include "views/analyses/channel_outliers_view.h"

#include <QCheckBox>
#include <QtCharts/QLineSeries>
#include <algorithm>
#include <cmath>
#include <numeric>

#include "views/analyses/kurtosis_inputs.h"
#include "views/analyses/run_description.h"
#include "views/charts/plot_axis.h"
#include "views/charts/point_labels.h"

namespace ptq::views {

namespace {

const nlohmann::json& stageInputs(const Record& r, const char* stage) {
  return field(r, (std::string("analyses/outliers/") + stage + "/inputs").c_str());
}

const nlohmann::json* findInput(const Record& r, const char* stage, const QString& layer) {
  const nlohmann::json& in = stageInputs(r, stage);
  if (!in.is_array()) return nullptr;
  for (const auto& e : in)
    if (e.is_object() && QString::fromStdString(e.value("layer", std::string())) == layer) return &e;
  return nullptr;
}

std::vector<double> absmaxOf(const nlohmann::json& e) {
  std::vector<double> v;
  for (const auto& x : e.value("absmax", nlohmann::json::array())) v.push_back(x.is_number() ? x.get<double>() : NAN);
  return v;
}

// "layers.0.self_attn.q_proj, k_proj, v_proj (q/k/v input)".
QString inputLabel(const nlohmann::json& e) {
  QStringList names;
  for (const auto& n : e.value("readers", nlohmann::json::array())) {
    const QString s = QString::fromStdString(n.get<std::string>());
    names << (names.isEmpty() ? s : s.section('.', -1));
  }
  const QString group = inputGroupOf(QString::fromStdString(e.value("type", std::string())));
  return group.isEmpty() ? names.join(", ") : names.join(", ") + " (" + group + ")";
}

}  // namespace

double ChannelCurve::ratio() const {
  double mx = 0, sum = 0;
  int n = 0;
  for (double v : values)
    if (std::isfinite(v)) mx = std::max(mx, v), sum += v, ++n;
  return n && sum > 0 ? mx / (sum / n) : NAN;
}

std::vector<std::pair<QString, QString>> outlierInputs(const std::vector<Record>& records) {
  std::vector<std::pair<QString, QString>> out;
  QStringList seen;
  for (const auto& r : records) {
    const nlohmann::json& in = stageInputs(r, "fp");
    if (!in.is_array()) continue;
    for (const auto& e : in) {
      const QString name = QString::fromStdString(e.value("layer", std::string()));
      if (name.isEmpty() || seen.contains(name)) continue;
      seen << name;
      out.push_back({name, inputLabel(e)});
    }
  }
  return out;
}

std::vector<ChannelCurve> channelCurves(const std::vector<Record>& records, const QString& layer) {
  std::vector<ChannelCurve> out;
  for (size_t i = 0; i < records.size() && out.empty(); ++i)
    if (const nlohmann::json* e = findInput(records[i], "fp", layer))
      out.push_back({QObject::tr("fp"), ChartStyle::seriesColor(5), absmaxOf(*e), int(i)});
  if (out.empty()) return out;
  int colour = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    const nlohmann::json* e = findInput(records[i], "transformed", layer);
    if (!e) continue;
    const QString key = QObject::tr("after %1 (%2)").arg(transformName(records[i]), quantTag(records[i]));
    out.push_back({key, ChartStyle::seriesColor(colour++ % 5), absmaxOf(*e), int(i)});
  }
  return out;
}

ChannelOutliersView::ChannelOutliersView(QWidget* parent)
    : QtChartViewBase("channel_outliers", tr("Activation outliers"), parent) {
  layer_ = addCombo("layer", tr("input of"), {});
  sorted_ = addCheck("sorted", tr("rank by fp max|x|"), false);
  log_ = addCheck("log", tr("log max|x|"), false);
  refresh();
}

void ChannelOutliersView::setRecords(const std::vector<nlohmann::json>& records) {
  records_.clear();
  for (const auto& r : records)
    if (stageInputs(r, "fp").is_array()) records_.push_back(r);
  QStringList labels, names;
  for (const auto& [name, label] : outlierInputs(records_)) names << name, labels << label;
  refill(layer_, labels, names);
  refresh();
}

QStringList ChannelOutliersView::layers() const {
  QStringList l;
  for (int i = 0; i < layer_->count(); ++i) l << layer_->itemData(i).toString();
  return l;
}

void ChannelOutliersView::selectLayer(const QString& layer) {
  const int i = layer_->findData(layer);
  if (i >= 0) layer_->setCurrentIndex(i);
}
void ChannelOutliersView::setSorted(bool on) { sorted_->setChecked(on); }
void ChannelOutliersView::setLog(bool on) { log_->setChecked(on); }

QString ChannelOutliersView::noDataMessage() const {
  if (records_.empty())
    return tr("no data: run an experiment with the analysis \"outliers\" ticked (Experiment tab; a method with a "
              "transform — smoothquant, awq, osplus, rotate — adds the curves after it)");
  if (curves_.empty()) return tr("no data: the chosen input has no per-channel max|x|");
  return {};
}

void ChannelOutliersView::rebuild() {
  curves_ = channelCurves(records_, layer_->currentData().toString());
  order_.clear();
  if (curves_.empty()) return;
  order_.resize(curves_[0].values.size());
  std::iota(order_.begin(), order_.end(), 0);
  if (sorted_->isChecked()) {
    const auto& fp = curves_[0].values;
    std::stable_sort(order_.begin(), order_.end(), [&](int a, int b) { return fp[a] > fp[b]; });
  }
}

TextTable ChannelOutliersView::dataTable() const {
  TextTable t;
  if (curves_.empty()) return t;
  t.headers << tr("channel");
  for (const auto& c : curves_) t.headers << c.key;
  for (int ch : order_) {
    QStringList row{QString::number(ch)};
    for (const auto& c : curves_)
      row << (size_t(ch) < c.values.size() ? QString::number(c.values[ch], 'g', 6) : QString());
    t.rows.push_back(row);
  }
  return t;
}

QChart* ChannelOutliersView::buildChart(const ChartStyle& s) const {
  auto* c = new QChart;
  const QString layer = layer_->currentText();
  styleChart(c, s, tr("Per-channel max|x| of %1").arg(layer));
  const bool log = log_->isChecked(), sorted = sorted_->isChecked();
  std::vector<double> xs{0, double(std::max<size_t>(order_.size(), 1) - 1)}, ys;
  for (const auto& cv : curves_)
    for (double v : cv.values)
      if (std::isfinite(v) && (!log || v > 0)) ys.push_back(v);
  PlotAxis fx = PlotAxis::fit(xs, false, false, 0.01), fy = PlotAxis::fit(ys, log, !log, 0.05);
  QAbstractAxis* ax = makeValueAxis(s, sorted ? tr("channel, ranked by fp max|x|") : tr("input channel"), fx.lo, fx.hi, false);
  QAbstractAxis* ay = makeValueAxis(s, tr("max |x| over calibration tokens"), fy.lo, fy.hi, log);
  c->addAxis(ax, Qt::AlignBottom);
  c->addAxis(ay, Qt::AlignLeft);
  QStringList notes;
  for (const auto& cv : curves_) {
    auto* ser = new QLineSeries;
    ser->setName(displayName(cv.key));
    ser->setProperty(chart_prop::key, cv.key);
    ser->setPen(s.seriesPen(cv.color, 1.0));
    QStringList tips;
    QVariantList ids;
    const QString run = runDescription(records_[cv.record]);
    for (size_t x = 0; x < order_.size(); ++x) {
      const int ch = order_[x];
      if (size_t(ch) >= cv.values.size() || !std::isfinite(cv.values[ch]) || (log && !(cv.values[ch] > 0))) continue;
      ser->append(double(x), toAxis(ay, cv.values[ch]));
      tips << tr("%1\nchannel %2: max|x| %3\n%4").arg(displayName(cv.key)).arg(ch).arg(formatNumber(cv.values[ch], 5), run);
      ids << cv.record;
    }
    ser->setProperty(chart_prop::tips, tips);
    ser->setProperty(chart_prop::ids, ids);
    c->addSeries(ser);
    ser->attachAxis(ax);
    ser->attachAxis(ay);
    notes << tr("%1: max / mean channel = %2").arg(displayName(cv.key), formatNumber(cv.ratio(), 3));
  }
  if (!curves_.empty()) notes.prepend(tr("fp curve from %1").arg(recordLabel(records_[curves_[0].record])));
  new NotesLayer(c, notes, s.font(0.85));
  return c;
}

}  // namespace ptq::views
