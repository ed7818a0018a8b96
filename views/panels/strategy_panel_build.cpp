// StrategyPanel's form, built: the method, quantization, calibration, evaluation and run boxes,
// and the stage parameter forms from the registry's schemas (strategy_panel.cpp reads and writes
// the spec through them).
#include "views/panels/strategy_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QVBoxLayout>
#include <limits>
#include <set>

#include "core/runtime/errors.h"
#include "core/runtime/device_names.h"
#include "eval/experiment/experiment_spec.h"
#include "quant/strategy_registry.h"
#include "views/panels/form_widgets.h"
#include "views/panels/param_form.h"

namespace ptq::views {

namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }

}  // namespace

QWidget* StrategyPanel::buildMethodBox() {
  auto* box = new QGroupBox(tr("Method"));
  auto* form = new QFormLayout(box);
  model_ = new QComboBox(box);
  model_->setObjectName("model");
  model_->setEditable(true);
  model_->setToolTip(tr("Hugging Face checkpoint folder"));
  watch(model_);
  form->addRow(tr("Model"), model_);
  quantizer_ = new QComboBox(box);
  quantizer_->setObjectName("quantizer");
  quantizer_->addItem(tr("full precision (fp)"), QStringLiteral("fp"));
  auto* transforms = new QGridLayout;  // two to a row: five transforms in one row overflowed the panel
  int nTransforms = 0;
  for (const auto& s : ptq::strategy_registry()) {
    if (s.kind == ptq::StageKind::Quantizer) {
      quantizer_->addItem(qs(s.label), qs(s.id));
      quantizer_->setItemData(quantizer_->count() - 1, qs(s.description), Qt::ToolTipRole);
    } else {
      auto* c = new QCheckBox(qs(s.label), box);
      c->setObjectName(qs("transform." + s.id));
      c->setToolTip(qs(s.family + ": " + s.description));
      transforms_[s.id] = c;
      transforms->addWidget(c, nTransforms / 2, nTransforms % 2);
      ++nTransforms;
      watch(c);
    }
  }
  // A layer transform (QuIP) alone is its own quantizer: LDLQ rounding ("quip").
  for (const auto& s : ptq::strategy_registry())
    if (s.kind == ptq::StageKind::LayerTransform) {
      quantizer_->addItem(tr("%1 alone (its own rounding)").arg(qs(s.label)), qs(s.id));
      quantizer_->setItemData(quantizer_->count() - 1, qs(s.description), Qt::ToolTipRole);
    }
  watch(quantizer_);
  form->addRow(tr("Transforms"), transforms);
  form->addRow(tr("Quantizer"), quantizer_);
  methodInfo_ = new QLabel(box);
  methodInfo_->setObjectName("methodInfo");
  methodInfo_->setWordWrap(true);
  form->addRow(methodInfo_);
  return box;
}

QWidget* StrategyPanel::buildQuantBox() {
  quantBox_ = new QGroupBox(tr("Quantization"));
  auto* form = new QFormLayout(quantBox_);
  bits_ = makeSpin(quantBox_, "bits", 2, 8);
  bits_->setToolTip(tr("bits of the integer format (NF4/FP4 are 4, FP8 8)"));
  group_ = new QComboBox(quantBox_);
  group_->setObjectName("group");
  group_->setEditable(true);
  group_->addItem(tr("per-channel"), -1);
  for (int g : {32, 64, 128, 256}) group_->addItem(QString::number(g), g);
  group_->setToolTip(tr("input columns per scale; must divide every layer's input width (-1: per channel)"));
  format_ = new QComboBox(quantBox_);
  format_->setObjectName("format");
  for (const auto& f : weightFormatNames()) format_->addItem(qs(f));
  sym_ = new QCheckBox(tr("symmetric"), quantBox_);
  sym_->setObjectName("sym");
  clip_ = new QDoubleSpinBox(quantBox_);
  clip_->setObjectName("clipRatio");
  clip_->setRange(0.05, 1.0);
  clip_->setSingleStep(0.05);
  clip_->setToolTip(tr("shrink of the min/max range before rounding, in (0, 1]"));
  form->addRow(tr("Bits"), bits_);
  form->addRow(tr("Group"), group_);
  form->addRow(tr("Format"), format_);
  form->addRow(QString(), sym_);
  form->addRow(tr("Clip ratio"), clip_);
  overrides_ = new QLineEdit(quantBox_);
  overrides_->setObjectName("overrides");
  overrides_->setPlaceholderText(QStringLiteral("[{\"pattern\": \"*.down_proj\", \"bits\": 8}]"));
  overrides_->setToolTip(tr("per-layer overrides as the spec's JSON array (later entries win)"));
  form->addRow(tr("Overrides"), overrides_);
  for (QWidget* w : std::initializer_list<QWidget*>{bits_, group_, format_, sym_, clip_, overrides_}) watch(w);
  for (const auto& p : ptq::plan_param_schema()) {  // sym_style, the activation quantizer, the KV cache
    QWidget* e = makeParamEditor(p, quantBox_);
    e->setObjectName(qs("plan." + p.name));
    planEditors_[p.name] = e;
    form->addRow(qs(p.name), e);
    watch(e);
  }
  return quantBox_;
}

