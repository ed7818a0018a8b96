// Qt Test (issue 15): the Qt Charts views built from the hand-made records (sample_records.h):
// their series and axes, the hover tooltip from a synthetic mouse move, legend toggling, zoom and
// reset, renamed series, the linked selection between the trade-off view and the results table,
// the label placement and the decimation of long curves.
#include <QApplication>
#include <QGraphicsItem>
#include <QItemSelectionModel>
#include <QWheelEvent>
#include <QTableView>
#include <QToolTip>
#include <QtCharts/QAbstractAxis>
#include <QtCharts/QBarSeries>
#include <QtCharts/QBarSet>
#include <QtCharts/QCategoryAxis>
#include <QtCharts/QLegend>
#include <QtCharts/QLegendMarker>
#include <QtCharts/QLineSeries>
#include <QtCharts/QScatterSeries>
#include <QtTest>
#include <cmath>

#include "sample_records.h"
#include "views/analyses/compare_runs_view.h"
#include "views/analyses/kurtosis_view.h"
#include "views/analyses/layer_error_view.h"
#include "views/analyses/selection_link.h"
#include "views/analyses/token_distribution_view.h"
#include "views/analyses/tradeoff_view.h"
#include "views/charts/interactive_chart.h"
#include "views/charts/point_labels.h"
#include "views/panels/results_browser.h"
#include "views/records/results_model.h"

using namespace ptq::views;

namespace {
constexpr double kTol = 1e-9;

QStringList seriesKeys(QChart* c) {
  QStringList keys;
  for (QAbstractSeries* s : c->series()) keys << seriesKey(s);
  return keys;
}

QAbstractSeries* seriesByKey(QChart* c, const QString& key) {
  for (QAbstractSeries* s : c->series())
    if (seriesKey(s) == key) return s;
  return nullptr;
}

QAbstractAxis* axis(QChart* c, Qt::Orientation o) { return c->axes(o).value(0); }

void showAndWait(QWidget& w) {
  w.resize(900, 640);
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
}
}  // namespace

