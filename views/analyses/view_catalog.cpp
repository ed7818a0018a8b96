#include "views/analyses/view_catalog.h"

#include <QObject>

#include "views/analyses/calibration_study_view.h"
#include "views/analyses/channel_outliers_view.h"
#include "views/analyses/compare_runs_view.h"
#include "views/analyses/column_error_view.h"
#include "views/analyses/comparison_table.h"
#include "views/analyses/divergence_view.h"
#include "views/analyses/kurtosis_view.h"
#include "views/analyses/samples_view.h"
#include "views/analyses/layer_error_view.h"
#include "views/analyses/quant_grid_view.h"
#include "views/analyses/token_distribution_view.h"
#include "views/analyses/tradeoff_view.h"

namespace ptq::views {

const std::vector<ViewEntry>& viewCatalog() {
  static const std::vector<ViewEntry> entries = {
      {"tradeoff", QObject::tr("Size vs quality"), [](QWidget* p) -> AnalysisView* { return new TradeoffView(p); }},
      {"layer_error", QObject::tr("Per-layer error"), [](QWidget* p) -> AnalysisView* { return new LayerErrorView(p); }},
      {"compare_runs", QObject::tr("Compare runs"), [](QWidget* p) -> AnalysisView* { return new CompareRunsView(p); }},
      {"kurtosis", QObject::tr("Kurtosis"), [](QWidget* p) -> AnalysisView* { return new KurtosisView(p); }},
      {"token_distribution", QObject::tr("Token distribution"),
       [](QWidget* p) -> AnalysisView* { return new TokenDistributionView(p); }},
      {"channel_outliers", QObject::tr("Activation outliers"),
       [](QWidget* p) -> AnalysisView* { return new ChannelOutliersView(p); }},
      {"quant_grid", QObject::tr("Histograms + grid"), [](QWidget* p) -> AnalysisView* { return new QuantGridView(p); }},
      {"calibration_study", QObject::tr("Calibration study"),
       [](QWidget* p) -> AnalysisView* { return new CalibrationStudyView(p); }},
      {"comparison", QObject::tr("Comparison table"), [](QWidget* p) -> AnalysisView* { return new ComparisonTableView(p); }},
      {"samples", QObject::tr("Samples"), [](QWidget* p) -> AnalysisView* { return new SamplesView(p); }},
      {"column_error", QObject::tr("Column-wise error"), [](QWidget* p) -> AnalysisView* { return new ColumnErrorView(p); }},
      {"divergence", QObject::tr("Per-token divergence"), [](QWidget* p) -> AnalysisView* { return new DivergenceView(p); }},
  };
  return entries;
}

const ViewEntry* findView(const QString& id) {
  for (const auto& e : viewCatalog())
    if (e.id == id) return &e;
  return nullptr;
}

}  // namespace ptq::views
