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

// Analyses that read the calibration text themselves.
bool analysisNeedsCalib(const std::string& a) { return a == "kurtosis" || a == "token_kl" || a == "outliers"; }

}  // namespace

StrategyPanel::StrategyPanel(QWidget* parent) : QWidget(parent) {
  auto* inner = new QWidget;
  auto* col = new QVBoxLayout(inner);
  col->addWidget(buildMethodBox());
  col->addWidget(buildQuantBox());
  buildStageForms(inner);
  for (const auto& s : ptq::strategy_registry()) col->addWidget(stages_[s.id].box);
  col->addWidget(buildCalibBox());
  col->addWidget(buildEvalBox());
  col->addWidget(buildRunBox());
  col->addStretch();
  auto* scroll = new QScrollArea(this);
  scroll->setWidget(inner);
  scroll->setWidgetResizable(true);

  preview_ = new QPlainTextEdit(this);
  preview_->setObjectName("specPreview");
  preview_->setReadOnly(true);
  preview_->setMaximumHeight(160);
  error_ = new QLabel(this);
  error_->setObjectName("specError");
  error_->setWordWrap(true);
  error_->setStyleSheet("color: #b00020");
  cost_ = new QLabel(this);
  cost_->setObjectName("costHint");
  cost_->setWordWrap(true);
  run_ = new QPushButton(tr("Run"), this);
  run_->setObjectName("run");
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(error_, 1);
  buttons->addWidget(run_);
  auto* lay = new QVBoxLayout(this);
  lay->addWidget(scroll, 1);
  lay->addWidget(preview_);
  lay->addWidget(cost_);
  lay->addLayout(buttons);
  connect(run_, &QPushButton::clicked, this, &StrategyPanel::runRequested);

  apply(workbenchDefaultSpec());  // the engine's defaults with a calibration sized for a CPU
}

QString StrategyPanel::method() const {
  const QString q = quantizer_->currentData().toString();
  if (q == "fp") return q;
  const bool layerAlone = ptq::find_strategy(q.toStdString()).kind == ptq::StageKind::LayerTransform;
  QStringList parts;
  for (auto kind : {ptq::StageKind::ModelTransform, ptq::StageKind::BlockTransform, ptq::StageKind::LayerTransform})
    for (const auto& s : ptq::strategy_registry())
      if (s.kind == kind && transforms_.at(s.id)->isChecked() && !(layerAlone && kind == ptq::StageKind::LayerTransform))
        parts << qs(s.id);
  parts << q;
  return parts.join('+');
}

int StrategyPanel::groupValue() const {
  int i = group_->findText(group_->currentText());
  if (i >= 0) return group_->itemData(i).toInt();
  bool ok = false;
  int g = group_->currentText().trimmed().toInt(&ok);
  return ok ? g : 0;  // 0: rejected by the spec's validation
}

nlohmann::json StrategyPanel::changedParams() const {
  nlohmann::json out = nlohmann::json::object();
  if (method() == "fp") return out;
  for (const auto* s : ptq::parse_method(method().toStdString()))
    for (const auto& p : s->params) {
      nlohmann::json v = paramEditorValue(stages_.at(s->id).editors.at(p.name), p);
      if (!isParamDefault(p, v)) out[s->id + "." + p.name] = v;
    }
  return out;
}

ptq::ExperimentSpec StrategyPanel::overridesValue() const {
  const QString text = overrides_->text().trimmed();
  if (text.isEmpty()) return {};
  nlohmann::json ov;
  try {
    ov = nlohmann::json::parse(text.toStdString());
  } catch (const std::exception& e) {
    throw ptq::Error(std::string("experiment spec 'overrides': not JSON: ") + e.what());
  }
  return ptq::ExperimentSpec::from_json({{"model", "-"}, {"method", "rtn"}, {"overrides", ov}});
}

