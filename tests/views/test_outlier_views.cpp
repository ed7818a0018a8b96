// Qt Test offscreen (issue 15): the activation-outlier, histogram + grid and calibration-study
// views from hand-made records: their curves, series, axes and tooltips, the numbers checked by hand.
#include <QtCharts/QAbstractAxis>
#include <QtCharts/QLineSeries>
#include <QtCharts/QScatterSeries>
#include <QtCharts/QValueAxis>
#include <QtTest>
#include <cmath>

#include "sample_records.h"
#include "views/analyses/calibration_study_view.h"
#include "views/analyses/channel_outliers_view.h"
#include "views/analyses/quant_grid_view.h"
#include "views/analyses/selection_link.h"
#include "views/charts/interactive_chart.h"
#include "views/panels/results_browser.h"
#include "views/records/results_model.h"

using namespace ptq::views;
using nlohmann::json;

namespace {

QAbstractSeries* seriesByKey(QChart* c, const QString& key) {
  for (QAbstractSeries* s : c->series())
    if (seriesKey(s) == key) return s;
  return nullptr;
}

QStringList seriesKeys(QChart* c) {
  QStringList keys;
  for (QAbstractSeries* s : c->series()) keys << seriesKey(s);
  return keys;
}

void showAndWait(QWidget& w) {
  w.resize(900, 640);
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
}

// Block 0: the q/k/v input (3 readers, 2 channels) and the down input (4 channels).
json inputs(const std::vector<double>& qkv, const std::vector<double>& down) {
  auto entry = [](const std::string& layer, json readers, const std::string& type, const std::vector<double>& v) {
    double mx = 0, sum = 0;
    for (double x : v) mx = std::max(mx, x), sum += x;
    return json{{"layer", layer}, {"readers", readers}, {"type", type}, {"block", 0}, {"channels", v.size()},
                {"max", mx}, {"mean", sum / v.size()}, {"absmax", v}};
  };
  return {{"inputs",
           {entry("layers.0.self_attn.q_proj", {"layers.0.self_attn.q_proj", "layers.0.self_attn.k_proj", "layers.0.self_attn.v_proj"}, "q", qkv),
            entry("layers.0.mlp.down_proj", {"layers.0.mlp.down_proj"}, "down", down)}}};
}

json outlierRecord(const std::string& method, int bits, const std::vector<double>& down) {
  json r = sample::quantRecord(method, bits, 1e6, 100, bits);
  r["analyses"]["outliers"] = {{"calib_tokens", 256}, {"fp", inputs({1, 2}, {1, 10, 2, 3})},
                               {"transformed", inputs({1.5, 1.5}, down)}};
  return r;
}

json gridRecord() {
  json r = sample::quantRecord("rtn", 2, 1e6, 100, 2);
  json grid = {{"row", 2}, {"group", 1}, {"groups", 3}, {"format", "int"}, {"bits", 2},
               {"levels", {-1.0, -0.5, 0.0, 0.5}}, {"code_counts", {1, 4, 3, 2}}};
  json layer = {{"name", "layers.0.mlp.down_proj"}, {"type", "down"}, {"block", 0},
                {"weights", {{"lo", -1.0}, {"hi", 1.0}, {"counts", {1, 2, 3, 4}}}},
                {"activations", {{"lo", -4.0}, {"hi", 4.0}, {"counts", {5, 0, 7, 1, 3, 0, 0, 2}}, {"tokens", 2}}},
                {"grid", grid}};
  json binarized = layer;
  binarized["name"] = "layers.0.self_attn.q_proj";
  binarized["grid"] = {{"levels", nullptr}, {"note", "binarized planes, no code grid"}};
  r["analyses"]["quant_grid"] = {{"bins", 4}, {"layers", {layer, binarized}}};
  return r;
}

json calibRecord(const std::string& method, const std::string& calib, double kl, double ppl) {
  json r = sample::quantRecord(method, 3, 1e6, ppl, 3);
  r["run_id"] = method + "." + calib;
  r["calibration"] = {{"name", calib}, {"files", {"/t/" + calib + ".txt"}}, {"nsamples", 8}, {"seqlen", 512}, {"seed", 0}};
  r["analyses"]["token_kl"] = {{"kl", kl}, {"calib", "/t/" + calib + ".txt"}, {"test", "/t/austen-test.txt"}};
  r["metrics"]["compare"]["kl_mean"] = ppl / 1000;
  return r;
}

}  // namespace

