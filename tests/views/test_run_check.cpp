// Qt Test: the experiment form before anything is queued (views/panels/run_check.h): the run
// checked against the chosen model's summary (the pipeline's own plan check) and its files, the
// cost hint (calibration and evaluation tokens through the blocks, the time scaled from the most
// similar earlier record), and starting settings a CPU finishes quickly.
#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QtTest>

#include "core/runtime/errors.h"
#include "eval/experiment/experiment_spec.h"
#include "quant/strategy_registry.h"
#include "views/panels/run_check.h"
#include "views/panels/strategy_panel.h"
#include "tests/views/panel_helpers.h"

using nlohmann::json;
using ptq::views::StrategyPanel;
using ptq::views::test::child;
using ptq::views::test::compose;

namespace {
const QString kModel = PTQ_SHARED_DIR "/models/austen-tiny";
const QString kCalib = PTQ_SHARED_DIR "/corpus/austen-valid.txt";
const QString kEval = PTQ_SHARED_DIR "/corpus/austen-test.txt";

// A checkpoint summary as the engine's reader gives it: one block, q_proj 64 wide, down_proj 96
// wide (group 64 fits q and not down; 32 fits both).
ptq::ModelSummary fakeSummary(const std::string& dir) {
  if (dir != kModel.toStdString()) throw ptq::Error("checkpoint folder '" + dir + "' does not exist");
  ptq::ModelSummary m;
  m.dir = dir;
  m.config.num_layers = 1;
  m.tokenizer = dir + "/tokenizer.json";
  m.linears = {{"layers.0.self_attn.q_proj", "q", 64, 64, false}, {"layers.0.mlp.down_proj", "down", 64, 96, false}};
  return m;
}
}  // namespace