nlohmann::json StrategyPanel::spec() const {
  ptq::ExperimentSpec s;
  s.model_dir = model_->currentText().trimmed().toStdString();
  s.method = method().toStdString();
  bool needsCalib = false;
  if (s.method != "fp") {
    s.plan.spec.bits = bits_->value();
    s.plan.spec.group_size = groupValue();
    s.plan.spec.format = ptq::parse_format(format_->currentText().toStdString());
    s.plan.spec.symmetric = sym_->isChecked();
    s.plan.spec.clip_ratio = clip_->value();
    s.params = changedParams();
    s.plan.overrides = overridesValue().plan.overrides;
    for (const auto* st : ptq::parse_method(s.method)) needsCalib |= st->needs_calibration;
  }
  s.analyses = eval_->analyses();
  for (const auto& a : s.analyses) needsCalib |= analysisNeedsCalib(a);
  if (needsCalib) {
    s.calib.files = splitPaths(calibFiles_->text());
    s.calib.nsamples = nsamples_->value();
    s.calib.seqlen = calibSeqlen_->value();
    s.calib.seed = uint64_t(calibSeed_->value());
    s.calib.sampling = sampling_->currentIndex() == 0 ? ptq::default_calib_sampling(s.method)
                                                      : sampling_->currentText().toStdString();
    s.calib_batch = calibBatch_->value();
  }
  s.eval_text = eval_->text().toStdString();
  s.eval_batch = evalBatch_->value();
  s.eval_seqlen = eval_->seqlen();
  s.eval_max_windows = eval_->maxWindows();
  s.device = device_->currentText().trimmed().toStdString();
  s.dtype = dtype_->currentText().toStdString();
  s.residency = residency_->currentText().toStdString();
  s.seed = uint64_t(seed_->value());
  s.task_files = splitPaths(tasks_->text());
  s.label = label_->text().toStdString();
  // The JSON round trip is the engine's own validation (names the key that is wrong).
  nlohmann::json j = s.to_json();
  if (s.method != "fp")
    for (const auto& p : ptq::plan_param_schema()) j[p.name] = paramEditorValue(planEditors_.at(p.name), p);
  return ptq::ExperimentSpec::from_json(j).to_json();
}

QString StrategyPanel::validationError() const {
  try {
    return modelProblem(ptq::ExperimentSpec::from_json(spec()));
  } catch (const std::exception& e) {
    return QString::fromUtf8(e.what());
  }
}

QString StrategyPanel::modelProblem(const ptq::ExperimentSpec& s) const {
  if (!summaries_.hasReader()) return {};
  QString err = missingInputFiles(s);
  if (!err.isEmpty()) return err;
  const ptq::ModelSummary* m = summaries_.get(qs(s.model_dir), &err);
  return m ? checkRunAgainstModel(s, *m) : err;
}

void StrategyPanel::setCheckpointReader(ModelSummaries::Reader reader) {
  summaries_.setReader(std::move(reader));
  refresh();
}

void StrategyPanel::setTimingRecords(std::vector<nlohmann::json> records) {
  timingRecords_ = std::move(records);
  refresh();
}

QString StrategyPanel::costHint() const { return cost_->text(); }

bool StrategyPanel::setSpec(const nlohmann::json& j, QString* error) {
  ptq::ExperimentSpec s;
  try {
    s = ptq::ExperimentSpec::from_json(j);
  } catch (const std::exception& e) {
    if (error) *error = QString::fromUtf8(e.what());
    return false;
  }
  apply(s);
  return true;
}

