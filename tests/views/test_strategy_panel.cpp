// Qt Test: the strategy panel is generated from the strategy registry (an editor per schema
// parameter with its range, default and help) and produces the ExperimentSpec JSON the engine
// parses; the sweep builder produces the sweep spec JSON of eval/sweep.h and counts its runs.
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QGroupBox>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QtTest>

#include "core/records/json_util.h"
#include "eval/experiment/experiment_spec.h"
#include "eval/experiment/sweep.h"
#include "quant/strategy_registry.h"
#include "views/jobs/job_worker.h"
#include "views/panels/strategy_panel.h"
#include "tests/views/panel_helpers.h"
#include "views/panels/sweep_builder.h"

using nlohmann::json;
using ptq::views::StrategyPanel;
using ptq::views::test::child;
using ptq::views::test::compose;
using ptq::views::SweepBuilder;

namespace {
const QString kModel = PTQ_SHARED_DIR "/models/austen-tiny";
const QString kCalib = PTQ_SHARED_DIR "/corpus/austen-valid.txt";
const QString kEval = PTQ_SHARED_DIR "/corpus/austen-test.txt";
}  // namespace

class TestStrategyPanel : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void editorPerSchemaParameter_data() {
    QTest::addColumn<QString>("stage");
    QTest::addColumn<QString>("param");
    int n = 0;
    for (const auto& s : ptq::strategy_registry())
      for (const auto& p : s.params) {
        QTest::newRow((s.id + "." + p.name).c_str()) << QString::fromStdString(s.id) << QString::fromStdString(p.name);
        ++n;
      }
    QVERIFY(n >= 15);  // gptq 5, awq 5, rotate 3, omniquant 3
  }
  void editorPerSchemaParameter() {
    QFETCH(QString, stage);
    QFETCH(QString, param);
    const ptq::ParamSpec* spec = nullptr;
    for (const auto& p : ptq::find_strategy(stage.toStdString()).params)
      if (p.name == param.toStdString()) spec = &p;
    QVERIFY(spec);
    StrategyPanel panel;
    QWidget* e = panel.findChild<QWidget*>("param." + stage + "." + param);
    QVERIFY(e);
    QVERIFY(e->toolTip().contains(QString::fromStdString(spec->help)));
    if (spec->type == "int") {
      auto* s = qobject_cast<QSpinBox*>(e);
      QVERIFY(s);
      QCOMPARE(s->minimum(), int(spec->min));
      QCOMPARE(s->maximum(), int(spec->max));
      QCOMPARE(s->value(), spec->default_value.get<int>());
    } else if (spec->type == "float") {
      auto* s = qobject_cast<QDoubleSpinBox*>(e);
      QVERIFY(s);
      QCOMPARE(s->minimum(), spec->min);
      QCOMPARE(s->maximum(), spec->max);
      QVERIFY(std::abs(s->value() - spec->default_value.get<double>()) < 1e-12);
    } else if (spec->type == "bool") {
      auto* c = qobject_cast<QCheckBox*>(e);
      QVERIFY(c);
      QCOMPARE(c->isChecked(), spec->default_value.get<bool>());
    } else {
      auto* c = qobject_cast<QComboBox*>(e);
      QVERIFY(c);
      QCOMPARE(c->count(), int(spec->choices.size()));
      QCOMPARE(c->currentText().toStdString(), spec->default_value.get<std::string>());
    }
  }

  void methodComposition_data() {
    QTest::addColumn<QString>("quantizer");
    QTest::addColumn<QStringList>("transforms");
    QTest::addColumn<QString>("method");
    QTest::addColumn<QStringList>("visibleParams");
    QTest::newRow("fp") << "fp" << QStringList{"rotate"} << "fp" << QStringList{};
    QTest::newRow("rtn") << "rtn" << QStringList{} << "rtn" << QStringList{};
    QTest::newRow("gptq") << "gptq" << QStringList{} << "gptq" << QStringList{"gptq"};
    QTest::newRow("rotate+gptq") << "gptq" << QStringList{"rotate"} << "rotate+gptq" << QStringList{"rotate", "gptq"};
    QTest::newRow("awq+gptq") << "gptq" << QStringList{"awq"} << "awq+gptq" << QStringList{"awq", "gptq"};
    QTest::newRow("rotate+awq+omniquant") << "omniquant" << QStringList{"awq", "rotate"} << "rotate+awq+omniquant"
                                          << QStringList{"rotate", "awq", "omniquant"};
    // QuIP: a layer transform around gptq / rtn, or alone with its own LDLQ rounding.
    QTest::newRow("quip+gptq") << "gptq" << QStringList{"quip"} << "quip+gptq" << QStringList{"quip", "gptq"};
    QTest::newRow("quip alone") << "quip" << QStringList{} << "quip" << QStringList{"quip"};
    QTest::newRow("quip alone, its box ticked") << "quip" << QStringList{"quip"} << "quip" << QStringList{"quip"};
  }
  void methodComposition() {
    QFETCH(QString, quantizer);
    QFETCH(QStringList, transforms);
    QFETCH(QString, method);
    QFETCH(QStringList, visibleParams);
    StrategyPanel panel;
    panel.show();
    compose(panel, quantizer, transforms);
    QCOMPARE(panel.method(), method);
    for (const auto& s : ptq::strategy_registry()) {
      auto* box = child<QGroupBox>(panel, QString::fromStdString("params." + s.id));
      QCOMPARE(box->isVisible(), visibleParams.contains(QString::fromStdString(s.id)));
    }
    QCOMPARE(child<QSpinBox>(panel, "bits")->isEnabled(), method != "fp");
    // And back: a spec with this method sets the same composition in a fresh panel.
    panel.setModel(kModel);
    child<QLineEdit>(panel, "calibFiles")->setText(kCalib);
    StrategyPanel again;
    QString error;
    QVERIFY2(again.setSpec(panel.spec(), &error), qPrintable(error));
    QCOMPARE(again.method(), method);
  }

  // sym_style and the activation quantizer's keys (ptq::plan_param_schema) get editors too and
  // reach the spec (a W4A8 GPTQ run with FP8 activations), and load back.
  void activationSettingsFromTheForm() {
    StrategyPanel panel;
    panel.setModel(kModel);
    compose(panel, "gptq", {});
    for (const auto& p : ptq::plan_param_schema()) QVERIFY(panel.findChild<QWidget*>(QString::fromStdString("plan." + p.name)));
    child<QLineEdit>(panel, "calibFiles")->setText(kCalib);
    child<QSpinBox>(panel, "plan.act_bits")->setValue(8);
    child<QComboBox>(panel, "plan.act_format")->setCurrentText("fp8_e4m3");
    QCOMPARE(panel.validationError(), QString());
    json s = panel.spec();
    QCOMPARE(s["act_bits"], json(8));
    QCOMPARE(s["act_format"], json("fp8_e4m3"));
    QVERIFY(QString::fromStdString(ptq::ExperimentSpec::from_json(s).run_id()).contains(".w4a8g128."));
    StrategyPanel again;
    QString err;
    QVERIFY2(again.setSpec(s, &err), qPrintable(err));
    QCOMPARE(child<QSpinBox>(again, "plan.act_bits")->value(), 8);
    QCOMPARE(again.spec(), s);
    child<QSpinBox>(panel, "plan.act_bits")->setValue(4);  // 4 bits are not an FP8 format
    QVERIFY(panel.validationError().contains("act_bits must be 8 for act_format fp8_e4m3"));
  }

  void kvCacheSettingsFromTheForm() {  // the kv_* keys: editors from plan_param_schema, spec round trip
    StrategyPanel panel;
    panel.setModel(kModel);
    compose(panel, "rtn", {});
    child<QSpinBox>(panel, "plan.kv_bits")->setValue(4);
    child<QComboBox>(panel, "plan.kv_granularity")->setCurrentText("channel");
    child<QSpinBox>(panel, "plan.kv_group")->setValue(32);
    child<QSpinBox>(panel, "plan.kv_residual")->setValue(64);
    QCOMPARE(panel.validationError(), QString());
    json s = panel.spec();
    QCOMPARE(s["kv_bits"], json(4));
    QCOMPARE(s["kv_granularity"], json("channel"));
    QCOMPARE(s["kv_residual"], json(64));
    QVERIFY(QString::fromStdString(ptq::ExperimentSpec::from_json(s).run_id()).contains(".kv4"));
    StrategyPanel again;
    QString err;
    QVERIFY2(again.setSpec(s, &err), qPrintable(err));
    QCOMPARE(child<QSpinBox>(again, "plan.kv_group")->value(), 32);
    QCOMPARE(again.spec(), s);
    child<QSpinBox>(panel, "plan.kv_group")->setValue(0);  // per-channel K needs its token groups
    QVERIFY(panel.validationError().contains("kv_group"));
  }

  void specFromTheForm() {
    StrategyPanel panel;
    panel.setModel(kModel);
    compose(panel, "gptq", {"rotate"});
    child<QSpinBox>(panel, "bits")->setValue(3);
    child<QComboBox>(panel, "group")->setCurrentText("64");
    child<QCheckBox>(panel, "sym")->setChecked(true);
    child<QDoubleSpinBox>(panel, "param.gptq.percdamp")->setValue(0.05);
    child<QCheckBox>(panel, "param.gptq.act_order")->setChecked(true);
    child<QComboBox>(panel, "param.rotate.rotation")->setCurrentText("orthogonal");
    child<QLineEdit>(panel, "calibFiles")->setText(kCalib);
    child<QSpinBox>(panel, "nsamples")->setValue(16);
    child<QSpinBox>(panel, "calibSeqlen")->setValue(128);
    child<QLineEdit>(panel, "evalText")->setText(kEval);
    child<QSpinBox>(panel, "evalSeqlen")->setValue(128);
    child<QSpinBox>(panel, "evalMaxWindows")->setValue(5);
    child<QCheckBox>(panel, "analysis.compare")->setChecked(true);
    QCOMPARE(panel.validationError(), QString());
    json s = panel.spec();
    QCOMPARE(s["model"], json(kModel.toStdString()));
    QCOMPARE(s["method"], json("rotate+gptq"));
    QCOMPARE(s["bits"], json(3));
    QCOMPARE(s["group"], json(64));
    QCOMPARE(s["sym"], json(true));
    // Only parameters that differ from the schema defaults.
    QCOMPARE(s["params"], json({{"gptq.percdamp", 0.05}, {"gptq.act_order", true}, {"rotate.rotation", "orthogonal"}}));
    QCOMPARE(s["calibration"]["files"], json({kCalib.toStdString()}));
    QCOMPARE(s["calibration"]["nsamples"], json(16));
    QCOMPARE(s["eval"]["seqlen"], json(128));
    QCOMPARE(s["eval"]["max_windows"], json(5));
    QCOMPARE(s["analyses"], json({"compare"}));
    QCOMPARE(panel.findChild<QPushButton*>("run")->isEnabled(), true);

    // The JSON loads back into an identical form.
    StrategyPanel again;
    QString err;
    QVERIFY2(again.setSpec(s, &err), qPrintable(err));
    QCOMPARE(again.spec(), s);
    QCOMPARE(again.method(), QString("rotate+gptq"));

    // RTN needs no calibration: none goes into the spec even though the field is filled.
    compose(panel, "rtn", {});
    QVERIFY(panel.spec()["calibration"].is_null());
  }

  void invalidFormsNameTheProblem_data() {
    QTest::addColumn<QString>("group");
    QTest::addColumn<QString>("calib");
    QTest::addColumn<QString>("expected");
    QTest::newRow("group 0") << "0" << kCalib << "'group'";
    QTest::newRow("group text") << "abc" << kCalib << "'group'";
    QTest::newRow("no calibration for gptq") << "128" << "" << "calibration";
  }
  void invalidFormsNameTheProblem() {
    QFETCH(QString, group);
    QFETCH(QString, calib);
    QFETCH(QString, expected);
    StrategyPanel panel;
    panel.setModel(kModel);
    compose(panel, "gptq", {});
    child<QLineEdit>(panel, "calibFiles")->setText(calib);
    child<QComboBox>(panel, "group")->setCurrentText(group);
    QVERIFY2(panel.validationError().contains(expected), qPrintable(panel.validationError()));
    QVERIFY(!panel.findChild<QPushButton*>("run")->isEnabled());
    QVERIFY_THROWS_EXCEPTION(std::exception, panel.spec());
  }

  void badSpecJsonIsRefused() {
    StrategyPanel panel;
    QString err;
    QVERIFY(!panel.setSpec({{"model", kModel.toStdString()}, {"methd", "rtn"}}, &err));
    QVERIFY2(err.contains("methd"), qPrintable(err));
  }

  // Every field of an experiment spec survives the panel: load it, read it back, equal.
  void everySpecFieldRoundTrips() {
    const json full = {{"model", kModel.toStdString()}, {"method", "gptq"}, {"bits", 3}, {"group", 64},
                       {"format", "int"}, {"sym", true}, {"clip_ratio", 0.9},
                       {"overrides", {{{"pattern", "*.down_proj"}, {"bits", 8}}, {{"pattern", "layers.0.*"}, {"skip", true}}}},
                       {"params", {{"gptq.percdamp", 0.05}, {"gptq.act_order", true}}},
                       {"calibration", {{"files", {kCalib.toStdString()}}, {"nsamples", 12}, {"seqlen", 96},
                                        {"seed", 7}, {"sampling", "awq"}, {"batch", 3}}},
                       {"eval", {{"text", kEval.toStdString()}, {"seqlen", 64}, {"max_windows", 9}, {"batch", 2}}},
                       {"analyses", {"compare", "kurtosis", "lastword", "token_kl"}},
                       {"tasks", {PTQ_SHARED_DIR "/tasks/a.jsonl", PTQ_SHARED_DIR "/tasks/b.jsonl"}},
                       {"device", "cuda:1"}, {"dtype", "bfloat16"}, {"residency", "stream"},
                       {"label", "every field"}, {"seed", 11}};
    const json expected = ptq::ExperimentSpec::from_json(full).to_json();
    StrategyPanel p;
    QString err;
    QVERIFY2(p.setSpec(full, &err), qPrintable(err));
    const json got = p.spec();
    for (auto it = expected.begin(); it != expected.end(); ++it)
      QVERIFY2(got.contains(it.key()) && got[it.key()] == it.value(),
               qPrintable(QString::fromStdString(it.key() + ": expected " + it.value().dump() + ", got " +
                                                 (got.contains(it.key()) ? got[it.key()].dump() : "nothing"))));
    QCOMPARE(got, expected);
  }

  // The sweep builder keeps each calibration set's batch (and the sweep's seed as its default).
  void sweepBuilderKeepsCalibrationBatch() {
    const json sweep = {{"models", {kModel.toStdString()}}, {"methods", {"gptq"}}, {"seed", 5},
                        {"calibration", {{{"files", {kCalib.toStdString()}}, {"nsamples", 8}, {"seqlen", 64}, {"batch", 2}}}}};
    SweepBuilder b;
    QString err;
    QVERIFY2(b.setSweepJson(sweep, {}, &err), qPrintable(err));
    QCOMPARE(b.sweepJson()["calibration"][0]["batch"], json(2));
    const auto runs = b.runs();
    QCOMPARE(int(runs.size()), 1);
    QCOMPARE(runs[0]["calibration"]["batch"], json(2));
    QCOMPARE(runs[0]["calibration"]["seed"], json(5));
  }

  // The GUI's sweep builder and `ptq sweep` (SweepSpec::load + expand) give the demo sweep the
  // same run ids, so each reuses the other's records.
  void demoSweepRunIdsAreTheCliOnes() {
    const std::string path = PTQ_SOURCE_DIR "/resources/demo-sweep.json";
    std::vector<std::string> cli;
    for (const auto& r : ptq::SweepSpec::load(path).expand()) cli.push_back(r.run_id());
    SweepBuilder b;
    QString err;
    QVERIFY2(b.loadFile(QString::fromStdString(path), &err), qPrintable(err));
    std::vector<std::string> gui;
    for (const auto& spec : b.runs()) gui.push_back(ptq::views::runIdOf(spec).toStdString());
    std::sort(cli.begin(), cli.end());
    std::sort(gui.begin(), gui.end());
    QVERIFY(!cli.empty());
    QCOMPARE(gui, cli);
  }

  // A W-A sweep (act_bits a list): the builder reads and writes act_bits, its run ids are the CLI's
  // (w4a8, w4a4 next to the weight-only w4), and checking another width adds its runs.
  void waSweepRunIdsAreTheCliOnes() {
    QTemporaryDir dir;
    // Clean absolute paths: the builder writes them so, and the run id hashes the model path.
    const json sweep = {{"models", {QDir::cleanPath(kModel).toStdString()}},
                        {"methods", {"rtn", "gptq"}},
                        {"bits", {4}},
                        {"act_bits", {0, 4, 8}},
                        {"act_granularity", "token"},
                        {"calibration", {{{"files", {QDir::cleanPath(kCalib).toStdString()}}, {"nsamples", 4}, {"seqlen", 64}}}}};
    const QString path = dir.filePath("wa-sweep.json");
    ptq::write_json_atomic(path.toStdString(), sweep, 2);
    std::vector<std::string> cli;
    for (const auto& r : ptq::SweepSpec::load(path.toStdString()).expand()) cli.push_back(r.run_id());
    SweepBuilder b;
    QString err;
    QVERIFY2(b.loadFile(path, &err), qPrintable(err));
    QVERIFY(child<QCheckBox>(b, "act_bits.4")->isChecked() && !child<QCheckBox>(b, "act_bits.6")->isChecked());
    QCOMPARE(b.sweepJson()["act_bits"], json::array({0, 4, 8}));
    QCOMPARE(b.sweepJson()["act_granularity"], json("token"));  // kept, no editor
    std::vector<std::string> gui;
    for (const auto& spec : b.runs()) gui.push_back(ptq::views::runIdOf(spec).toStdString());
    std::sort(cli.begin(), cli.end());
    std::sort(gui.begin(), gui.end());
    QCOMPARE(int(cli.size()), 6);
    QCOMPARE(gui, cli);
    int wa = 0;
    for (const auto& id : gui) wa += id.find("a8") != std::string::npos || id.find("a4") != std::string::npos;
    QCOMPARE(wa, 4);
    child<QCheckBox>(b, "act_bits.6")->setChecked(true);
    QCOMPARE(b.runCount(), 8);
    // Weights only: act_bits leaves the spec, as a sweep written before it.
    for (int a : {4, 6, 8}) child<QCheckBox>(b, QStringLiteral("act_bits.%1").arg(a))->setChecked(false);
    QVERIFY(!b.sweepJson().contains("act_bits"));
    QCOMPARE(b.runCount(), 2);
  }

  void sweepBuilderCountsAndRoundTrips() {
    QTemporaryDir dir;
    // A spec with relative paths, as shipped next to its data.
    const json spec = {{"models", {"austen-tiny"}},
                       {"methods", {"fp", "rtn", "gptq"}},
                       {"bits", {3, 4}},
                       {"groups", {128}},
                       {"calibration", {{{"files", {"austen-valid.txt"}}, {"nsamples", 16}, {"seqlen", 128}}}},
                       {"eval", {{"text", "austen-test.txt"}, {"seqlen", 128}, {"max_windows", 5}}},
                       {"analyses", {"compare"}},
                       {"residency", "resident"},
                       {"seed", 3}};
    const QString base = QString(PTQ_SHARED_DIR "/models");
    json withPaths = spec;
    withPaths["calibration"][0]["files"] = {"../corpus/austen-valid.txt"};
    withPaths["eval"]["text"] = "../corpus/austen-test.txt";
    SweepBuilder b;
    QString err;
    QVERIFY2(b.setSweepJson(withPaths, base, &err), qPrintable(err));
    QCOMPARE(b.runCount(), 5);  // fp once + rtn × 2 bits + gptq × 2 bits
    json out = b.sweepJson();
    QCOMPARE(out["models"], json::array({QDir::cleanPath(kModel).toStdString()}));  // made absolute
    QCOMPARE(out["calibration"][0]["files"], json::array({QDir::cleanPath(kCalib).toStdString()}));
    QCOMPARE(out["residency"], json("resident"));  // kept though the form has no editor
    QCOMPARE(out["seed"], json(3));
    // Another bit width and group: fp stays once.
    child<QCheckBox>(b, "bits.2")->setChecked(true);
    QCOMPARE(b.runCount(), 7);
    child<QCheckBox>(b, "group.-1")->setChecked(true);
    QCOMPARE(b.runCount(), 13);
    const auto runs = b.runs();
    QCOMPARE(int(runs.size()), 13);
    QCOMPARE(runs.front()["model"], json(QDir::cleanPath(kModel).toStdString()));
    // Save and load give the same spec.
    const QString path = dir.filePath("sweep.json");
    QVERIFY(b.saveFile(path, &err));
    SweepBuilder c;
    QVERIFY2(c.loadFile(path, &err), qPrintable(err));
    QCOMPARE(c.sweepJson(), b.sweepJson());
    QCOMPARE(c.runCount(), 13);
    // No method checked: no runs, and the reason.
    for (const char* m : {"fp", "rtn", "gptq"}) {
      auto items = c.findChild<QListWidget*>("methods")->findItems(m, Qt::MatchExactly);
      QCOMPARE(items.size(), 1);
      items[0]->setCheckState(Qt::Unchecked);
    }
    QCOMPARE(c.runCount(), -1);
    QVERIFY2(c.validationError().contains("methods"), qPrintable(c.validationError()));
    QVERIFY(!c.findChild<QPushButton*>("enqueueSweep")->isEnabled());
    // A bad file names the key.
    json bad = spec;
    bad["bitz"] = {3};
    QVERIFY(!c.setSweepJson(bad, base, &err));
    QVERIFY2(err.contains("bitz"), qPrintable(err));
  }
};

QTEST_MAIN(TestStrategyPanel)
#include "test_strategy_panel.moc"