class TestOutlierViews : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void channelOutliersFpAgainstEachTransform() {
    ChannelOutliersView v;
    QVERIFY(!v.hasData());
    QVERIFY(v.noDataMessage().contains("outliers"));
    v.setRecords({sample::fpRecord(2e6, 90), outlierRecord("rotate", 3, {4, 4, 4, 4}),
                  outlierRecord("smoothquant+rtn", 8, {1, 5, 2, 3})});
    QCOMPARE(v.layers(), (QStringList{"layers.0.self_attn.q_proj", "layers.0.mlp.down_proj"}));
    QCOMPARE(v.findChild<QComboBox*>("layer")->itemText(0),
             QString("layers.0.self_attn.q_proj, k_proj, v_proj (q/k/v input)"));
    v.selectLayer("layers.0.mlp.down_proj");
    QVERIFY(v.hasData());
    const auto& c = v.curves();
    QCOMPARE(int(c.size()), 3);
    QCOMPARE(c[0].key, QString("fp"));
    QCOMPARE(c[1].key, QString("after rotate (w3g128)"));
    QCOMPARE(c[2].key, QString("after smoothquant (w8g128)"));
    QCOMPARE(c[0].ratio(), 2.5);  // 10 / mean(1, 10, 2, 3)
    QCOMPARE(c[1].ratio(), 1.0);
    QChart* ch = v.qchart();
    QCOMPARE(seriesKeys(ch), (QStringList{"fp", "after rotate (w3g128)", "after smoothquant (w8g128)"}));
    auto* fp = qobject_cast<QLineSeries*>(seriesByKey(ch, "fp"));
    QCOMPARE(fp->count(), 4);
    QCOMPARE(fp->at(1), QPointF(1, 10));
    QCOMPARE(ch->axes(Qt::Horizontal).value(0)->titleText(), QString("input channel"));
    // Ranked by the fp curve: channels 1, 3, 2, 0; every curve follows that order.
    v.setSorted(true);
    QCOMPARE(v.order(), (std::vector<int>{1, 3, 2, 0}));
    auto* sq = qobject_cast<QLineSeries*>(seriesByKey(v.qchart(), "after smoothquant (w8g128)"));
    QCOMPARE(sq->at(0), QPointF(0, 5));
    QCOMPARE(sq->at(3), QPointF(3, 1));
    QCOMPARE(int(v.dataTable().rows.size()), 4);
    QCOMPARE(v.dataTable().rows[0], (QStringList{"1", "10", "4", "5"}));
    v.setLog(true);
    QVERIFY(isLogAxis(v.qchart()->axes(Qt::Vertical).value(0)));
  }

  void channelOutliersTooltipNamesChannelAndRun() {
    ChannelOutliersView v;
    v.setRecords({outlierRecord("rotate", 3, {4, 4, 4, 4})});
    v.selectLayer("layers.0.mlp.down_proj");
    showAndWait(v);
    const QString tip = v.chartView()->tooltipAt(v.chartView()->viewportPosition("fp", 1));
    QVERIFY2(tip.contains("channel 1: max|x| 10") && tip.contains("model: austen-tiny"), qPrintable(tip));
  }

  void histogramWithTheGridOfOneGroup() {
    QuantGridView v;
    QVERIFY(!v.hasData());
    v.setRecords({sample::quantRecord("gptq", 3, 1e6, 100, 3), gridRecord()});
    QCOMPARE(v.runCount(), 1);
    v.selectLayer("layers.0.mlp.down_proj");
    const GridHistogram& h = v.histogram();
    QCOMPARE(h.edges, (std::vector<double>{-1, -0.5, 0, 0.5, 1}));
    QCOMPARE(h.total(), 10.0);
    QCOMPARE(h.levels, (std::vector<double>{-1, -0.5, 0, 0.5}));
    QVERIFY(h.title.contains("row 2, group 1 of 3"));
    QChart* c = v.qchart();
    QVERIFY(seriesByKey(c, "grid (4 levels)"));
    auto* grid = qobject_cast<QLineSeries*>(seriesByKey(c, "grid (4 levels)"));
    QCOMPARE(grid->count(), 8);  // two points per level
    for (int k = 0; k < 4; ++k) QCOMPARE(grid->at(2 * k).x(), h.levels[k]);
    auto* outline = qobject_cast<QLineSeries*>(seriesByKey(c, "weights"));
    QCOMPARE(outline->count(), 2 + 2 * 4);  // down to 0 at both ends, two points per bin
    QCOMPARE(outline->at(8), QPointF(1, 4));
    auto* ay = qobject_cast<QValueAxis*>(c->axes(Qt::Vertical).value(0));
    QVERIFY(ay && ay->min() <= 0 && ay->max() >= 4);
    QCOMPARE(int(v.dataTable().rows.size()), 4 + 4);  // bins, then levels
    v.setMode("codes");
    QCOMPARE(v.histogram().edges, (std::vector<double>{-0.5, 0.5, 1.5, 2.5, 3.5}));
    QCOMPARE(v.histogram().counts, (std::vector<double>{1, 4, 3, 2}));
    QVERIFY(!seriesByKey(v.qchart(), "grid (4 levels)"));
    v.setMode("activations");
    QCOMPARE(v.histogram().total(), 18.0);
    QCOMPARE(v.histogram().edges.back(), 4.0);
    QVERIFY(v.histogram().levels.empty());
    // A layer without a code grid says why.
    v.selectLayer("layers.0.self_attn.q_proj");
    v.setMode("codes");
    QVERIFY(!v.hasData());
    QVERIFY(v.noDataMessage().contains("binarized"));
    v.setMode("weights");
    QVERIFY(v.hasData());
    QVERIFY(!seriesByKey(v.qchart(), "grid (4 levels)"));
  }

  void calibrationStudyPointsFitAndTooltips() {
    const LineFit f = fitLine({0.1, 0.5, 1.0}, {102, 110, 120});
    QVERIFY(f.valid);
    QVERIFY(std::fabs(f.slope - 20) < 1e-9 && std::fabs(f.intercept - 100) < 1e-9 && std::fabs(f.r - 1) < 1e-12);
    QVERIFY(!fitLine({0.1, 0.1, 0.1}, {1, 2, 3}).valid);
    QVERIFY(!fitLine({0.1, 0.2}, {1, 2}).valid);
    CalibrationStudyView v;
    QVERIFY(!v.hasData());
    QVERIFY(v.noDataMessage().contains("calib-sweep.json"));
    json fp = sample::fpRecord(2e6, 90);
    fp["analyses"]["token_kl"] = {{"kl", 0.2}};
    json noKl = sample::quantRecord("gptq", 4, 1e6, 95, 4);
    v.setRecords({calibRecord("gptq", "austen-valid", 0.1, 102), calibRecord("gptq", "opticks", 1.0, 120),
                  calibRecord("gptq", "mixed", 0.5, 110), calibRecord("awq", "austen-valid", 0.1, 104),
                  calibRecord("awq", "opticks", 1.0, 118), fp, noKl});
    QCOMPARE(int(v.points().size()), 5);
    QCOMPARE(v.methods(), (QStringList{"gptq", "awq"}));
    QVERIFY(std::fabs(v.fitOf("gptq").slope - 20) < 1e-9);
    QVERIFY(!v.fitOf("awq").valid);  // two points: no line
    QChart* c = v.qchart();
    QCOMPARE(seriesKeys(c), (QStringList{"gptq", "gptq fit", "awq"}));
    QCOMPARE(qobject_cast<QScatterSeries*>(seriesByKey(c, "gptq"))->at(2), QPointF(0.5, 110));
    QCOMPARE(v.dataTable().rows[1][2], QString("opticks"));
    v.setQuality("kl");
    QCOMPARE(qobject_cast<QScatterSeries*>(seriesByKey(v.qchart(), "awq"))->at(1), QPointF(1.0, 0.118));
    QVERIFY(v.qchart()->axes(Qt::Vertical).value(0)->titleText().contains("KL to full precision"));
    showAndWait(v);
    const QString tip = v.chartView()->tooltipAt(v.chartView()->viewportPosition("awq", 1));
    QVERIFY2(tip.contains("opticks") && tip.contains("method: awq") && tip.contains("token KL: 1"), qPrintable(tip));
    QSignalSpy clicked(&v, &CalibrationStudyView::runClicked);
    QTest::mouseClick(v.chartView()->viewport(), Qt::LeftButton, {}, v.chartView()->viewportPosition("awq", 1).toPoint());
    QCOMPARE(clicked.count(), 1);
    QCOMPARE(clicked[0][0].toString(), QString("awq.opticks"));
  }

  void calibrationStudyClickSelectsTheRunsRow() {
    ResultsBrowser results;
    for (const auto& r : {calibRecord("gptq", "austen-valid", 0.1, 102), calibRecord("gptq", "opticks", 1.0, 120)})
      results.model()->upsert("/r/" + QString::fromStdString(r["run_id"]) + ".json", r);
    CalibrationStudyView v;
    v.setRecords(results.filteredRecords());
    linkSelection(&v, &results);
    showAndWait(v);
    QTest::mouseClick(v.chartView()->viewport(), Qt::LeftButton, {}, v.chartView()->viewportPosition("gptq", 1).toPoint());
    const auto selected = results.selectedRecords();
    QCOMPARE(int(selected.size()), 1);
    QCOMPARE(QString::fromStdString(selected[0]["run_id"]), QString("gptq.opticks"));
  }
};

QTEST_MAIN(TestOutlierViews)
#include "test_outlier_views.moc"