void StrategyPanel::apply(const ptq::ExperimentSpec& s) {
  loading_ = true;
  setModel(qs(s.model_dir));
  std::vector<const ptq::StrategyInfo*> parsed;
  if (s.method != "fp") parsed = ptq::parse_method(s.method);
  const std::string last = parsed.empty() ? "fp" : parsed.back()->id;  // the quantizing stage (quip alone: itself)
  for (auto& [id, box] : transforms_) {
    bool on = false;
    for (const auto* st : parsed) on |= st->id == id && id != last;
    box->setChecked(on);
  }
  quantizer_->setCurrentIndex(std::max(0, quantizer_->findData(qs(last))));
  bits_->setValue(s.plan.spec.bits);
  int gi = group_->findData(int(s.plan.spec.group_size));
  if (gi >= 0) group_->setCurrentIndex(gi);
  else group_->setCurrentText(QString::number(s.plan.spec.group_size));
  format_->setCurrentText(qs(ptq::format_name(s.plan.spec.format)));
  sym_->setChecked(s.plan.spec.symmetric);
  clip_->setValue(s.plan.spec.clip_ratio);
  const nlohmann::json plan = s.plan.to_json(), whole = s.to_json();  // the kv_* keys are the spec's
  for (const auto& p : ptq::plan_param_schema())
    setParamEditorValue(planEditors_.at(p.name), p,
                        plan.contains(p.name) ? plan[p.name] : whole.value(p.name, p.default_value));
  const nlohmann::json ov = plan["overrides"];
  overrides_->setText(ov.empty() ? QString() : qs(ov.dump()));
  for (const auto& st : ptq::strategy_registry())
    for (const auto& p : st.params) {
      nlohmann::json v = p.default_value;
      if (s.params.contains(p.name)) v = s.params[p.name];
      if (s.params.contains(st.id + "." + p.name)) v = s.params[st.id + "." + p.name];
      setParamEditorValue(stages_[st.id].editors[p.name], p, v);
    }
  // A spec without calibration (RTN) leaves the workbench's sizes, not the engine's 128 × 2048.
  const ptq::CalibSpec calib = s.calib.files.empty() ? workbenchDefaultSpec().calib : s.calib;
  if (!s.calib.files.empty()) calibFiles_->setText(joinPaths(s.calib.files));
  nsamples_->setValue(int(calib.nsamples));
  calibSeqlen_->setValue(int(calib.seqlen));
  calibSeed_->setValue(int(calib.seed));
  sampling_->setCurrentText(qs(calib.sampling));
  calibBatch_->setValue(int(s.calib_batch));
  eval_->setValues(qs(s.eval_text), int(s.eval_seqlen), int(s.eval_max_windows), s.analyses);
  device_->setCurrentText(qs(s.device));
  dtype_->setCurrentText(qs(s.dtype));
  residency_->setCurrentText(qs(s.residency));
  evalBatch_->setValue(int(s.eval_batch));
  seed_->setValue(int(std::min<uint64_t>(s.seed, uint64_t(std::numeric_limits<int>::max()))));
  tasks_->setText(joinPaths(s.task_files));
  label_->setText(qs(s.label));
  loading_ = false;
  refresh();
}

void StrategyPanel::setModels(const QStringList& dirs) {
  const QString current = model_->currentText();
  QSignalBlocker block(model_);
  model_->clear();
  model_->addItems(dirs);
  model_->setCurrentText(current.isEmpty() && !dirs.isEmpty() ? dirs.first() : current);
  if (!loading_) refresh();
}

void StrategyPanel::setModel(const QString& dir) {
  if (model_->findText(dir) < 0 && !dir.isEmpty()) model_->addItem(dir);
  model_->setCurrentText(dir);
}

void StrategyPanel::setDefaultTexts(const QString& calibFile, const QString& evalText) {
  if (calibFiles_->text().isEmpty()) calibFiles_->setText(calibFile);
  if (eval_->text().isEmpty()) eval_->setValues(evalText, eval_->seqlen(), eval_->maxWindows(), eval_->analyses());
}

void StrategyPanel::refresh() {
  const QString m = method();
  const bool fp = m == "fp";
  for (auto& [id, box] : transforms_) box->setEnabled(!fp);
  quantBox_->setEnabled(!fp);
  std::set<std::string> active;
  bool needsCalib = false;
  QString info;
  try {
    if (!fp)
      for (const auto* s : ptq::parse_method(m.toStdString())) {
        active.insert(s->id);
        needsCalib |= s->needs_calibration;
        info += (info.isEmpty() ? "" : " → ") + qs(s->label + " (" + s->family + ")");
      }
  } catch (const std::exception& e) {
    info = QString::fromUtf8(e.what());
  }
  methodInfo_->setText(fp ? tr("no quantization: the full-precision baseline") : info);
  for (auto& [id, f] : stages_) f.box->setVisible(active.count(id) > 0 && !f.editors.empty());
  for (const auto& a : eval_->analyses()) needsCalib |= analysisNeedsCalib(a);
  calibBox_->setEnabled(needsCalib);
  QString err = validationError();
  error_->setText(err);
  run_->setEnabled(err.isEmpty());
  preview_->setPlainText(err.isEmpty() ? qs(spec().dump(2)) : QString());
  try {
    const auto s = ptq::ExperimentSpec::from_json(spec());
    cost_->setText(costHintText(estimateCost(s, summaries_.get(qs(s.model_dir), nullptr), timingRecords_)));
  } catch (const std::exception&) {
    cost_->clear();  // the error says why
  }
  Q_EMIT specChanged();
}

}  // namespace ptq::views
