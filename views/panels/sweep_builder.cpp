#include "views/panels/sweep_builder.h"


#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSignalBlocker>
#include <QScrollArea>
#include <QTableWidget>
#include <QVBoxLayout>

#include "core/runtime/errors.h"
#include "core/records/json_util.h"
#include "eval/experiment/sweep.h"
#include "quant/strategy_registry.h"
#include "views/panels/form_widgets.h"
#include "views/panels/slurm_settings.h"
#include "views/jobs/job_worker.h"

namespace ptq::views {

namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }

const std::vector<int> kGroups = {-1, 32, 64, 128, 256};
// Activation widths the literature sweeps (LLMC: w4a8, w6a6, w8a8, w4a4); 0 = weights only.
const std::vector<int> kActBits = {0, 4, 6, 8};
enum CalibCol { CName, CFiles, CSamples, CSeqlen, CSampling, CSeed, CBatch, CalibCols };

// Keys the form edits; everything else in a loaded spec is carried over untouched.
const std::vector<std::string> kEdited = {"models", "methods", "bits", "groups", "formats", "sym", "act_bits",
                                          "calibration", "eval", "analyses", "device"};

QString absolute(const QString& base, const std::string& p) {
  return p.empty() ? QString() : QDir::cleanPath(QDir(base).absoluteFilePath(qs(p)));
}

// A scalar or a list → list.
nlohmann::json asList(const nlohmann::json& v) { return v.is_array() ? v : nlohmann::json::array({v}); }

QListWidgetItem* checkItem(QListWidget* list, const QString& text, bool checked) {
  for (int i = 0; i < list->count(); ++i)
    if (list->item(i)->text() == text) {
      if (checked) list->item(i)->setCheckState(Qt::Checked);
      return list->item(i);
    }
  auto* it = new QListWidgetItem(text, list);
  it->setFlags(it->flags() | Qt::ItemIsUserCheckable);
  it->setCheckState(checked ? Qt::Checked : Qt::Unchecked);
  return it;
}

nlohmann::json checkedTexts(const QListWidget* list) {
  nlohmann::json out = nlohmann::json::array();
  for (int i = 0; i < list->count(); ++i)
    if (list->item(i)->checkState() == Qt::Checked) out.push_back(list->item(i)->text().toStdString());
  return out;
}

}  // namespace

SweepBuilder::SweepBuilder(QWidget* parent, int slurmAvailable) : QWidget(parent) {
  auto* inner = new QWidget;
  auto* col = new QVBoxLayout(inner);
  col->addWidget(buildAxes());
  col->addWidget(buildCalibrations());
  auto* evalBox = new QGroupBox(tr("Evaluation"), inner);
  auto* evalLay = new QFormLayout(evalBox);
  eval_ = new EvalSettings(evalBox);
  device_ = new QComboBox(evalBox);
  device_->setObjectName("device");
  device_->addItems({"cpu", "cuda"});
  device_->setEditable(true);
  evalLay->addRow(eval_);
  evalLay->addRow(tr("Device"), device_);
  col->addWidget(evalBox);
  target_ = new SlurmSettings(slurmAvailable < 0 ? ptq::slurm_available() : slurmAvailable > 0, inner);
  target_->setObjectName("runTarget");
  col->addWidget(target_);
  col->addStretch();
  auto* scroll = new QScrollArea(this);
  scroll->setWidget(inner);
  scroll->setWidgetResizable(true);

  count_label_ = new QLabel(this);
  count_label_->setObjectName("runCount");
  count_label_->setWordWrap(true);
  auto* load = new QPushButton(tr("Load…"), this);
  auto* save = new QPushButton(tr("Save…"), this);
  auto* enqueue = new QPushButton(tr("Enqueue sweep"), this);
  enqueue->setObjectName("enqueueSweep");
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(count_label_, 1);
  buttons->addWidget(load);
  buttons->addWidget(save);
  buttons->addWidget(enqueue);
  auto* lay = new QVBoxLayout(this);
  lay->addWidget(scroll, 1);
  lay->addLayout(buttons);

  connect(load, &QPushButton::clicked, this, [this] {
    QString f = QFileDialog::getOpenFileName(this, tr("Load sweep spec"), {}, tr("JSON (*.json)"));
    QString err;
    if (!f.isEmpty() && !loadFile(f, &err)) count_label_->setText(err);
  });
  connect(save, &QPushButton::clicked, this, [this] {
    QString f = QFileDialog::getSaveFileName(this, tr("Save sweep spec"), {}, tr("JSON (*.json)"));
    QString err;
    if (!f.isEmpty() && !saveFile(f, &err)) count_label_->setText(err);
  });
  connect(enqueue, &QPushButton::clicked, this, &SweepBuilder::enqueueRequested);
  connect(target_, &SlurmSettings::changed, this, [this, enqueue] {
    enqueue->setText(target_->slurmChosen() ? tr("Submit to Slurm") : tr("Enqueue sweep"));
  });
  connect(this, &SweepBuilder::sweepChanged, enqueue, [this, enqueue] { enqueue->setEnabled(count_ > 0); });
  connect(eval_, &EvalSettings::changed, this, &SweepBuilder::recount);
  watch(device_);
  recount();
}