void StrategyPanel::buildStageForms(QWidget* host) {
  for (const auto& s : ptq::strategy_registry()) {
    StageForm& f = stages_[s.id];
    f.box = new QGroupBox(tr("%1 parameters").arg(qs(s.label)), host);
    f.box->setObjectName(qs("params." + s.id));
    f.box->setToolTip(qs(s.description));
    auto* form = new QFormLayout(f.box);
    for (const auto& p : s.params) {
      QWidget* e = makeParamEditor(p, f.box);
      e->setObjectName(qs("param." + s.id + "." + p.name));
      f.editors[p.name] = e;
      form->addRow(qs(p.name), e);
      watch(e);
    }
    if (s.params.empty()) form->addRow(new QLabel(tr("no parameters"), f.box));
  }
}

QWidget* StrategyPanel::buildCalibBox() {
  calibBox_ = new QGroupBox(tr("Calibration"));
  auto* form = new QFormLayout(calibBox_);
  calibFiles_ = new QLineEdit(calibBox_);
  calibFiles_->setObjectName("calibFiles");
  calibFiles_->setToolTip(tr("text file(s), separated by ';'"));
  nsamples_ = makeSpin(calibBox_, "nsamples", 1, 1 << 20);
  calibSeqlen_ = makeSpin(calibBox_, "calibSeqlen", 2, 1 << 20);
  calibSeed_ = makeSpin(calibBox_, "calibSeed", 0, 1 << 30);
  sampling_ = new QComboBox(calibBox_);
  sampling_->setObjectName("sampling");
  sampling_->addItem(tr("method default"));  // default_calib_sampling(method)
  for (const auto& n : ptq::calib_sampling_names()) sampling_->addItem(qs(n));
  sampling_->setToolTip(tr("method default: the sampler of the method's reference code (llm-awq for AWQ, gptq "
                           "otherwise); gptq / llm-awq: IST-DASLab/gptq's and mit-han-lab/llm-awq's samplers exactly; "
                           "random: uniform windows (own generator); awq: shuffled paragraphs"));
  form->addRow(tr("Text"), withBrowseButton(calibFiles_, true, calibBox_));
  form->addRow(tr("Samples"), nsamples_);
  form->addRow(tr("Sequence length"), calibSeqlen_);
  form->addRow(tr("Seed"), calibSeed_);
  form->addRow(tr("Sampling"), sampling_);
  calibBatch_ = makeSpin(calibBox_, "calibBatch", 1, 1 << 16);
  calibBatch_->setToolTip(tr("calibration windows per forward pass (not part of the run's identity)"));
  form->addRow(tr("Batch"), calibBatch_);
  for (QWidget* w : std::initializer_list<QWidget*>{calibFiles_, nsamples_, calibSeqlen_, calibSeed_, sampling_, calibBatch_}) watch(w);
  return calibBox_;
}

QWidget* StrategyPanel::buildEvalBox() {
  auto* box = new QGroupBox(tr("Evaluation"));
  auto* lay = new QVBoxLayout(box);
  eval_ = new EvalSettings(box);
  lay->addWidget(eval_);
  connect(eval_, &EvalSettings::changed, this, [this] {
    if (!loading_) refresh();
  });
  return box;
}

QWidget* StrategyPanel::buildRunBox() {
  auto* box = new QGroupBox(tr("Run"));
  auto* form = new QFormLayout(box);
  device_ = new QComboBox(box);
  device_->setObjectName("device");
  device_->addItems({"cpu", "cuda"});
  device_->setEditable(true);  // cuda:1
  dtype_ = new QComboBox(box);
  dtype_->setObjectName("dtype");
  dtype_->addItems({"float32", "bfloat16", "float16"});
  label_ = new QLineEdit(box);
  label_->setObjectName("label");
  label_->setPlaceholderText(tr("free text shown in tables"));
  residency_ = new QComboBox(box);
  residency_->setObjectName("residency");
  for (const auto& r : ptq::residency_names()) residency_->addItem(qs(r));
  evalBatch_ = makeSpin(box, "evalBatch", 1, 1 << 16);
  evalBatch_->setToolTip(tr("evaluation windows per forward pass (not part of the run's identity)"));
  seed_ = makeSpin(box, "seed", 0, std::numeric_limits<int>::max());
  seed_->setToolTip(tr("the strategy's own randomness (rotation); the calibration seed draws the windows"));
  tasks_ = new QLineEdit(box);
  tasks_->setObjectName("tasks");
  tasks_->setToolTip(tr("multiple-choice task files (JSONL), separated by ';'"));
  form->addRow(tr("Device"), device_);
  form->addRow(tr("Dtype"), dtype_);
  form->addRow(tr("Residency"), residency_);
  form->addRow(tr("Eval batch"), evalBatch_);
  form->addRow(tr("Seed"), seed_);
  form->addRow(tr("Tasks"), withBrowseButton(tasks_, true, box));
  form->addRow(tr("Label"), label_);
  for (QWidget* w : std::initializer_list<QWidget*>{device_, dtype_, residency_, evalBatch_, seed_, tasks_, label_}) watch(w);
  return box;
}

void StrategyPanel::watch(QWidget* w) {
  auto changed = [this] {
    if (!loading_) refresh();
  };
  if (auto* c = qobject_cast<QComboBox*>(w)) connect(c, &QComboBox::currentTextChanged, this, changed);
  else if (auto* c = qobject_cast<QCheckBox*>(w)) connect(c, &QCheckBox::toggled, this, changed);
  else if (auto* s = qobject_cast<QSpinBox*>(w)) connect(s, &QSpinBox::valueChanged, this, changed);
  else if (auto* s = qobject_cast<QDoubleSpinBox*>(w)) connect(s, &QDoubleSpinBox::valueChanged, this, changed);
  else if (auto* e = qobject_cast<QLineEdit*>(w)) connect(e, &QLineEdit::textChanged, this, changed);
}

}  // namespace ptq::views
