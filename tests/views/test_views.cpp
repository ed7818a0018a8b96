// Qt Test: every analysis view built from hand-made records (sample_records.h) shows the numbers
// derived by hand from them; the Pareto frontier and the axis ticks on crafted inputs.
#include <QCheckBox>
#include <QComboBox>
#include <QTableView>
#include <QToolTip>
#include <QtTest>
#include <cmath>

#include "sample_records.h"
#include "views/analyses/comparison_table.h"
#include "views/charts/heatmap_widget.h"
#include "views/charts/layer_grid.h"
#include "views/analyses/kurtosis_view.h"
#include "views/analyses/layer_error_view.h"
#include "views/charts/pareto.h"
#include "views/charts/plot_axis.h"
#include "views/analyses/token_distribution_view.h"
#include "views/analyses/tradeoff_view.h"
#include "views/analyses/view_catalog.h"
#include "views/records/record_fields.h"

using namespace ptq::views;
using Points = std::vector<ParetoPoint>;
using Indices = std::vector<int>;
Q_DECLARE_METATYPE(Points)
Q_DECLARE_METATYPE(Indices)

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kTol = 1e-9;
}  // namespace

class TestViews : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  // W-A records read like the literature: w4a8g128, the activation format when not int.
  void weightActivationLabels() {
    using namespace ptq::views;
    Record wa = {{"method", "gptq"}, {"quant", {{"bits", 4}, {"group", 128}, {"format", "int"}, {"act_bits", 8}}}};
    QCOMPARE(quantTag(wa), QString("w4a8g128"));
    QCOMPARE(actBits(wa), 8.0);
    wa["quant"]["act_format"] = "fp8_e4m3";
    wa["quant"]["act_bits"] = 8;
    wa["quant"]["bits"] = 8;
    wa["quant"]["group"] = -1;
    QCOMPARE(quantTag(wa), QString("w8a8 per-ch a-fp8_e4m3"));
    QVERIFY(pointLabel(wa).endsWith("w8a8"));
    Record w = {{"method", "gptq"}, {"quant", {{"bits", 4}, {"group", 128}, {"format", "int"}}}};
    QCOMPARE(quantTag(w), QString("w4g128"));
    QCOMPARE(actBits(w), 0.0);
  }

  void pareto_data() {
    QTest::addColumn<Points>("points");
    QTest::addColumn<bool>("maximize");
    QTest::addColumn<Indices>("expected");
    QTest::newRow("staircase") << Points{{1, 10}, {2, 5}, {3, 6}, {4, 1}} << false << Indices{0, 1, 3};
    QTest::newRow("unsorted input") << Points{{4, 1}, {3, 6}, {1, 10}, {2, 5}} << false << Indices{2, 3, 0};
    QTest::newRow("same x, worse y") << Points{{1, 10}, {1, 8}, {2, 8}} << false << Indices{1};
    QTest::newRow("identical points stay") << Points{{1, 5}, {1, 5}, {2, 4}} << false << Indices{0, 1, 2};
    QTest::newRow("maximize accuracy") << Points{{1, 0.5}, {2, 0.4}, {3, 0.7}} << true << Indices{0, 2};
    QTest::newRow("non-finite ignored") << Points{{kNaN, 1}, {1, 2}, {2, INFINITY}} << false << Indices{1};
    QTest::newRow("empty") << Points{} << false << Indices{};
  }
  void pareto() {
    QFETCH(Points, points);
    QFETCH(bool, maximize);
    QFETCH(Indices, expected);
    QCOMPARE(paretoFrontier(points, maximize), expected);
  }

  void axisTicks_data() {
    QTest::addColumn<double>("lo");
    QTest::addColumn<double>("hi");
    QTest::addColumn<bool>("log");
    QTest::addColumn<std::vector<double>>("ticks");
    QTest::newRow("linear 0-1") << 0.0 << 1.0 << false << std::vector<double>{0, 0.2, 0.4, 0.6, 0.8, 1.0};
    QTest::newRow("linear 87-123") << 87.0 << 123.0 << false << std::vector<double>{90, 100, 110, 120};
    QTest::newRow("log 3 decades") << 1.0 << 1000.0 << true << std::vector<double>{1, 10, 100, 1000};
    QTest::newRow("log 1-2-5") << 2.0 << 60.0 << true << std::vector<double>{2, 5, 10, 20, 50};
  }
  void axisTicks() {
    QFETCH(double, lo);
    QFETCH(double, hi);
    QFETCH(bool, log);
    QFETCH(std::vector<double>, ticks);
    PlotAxis a{lo, hi, log, {}};
    auto got = a.ticks();
    QCOMPARE(got.size(), ticks.size());
    for (size_t i = 0; i < got.size(); ++i) QVERIFY2(std::fabs(got[i] - ticks[i]) < 1e-9 * std::max(1.0, ticks[i]), qPrintable(QString::number(got[i])));
    QCOMPARE(a.map(lo, 0, 100), 0.0);
    QCOMPARE(a.map(hi, 0, 100), 100.0);
  }

  void kurtosis_data() {
    QTest::addColumn<int>("grouping");
    QTest::addColumn<int>("quantity");
    QTest::addColumn<QStringList>("categories");
    QTest::addColumn<QString>("series");
    QTest::addColumn<QString>("category");
    QTest::addColumn<double>("value");
    QTest::addColumn<int>("bars");
    QTest::newRow("type, weights fp") << 0 << 0 << QStringList{"q", "down"} << "weights, fp" << "q" << 3.5 << 8;
    QTest::newRow("type, act transformed") << 0 << 0 << QStringList{"q", "down"} << "activations, transformed" << "down" << 22.5 << 8;
    QTest::newRow("block, act fp") << 1 << 2 << QStringList{"0", "1"} << "activations, fp" << "1" << 45.0 << 4;
    QTest::newRow("block, weights only") << 1 << 1 << QStringList{"0", "1"} << "weights, transformed" << "0" << 3.5 << 4;
  }
  void kurtosis() {
    QFETCH(int, grouping);
    QFETCH(int, quantity);
    QFETCH(QStringList, categories);
    QFETCH(QString, series);
    QFETCH(QString, category);
    QFETCH(double, value);
    QFETCH(int, bars);
    KurtosisView v;
    v.setRecords(sample::demoSet());
    QCOMPARE(v.recordCount(), 1);
    QVERIFY(v.hasData());
    v.setGrouping(static_cast<KurtosisView::Grouping>(grouping));
    v.setQuantity(static_cast<KurtosisView::Quantity>(quantity));
    QCOMPARE(v.chart().categories, categories);
    QVERIFY(std::fabs(v.chart().value(series, category) - value) < kTol);
    QCOMPARE(v.chart().barCount(), bars);
    QCOMPARE(static_cast<int>(v.dataTable().rows.size()), categories.size());
  }
  void kurtosisWithoutAnalysisSaysSo() {
    KurtosisView v;
    v.setRecords({sample::fpRecord(1e6, 90), sample::quantRecord("rtn", 3, 1e6, 100, 3)});
    QVERIFY(!v.hasData());
    QVERIFY(v.noDataMessage().contains("kurtosis"));
    QCOMPARE(v.chart().barCount(), 0);
  }
  void kurtosisOpensOnTransformedRun() {
    auto fp = sample::fpRecord(4e6, 90);
    fp["analyses"]["kurtosis"]["fp"] = sample::kurtosisAnalysis(1.0);  // no transform
    KurtosisView v;
    v.setRecords({fp, sample::withKurtosis(sample::quantRecord("awq", 4, 1e6, 92, 4))});
    QCOMPARE(v.recordCount(), 2);
    QCOMPARE(v.findChild<QComboBox*>("record")->currentIndex(), 1);
    QCOMPARE(static_cast<int>(v.chart().series.size()), 4);
    v.selectRecord(0);
    QCOMPARE(static_cast<int>(v.chart().series.size()), 2);  // weights and activations, fp only
  }
  void kurtosisLogHidesNonPositive() {
    auto r = sample::withKurtosis(sample::quantRecord("awq", 4, 1e6, 90, 4));
    // fp weights of q in blocks 0 and 1: mean (-1 - 6) / 2 = -3.5, no bar on a log axis.
    r["analyses"]["kurtosis"]["fp"]["layers"][0]["weight"] = -1.0;
    r["analyses"]["kurtosis"]["fp"]["layers"][2]["weight"] = -6.0;
    KurtosisView v;
    v.setRecords({r});
    v.setQuantity(KurtosisView::Weights);
    v.setLogScale(true);
    QCOMPARE(v.chart().barCount(), 3);
    v.setLogScale(false);
    QCOMPARE(v.chart().barCount(), 4);
  }

  void layerError_data() {
    QTest::addColumn<int>("metric");
    QTest::addColumn<int>("block");
    QTest::addColumn<QString>("type");
    QTest::addColumn<double>("cell");
    QTest::addColumn<double>("block0Mean");
    QTest::newRow("weight rel error") << 0 << 1 << "down" << 0.45 << 0.175;
    QTest::newRow("output cosine") << 1 << 1 << "q" << 0.98 << 0.97;
    QTest::newRow("output rel mse") << 2 << 0 << "down" << 0.01 << 0.0055;
  }
  void layerError() {
    QFETCH(int, metric);
    QFETCH(int, block);
    QFETCH(QString, type);
    QFETCH(double, cell);
    QFETCH(double, block0Mean);
    LayerErrorView v;
    v.setRecords(sample::demoSet());
    QCOMPARE(v.recordCount(), 4);  // the fp baseline has no layers
    v.setMetric(static_cast<LayerErrorView::Metric>(metric));
    QCOMPARE(v.grid().types, (QStringList{"q", "down"}));
    QCOMPARE(v.grid().blocks, (std::vector<int>{0, 1}));
    QVERIFY(std::fabs(v.heatmap()->value(block, type) - cell) < kTol);
    QCOMPARE(v.depthBars().categories, (QStringList{"0", "1"}));
    QVERIFY(std::fabs(v.depthBars().series[0].values[0] - block0Mean) < kTol);
    QCOMPARE(v.depthBars().barCount(), 2);
  }
  // Rows of the layer grid in execution order, Mamba's mixer and Phi-3's fused layers included
  // (unknown types after them, sorted).
  void layerGridRowOrder() {
    QCOMPARE(orderTypes({"out_proj", "x_proj", "zeta", "in_proj", "dt_proj", "alpha"}),
             (QStringList{"in_proj", "x_proj", "dt_proj", "out_proj", "alpha", "zeta"}));
    QCOMPARE(orderTypes({"down", "gate_up", "o", "qkv"}), (QStringList{"qkv", "o", "gate_up", "down"}));
  }
  void layerErrorRecordSelector() {
    LayerErrorView v;
    auto records = sample::demoSet();
    records[3]["layers"][3]["weight_rel_error"] = 0.9;  // gptq w4: block 1 down
    v.setRecords(records);
    auto* picker = v.findChild<QComboBox*>("record");
    QCOMPARE(picker->count(), 4);
    QVERIFY(!picker->isHidden());
    v.selectRecord(2);
    QCOMPARE(picker->currentText(), QString("austen-tiny gptq w4g128"));
    QVERIFY(std::fabs(v.heatmap()->value(1, "down") - 0.9) < kTol);
    v.selectRecord(0);
    QVERIFY(std::fabs(v.heatmap()->value(1, "down") - 0.45) < kTol);
  }
  void heatmapHoverShowsValue() {
    LayerErrorView v;
    v.setRecords({sample::quantRecord("gptq", 3, 1e6, 100, 3.2)});
    v.resize(800, 600);
    v.show();
    QVERIFY(QTest::qWaitForWindowExposed(&v));
    HeatmapWidget* h = v.heatmap();
    QPointF c = h->cellCenter(1, "down");
    QVERIFY(h->rect().contains(c.toPoint()));
    QString tip = h->tooltipAt(c);
    QVERIFY2(tip.contains("0.45") && tip.contains("layers.1.mlp.down_proj"), qPrintable(tip));
    QCOMPARE(h->tooltipAt(QPointF(1, 1)), QString());  // outside the cells
    QTest::mouseMove(h, c.toPoint());
    QTRY_VERIFY(QToolTip::isVisible());
    QVERIFY2(QToolTip::text().contains("0.45"), qPrintable(QToolTip::text()));
  }
  // Runs without calibration store null output errors; layers left in full precision have no
  // weight error. Older records wrote -1 and 0 there: both read as "not measured", not as data.
  void layerErrorShowsNotMeasured() {
    for (bool legacy : {false, true}) {
      auto r = sample::quantRecord("rtn", 3, 1e6, 100, 3.2);
      for (auto& l : r["layers"]) {
        l["out_cosine"] = legacy ? nlohmann::json(-1.0) : nlohmann::json(nullptr);
        l["out_rel_mse"] = legacy ? nlohmann::json(-1.0) : nlohmann::json(nullptr);
        l["calib_tokens"] = 0;
      }
      r["layers"].push_back({{"name", "layers.0.mlp.router"}, {"type", "router"}, {"block", 0}, {"quantized", false},
                             {"weight_rel_error", legacy ? nlohmann::json(0.0) : nlohmann::json(nullptr)},
                             {"out_cosine", nullptr}, {"calib_tokens", 0}});
      LayerErrorView v;
      v.setRecords({r});
      v.resize(800, 600);
      v.show();
      QVERIFY(QTest::qWaitForWindowExposed(&v));
      QCOMPARE(v.recordCount(), 1);
      v.setMetric(LayerErrorView::WeightRelError);
      QVERIFY(v.hasData());
      QCOMPARE(v.grid().types, (QStringList{"q", "down", "router"}));
      QVERIFY(std::isnan(v.heatmap()->value(0, "router")));
      QVERIFY(std::fabs(v.depthBars().series[0].values[0] - 0.175) < kTol);  // (0.1 + 0.25) / 2: the router is no 0
      QString tip = v.heatmap()->tooltipAt(v.heatmap()->cellCenter(0, "router"));
      QVERIFY2(tip.contains("not measured") && tip.contains("layers.0.mlp.router"), qPrintable(tip));
      QCOMPARE(v.dataTable().rows[2][1], QString("not measured"));
      for (auto m : {LayerErrorView::OutCosine, LayerErrorView::OutRelMse}) {
        v.setMetric(m);
        QVERIFY2(!v.hasData() && v.noDataMessage().contains("not measured"), qPrintable(v.noDataMessage()));
        QVERIFY(std::isnan(v.heatmap()->value(1, "down")));
      }
    }
  }
  void layerErrorWithoutLayersSaysSo() {
    LayerErrorView v;
    v.setRecords({sample::fpRecord(1e6, 90)});
    QVERIFY(!v.hasData());
    QVERIFY(v.noDataMessage().startsWith("no data"));
  }

  void tokenDistribution() {
    TokenDistributionView v;
    auto records = sample::demoSet();
    records.push_back(sample::withTokenKl(sample::fpRecord(1e6, 90)));  // same analysis again: listed once
    v.setRecords(records);
    QCOMPARE(v.analysisCount(), 1);
    const auto& d = v.distribution();
    QCOMPARE(d.ids, (std::vector<int>{0, 2, 3, 1}));
    std::vector<double> calib{0.5, 0.3, 0.2, 0.0}, test{0.1, 0.3, 0.2, 0.4};
    for (size_t i = 0; i < 4; ++i) {
      QVERIFY(std::fabs(d.calibFreq[i] - calib[i]) < kTol);
      QVERIFY(std::fabs(d.testFreq[i] - test[i]) < kTol);
    }
    QCOMPARE(d.kl, 0.41);
    QCOMPARE(d.js, 0.09);
    QCOMPARE(d.calibTokens, int64_t(10));
    QCOMPARE(static_cast<int>(v.dataTable().rows.size()), 4);
  }
  // Two runs that drew different calibration windows from the same files measured different
  // distributions: both are listed, named by what they drew.
  void tokenDistributionKeepsCalibrationDrawsApart() {
    auto a = sample::withTokenKl(sample::fpRecord(1e6, 90));
    auto b = a, c = a;
    a["analyses"]["token_kl"]["calib_draw"] = {{"nsamples", 128}, {"seqlen", 512}, {"seed", 0}, {"sampling", "random"}};
    b["analyses"]["token_kl"]["calib_draw"] = {{"nsamples", 128}, {"seqlen", 512}, {"seed", 1}, {"sampling", "random"}};
    c["analyses"]["token_kl"]["calib_draw"] = {{"nsamples", 16}, {"seqlen", 512}, {"seed", 0}, {"sampling", "random"}};
    b["analyses"]["token_kl"]["kl"] = 0.5;
    TokenDistributionView v;
    v.setRecords({a, b, c, a});
    QCOMPARE(v.analysisCount(), 3);
    auto* picker = v.findChild<QComboBox*>("analysis");
    QVERIFY2(picker->itemText(1).contains("seed 1") && picker->itemText(2).contains("n16x512"), qPrintable(picker->itemText(1)));
    v.selectAnalysis(1);
    QCOMPARE(v.distribution().kl, 0.5);
  }
  void tokenDistributionFromTopList() {
    auto r = sample::fpRecord(1e6, 90);
    r["analyses"]["token_kl"] = {{"calib", "c.txt"}, {"test", "t.txt"}, {"kl", 0.2}, {"js", 0.05},
                                 {"top", {{{"id", 7}, {"calib", 0.1}, {"test", 0.3}}, {{"id", 3}, {"calib", 0.2}, {"test", 0.1}}}}};
    TokenDistributionView v;
    v.setRecords({r});
    QVERIFY(v.hasData());
    QCOMPARE(v.distribution().ids, (std::vector<int>{3, 7}));
    QCOMPARE(v.distribution().testFreq, (std::vector<double>{0.1, 0.3}));
  }
  void tokenDistributionWithoutAnalysisSaysSo() {
    TokenDistributionView v;
    v.setRecords({sample::fpRecord(1e6, 90)});
    QVERIFY(!v.hasData());
    QVERIFY(v.noDataMessage().contains("token_kl"));
  }

  void tradeoff_data() {
    QTest::addColumn<QString>("quality");
    QTest::addColumn<int>("xAxis");
    QTest::addColumn<QStringList>("frontier");  // labels of the frontier points by ascending x
    QTest::addColumn<double>("gptq3x");
    QTest::newRow("ppl vs MB") << "ppl" << 0 << QStringList{"gptq:austen-tiny 3b", "gptq:austen-tiny 4b", "fp:austen-tiny fp"} << 1.0;
    QTest::newRow("ppl vs bits/weight") << "ppl" << 1 << QStringList{"gptq:austen-tiny 3b", "gptq:austen-tiny 4b", "fp:austen-tiny fp"} << 3.2;
    QTest::newRow("accuracy vs MB") << "lambada" << 0
                                    << QStringList{"gptq:austen-tiny 3b", "rtn:austen-tiny 3b", "awq:austen-tiny 4b",
                                                   "gptq:austen-tiny 4b", "fp:austen-tiny fp"}
                                    << 1.0;
  }
  void tradeoff() {
    QFETCH(QString, quality);
    QFETCH(int, xAxis);
    QFETCH(QStringList, frontier);
    QFETCH(double, gptq3x);
    TradeoffView v;
    v.setRecords(sample::demoSet());
    QCOMPARE(v.qualities(), (QStringList{"ppl", "dppl", "kl", "top1", "lambada"}));
    QVERIFY(v.setQuality(quality));
    v.setXAxis(static_cast<TradeoffView::XAxis>(xAxis));
    QCOMPARE(v.sizeUnit(), 1e6);
    QCOMPARE(static_cast<int>(v.points().size()), 5);
    QCOMPARE(v.methods(), (QStringList{"awq", "fp", "gptq", "rtn"}));
    QStringList got;
    for (int i : v.frontier()) got << v.points()[i].method + ":" + v.points()[i].label;
    QCOMPARE(got, frontier);
    for (const auto& p : v.points())
      if (p.method == "gptq" && p.label.endsWith("3b")) QVERIFY(std::fabs(p.x - gptq3x) < kTol);
    QVERIFY(!v.setQuality("no-such-task"));
  }
  // Generation and few-shot task scores (issue 17: {"acc", "exact_match": {filter: v}, "n",
  // "num_fewshot"}) are y choices of the trade-off view and columns of the comparison table by acc.
  void generationTaskScoresAreChoices() {
    auto a = sample::quantRecord("gptq", 4, 1e6, 100, 4.2), b = sample::fpRecord(4e6, 90);
    a["metrics"]["tasks"]["gsm8k"] = {{"acc", 0.25}, {"exact_match", {{"strict-match", 0.25}, {"flexible-extract", 0.5}}}, {"n", 4}, {"num_fewshot", 5}};
    b["metrics"]["tasks"]["gsm8k"] = {{"acc", 0.75}, {"exact_match", {{"strict-match", 0.75}, {"flexible-extract", 0.75}}}, {"n", 4}, {"num_fewshot", 5}};
    b["metrics"]["tasks"]["mmlu"] = {{"acc", 0.5}, {"n", 2}, {"num_fewshot", 1}};
    TradeoffView v;
    v.setRecords({a, b});
    QCOMPARE(v.qualities(), (QStringList{"ppl", "dppl", "kl", "top1", "gsm8k", "lambada", "mmlu"}));
    QVERIFY(v.setQuality("gsm8k"));
    QCOMPARE(static_cast<int>(v.points().size()), 2);
    for (const auto& p : v.points()) QVERIFY(std::fabs(p.y - (p.method == "fp" ? 0.75 : 0.25)) < kTol);
    ComparisonTableView t;
    t.setRecords({a, b});
    QVERIFY(t.runModel().column("task:gsm8k") >= 0 && t.runModel().column("task:mmlu") >= 0);
  }
  void tradeoffWithoutSizeSaysSo() {
    auto r = sample::fpRecord(1e6, 90);
    r["metrics"].erase("size");
    TradeoffView v;
    v.setRecords({r});
    QVERIFY(!v.hasData());
    QVERIFY(v.noDataMessage().contains("size"));
  }

  void comparisonTable() {
    ComparisonTableView v;
    v.setRecords(sample::demoSet());
    RunTableModel& m = v.runModel();
    QCOMPARE(m.rowCount(), 5);
    QCOMPARE(m.headerData(m.column("size"), Qt::Horizontal, Qt::DisplayRole).toString(), QString("size (MB)"));
    QVERIFY(m.column("task:lambada") >= 0);
    QCOMPARE(m.value(1, "dppl"), 30.0);                 // rtn w3: 120 - 90 (the fp record)
    QCOMPARE(m.value(0, "dppl"), 0.0);                  // the baseline is its own reference (as in the results browser)
    QVERIFY(std::fabs(m.value(2, "kl") - 0.1) < kTol);  // gptq w3
    QVERIFY(std::fabs(m.value(2, "top1") - 89.0) < kTol);
    QCOMPARE(m.data(m.index(1, m.column("dppl")), Qt::DisplayRole).toString(), QString("+30.00"));
    QCOMPARE(m.data(m.index(0, m.column("bits")), Qt::DisplayRole).toString(), QString("16"));
    QCOMPARE(m.data(m.index(0, m.column("group")), Qt::DisplayRole).toString(), QString());
    // Sorting the shown table by ppl orders the rows numerically.
    auto* table = v.findChild<QTableView*>("table");
    table->sortByColumn(m.column("ppl"), Qt::AscendingOrder);
    const QAbstractItemModel& shown = v.tableModel();
    QStringList ppl;
    for (int r = 0; r < shown.rowCount(); ++r) ppl << shown.index(r, m.column("ppl")).data().toString();
    QCOMPARE(ppl, (QStringList{"90.00", "95.00", "97.00", "100.00", "120.00"}));
  }

  void catalog() {
    QStringList ids;
    for (const auto& e : viewCatalog()) {
      std::unique_ptr<AnalysisView> v(e.make(nullptr));
      QCOMPARE(v->viewId(), e.id);
      QVERIFY(!v->hasData());
      QVERIFY(v->noDataMessage().startsWith("no data"));
      v->setRecords(sample::demoSet());
      QVERIFY2(v->hasData(), qPrintable(e.id + ": " + v->noDataMessage()));
      QVERIFY(!v->dataTable().rows.empty());
      ids << e.id;
    }
    QCOMPARE(ids, (QStringList{"tradeoff", "layer_error", "compare_runs", "kurtosis", "token_distribution", "channel_outliers",
                               "quant_grid", "calibration_study", "comparison", "samples", "column_error", "divergence"}));
    QVERIFY(findView("kurtosis") != nullptr);
    QVERIFY(findView("nope") == nullptr);
  }
};

QTEST_MAIN(TestViews)
#include "test_views.moc"