QWidget* SweepBuilder::buildAxes() {
  auto* box = new QGroupBox(tr("Runs: models × methods × bits × groups × formats × sym × activation bits × calibration"));
  auto* form = new QFormLayout(box);
  models_ = new QListWidget(box);
  models_->setObjectName("models");
  models_->setMaximumHeight(90);
  auto* addModelBtn = new QPushButton(tr("Add model folder…"), box);
  connect(addModelBtn, &QPushButton::clicked, this, [this] {
    QString d = QFileDialog::getExistingDirectory(this, tr("Model folder"));
    if (!d.isEmpty()) addModel(d, true);
  });
  auto* modelCol = new QVBoxLayout;
  modelCol->addWidget(models_);
  modelCol->addWidget(addModelBtn, 0, Qt::AlignLeft);
  form->addRow(tr("Models"), modelCol);

  methods_ = new QListWidget(box);
  methods_->setObjectName("methods");
  methods_->setFlow(QListView::LeftToRight);
  methods_->setWrapping(true);
  methods_->setMaximumHeight(70);
  addMethod("fp", false);
  for (const auto& s : ptq::strategy_registry()) addMethod(qs(s.id), false);
  for (const auto& s : ptq::strategy_registry())  // transform + each quantizer: rotate+gptq, awq+gptq
    if (s.kind != ptq::StageKind::Quantizer) addMethod(qs(s.id + "+gptq"), false);
  customMethod_ = new QLineEdit(box);
  customMethod_->setObjectName("customMethod");
  customMethod_->setPlaceholderText(tr("another composition, e.g. rotate+awq+gptq, then Enter"));
  connect(customMethod_, &QLineEdit::returnPressed, this, [this] {
    const QString m = customMethod_->text().trimmed();
    try {
      ptq::parse_method(m.toStdString());
      addMethod(m, true);
      customMethod_->clear();
    } catch (const ptq::Error& e) {
      count_label_->setText(QString::fromUtf8(e.what()));
    }
  });
  auto* methodCol = new QVBoxLayout;
  methodCol->addWidget(methods_);
  methodCol->addWidget(customMethod_);
  form->addRow(tr("Methods"), methodCol);

  auto checkRow = [&](const QString& name, QCheckBox*& slot, const QString& text, QHBoxLayout* row) {
    slot = new QCheckBox(text, box);
    slot->setObjectName(name);
    row->addWidget(slot);
    watch(slot);
  };
  auto* bitsRow = new QHBoxLayout;
  for (int b = 2; b <= 8; ++b) checkRow(QStringLiteral("bits.%1").arg(b), bits_[b], QString::number(b), bitsRow);
  bitsRow->addStretch();
  form->addRow(tr("Bits"), bitsRow);
  auto* groupRow = new QHBoxLayout;
  for (int g : kGroups)
    checkRow(QStringLiteral("group.%1").arg(g), groups_[g], g < 0 ? tr("per-channel") : QString::number(g), groupRow);
  groupRow->addStretch();
  form->addRow(tr("Groups"), groupRow);
  auto* formatRow = new QHBoxLayout;
  for (const auto& f : weightFormatNames()) checkRow(qs("format." + f), formats_[f], qs(f), formatRow);
  formatRow->addStretch();
  form->addRow(tr("Formats"), formatRow);
  auto* symRow = new QHBoxLayout;
  checkRow("sym.false", asym_, tr("asymmetric"), symRow);
  checkRow("sym.true", sym_, tr("symmetric"), symRow);
  symRow->addStretch();
  form->addRow(tr("Sym"), symRow);
  auto* actRow = new QHBoxLayout;
  for (int a : kActBits)
    checkRow(QStringLiteral("act_bits.%1").arg(a), act_bits_[a], a == 0 ? tr("full precision") : QString::number(a),
             actRow);
  QSignalBlocker quiet(act_bits_[0]);  // weights only unless asked; the rest of the form does not exist yet
  act_bits_[0]->setChecked(true);
  actRow->addStretch();
  form->addRow(tr("Activation bits"), actRow);
  connect(models_, &QListWidget::itemChanged, this, &SweepBuilder::recount);
  connect(methods_, &QListWidget::itemChanged, this, &SweepBuilder::recount);
  return box;
}