class TestRunCheck : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  // Before queueing, the run is checked against the chosen model (the pipeline's own plan check on
  // the checkpoint summary) and its files; Run stays disabled while it does not fit.
  void validationAgainstTheChosenModel() {
    StrategyPanel p;
    auto* run = child<QPushButton>(p, "run");
    compose(p, "rtn", {});
    p.setModel(kModel);
    child<QComboBox>(p, "group")->setCurrentText("64");
    QCOMPARE(p.validationError(), QString());  // no reader: the spec alone
    p.setCheckpointReader(fakeSummary);
    QVERIFY2(p.validationError().contains("layers.0.mlp.down_proj: group_size 64 does not divide in_features 96"),
             qPrintable(p.validationError()));
    QVERIFY(!run->isEnabled());
    QCOMPARE(child<QLabel>(p, "specError")->text(), p.validationError());
    child<QComboBox>(p, "group")->setCurrentText("32");
    QCOMPARE(p.validationError(), QString());
    QVERIFY(run->isEnabled());
    child<QLineEdit>(p, "overrides")->setText(R"([{"pattern": "*.o_proj", "bits": 8}])");
    QVERIFY2(p.validationError().contains("'*.o_proj' matches no linear layer"), qPrintable(p.validationError()));
    child<QLineEdit>(p, "overrides")->setText(R"([{"pattern": "*.down_proj", "group": 64}])");
    QVERIFY(p.validationError().contains("down_proj: group_size 64"));
    child<QLineEdit>(p, "overrides")->clear();
    // Files that do not exist are named.
    compose(p, "gptq", {});
    child<QLineEdit>(p, "calibFiles")->setText("/nowhere/calib.txt");
    QVERIFY2(p.validationError().contains("calibration text '/nowhere/calib.txt' does not exist"), qPrintable(p.validationError()));
    child<QLineEdit>(p, "calibFiles")->setText(kCalib);
    QCOMPARE(p.validationError(), QString());
    p.setModel("/nowhere/model");
    QVERIFY(p.validationError().contains("does not exist"));
    QVERIFY(!run->isEnabled());
  }

  // The cost hint: calibration tokens through the blocks, evaluation tokens (the tokenizer's
  // count of the eval text), and the time scaled from the most similar earlier run.
  void costHintBeforeRunning() {
    StrategyPanel p;
    p.setCheckpointReader(fakeSummary);
    compose(p, "gptq", {});
    p.setModel(kModel);
    child<QComboBox>(p, "group")->setCurrentText("32");
    child<QLineEdit>(p, "calibFiles")->setText(kCalib);
    child<QSpinBox>(p, "nsamples")->setValue(32);
    child<QSpinBox>(p, "calibSeqlen")->setValue(128);
    child<QSpinBox>(p, "evalSeqlen")->setValue(128);
    child<QSpinBox>(p, "evalMaxWindows")->setValue(4);
    child<QLineEdit>(p, "evalText")->setText(kEval);
    QCOMPARE(p.validationError(), QString());
    QVERIFY2(p.costHint().contains("calibration 32 × 128 = 4.1 k tokens through 1 blocks (2 layers)"), qPrintable(p.costHint()));
    QVERIFY2(p.costHint().contains("evaluation 512 tokens"), qPrintable(p.costHint()));  // 4 windows × 128
    QVERIFY(p.costHint().contains("no earlier run of this model"));
    // An earlier gptq run of this model: load 1 s, quantize 10 s on 2048 calibration tokens, 4 s
    // more on 1000 eval tokens. Now: 1 + 10 · 4096/2048 + 4 · 512/1000 = 23.048 s.
    json earlier = {{"status", "complete"}, {"run_id", "austen-tiny.gptq.w4g32.x"}, {"created_at", "2026-11-30T10:00:00Z"},
                    {"spec", {{"model", kModel.toStdString()}, {"method", "gptq"}}},
                    {"calibration", {{"tokens", 2048}}},
                    {"metrics", {{"eval", {{"tokens", 1000}}}, {"seconds", {{"load", 1.0}, {"quantize", 10.0}, {"total", 15.0}}}}}};
    json otherModel = earlier;
    otherModel["spec"]["model"] = "/elsewhere/big-model";
    otherModel["metrics"]["seconds"]["total"] = 900.0;
    p.setTimingRecords({otherModel, earlier});
    QVERIFY2(p.costHint().contains("about 23 s, scaled from austen-tiny.gptq (15 s, same model and method)"), qPrintable(p.costHint()));
    const auto e = ptq::views::estimateCost(ptq::ExperimentSpec::from_json(p.spec()), nullptr, {earlier});
    QVERIFY(e.evalTokens < 0);  // without the model's tokenizer the eval part is not scaled
    QCOMPARE(e.seconds, 1.0 + 10.0 * 4096 / 2048 + 4.0);
  }

  // The form starts from settings a CPU finishes quickly, not the papers' 128 × 2048.
  void defaultsSuitTheMachine() {
    StrategyPanel p;
    QCOMPARE(child<QSpinBox>(p, "nsamples")->value(), 32);
    QCOMPARE(child<QSpinBox>(p, "calibSeqlen")->value(), 512);
    QCOMPARE(child<QSpinBox>(p, "evalSeqlen")->value(), 512);
    QCOMPARE(child<QSpinBox>(p, "evalMaxWindows")->value(), 40);
    // A run without calibration (the demo's RTN) keeps these sizes for the analyses that read the
    // calibration text, instead of the engine's 128 × 2048 (a 15-minute CPU job on the demo model).
    child<QSpinBox>(p, "nsamples")->setValue(128);
    child<QSpinBox>(p, "calibSeqlen")->setValue(2048);
    QVERIFY(p.setSpec({{"model", kModel.toStdString()}, {"method", "rtn"}, {"bits", 3}, {"group", 128}}));
    QCOMPARE(child<QSpinBox>(p, "nsamples")->value(), 32);
    QCOMPARE(child<QSpinBox>(p, "calibSeqlen")->value(), 512);
  }

};

QTEST_MAIN(TestRunCheck)
#include "test_run_check.moc"