class TestCharts : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void tradeoffSeriesAndAxes() {
    TradeoffView v;
    v.setRecords(sample::demoSet());
    QCOMPARE(v.qualities(), (QStringList{"ppl", "dppl", "kl", "top1", "lambada"}));
    QChart* c = v.qchart();
    QCOMPARE(seriesKeys(c), (QStringList{"awq", "fp", "gptq", "rtn", "Pareto frontier"}));
    auto* gptq = qobject_cast<QScatterSeries*>(seriesByKey(c, "gptq"));
    QVERIFY(gptq);
    QCOMPARE(gptq->count(), 2);
    QCOMPARE(gptq->at(0), QPointF(1.0, 2.0));  // 1e6 bytes in MB, ppl 100 on the log10 axis
    auto* frontier = qobject_cast<QLineSeries*>(seriesByKey(c, "Pareto frontier"));
    QVERIFY(frontier);
    QCOMPARE(frontier->count(), 3);
    QCOMPARE(frontier->pen().style(), Qt::DashLine);  // the legend draws the series' own pen
    QCOMPARE(c->legend()->markerShape(), QLegend::MarkerShapeFromSeries);
    QCOMPARE(axis(c, Qt::Horizontal)->titleText(), QString("model size (MB)"));
    QCOMPARE(axis(c, Qt::Vertical)->titleText(), QString("perplexity"));
    QVERIFY(isLogAxis(axis(c, Qt::Vertical)));
    // Labelled within the decade (QLogValueAxis would label only 100): 90, 100, 110, 120, 130 or so.
    QVERIFY2(qobject_cast<QCategoryAxis*>(axis(c, Qt::Vertical))->categoriesLabels().contains("100") &&
                 qobject_cast<QCategoryAxis*>(axis(c, Qt::Vertical))->count() >= 3,
             qPrintable(qobject_cast<QCategoryAxis*>(axis(c, Qt::Vertical))->categoriesLabels().join(",")));
    QCOMPARE(c->title(), QString("Perplexity vs model size (MB)"));
    // KL: the title and axis follow; the fp run has no KL (no point), top-1 is maximized.
    QVERIFY(v.setQuality("kl"));
    c = v.qchart();
    QCOMPARE(c->title(), QString("KL to full precision (nats) vs model size (MB)"));
    QCOMPARE(int(v.points().size()), 4);
    QVERIFY(v.setQuality("dppl"));
    QVERIFY(!isLogAxis(v.qchart()->axes(Qt::Vertical).value(0)));  // ΔPPL 0 at fp: linear
    for (const auto& p : v.points())
      if (p.method == "rtn") QVERIFY(std::fabs(p.y - 30.0) < kTol);  // 120 - 90
    QVERIFY(v.setQuality("top1"));
    // 0.89 at 1 MB (rtn and gptq w3, equal: both stay), 0.92 at 1.3 MB (gptq and awq w4).
    QCOMPARE(int(v.frontier().size()), 4);
    v.setXAxis(TradeoffView::BitsPerWeight);
    QCOMPARE(v.qchart()->title(), QString("Top-1 agreement vs bits per weight (embeddings counted)"));
    // Both counts are offered: over the linear layers alone (only records that give it have a point).
    auto records = sample::demoSet();
    records[1]["metrics"]["size"]["linear_bits_per_weight"] = 3.25;
    records[2]["metrics"]["size"]["linear_bits_per_weight"] = 3.5;
    v.setRecords(records);
    v.setXAxis(TradeoffView::LinearBitsPerWeight);
    QCOMPARE(v.qchart()->title(), QString("Top-1 agreement vs bits per weight (linear layers)"));
    QCOMPARE(int(v.points().size()), 2);
    for (const auto& p : v.points()) QVERIFY(p.x == 3.25 || p.x == 3.5);
  }

  void tradeoffHoverNamesTheRun() {
    TradeoffView v;
    auto records = sample::demoSet();
    records[2]["calibration"] = {{"files", {"/t/austen-valid.txt"}}, {"nsamples", 16}, {"seqlen", 128}, {"seed", 0}};
    v.setRecords(records);
    showAndWait(v);
    InteractiveChart* view = v.chartView();
    QPointF pos = view->viewportPosition("gptq", 0);  // gptq w3: 1 MB, ppl 100
    QVERIFY2(view->viewport()->rect().contains(pos.toPoint()), qPrintable(QString("%1,%2").arg(pos.x()).arg(pos.y())));
    QString tip = view->tooltipAt(pos);
    for (const char* want : {"model: austen-tiny", "method: gptq (w3g128)", "bits: 3, group: 128",
                             "calibration: austen-valid.txt, 16 × 128 tokens, seed 0", "perplexity: 100", "model size (MB): 1"})
      QVERIFY2(tip.contains(want), qPrintable(want + QString(" not in ") + tip));
    QCOMPARE(view->tooltipAt(pos + QPointF(40, 40)), QString());
    QTest::mouseMove(view->viewport(), pos.toPoint());
    QTRY_VERIFY(QToolTip::isVisible());
    QVERIFY2(QToolTip::text().contains("method: gptq"), qPrintable(QToolTip::text()));
  }

  void legendClickTogglesSeries() {
    TradeoffView v;
    v.setRecords(sample::demoSet());
    showAndWait(v);
    QLegendMarker* marker = nullptr;
    for (QLegendMarker* m : v.qchart()->legend()->markers())
      if (seriesKey(m->series()) == "rtn") marker = m;
    QVERIFY(marker);
    Q_EMIT marker->clicked();
    QVERIFY(!seriesByKey(v.qchart(), "rtn")->isVisible());
    QVERIFY(marker->isVisible());  // stays in the legend, greyed, to click again
    QVERIFY(v.seriesHidden("rtn"));
    QCOMPARE(v.chartView()->tooltipAt(v.chartView()->viewportPosition("rtn", 0)), QString());  // no tooltip when hidden
    v.setLogScale(false);  // a rebuilt chart (and so the export) keeps it hidden
    QVERIFY(!seriesByKey(v.qchart(), "rtn")->isVisible());
    for (QLegendMarker* m : v.qchart()->legend()->markers())
      if (seriesKey(m->series()) == "rtn") Q_EMIT m->clicked();
    QVERIFY(seriesByKey(v.qchart(), "rtn")->isVisible());
    QVERIFY(!v.seriesHidden("rtn"));
  }

  void zoomAndReset() {
    TradeoffView v;
    v.setRecords(sample::demoSet());
    v.setLogScale(false);
    showAndWait(v);
    const AxisRange before = v.axisRange(Qt::Horizontal);
    v.chartView()->zoomAround(v.chartView()->viewport()->rect().center(), 2.0);
    const AxisRange zoomed = v.axisRange(Qt::Horizontal);
    QVERIFY2(std::fabs((zoomed.hi - zoomed.lo) - (before.hi - before.lo) / 2) < 1e-6 * (before.hi - before.lo),
             qPrintable(QString("%1..%2 from %3..%4").arg(zoomed.lo).arg(zoomed.hi).arg(before.lo).arg(before.hi)));
    v.highlightRuns({"austen-tiny.gptq.w3g128"});  // a rebuilt chart keeps the zoom
    QVERIFY(std::fabs(v.axisRange(Qt::Horizontal).lo - zoomed.lo) < 1e-9);
    v.resetZoom();
    QVERIFY(std::fabs(v.axisRange(Qt::Horizontal).lo - before.lo) < 1e-9);
    v.setAxisRange(Qt::Vertical, 80, 130);
    QCOMPARE(v.axisRange(Qt::Vertical).lo, 80.0);
    QCOMPARE(v.axisRange(Qt::Vertical).hi, 130.0);
    // On the log axis the range is typed and read in data units (kept as log10: 1e-12 relative
    // is the round trip through log10 and pow in doubles, with room).
    v.setLogScale(true);
    v.setAxisRange(Qt::Vertical, 80, 130);
    QVERIFY(std::fabs(v.axisRange(Qt::Vertical).lo - 80) < 1e-12 * 80);
    QVERIFY(std::fabs(v.axisRange(Qt::Vertical).hi - 130) < 1e-12 * 130);
    QVERIFY(qobject_cast<QCategoryAxis*>(axis(v.qchart(), Qt::Vertical))->categoriesLabels().contains("100"));
  }

  // A left drag zooms to the rubber band; a wheel event zooms around the cursor.
  void rubberBandAndWheel() {
    TradeoffView v;
    v.setRecords(sample::demoSet());
    v.setLogScale(false);
    showAndWait(v);
    QWidget* vp = v.chartView()->viewport();
    const AxisRange before = v.axisRange(Qt::Horizontal);
    const QPoint c = vp->rect().center();
    QTest::mousePress(vp, Qt::LeftButton, {}, c - QPoint(60, 40));
    QTest::mouseMove(vp, c + QPoint(60, 40));
    QTest::mouseRelease(vp, Qt::LeftButton, {}, c + QPoint(60, 40));
    const AxisRange banded = v.axisRange(Qt::Horizontal);
    QVERIFY2(banded.hi - banded.lo < 0.5 * (before.hi - before.lo),
             qPrintable(QString("%1..%2 from %3..%4").arg(banded.lo).arg(banded.hi).arg(before.lo).arg(before.hi)));
    v.resetZoom();
    QWheelEvent wheel(QPointF(c), vp->mapToGlobal(QPointF(c)), {}, {0, 120}, Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
    QApplication::sendEvent(vp, &wheel);
    const AxisRange wheeled = v.axisRange(Qt::Horizontal);
    QVERIFY(std::fabs((wheeled.hi - wheeled.lo) * 1.25 - (before.hi - before.lo)) < 1e-6 * (before.hi - before.lo));
  }

  // Two runs at the same size and perplexity: one ring, one label naming both.
  void identicalPointsStack() {
    auto a = sample::quantRecord("gptq", 4, 1.3e6, 95, 4.2), b = sample::quantRecord("awq", 4, 1.3e6, 95, 4.2);
    TradeoffView v;
    v.setRecords({sample::fpRecord(4e6, 90), a, b});
    showAndWait(v);
    v.chartView()->viewport()->grab();  // paints the label layer
    PointLabelLayer* layer = nullptr;
    for (QGraphicsItem* item : v.qchart()->childItems())
      if (auto* l = dynamic_cast<PointLabelLayer*>(item)) layer = l;
    QVERIFY(layer);
    QStringList texts;
    for (const auto& [text, box] : layer->placed()) texts << text;
    QVERIFY2(texts.contains("×2: awq 4b, gptq 4b"), qPrintable(texts.join(" | ")));
    QVERIFY(texts.contains("fp"));
  }

  void renamedSeries() {
    TradeoffView v;
    v.setRecords(sample::demoSet());
    v.setSeriesName("gptq", "GPTQ");
    QCOMPARE(seriesByKey(v.qchart(), "gptq")->name(), QString("GPTQ"));
    QCOMPARE(v.dataTable().rows[2][1], QString("GPTQ"));
    v.setSeriesName("gptq", "");
    QCOMPARE(seriesByKey(v.qchart(), "gptq")->name(), QString("gptq"));
  }

  void linkedSelection() {
    ResultsBrowser results;
    for (const auto& r : sample::demoSet()) results.model()->upsert("/r/" + QString::fromStdString(r["run_id"]) + ".json", r);
    TradeoffView v;
    v.setRecords(results.filteredRecords());
    linkSelection(&v, &results);
    showAndWait(v);
    // Click the rtn w3 point: its row alone is selected.
    QPointF pos = v.chartView()->viewportPosition("rtn", 0);
    QTest::mouseClick(v.chartView()->viewport(), Qt::LeftButton, {}, pos.toPoint());
    auto selected = results.selectedRecords();
    QCOMPARE(int(selected.size()), 1);
    QCOMPARE(QString::fromStdString(selected[0]["run_id"]), QString("austen-tiny.rtn.w3g128"));
    QCOMPARE(v.highlightedRuns(), QStringList{"austen-tiny.rtn.w3g128"});
    auto* rings = qobject_cast<QScatterSeries*>(v.qchart()->series().last());
    QVERIFY(rings && rings->property(chart_prop::passive).toBool());
    QCOMPARE(rings->count(), 1);
    QCOMPARE(rings->at(0), QPointF(1.0, std::log10(120.0)));
    // Selecting rows in the table rings their points.
    results.table()->selectionModel()->clearSelection();
    results.selectRunId("austen-tiny.gptq.w4g128");
    results.selectRunId("austen-tiny.awq.w4g128");
    QCOMPARE(v.highlightedRuns().size(), 2);
    QCOMPARE(qobject_cast<QScatterSeries*>(v.qchart()->series().last())->count(), 2);
  }

  void kurtosisChart() {
    KurtosisView v;
    v.setRecords(sample::demoSet());
    QChart* c = v.qchart();
    auto* bars = qobject_cast<QBarSeries*>(c->series().value(0));
    QVERIFY(bars);
    QCOMPARE(bars->count(), 4);  // weights / activations, fp / transformed
    QCOMPARE(bars->barSets()[0]->at(0), 3.5);  // weights fp, q: (3 + 4) / 2
    QCOMPARE(axis(c, Qt::Vertical)->type(), QAbstractAxis::AxisTypeValue);  // linear by default
    auto* gauss = qobject_cast<QLineSeries*>(c->series().value(1));
    QVERIFY(gauss);
    QCOMPARE(gauss->at(0).y(), 3.0);
    QCOMPARE(gauss->at(1).y(), 3.0);
    QCOMPARE(seriesKey(gauss), QString("Gaussian (kurtosis 3)"));
    // Hiding a bar set keeps the other bars in place and the legend entry.
    Q_EMIT c->legend()->markers(bars).value(1)->clicked();
    QVERIFY(v.seriesHidden("weights, transformed"));
    QCOMPARE(c->legend()->markers(bars).size(), 4);
  }

  void barHoverShowsValue() {
    KurtosisView v;
    v.setRecords(sample::demoSet());
    showAndWait(v);
    QChart* c = v.qchart();
    auto* bars = qobject_cast<QBarSeries*>(c->series().value(0));
    // The middle of the first bar set's bar in category "down" (index 1): value (4 + 5) / 2 = 4.5.
    const double w = bars->barWidth(), n = 4;
    QPointF scene = c->mapToPosition(QPointF(1 - w / 2 + 0.5 * w / n, 2.0), bars);
    QPointF pos = v.chartView()->mapFromScene(scene);
    QString tip = v.chartView()->tooltipAt(pos);
    QVERIFY2(tip.contains("weights, fp") && tip.contains("layer type down: 4.5") && tip.contains("method: gptq"), qPrintable(tip));
  }

  void depthBarsChart() {
    LayerErrorView v;
    v.setRecords(sample::demoSet());
    auto* bars = qobject_cast<QBarSeries*>(v.qchart()->series().value(0));
    QVERIFY(bars);
    QCOMPARE(bars->barSets()[0]->count(), 2);
    QVERIFY(std::fabs(bars->barSets()[0]->at(0) - 0.175) < kTol);  // block 0: (0.1 + 0.25) / 2
    QCOMPARE(axis(v.qchart(), Qt::Horizontal)->titleText(), QString("block"));
  }

  void tokenChart() {
    TokenDistributionView v;
    v.setRecords(sample::demoSet());
    QChart* c = v.qchart();
    QCOMPARE(c->series().size(), 2);
    auto* calib = qobject_cast<QLineSeries*>(c->series()[0]);
    auto* test = qobject_cast<QScatterSeries*>(c->series()[1]);
    QVERIFY(calib && test);
    QCOMPARE(calib->count(), 3);  // the 0-frequency token has no place on the log axis
    QCOMPARE(test->count(), 4);
    QCOMPARE(test->at(3), QPointF(4, std::log10(0.4)));
    QVERIFY(isLogAxis(axis(c, Qt::Vertical)) && !isLogAxis(axis(c, Qt::Horizontal)));
    v.setLogFrequency(false);
    QCOMPARE(qobject_cast<QLineSeries*>(v.qchart()->series()[0])->count(), 4);
  }

  void compareRuns() {
    auto records = sample::demoSet();
    records[3]["layers"][3]["weight_rel_error"] = 0.9;  // gptq w4, block 1 down (else 0.45)
    CompareRunsView v;
    v.setRecords(records);
    QCOMPARE(v.runCount(), 4);  // the fp baseline has no layers
    QCOMPARE(int(v.grids().size()), 4);
    QCOMPARE(v.panelTitles()[2], QString("austen-tiny gptq w4g128"));
    // One colour scale over all panels: 0.1 (q, block 0) to 0.9.
    QVERIFY(std::fabs(v.scale().lo - 0.1) < kTol && std::fabs(v.scale().hi - 0.9) < kTol && !v.scale().diverging);
    v.setMode(CompareRunsView::Difference);
    v.selectPair(1, 2);  // A gptq w3, B gptq w4
    QCOMPARE(int(v.grids().size()), 1);
    QVERIFY(std::fabs(v.grids()[0].at(1, "down") - 0.45) < kTol);  // 0.9 - 0.45
    QVERIFY(std::fabs(v.grids()[0].at(0, "q")) < kTol);
    QVERIFY(v.scale().diverging && std::fabs(v.scale().lo + 0.45) < kTol && std::fabs(v.scale().hi - 0.45) < kTol);
    QVERIFY2(v.panelTitles()[0].contains("gptq w4g128 − austen-tiny gptq w3g128"), qPrintable(v.panelTitles()[0]));
    v.setRecords({records[1]});
    QVERIFY(!v.hasData() && v.noDataMessage().contains("two runs"));
  }

  void decimation() {
    std::vector<double> v(10000);
    for (int i = 0; i < 10000; ++i) v[i] = 1.0 / (i + 1);
    v[5000] = 7;  // a spike survives
    std::vector<int> keep = decimatedIndices(v, 400);
    QVERIFY(keep.size() <= 402);
    QCOMPARE(keep.front(), 0);
    QCOMPARE(keep.back(), 9999);
    QVERIFY(std::find(keep.begin(), keep.end(), 5000) != keep.end());
    QVERIFY(std::is_sorted(keep.begin(), keep.end()));
    QCOMPARE(int(decimatedIndices({1, 2, 3}, 400).size()), 3);
  }

  void labelsDoNotOverlap() {
    // Three points close together, one far, one in a corner: every placed label is inside the
    // plot and clear of the points and of each other.
    std::vector<QPointF> pts{{100, 100}, {110, 100}, {100, 110}, {300, 300}, {5, 5}};
    std::vector<QSizeF> sizes(5, QSizeF(60, 12));
    QRectF plot(0, 0, 400, 400);
    auto boxes = placeLabels(pts, sizes, plot, 3, 1);
    for (size_t i = 0; i < boxes.size(); ++i) {
      if (boxes[i].isNull()) continue;
      QVERIFY(plot.contains(boxes[i]));
      for (size_t j = 0; j < pts.size(); ++j) QVERIFY(!boxes[i].intersects(QRectF(pts[j] - QPointF(3, 3), QSizeF(6, 6))));
      for (size_t j = i + 1; j < boxes.size(); ++j) QVERIFY(boxes[j].isNull() || !boxes[i].intersects(boxes[j]));
    }
    QVERIFY(!boxes[0].isNull() && !boxes[3].isNull());
  }
};

QTEST_MAIN(TestCharts)
#include "test_charts.moc"
