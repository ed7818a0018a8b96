// Qt Test (offscreen): the Samples view from hand-written records in the samples contract's shape
// (views/analyses/samples_data.h): prompts matched across runs, the full-precision column and each
// run's, the first diverging token framed in both, the probability shading, the CSV / LaTeX rows,
// and records without samples. PTQ_SCREENSHOT_DIR=dir saves a grab as dir/samples.png.
#include <QImage>
#include <QListWidget>
#include <QPainter>
#include <QtTest>
#include <cmath>

#include "sample_records.h"
#include "views/analyses/samples_view.h"
#include "views/analyses/view_catalog.h"
#include "views/export/table_export.h"

using namespace ptq::views;
using nlohmann::json;

namespace {

json continuation(const std::vector<std::string>& tokens, const std::vector<double>& probs) {
  std::string text;
  json ids = json::array();
  for (size_t i = 0; i < tokens.size(); ++i) text += tokens[i], ids.push_back(int(100 + i));
  return {{"text", text}, {"tokens", tokens}, {"ids", ids}, {"probs", probs}};
}

const std::vector<std::string> kFpTokens = {" a", " single", " man", " in", " possession", " of", " a", " good", " fortune"};
const std::vector<double> kFpProbs = {0.9, 0.8, 0.95, 0.7, 0.6, 0.99, 0.85, 0.5, 0.75};

// RTN w3 departs at token 2 (" woman"); GPTQ w4 is identical on the first prompt and departs at 0
// on the second.
json withSamples(json r, bool w3) {
  json q1 = w3 ? continuation({" a", " single", " woman", " of", " the", " world"}, {0.9, 0.7, 0.2, 0.4, 0.5, 0.3})
               : continuation(kFpTokens, kFpProbs);
  json p1 = {{"prompt", "It is a truth universally acknowledged, that"}, {"fp", continuation(kFpTokens, kFpProbs)},
             {"quantized", q1}, {"first_divergence", w3 ? json(2) : json(nullptr)}};
  json fp2 = continuation({" Walter", " Elliot", ",", "\n", "of"}, {0.6, 0.9, 0.4, 0.3, 0.2});
  json q2 = continuation({" William", " Elliot"}, {0.3, 0.8});
  json p2 = {{"prompt", "Sir"}, {"fp", fp2}, {"quantized", q2}, {"first_divergence", 0}};
  r["samples"] = {{"max_new_tokens", 9}, {"sampling", {{"greedy", true}}}, {"prompts", json::array({p1, p2})}};
  return r;
}

std::vector<json> records() {
  return {withSamples(sample::quantRecord("rtn", 3, 1e6, 120, 3.2), true), sample::fpRecord(4e6, 96),
          withSamples(sample::quantRecord("gptq", 4, 1.2e6, 100, 4.2), false)};
}

}  // namespace

