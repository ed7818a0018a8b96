// Qt Test (offscreen): the column-wise error view (LLMC Fig. 5) and the per-token divergence view
// from the hand-made records of sample_records.h (withColumnError, withDivergence): the float16
// decoding, one line per run for the chosen layer with the run in legend and tooltip, the layer
// chooser, smoothing, the act-order note; the divergence text's cells and shading, the worst
// tokens with context, hover, the tables, and records without the analyses.
#include <QImage>
#include <QPainter>
#include <QtCharts/QLineSeries>
#include <QtTest>
#include <cmath>

#include "sample_records.h"
#include "views/analyses/column_error_view.h"
#include "views/analyses/divergence_view.h"
#include "views/analyses/view_catalog.h"
#include "views/charts/interactive_chart.h"
#include "views/charts/point_labels.h"

using namespace ptq::views;
using nlohmann::json;

namespace {

QLineSeries* lineByKey(QChart* c, const QString& key) {
  for (QAbstractSeries* s : c->series())
    if (seriesKey(s) == key) return qobject_cast<QLineSeries*>(s);
  return nullptr;
}

std::vector<json> columnRecords() {
  return {sample::withColumnError(sample::quantRecord("gptq", 3, 1e6, 100, 3.2), true, true),
          sample::withColumnError(sample::quantRecord("rtn", 3, 1e6, 120, 3.2), false), sample::fpRecord(4e6, 90)};
}

QStringList notesOf(QChart* c) {
  for (QGraphicsItem* item : c->childItems())
    if (auto* n = dynamic_cast<NotesLayer*>(item)) return n->lines();
  return {};
}

}  // namespace

