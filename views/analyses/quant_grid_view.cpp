#include "views/analyses/quant_grid_view.h"

#include <QCheckBox>
#include <QtCharts/QAreaSeries>
#include <QtCharts/QLegend>
#include <QtCharts/QLegendMarker>
#include <QtCharts/QLineSeries>
#include <algorithm>
#include <cmath>
#include <functional>

#include "views/analyses/run_description.h"
#include "views/charts/plot_axis.h"
#include "views/charts/point_labels.h"

namespace ptq::views {

namespace {

const nlohmann::json* findLayer(const Record& r, const QString& layer) {
  const nlohmann::json& ls = field(r, "analyses/quant_grid/layers");
  if (!ls.is_array()) return nullptr;
  for (const auto& l : ls)
    if (l.is_object() && QString::fromStdString(l.value("name", std::string())) == layer) return &l;
  return nullptr;
}

std::vector<double> numbers(const nlohmann::json& j) {
  std::vector<double> v;
  if (j.is_array())
    for (const auto& x : j) v.push_back(x.is_number() ? x.get<double>() : 0.0);
  return v;
}

// Equal bins over [lo, hi] for the counts of a {"lo", "hi", "counts"} object.
void fillBins(GridHistogram& h, const nlohmann::json& hist) {
  if (!hist.is_object()) return;
  h.counts = numbers(hist.value("counts", nlohmann::json()));
  const double lo = hist.value("lo", 0.0), hi = hist.value("hi", 1.0);
  for (size_t i = 0; i <= h.counts.size(); ++i) h.edges.push_back(lo + (hi - lo) * double(i) / double(h.counts.size()));
}

}  // namespace

double GridHistogram::total() const {
  double s = 0;
  for (double c : counts) s += c;
  return s;
}

GridHistogram gridHistogram(const Record& r, const QString& layer, const QString& mode) {
  GridHistogram h;
  const nlohmann::json* l = findLayer(r, layer);
  if (!l) return h;
  const nlohmann::json grid = l->value("grid", nlohmann::json());
  const bool hasGrid = grid.is_object() && grid.value("levels", nlohmann::json()).is_array();
  const QString gridNote = grid.is_object() && grid.contains("note") && grid["note"].is_string()
                               ? QString::fromStdString(grid["note"].get<std::string>()) : QString();
  if (mode == "codes") {
    if (!hasGrid) { h.note = QObject::tr("no code grid: %1").arg(gridNote); return h; }
    h.counts = numbers(grid.value("code_counts", nlohmann::json()));
    for (size_t k = 0; k <= h.counts.size(); ++k) h.edges.push_back(double(k) - 0.5);
    h.title = QObject::tr("Codes of %1: weights per grid level, every group (units of the scale)").arg(layer);
    h.xLabel = QObject::tr("code (grid level index; value = scale · (code − zero))");
    h.note = QObject::tr("%1 %2-bit, %3 groups per row").arg(QString::fromStdString(grid.value("format", std::string())))
                 .arg(grid.value("bits", 0)).arg(grid.value("groups", 0));
  } else if (mode == "activations") {
    fillBins(h, l->value("activations", nlohmann::json()));
    h.title = QObject::tr("Input activations of %1 (calibration windows)").arg(layer);
    h.xLabel = QObject::tr("input activation value");
    h.note = QObject::tr("no grid drawn: weight-only runs keep activations in full precision; a W-A run's activation scales (per token or per tensor) are not in this record");
  } else {
    fillBins(h, l->value("weights", nlohmann::json()));
    h.xLabel = QObject::tr("weight value (as the quantizer saw it)");
    if (hasGrid) {
      h.levels = numbers(grid["levels"]);
      h.title = QObject::tr("Weights of %1 with the grid of row %2, group %3 of %4")
                    .arg(layer).arg(grid.value("row", 0)).arg(grid.value("group", 0)).arg(grid.value("groups", 0));
      h.note = QObject::tr("grid: the group holding the largest |w| (the widest); each group has its own scale and zero");
    } else {
      h.title = QObject::tr("Weights of %1").arg(layer);
      h.note = QObject::tr("no grid: %1").arg(gridNote);
    }
  }
  return h;
}

QuantGridView::QuantGridView(QWidget* parent) : QtChartViewBase("quant_grid", tr("Histograms + grid"), parent) {
  run_ = addCombo("run", tr("run"), {});
  layer_ = addCombo("layer", tr("layer"), {});
  mode_ = addCombo("mode", "", {tr("weights + grid"), tr("codes (units of the scale)"), tr("input activations")});
  mode_->setItemData(0, "weights");
  mode_->setItemData(1, "codes");
  mode_->setItemData(2, "activations");
  log_ = addCheck("log", tr("log count"), false);
  connect(run_, &QComboBox::currentIndexChanged, this, [this] { fillLayers(); });
  refresh();
}

void QuantGridView::setRecords(const std::vector<nlohmann::json>& records) {
  records_.clear();
  for (const auto& r : records)
    if (field(r, "analyses/quant_grid/layers").is_array()) records_.push_back(r);
  fillPicker(run_, records_);
  fillLayers();
}

void QuantGridView::fillLayers() {
  QStringList names;
  const int i = run_->currentIndex();
  if (i >= 0 && i < int(records_.size()))
    for (const auto& l : field(records_[i], "analyses/quant_grid/layers"))
      names << QString::fromStdString(l.value("name", std::string()));
  refill(layer_, names, names);
  refresh();
}

void QuantGridView::selectRun(int index) { run_->setCurrentIndex(index); }
void QuantGridView::selectLayer(const QString& layer) {
  const int i = layer_->findData(layer);
  if (i >= 0) layer_->setCurrentIndex(i);
}
void QuantGridView::setMode(const QString& mode) { mode_->setCurrentIndex(mode_->findData(mode)); }
void QuantGridView::setLog(bool on) { log_->setChecked(on); }

QString QuantGridView::noDataMessage() const {
  if (records_.empty()) return tr("no data: run a quantized experiment with the analysis \"quant_grid\" ticked (Experiment tab)");
  if (hist_.counts.empty()) return hist_.note.isEmpty() ? tr("no data: the chosen layer has no histogram") : hist_.note;
  return {};
}

void QuantGridView::rebuild() {
  const int i = run_->currentIndex();
  hist_ = (i >= 0 && i < int(records_.size())) ? gridHistogram(records_[i], layer_->currentData().toString(),
                                                               mode_->currentData().toString())
                                               : GridHistogram{};
}

TextTable QuantGridView::dataTable() const {
  TextTable t;
  if (hist_.counts.empty()) return t;
  t.headers << tr("bin from") << tr("bin to") << tr("count");
  for (size_t i = 0; i < hist_.counts.size(); ++i)
    t.rows.push_back({QString::number(hist_.edges[i], 'g', 7), QString::number(hist_.edges[i + 1], 'g', 7),
                      QString::number(hist_.counts[i], 'g', 12)});
  for (size_t k = 0; k < hist_.levels.size(); ++k)
    t.rows.push_back({tr("grid level %1").arg(k), QString::number(hist_.levels[k], 'g', 9), QString()});
  return t;
}

namespace {

// Every grid level as a vertical dashed line, in one series (one legend entry): a comb whose
// horizontal runs lie outside the plot area [lo, hi] (axis units), where the chart clips them.
void addGridComb(QChart* c, const ChartStyle& s, QAbstractAxis* ax, QAbstractAxis* ay, const std::vector<double>& levels,
                 const std::function<QString(const QString&)>& displayName, double lo, double hi) {
  const double pad = hi - lo;
  auto* grid = new QLineSeries;
  const QString gkey = QObject::tr("grid (%1 levels)").arg(levels.size());
  grid->setName(displayName(gkey));
  grid->setProperty(chart_prop::key, gkey);
  QPen pen = s.seriesPen(ChartStyle::seriesColor(3), 0.8);
  pen.setStyle(Qt::DashLine);
  grid->setPen(pen);
  QStringList tips;
  for (size_t k = 0; k < levels.size(); ++k) {
    const bool up = k % 2 == 0;
    grid->append(levels[k], up ? lo - pad : hi + pad);
    grid->append(levels[k], up ? hi + pad : lo - pad);
    const QString tip = QObject::tr("grid level %1: %2").arg(k).arg(formatNumber(levels[k], 6));
    tips << tip << tip;
  }
  grid->setProperty(chart_prop::tips, tips);
  c->addSeries(grid);
  grid->attachAxis(ax);
  grid->attachAxis(ay);
}

}  // namespace

QChart* QuantGridView::buildChart(const ChartStyle& s) const {
  auto* c = new QChart;
  styleChart(c, s, hist_.title);
  if (hist_.counts.empty()) return c;
  const bool log = log_->isChecked();
  const double floor = 0.5;  // log axis: empty bins drawn at half a count
  std::vector<double> xs = {hist_.edges.front(), hist_.edges.back()}, ys;
  for (double l : hist_.levels) xs.push_back(l);
  for (double v : hist_.counts) ys.push_back(log ? std::max(v, floor) : v);
  // Headroom above the tallest bin for the notes in the top corner.
  ys.push_back(log ? *std::max_element(ys.begin(), ys.end()) * 4 : *std::max_element(ys.begin(), ys.end()) * 1.22);
  PlotAxis fx = PlotAxis::fit(xs, false, false, 0.03), fy = PlotAxis::fit(ys, log, !log, 0.05);
  QAbstractAxis* ax = makeValueAxis(s, hist_.xLabel, fx.lo, fx.hi, false);
  QAbstractAxis* ay = makeValueAxis(s, tr("count"), fy.lo, fy.hi, log);
  c->addAxis(ax, Qt::AlignBottom);
  c->addAxis(ay, Qt::AlignLeft);
  const double total = std::max(hist_.total(), 1.0);
  auto* outline = new QLineSeries, *upper = new QLineSeries;
  QStringList tips;
  const double base = toAxis(ay, log ? floor : 0.0);
  outline->append(hist_.edges.front(), base);
  tips << QString();
  for (size_t i = 0; i < hist_.counts.size(); ++i) {
    const double y = toAxis(ay, log ? std::max(hist_.counts[i], floor) : hist_.counts[i]);
    const QString tip = tr("[%1, %2): %3 (%4 %)").arg(formatNumber(hist_.edges[i], 5), formatNumber(hist_.edges[i + 1], 5))
                            .arg(hist_.counts[i], 0, 'f', 0).arg(formatNumber(100.0 * hist_.counts[i] / total, 3));
    for (double x : {hist_.edges[i], hist_.edges[i + 1]}) outline->append(x, y), upper->append(x, y), tips << tip;
  }
  outline->append(hist_.edges.back(), base);
  tips << QString();
  const QColor fill = ChartStyle::seriesColor(0);
  const QString mode = mode_->currentData().toString();
  const QString key = mode == "codes" ? tr("weights per code") : mode == "activations" ? tr("input activations") : tr("weights");
  outline->setName(displayName(key));
  outline->setProperty(chart_prop::key, key);
  outline->setProperty(chart_prop::tips, tips);
  outline->setPen(s.seriesPen(fill, 1.0));
  auto* area = new QAreaSeries(upper);
  QColor light = fill;
  light.setAlphaF(0.3);
  area->setBrush(light);
  area->setPen(Qt::NoPen);
  area->setProperty(chart_prop::passive, true);
  for (QAbstractSeries* ser : {static_cast<QAbstractSeries*>(area), static_cast<QAbstractSeries*>(outline)}) {
    c->addSeries(ser);
    ser->attachAxis(ax);
    ser->attachAxis(ay);
  }
  c->legend()->markers(area).value(0)->setVisible(false);
  if (!hist_.levels.empty()) addGridComb(c, s, ax, ay, hist_.levels, [this](const QString& k) { return displayName(k); },
                                          toAxis(ay, fy.lo), toAxis(ay, fy.hi));
  QStringList notes{hist_.note};
  const int i = run_->currentIndex();
  if (i >= 0 && i < int(records_.size())) notes.prepend(recordLabel(records_[i]));
  new NotesLayer(c, notes, s.font(0.8));
  return c;
}

}  // namespace ptq::views