QWidget* SweepBuilder::buildCalibrations() {
  auto* box = new QGroupBox(tr("Calibration sets (used by methods that calibrate, and by kurtosis / token_kl)"));
  calibs_ = new QTableWidget(0, CalibCols, box);
  calibs_->setObjectName("calibrations");
  calibs_->setHorizontalHeaderLabels({tr("name"), tr("files (; separated)"), tr("nsamples"), tr("seqlen"),
                                      tr("sampling"), tr("seed"), tr("batch")});
  calibs_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  calibs_->horizontalHeader()->setSectionResizeMode(CFiles, QHeaderView::Stretch);
  calibs_->setMaximumHeight(120);
  auto* add = new QPushButton(tr("Add set"), box);
  auto* remove = new QPushButton(tr("Remove set"), box);
  connect(add, &QPushButton::clicked, this, [this] {
    QStringList files = QFileDialog::getOpenFileNames(this, tr("Calibration text"));
    if (!files.isEmpty()) addCalibrationRow({{"files", splitPaths(files.join(';'))}});
  });
  connect(remove, &QPushButton::clicked, this, [this] {
    if (calibs_->currentRow() >= 0) calibs_->removeRow(calibs_->currentRow());
    recount();
  });
  connect(calibs_, &QTableWidget::itemChanged, this, &SweepBuilder::recount);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(add);
  buttons->addWidget(remove);
  buttons->addStretch();
  auto* lay = new QVBoxLayout(box);
  lay->addWidget(calibs_);
  lay->addLayout(buttons);
  return box;
}

void SweepBuilder::addCalibrationRow(const nlohmann::json& c) {
  const ptq::CalibSpec d;
  QSignalBlocker block(calibs_);
  const int row = calibs_->rowCount();
  calibs_->insertRow(row);
  std::vector<std::string> files;
  if (c.contains("files")) files = asList(c["files"]).get<std::vector<std::string>>();
  auto set = [&](int col, const QString& v) { calibs_->setItem(row, col, new QTableWidgetItem(v)); };
  set(CName, qs(c.value("name", files.empty() ? std::string() : QFileInfo(qs(files[0])).completeBaseName().toStdString())));
  set(CFiles, joinPaths(files));
  set(CSamples, QString::number(c.value("nsamples", d.nsamples)));
  set(CSeqlen, QString::number(c.value("seqlen", d.seqlen)));
  set(CSampling, qs(c.value("sampling", std::string())));  // empty: each method's reference sampler
  set(CSeed, QString::number(c.value("seed", d.seed)));
  set(CBatch, QString::number(c.value("batch", ptq::SweepCalibration{}.batch)));
  block.unblock();
  recount();
}

