// The kurtosis view's W-A modes (views/analyses/kurtosis_inputs.h) from hand-made records: LLMC's
// Figure 3 (activation kurtosis by layer input, before / after the transform) and the outlier
// channels of one layer (per-channel max|x| by rank, the channel indexes in the data table).
#include <QComboBox>
#include <QtTest>
#include <cmath>

#include "sample_records.h"
#include "views/analyses/kurtosis_inputs.h"
#include "views/analyses/kurtosis_view.h"

using namespace ptq::views;
using nlohmann::json;

namespace {

const std::vector<std::pair<std::string, std::string>> kLayers = {
    {"self_attn.q_proj", "q"}, {"self_attn.k_proj", "k"}, {"self_attn.v_proj", "v"}, {"self_attn.o_proj", "o"},
    {"mlp.gate_proj", "gate"}, {"mlp.up_proj", "up"},     {"mlp.down_proj", "down"}};

// Blocks 0-1. Activation kurtosis: q/k/v 100 + 10·block, o 20, gate/up 50 + block, down 400 + 100·block,
// all divided by `shrink` (the transform). channel_absmax: top channels (7 + rank, m / (rank + 1)) with
// m = 60 + block for down_proj and 6 elsewhere, median 1; after the transform m / shrink and the
// channels shifted by 100.
json stage(double shrink, int64_t channelShift) {
  json layers = json::array();
  for (int b = 0; b < 2; ++b)
    for (const auto& [name, type] : kLayers) {
      double a = type == "o" ? 20 : type == "down" ? 400 + 100 * b : (type == "gate" || type == "up") ? 50 + b : 100 + 10 * b;
      const double m = (type == "down" ? 60.0 + b : 6.0) / shrink;
      json top = json::array();
      for (int r = 0; r < 3; ++r) top.push_back({7 + r + channelShift, m / (r + 1)});
      layers.push_back({{"name", "layers." + std::to_string(b) + "." + name}, {"type", type}, {"block", b},
                        {"weight", 3.0}, {"weight_channel_mean", 3.0}, {"activation", a / shrink},
                        {"channel_absmax", {{"max", m}, {"median", 1.0}, {"top", top}}}});
    }
  return {{"definition", "pearson"}, {"calib_tokens", 4096}, {"layers", layers}};
}

json waRecord() {
  json r = sample::quantRecord("smoothquant+rtn", 8, 1e6, 20, 8);
  r["quant"]["act_bits"] = 8;
  r["analyses"]["kurtosis"] = {{"fp", stage(1.0, 0)}, {"transformed", stage(4.0, 100)}};
  return r;
}

bool near(double a, double b) { return std::fabs(a - b) < 1e-9 * std::max(1.0, std::fabs(b)); }

}  // namespace

class TestKurtosisInputs : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void inputGroupsCoverEveryType() {
    QCOMPARE(inputGroupOf("k"), QString("q/k/v input"));
    QCOMPARE(inputGroupOf("qkv"), QString("q/k/v input"));
    QCOMPARE(inputGroupOf("o"), QString("o input"));
    QCOMPARE(inputGroupOf("expert_up"), QString("gate/up input"));
    QCOMPARE(inputGroupOf("router"), QString("gate/up input"));
    QCOMPARE(inputGroupOf("expert_down"), QString("down input"));
    QVERIFY(inputGroupOf("lm_head").isEmpty());
    QCOMPARE(transformName(waRecord()), QString("smoothquant"));
  }

  void figure3BeforeAndAfter() {
    KurtosisView v;
    v.setRecords({waRecord()});
    v.setMode(KurtosisView::InputsByType);
    QVERIFY(v.hasData());
    const BarChart& c = v.chart();
    QCOMPARE(c.categories, (QStringList{"q/k/v input", "o input", "gate/up input", "down input"}));
    QCOMPARE(int(c.series.size()), 2);
    QCOMPARE(c.series[1].name, QString("after smoothquant"));
    QVERIFY(near(c.value("before (fp)", "q/k/v input"), 105));  // (100 + 110) / 2 over q, k, v
    QVERIFY(near(c.value("before (fp)", "gate/up input"), 50.5));
    QVERIFY(near(c.value("before (fp)", "down input"), 450));
    QVERIFY(near(c.value("after smoothquant", "down input"), 112.5));
    QCOMPARE(c.barCount(), 8);
    QCOMPARE(int(v.dataTable().rows.size()), 4);
    // Without a transform: the fp bars alone.
    json fpOnly = waRecord();
    fpOnly["analyses"]["kurtosis"].erase("transformed");
    v.setRecords({fpOnly});
    QCOMPARE(int(v.chart().series.size()), 1);
  }

  void outlierChannelsOfALayer() {
    KurtosisView v;
    v.setRecords({waRecord()});
    v.setMode(KurtosisView::OutlierChannels);
    // The most outlying layer first: block 1's down_proj (max / median 61).
    QCOMPARE(v.findChild<QComboBox*>("layer")->currentText(), QString("layers.1.mlp.down_proj"));
    QCOMPARE(v.chart().categories, (QStringList{"#1", "#2", "#3", "median"}));
    QVERIFY(near(v.chart().value("before (fp)", "#1"), 61));
    QVERIFY(near(v.chart().value("after smoothquant", "#2"), 61.0 / 4 / 2));
    QVERIFY(near(v.chart().value("before (fp)", "median"), 1));
    QVERIFY(v.selectLayer("layers.0.self_attn.q_proj"));
    QVERIFY(near(v.chart().value("before (fp)", "#1"), 6));
    QVERIFY(!v.selectLayer("layers.9.mlp.down_proj"));
    const TextTable t = v.dataTable();  // the channel indexes, which the transform changed
    QCOMPARE(t.headers, (QStringList{"rank", "fp channel", "fp max|x|", "smoothquant channel", "smoothquant max|x|"}));
    QCOMPARE(int(t.rows.size()), 3);
    QCOMPARE(t.rows[0][1], QString("7"));
    QCOMPARE(t.rows[0][3], QString("107"));
    // Records written before channel_absmax existed say what is missing.
    v.setRecords({sample::withKurtosis(sample::quantRecord("awq", 4, 1e6, 90, 4))});
    v.setMode(KurtosisView::OutlierChannels);
    QVERIFY(!v.hasData());
    QVERIFY(v.noDataMessage().contains("channel_absmax"));
    v.setMode(KurtosisView::AllLayers);
    QVERIFY(v.hasData());
  }
};

QTEST_MAIN(TestKurtosisInputs)
#include "test_kurtosis_inputs.moc"
