#include "views/analyses/kurtosis_view.h"

#include <QCheckBox>

#include "views/analyses/kurtosis_inputs.h"
#include "views/analyses/run_description.h"
#include "views/charts/bar_qchart.h"
#include "views/charts/chart_style.h"
#include "views/charts/layer_grid.h"

namespace ptq::views {

KurtosisView::KurtosisView(QWidget* parent) : QtChartViewBase("kurtosis", tr("Kurtosis"), parent) {
  picker_ = addCombo("record", "", {});
  mode_ = addCombo("mode", tr("Mode"), {tr("all layers"), tr("inputs by layer type (LLMC Fig. 3)"), tr("outlier channels")});
  layer_ = addCombo("layer", tr("Layer"), {});
  grouping_ = addCombo("grouping", tr("Group by"), {tr("layer type"), tr("block")});
  quantity_ = addCombo("quantity", tr("Show"), {tr("weights and activations"), tr("weights"), tr("activations")});
  log_ = addCheck("log", tr("log scale"), false);
  refresh();
}

void KurtosisView::setRecords(const std::vector<nlohmann::json>& records) {
  records_.clear();
  for (const auto& r : records)
    if (field(r, "analyses/kurtosis/fp").is_object()) records_.push_back(r);
  bool first = picker_->count() == 0;
  fillPicker(picker_, records_);
  // First time: open on a run with a transform (fp vs transformed is the point of the figure).
  for (size_t i = 0; first && i < records_.size(); ++i)
    if (field(records_[i], "analyses/kurtosis/transformed").is_object()) {
      QSignalBlocker block(picker_);
      picker_->setCurrentIndex(static_cast<int>(i));
      break;
    }
  refresh();
}

QString KurtosisView::noDataMessage() const {
  if (records_.empty()) return tr("no data: run an experiment with the analysis \"kurtosis\" ticked (Experiment tab, Analyses)");
  if (chart_.barCount() == 0 && mode_->currentIndex() == OutlierChannels)
    return tr("no data: this record's kurtosis analysis has no per-channel max|x| (channel_absmax) for the layer");
  if (chart_.barCount() == 0) return tr("no data: the kurtosis analysis of this record has no layers");
  return {};
}

void KurtosisView::setGrouping(Grouping g) { grouping_->setCurrentIndex(g); }
void KurtosisView::setQuantity(Quantity q) { quantity_->setCurrentIndex(q); }
void KurtosisView::setLogScale(bool on) { log_->setChecked(on); }
void KurtosisView::selectRecord(int index) { picker_->setCurrentIndex(index); }
void KurtosisView::setMode(Mode m) { mode_->setCurrentIndex(m); }

bool KurtosisView::selectLayer(const QString& name) {
  const int i = layer_->findText(name);
  if (i < 0) return false;
  layer_->setCurrentIndex(i);
  return true;
}

TextTable KurtosisView::dataTable() const {
  const int idx = picker_->currentIndex();
  if (mode_->currentIndex() == OutlierChannels && idx >= 0 && idx < static_cast<int>(records_.size()))
    return channelTable(records_[idx], layer_->currentText());
  return chart_.table();
}

void KurtosisView::rebuild() {
  chart_ = BarChart{};
  int idx = picker_->currentIndex();
  if (idx < 0 || idx >= static_cast<int>(records_.size())) return;
  const Record& r = records_[idx];
  const int mode = mode_->currentIndex();
  grouping_->setEnabled(mode == AllLayers);
  quantity_->setEnabled(mode == AllLayers);
  refill(layer_, channelLayers(r));
  layer_->setEnabled(mode == OutlierChannels);
  if (mode == InputsByType) {
    chart_ = inputKurtosisChart(r, log_->isChecked());
  } else if (mode == OutlierChannels) {
    chart_ = channelAbsmaxChart(r, layer_->currentText(), log_->isChecked());
  } else {
    rebuildAllLayers(r);
  }
}

void KurtosisView::rebuildAllLayers(const Record& r) {
  bool byBlock = grouping_->currentIndex() == ByBlock;
  int q = quantity_->currentIndex();
  chart_.log = log_->isChecked();
  chart_.title = tr("Kurtosis: %1").arg(recordLabel(r, false));
  chart_.categoryLabel = byBlock ? tr("block") : tr("layer type");
  chart_.valueLabel = tr("kurtosis (Pearson)");

  struct Part { const char* stage; const char* key; QString name; int color; };
  std::vector<Part> parts;
  bool transformed = field(r, "analyses/kurtosis/transformed").is_object();
  if (q != Activations) {
    parts.push_back({"fp", "weight", tr("weights, fp"), 0});
    if (transformed) parts.push_back({"transformed", "weight", tr("weights, transformed"), 4});
  }
  if (q != Weights) {
    parts.push_back({"fp", "activation", tr("activations, fp"), 5});
    if (transformed) parts.push_back({"transformed", "activation", tr("activations, transformed"), 1});
  }
  // Categories: the union over the fp grid (the transformed one has the same layers).
  LayerGrid ref = layerGrid(field(r, "analyses/kurtosis/fp/layers"), "weight");
  if (ref.empty()) ref = layerGrid(field(r, "analyses/kurtosis/fp/layers"), "activation");
  if (byBlock) {
    for (int b : ref.blocks) chart_.categories << QString::number(b);
  } else {
    chart_.categories = ref.types;
  }
  for (const auto& part : parts) {
    std::string path = std::string("analyses/kurtosis/") + part.stage + "/layers";
    LayerGrid g = layerGrid(field(r, path.c_str()), part.key);
    BarSeries s{part.name, ChartStyle::seriesColor(part.color), {}};
    std::vector<double> means = byBlock ? g.blockMeans() : g.typeMeans();
    for (const auto& cat : chart_.categories) {
      int i = byBlock ? g.blockIndex(cat.toInt()) : g.typeIndex(cat);
      s.values.push_back(i >= 0 ? means[i] : std::numeric_limits<double>::quiet_NaN());
    }
    chart_.series.push_back(std::move(s));
  }
}

double KurtosisView::gaussianReference() const {
  int idx = picker_->currentIndex();
  if (idx < 0 || idx >= int(records_.size())) return 3.0;
  return text(records_[idx], "analyses/kurtosis/fp/definition") == "fisher" ? 0.0 : 3.0;
}

QChart* KurtosisView::buildChart(const ChartStyle& s) const {
  int idx = picker_->currentIndex();
  const QString context = idx >= 0 && idx < int(records_.size()) ? runDescription(records_[idx]) : QString();
  const double ref = gaussianReference();
  std::vector<ReferenceLine> refs;
  if (mode_->currentIndex() != OutlierChannels && (!chart_.log || ref > 0)) refs.push_back({tr("Gaussian (kurtosis %1)").arg(ref), ref, QColor(90, 90, 90)});
  return barQChart(chart_, s, [this](const QString& k) { return displayName(k); }, context, refs);
}

}  // namespace ptq::views