void SweepBuilder::addMethod(const QString& m, bool checked) { checkItem(methods_, m, checked); }

void SweepBuilder::addModel(const QString& dir, bool checked) {
  checkItem(models_, QDir::cleanPath(dir), checked);
  recount();
}

void SweepBuilder::setModels(const QStringList& dirs) {
  for (const QString& d : dirs) checkItem(models_, QDir::cleanPath(d), false);
  recount();
}

void SweepBuilder::watch(QWidget* w) {
  if (auto* c = qobject_cast<QCheckBox*>(w)) connect(c, &QCheckBox::toggled, this, &SweepBuilder::recount);
  else if (auto* c = qobject_cast<QComboBox*>(w)) connect(c, &QComboBox::currentTextChanged, this, &SweepBuilder::recount);
}

nlohmann::json SweepBuilder::sweepJson() const {
  nlohmann::json j = extra_;
  j["models"] = checkedTexts(models_);
  j["methods"] = checkedTexts(methods_);
  j["bits"] = nlohmann::json::array();
  for (const auto& [b, box] : bits_)
    if (box->isChecked()) j["bits"].push_back(b);
  j["groups"] = nlohmann::json::array();
  for (int g : kGroups)
    if (groups_.at(g)->isChecked()) j["groups"].push_back(g);
  j["formats"] = nlohmann::json::array();
  for (const auto& f : weightFormatNames())
    if (formats_.at(f)->isChecked()) j["formats"].push_back(f);
  j["sym"] = nlohmann::json::array();
  if (asym_->isChecked()) j["sym"].push_back(false);
  if (sym_->isChecked()) j["sym"].push_back(true);
  // act_bits only when some run quantizes activations, so weight-only sweeps read as before.
  nlohmann::json act = nlohmann::json::array();
  for (int a : kActBits)
    if (act_bits_.at(a)->isChecked()) act.push_back(a);
  if (act == nlohmann::json::array({0})) j.erase("act_bits");
  else j["act_bits"] = act;
  nlohmann::json cals = nlohmann::json::array();
  for (int r = 0; r < calibs_->rowCount(); ++r) {
    auto cell = [&](int c) { return calibs_->item(r, c) ? calibs_->item(r, c)->text().trimmed() : QString(); };
    nlohmann::json c = {{"files", splitPaths(cell(CFiles))}};
    // An empty cell: each method's reference sampler (the sweep spec without "sampling").
    if (!cell(CSampling).isEmpty()) c["sampling"] = cell(CSampling).toStdString();
    if (!cell(CName).isEmpty()) c["name"] = cell(CName).toStdString();
    bool ok = false;
    for (auto [col, key] : {std::pair{CSamples, "nsamples"}, {CSeqlen, "seqlen"}, {CSeed, "seed"}, {CBatch, "batch"}}) {
      long long v = cell(col).toLongLong(&ok);
      c[key] = ok ? nlohmann::json(v) : nlohmann::json(cell(col).toStdString());  // the parser names a bad value
    }
    cals.push_back(c);
  }
  if (cals.empty()) j.erase("calibration");
  else j["calibration"] = cals;
  nlohmann::json ev = eval_->evalJson();
  if (ev.is_null()) j.erase("eval");
  else {
    if (extra_.contains("eval_batch")) ev["batch"] = extra_["eval_batch"];
    j["eval"] = ev;
  }
  j.erase("eval_batch");
  j["analyses"] = eval_->analyses();
  j["device"] = device_->currentText().trimmed().toStdString();
  return j;
}

