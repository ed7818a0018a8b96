#include "views/analyses/column_error_view.h"

#include <QByteArray>
#include <QtCore/qfloat16.h>
#include <QCheckBox>
#include <QtCharts/QLineSeries>
#include <cstring>

#include "views/analyses/run_description.h"
#include "views/analyses/token_distribution_view.h"
#include "views/charts/plot_axis.h"
#include "views/charts/point_labels.h"

namespace ptq::views {

namespace {

constexpr int kMaxPoints = 4000;  // per series on screen and in the figure (min / max per bucket)

const nlohmann::json& layerEntries(const Record& r) { return field(r, "analyses/column_error/layers"); }

int smoothingWidth(size_t columns) { return std::max(2, int(columns / 32)); }

}  // namespace

std::vector<double> decodeFloat16Base64(const std::string& s) {
  const QByteArray raw = QByteArray::fromBase64(QByteArray::fromStdString(s), QByteArray::AbortOnBase64DecodingErrors);
  std::vector<double> out;
  if (raw.isEmpty() || raw.size() % 2 != 0) return out;
  out.reserve(size_t(raw.size() / 2));
  for (qsizetype i = 0; i < raw.size(); i += 2) {
    const quint16 bits = quint16(uchar(raw[i])) | quint16(quint16(uchar(raw[i + 1])) << 8);  // little-endian
    qfloat16 h;
    std::memcpy(&h, &bits, 2);
    out.push_back(double(float(h)));
  }
  return out;
}

std::vector<double> runningMean(const std::vector<double>& v, int width) {
  if (width < 2 || v.empty()) return v;
  std::vector<double> prefix(v.size() + 1, 0.0), out(v.size());
  for (size_t i = 0; i < v.size(); ++i) prefix[i + 1] = prefix[i] + v[i];
  const int half = width / 2;
  for (size_t i = 0; i < v.size(); ++i) {
    const size_t lo = size_t(std::max<int64_t>(0, int64_t(i) - half));
    const size_t hi = std::min(v.size(), i + size_t(half) + 1);
    out[i] = (prefix[hi] - prefix[lo]) / double(hi - lo);
  }
  return out;
}

ColumnErrorView::ColumnErrorView(QWidget* parent)
    : QtChartViewBase("column_error", tr("Column-wise error"), parent) {
  layer_ = addCombo("layer", tr("Layer"), {});
  smooth_ = addCheck("smooth", tr("running mean (1/32 of the columns)"), false);
  refresh();
}

void ColumnErrorView::setRecords(const std::vector<nlohmann::json>& records) {
  records_.clear();
  for (const auto& r : records)
    if (layerEntries(r).is_object() && !layerEntries(r).empty() && int(records_.size()) < kMaxRuns) records_.push_back(r);
  refill(layer_, layers());
  refresh();
}

QStringList ColumnErrorView::layers() const {
  // In the record's layer order (block by block, q k v o gate up down), not the JSON object's
  // alphabetical one; then any name the layer list does not have.
  QStringList names;
  auto add = [&](const std::string& name, const Record& r) {
    const QString n = QString::fromStdString(name);
    if (layerEntries(r).contains(name) && !names.contains(n)) names << n;
  };
  for (const auto& r : records_) {
    const auto& list = field(r, "layers");
    if (list.is_array())
      for (const auto& l : list)
        if (l.is_object() && l.value("name", nlohmann::json()).is_string()) add(l["name"].get<std::string>(), r);
    for (const auto& kv : layerEntries(r).items()) add(kv.key(), r);
  }
  return names;
}

bool ColumnErrorView::selectLayer(const QString& name) {
  const int i = layer_->findText(name);
  if (i < 0) return false;
  layer_->setCurrentIndex(i);
  return true;
}

QString ColumnErrorView::currentLayer() const { return layer_->currentText(); }
void ColumnErrorView::setSmoothing(bool on) { smooth_->setChecked(on); }

QString ColumnErrorView::noDataMessage() const {
  if (records_.empty())
    return tr("no data: select quantized runs made with the analysis \"column_error\" ticked (Experiment tab, Analyses)");
  if (series_.empty()) return tr("no data: no selected run has column errors for this layer");
  return {};
}

void ColumnErrorView::rebuild() {
  series_.clear();
  const std::string layer = layer_->currentText().toStdString();
  QStringList keys;
  for (size_t i = 0; i < records_.size(); ++i) {
    const auto& entries = layerEntries(records_[i]);
    auto it = entries.find(layer);
    if (it == entries.end() || !it->is_object() || !it->value("values", nlohmann::json()).is_string()) continue;
    ColumnErrorSeries s;
    s.record = int(i);
    s.values = decodeFloat16Base64((*it)["values"].get<std::string>());
    if (s.values.empty()) continue;
    s.actOrder = field(records_[i], "analyses/column_error/act_order").is_boolean() &&
                 field(records_[i], "analyses/column_error/act_order").get<bool>();
    s.key = recordLabel(records_[i]);
    for (int n = 2; keys.contains(s.key); ++n) s.key = recordLabel(records_[i]) + QString(" (%1)").arg(n);
    keys << s.key;
    series_.push_back(std::move(s));
  }
}

TextTable ColumnErrorView::dataTable() const {
  TextTable t;
  if (series_.empty()) return t;
  t.headers << tr("layer") << tr("column");
  size_t n = 0;
  for (const auto& s : series_) {
    t.headers << displayName(s.key);
    n = std::max(n, s.values.size());
  }
  for (size_t j = 0; j < n; ++j) {
    QStringList row{currentLayer(), QString::number(j)};
    for (const auto& s : series_) row << (j < s.values.size() ? QString::number(s.values[j], 'g', 5) : QString());
    t.rows.push_back(row);
  }
  return t;
}

QChart* ColumnErrorView::buildChart(const ChartStyle& s) const {
  auto* c = new QChart;
  const bool smooth = smooth_->isChecked();
  styleChart(c, s, tr("Column-wise weight error: %1").arg(currentLayer()));
  std::vector<double> xs, ys;
  std::vector<std::vector<double>> shown;
  for (const auto& ser : series_) {
    shown.push_back(smooth ? runningMean(ser.values, smoothingWidth(ser.values.size())) : ser.values);
    xs.push_back(0);
    xs.push_back(double(ser.values.size() - 1));
    ys.insert(ys.end(), shown.back().begin(), shown.back().end());
  }
  PlotAxis fx = PlotAxis::fit(xs, false, true, 0.0), fy = PlotAxis::fit(ys, false, true, 0.05);
  QAbstractAxis* ax = makeValueAxis(s, tr("input column j (the weight's column order)"), fx.lo, fx.hi, false);
  QAbstractAxis* ay = makeValueAxis(s, smooth ? tr("‖ΔW[:,j]‖ / ‖W[:,j]‖ (running mean)") : tr("‖ΔW[:,j]‖ / ‖W[:,j]‖"),
                                    fy.lo, fy.hi, false);
  c->addAxis(ax, Qt::AlignBottom);
  c->addAxis(ay, Qt::AlignLeft);
  QStringList notes;
  for (size_t i = 0; i < series_.size(); ++i) {
    const ColumnErrorSeries& ser = series_[i];
    auto* line = new QLineSeries;
    line->setName(displayName(ser.key));
    line->setProperty(chart_prop::key, ser.key);
    line->setPen(s.seriesPen(ChartStyle::seriesColor(int(i)), 1.0));
    const QString run = runDescription(records_[size_t(ser.record)]);
    QStringList tips;
    for (int j : decimatedIndices(shown[i], kMaxPoints)) {
      line->append(j, shown[i][size_t(j)]);
      tips << tr("column %1: %2\n%3").arg(j).arg(formatNumber(shown[i][size_t(j)], 4), run);
    }
    line->setProperty(chart_prop::tips, tips);
    c->addSeries(line);
    line->attachAxis(ax);
    line->attachAxis(ay);
    if (ser.actOrder) notes << tr("%1: act-order, columns processed by descending Hessian diagonal").arg(displayName(ser.key));
  }
  if (!notes.isEmpty()) new NotesLayer(c, notes, s.font(0.8));
  return c;
}

}  // namespace ptq::views