class TestSamplesView : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void collectsPromptsAndRuns() {
    const SamplesData d = collectSamples(records());
    QCOMPARE(d.runs.size(), 2);  // the fp record has no samples
    QCOMPARE(int(d.prompts.size()), 2);
    QCOMPARE(d.maxNewTokens, 9);
    const SamplePrompt& p = d.prompts[0];
    QCOMPARE(p.fp.tokens.size(), 9);
    QCOMPARE(p.fp.text, QString(" a single man in possession of a good fortune"));
    QCOMPARE(int(p.runs.size()), 2);
    QCOMPARE(p.of(0)->firstDivergence, 2);
    QCOMPARE(p.of(1)->firstDivergence, -1);
    QVERIFY(std::abs(p.of(0)->text.meanProb() - 0.5) < 1e-12);  // (0.9+0.7+0.2+0.4+0.5+0.3)/6
    QVERIFY(d.runs[0].contains("rtn") && d.runs[1].contains("gptq"));
  }

  void malformedEntriesAreSkipped() {
    json r = withSamples(sample::quantRecord("rtn", 3, 1e6, 120, 3.2), true);
    r["samples"]["prompts"][0]["quantized"]["probs"] = {0.5};  // 6 tokens, 1 probability
    r["samples"]["prompts"][1].erase("prompt");
    SamplesView v;
    v.setRecords({r});
    QVERIFY(!v.hasData());
    QVERIFY(v.noDataMessage().contains("no record has samples"));
    QVERIFY(collectSamples({sample::fpRecord(4e6, 96)}).empty());
  }

  void tableRowsAndExport() {
    SamplesView v;
    v.setRecords(records());
    const TextTable t = v.dataTable();
    QCOMPARE(t.headers, QStringList({"prompt", "run", "continuation", "tokens", "first divergence", "diverging token", "mean p", "min p"}));
    QCOMPARE(int(t.rows.size()), 6);  // 2 prompts x (fp + 2 runs)
    QCOMPARE(t.rows[0][1], QString("full precision"));
    QCOMPARE(t.rows[0][6], QString("0.782"));  // mean of kFpProbs = 7.04 / 9
    QCOMPARE(t.rows[1][4], QString("2"));
    QCOMPARE(t.rows[1][5], QString(" woman"));
    QCOMPARE(t.rows[1][7], QString("0.200"));
    QCOMPARE(t.rows[2][4], QString());  // identical to full precision
    QCOMPARE(t.rows[3][2], QString(" Walter Elliot,\nof"));
    v.setRunShown(1, false);
    QCOMPARE(int(v.dataTable().rows.size()), 4);
    const QString csv = toCsv(v.dataTable());
    QVERIFY(csv.startsWith("prompt,run,continuation,tokens,first divergence,diverging token,mean p,min p\n"));
    // Fields with a comma or leading space are quoted (RFC 4180, table_export.h).
    QVERIFY(csv.contains("\"It is a truth universally acknowledged, that\"," + v.data().runs[0] +
                         ",\" a single woman of the world\",6,2,\" woman\",0.500,0.200\n"));
    QVERIFY(toLatex(v.dataTable()).contains("\\toprule"));
  }

  void divergenceFramedAndShaded() {
    SamplesView v;
    v.resize(960, 520);
    v.setRecords(records());
    const QRectF area(0, 0, 900, 480);
    auto cells = v.layout(area);
    // Three columns: fp (9 tokens), rtn (6), gptq (9); token 2 framed in fp and rtn only.
    int perColumn[3] = {0, 0, 0};
    for (const auto& c : cells) {
      ++perColumn[c.column];
      QCOMPARE(c.diverges, c.token == 2 && c.column < 2);
    }
    QCOMPARE(perColumn[0], 9);
    QCOMPARE(perColumn[1], 6);
    QCOMPARE(perColumn[2], 9);
    for (const auto& c : cells) QVERIFY(area.contains(c.rect));
    QCOMPARE(sampleShade(1.0).alpha(), 0);
    QCOMPARE(sampleShade(0.0).alpha(), 210);
    QVERIFY(sampleShade(0.2).alpha() > sampleShade(0.7).alpha());
    QCOMPARE(sampleShade(std::nan("")).alpha(), 0);
    // The painted figure has the red frame's colour where the cell's border is.
    QImage img(900, 480, QImage::Format_ARGB32);
    img.setDotsPerMeterX(int(std::lround(v.logicalDpiX() / 0.0254)));  // the resolution layout() measures at
    img.setDotsPerMeterY(int(std::lround(v.logicalDpiY() / 0.0254)));
    img.fill(Qt::white);
    {
      QPainter p(&img);
      v.exportPaint(p, area);
    }
    const SampleCell* framed = nullptr;
    for (const auto& c : cells)
      if (c.diverges && c.column == 1) framed = &c;
    QVERIFY(framed);
    const QColor edge = img.pixelColor(framed->rect.center().toPoint().x(), int(framed->rect.top()));
    QVERIFY2(edge.red() > 150 && edge.green() < 90, qPrintable(edge.name()));
    // Second prompt: the newline token breaks the line, the runs both depart at 0.
    v.selectPrompt(1);
    cells = v.layout(area);
    int framedCount = 0;
    double yBefore = 0, yAfter = 0;
    for (const auto& c : cells) {
      framedCount += c.diverges;
      if (c.column == 0 && c.token == 2) yBefore = c.rect.top();
      if (c.column == 0 && c.token == 4) yAfter = c.rect.top();
    }
    QCOMPARE(framedCount, 3);  // token 0 of fp, rtn and gptq
    QVERIFY(yAfter > yBefore);
    if (qEnvironmentVariableIsSet("PTQ_SCREENSHOT_DIR")) {
      v.selectPrompt(0);
      v.show();
      QVERIFY(v.grab().save(qEnvironmentVariable("PTQ_SCREENSHOT_DIR") + "/samples.png"));
    }
  }

  void inTheCatalog() {
    const ViewEntry* e = findView("samples");
    QVERIFY(e);
    std::unique_ptr<AnalysisView> v(e->make(nullptr));
    QCOMPARE(v->viewId(), QString("samples"));
  }
};

QTEST_MAIN(TestSamplesView)
#include "test_samples_view.moc"