bool SweepBuilder::setSweepJson(const nlohmann::json& in, const QString& baseDir, QString* error) {
  try {
    expandSweep(in, baseDir);  // the engine's parser names what is wrong
  } catch (const std::exception& e) {
    if (error) *error = QString::fromUtf8(e.what());
    return false;
  }
  loading_ = true;
  nlohmann::json j = in;
  models_->clear();
  for (const auto& m : asList(j.value("models", nlohmann::json::array())))
    checkItem(models_, absolute(baseDir, m.get<std::string>()), true);
  for (int i = 0; i < methods_->count(); ++i) methods_->item(i)->setCheckState(Qt::Unchecked);
  for (const auto& m : asList(j.value("methods", nlohmann::json::array()))) addMethod(qs(m.get<std::string>()), true);
  auto has = [&](const char* key, const nlohmann::json& v, const nlohmann::json& def) {
    auto list = j.contains(key) ? asList(j[key]) : nlohmann::json::array({def});
    return std::find(list.begin(), list.end(), v) != list.end();
  };
  const ptq::SweepSpec d;  // the parser's defaults for absent keys
  for (auto& [b, box] : bits_) box->setChecked(has("bits", b, d.bits.front()));
  for (auto& [g, box] : groups_) box->setChecked(has("groups", g, d.groups.front()));
  for (auto& [f, box] : formats_) box->setChecked(has("formats", f, d.formats.front()));
  asym_->setChecked(has("sym", false, bool(d.sym.front())));
  sym_->setChecked(has("sym", true, bool(d.sym.front())));
  for (auto& [a, box] : act_bits_) box->setChecked(has("act_bits", a, d.act_bits.front()));
  calibs_->setRowCount(0);
  if (j.contains("calibration"))
    for (auto c : asList(j["calibration"])) {
      nlohmann::json files = nlohmann::json::array();
      for (const auto& f : asList(c.value("files", nlohmann::json::array())))
        files.push_back(absolute(baseDir, f.get<std::string>()).toStdString());
      c["files"] = files;
      if (!c.contains("seed")) c["seed"] = j.value("seed", 0);  // the sweep's seed is the sets' default
      addCalibrationRow(c);
    }
  const nlohmann::json ev = j.value("eval", nlohmann::json::object());
  eval_->setValues(absolute(baseDir, ev.value("text", std::string())), ev.value("seqlen", int(d.eval_seqlen)),
                   ev.value("max_windows", 0), j.value("analyses", std::vector<std::string>{}));
  device_->setCurrentText(qs(j.value("device", std::string("cpu"))));
  extra_ = nlohmann::json::object();
  for (auto it = j.begin(); it != j.end(); ++it)
    if (std::find(kEdited.begin(), kEdited.end(), it.key()) == kEdited.end()) extra_[it.key()] = it.value();
  if (ev.contains("batch")) extra_["eval_batch"] = ev["batch"];
  if (extra_.contains("tasks")) {
    nlohmann::json tasks = nlohmann::json::array();
    for (const auto& t : asList(extra_["tasks"])) tasks.push_back(absolute(baseDir, t.get<std::string>()).toStdString());
    extra_["tasks"] = tasks;
  }
  loading_ = false;
  recount();
  return true;
}

bool SweepBuilder::loadFile(const QString& path, QString* error) {
  try {
    return setSweepJson(ptq::read_json_file(path.toStdString()), QFileInfo(path).absolutePath(), error);
  } catch (const std::exception& e) {
    if (error) *error = QString::fromUtf8(e.what());
    return false;
  }
}

bool SweepBuilder::saveFile(const QString& path, QString* error) const {
  try {
    ptq::write_json_atomic(path.toStdString(), sweepJson(), 2);
    return true;
  } catch (const std::exception& e) {
    if (error) *error = QString::fromUtf8(e.what());
    return false;
  }
}

std::vector<nlohmann::json> SweepBuilder::runs() const { return expandSweep(sweepJson(), {}); }

void SweepBuilder::recount() {
  if (loading_) return;
  try {
    count_ = int(runs().size());
    error_.clear();
    count_label_->setText(tr("%n run(s)", nullptr, count_));
  } catch (const std::exception& e) {
    count_ = -1;
    error_ = QString::fromUtf8(e.what());
    count_label_->setText(error_);
  }
  Q_EMIT sweepChanged();
}

}  // namespace ptq::views