class TestColumnDivergenceViews : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void float16Decoding() {
    QCOMPARE(decodeFloat16Base64("ADw="), std::vector<double>({1.0}));
    QCOMPARE(decodeFloat16Base64("ADwAwA=="), std::vector<double>({1.0, -2.0}));
    QVERIFY(decodeFloat16Base64("AD!w").empty());  // not base64
    QVERIFY(decodeFloat16Base64("AA==").empty());   // one byte: not a float16
    QCOMPARE(runningMean({1, 2, 3, 4}, 2), std::vector<double>({1.5, 2, 3, 3.5}));  // centred, shorter at the ends
    QCOMPARE(runningMean({1, 2, 3}, 1), std::vector<double>({1, 2, 3}));
  }

  void columnErrorSeriesPerRun() {
    ColumnErrorView v;
    v.setRecords(columnRecords());
    QVERIFY(v.hasData());
    QCOMPARE(v.layers(), QStringList({"layers.0.self_attn.q_proj", "layers.1.mlp.down_proj"}));
    QCOMPARE(v.currentLayer(), QString("layers.0.self_attn.q_proj"));
    QCOMPARE(int(v.series().size()), 2);  // the fp record has no column errors
    QChart* c = v.qchart();
    QCOMPARE(c->title(), QString("Column-wise weight error: layers.0.self_attn.q_proj"));
    const QString gptq = recordLabel(columnRecords()[0]), rtn = recordLabel(columnRecords()[1]);
    QLineSeries* g = lineByKey(c, gptq);
    QLineSeries* r = lineByKey(c, rtn);
    QVERIFY(g && r);
    QCOMPARE(g->name(), gptq);  // the run's name in the legend
    QCOMPARE(g->count(), 8);
    for (int j = 0; j < 8; ++j) {
      QCOMPARE(g->at(j).x(), double(j));
      QCOMPARE(g->at(j).y(), 0.0625 * (1 + j / 8.0));  // exact in float16
      QCOMPARE(r->at(j).y(), 0.0625);
    }
    QCOMPARE(c->axes(Qt::Horizontal).value(0)->titleText(), QString("input column j (the weight's column order)"));
    const QStringList notes = notesOf(c);
    QCOMPARE(notes.size(), 1);  // only the gptq record has act_order
    QVERIFY2(notes[0].contains(gptq) && notes[0].contains("act-order"), qPrintable(notes.join("|")));
    const TextTable t = v.dataTable();
    QCOMPARE(t.headers, QStringList({"layer", "column", gptq, rtn}));
    QCOMPARE(int(t.rows.size()), 8);
    QCOMPARE(t.rows[7][2], QString("0.11719"));
  }

  void columnErrorLayerChooserAndSmoothing() {
    ColumnErrorView v;
    v.setRecords(columnRecords());
    QVERIFY(v.selectLayer("layers.1.mlp.down_proj"));
    QCOMPARE(int(v.series().size()), 1);  // only gptq has it
    QCOMPARE(lineByKey(v.qchart(), recordLabel(columnRecords()[0]))->at(1).y(), 0.25);
    QVERIFY(!v.selectLayer("layers.9.nothing"));
    v.selectLayer("layers.0.self_attn.q_proj");
    v.setSmoothing(true);  // 8 columns: window max(2, 8/32) = 2
    QLineSeries* g = lineByKey(v.qchart(), recordLabel(columnRecords()[0]));
    QCOMPARE(g->at(0).y(), (0.0625 + 0.0703125) / 2);
    QVERIFY(v.qchart()->axes(Qt::Vertical).value(0)->titleText().contains("running mean"));
  }

  void columnErrorHoverNamesRunAndColumn() {
    ColumnErrorView v;
    v.setRecords(columnRecords());
    v.resize(900, 600);
    v.show();
    QVERIFY(QTest::qWaitForWindowExposed(&v));
    const QString gptq = recordLabel(columnRecords()[0]);
    const QString tip = v.chartView()->tooltipAt(v.chartView()->viewportPosition(gptq, 5));
    QVERIFY2(tip.contains("column 5: 0.1016") && tip.contains("method: gptq"), qPrintable(tip));
  }

  void columnErrorWithoutData() {
    ColumnErrorView v;
    v.setRecords({sample::fpRecord(4e6, 90), sample::quantRecord("rtn", 3, 1e6, 120, 3.2)});
    QVERIFY(!v.hasData());
    QVERIFY(v.noDataMessage().contains("\"column_error\""));
    json bad = sample::withColumnError(sample::quantRecord("rtn", 3, 1e6, 120, 3.2), false);
    bad["analyses"]["column_error"]["layers"]["layers.0.self_attn.q_proj"]["values"] = "AA==";
    v.setRecords({bad});
    QVERIFY(v.noDataMessage().contains("no selected run has column errors"));
  }

  void divergenceData() {
    const DivergenceData d = ptq::views::divergenceData(sample::withDivergence(sample::quantRecord("gptq", 4, 1e6, 95, 4.2)));
    QCOMPARE(int(d.tokens.size()), 9);
    QVERIFY(std::isnan(d.tokens[0].kl));
    QCOMPARE(d.tokens[4].text, QString(" universally"));
    QCOMPARE(d.klMax, 1.2);
    QCOMPARE(d.text, QString("austen-test.txt"));
    QCOMPARE(worstTokens(d, 3), std::vector<int>({4, 8, 3}));
    QCOMPARE(tokenContext(d, 4, 2, 2), QString("… a truth[ universally] acknowledged,…"));
    QCOMPARE(tokenContext(d, 8), QString("It is a truth universally acknowledged,↵[that]"));
    const TextTable t = worstTokenTable(d, 2);
    QCOMPARE(t.headers.size(), 6);
    QCOMPARE(t.rows[0], QStringList({"1", "4", " universally", "1.2", "-0.6", tokenContext(d, 4)}));
    QCOMPARE(t.rows[1][2], QString("that"));
    json bad = sample::withDivergence(sample::quantRecord("gptq", 4, 1e6, 95, 4.2));
    bad["analyses"]["divergence"]["kl"].erase(0);  // 8 KLs for 9 ids
    QVERIFY(ptq::views::divergenceData(bad).empty());
  }

  void divergenceCellsShadingAndHover() {
    DivergenceView v;
    v.setRecords(sample::demoSet());
    QCOMPARE(v.runCount(), 1);
    QVERIFY(v.hasData());
    v.resize(900, 600);
    v.show();
    QVERIFY(QTest::qWaitForWindowExposed(&v));
    auto* canvas = v.findChild<QWidget*>("canvas");
    const auto cells = v.layout(QRectF(canvas->rect()));
    QCOMPARE(int(cells.size()), 9);  // all fit
    QVERIFY(cells[8].rect.top() > cells[7].rect.top());  // "that" on the line after the newline
    QCOMPARE(divergenceShade(1.2, 1.2), QColor(200, 30, 30));
    QCOMPARE(divergenceShade(0.0, 1.2), QColor(255, 255, 255));
    QCOMPARE(divergenceShade(NAN, 1.2), QColor(Qt::transparent));
    // The painted figure has the worst token's colour where its cell is.
    QImage img(canvas->size(), QImage::Format_ARGB32);
    img.setDotsPerMeterX(int(std::lround(canvas->logicalDpiX() / 0.0254)));
    img.setDotsPerMeterY(int(std::lround(canvas->logicalDpiY() / 0.0254)));
    {
      QPainter p(&img);
      v.exportPaint(p, QRectF(canvas->rect()));
    }
    const QPoint corner = cells[4].rect.topLeft().toPoint() + QPoint(1, 1);
    QCOMPARE(QColor(img.pixel(corner)), QColor(200, 30, 30));
    const QString tip = v.hoverText(cells[4].rect.center());
    QVERIFY2(tip.contains("\" universally\"") && tip.contains("KL(p_fp‖p_q) = 1.2") && tip.contains("-0.6"), qPrintable(tip));
    QVERIFY(v.hoverText(cells[0].rect.center()).contains("predicted by nothing"));
    QCOMPARE(int(v.dataTable().rows.size()), 8);  // the 8 predicted tokens (fewer than kWorstShown)
  }

  void divergenceWithoutData() {
    DivergenceView v;
    v.setRecords({sample::quantRecord("rtn", 3, 1e6, 120, 3.2)});
    QVERIFY(!v.hasData());
    QVERIFY(v.noDataMessage().contains("\"divergence\""));
  }

  void inTheCatalog() {
    for (const char* id : {"column_error", "divergence"}) {
      const ViewEntry* e = findView(id);
      QVERIFY(e);
      std::unique_ptr<AnalysisView> v(e->make(nullptr));
      QCOMPARE(v->viewId(), QString(id));
    }
  }
};

QTEST_MAIN(TestColumnDivergenceViews)
#include "test_column_divergence_views.moc"
