#include "views/panels/form_widgets.h"

#include <QCheckBox>
#include <QGridLayout>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <algorithm>

#include "eval/analyses/analysis_catalog.h"
#include "eval/experiment/experiment_spec.h"

namespace ptq::views {

QWidget* withBrowseButton(QLineEdit* edit, bool many, QWidget* parent) {
  auto* row = new QWidget(parent);
  auto* h = new QHBoxLayout(row);
  h->setContentsMargins(0, 0, 0, 0);
  auto* b = new QPushButton(QStringLiteral("…"), row);
  b->setMaximumWidth(32);
  h->addWidget(edit, 1);
  h->addWidget(b);
  QObject::connect(b, &QPushButton::clicked, edit, [edit, many] {
    QStringList files = many ? QFileDialog::getOpenFileNames(edit, QObject::tr("Text files"))
                             : QStringList{QFileDialog::getOpenFileName(edit, QObject::tr("Text file"))};
    files.removeAll(QString());
    if (!files.isEmpty()) edit->setText(files.join("; "));
  });
  return row;
}

QSpinBox* makeSpin(QWidget* parent, const char* objectName, int lo, int hi) {
  auto* s = new QSpinBox(parent);
  s->setObjectName(objectName);
  s->setRange(lo, hi);
  return s;
}

std::vector<std::string> splitPaths(const QString& text) {
  std::vector<std::string> out;
  for (const QString& f : text.split(';', Qt::SkipEmptyParts))
    if (!f.trimmed().isEmpty()) out.push_back(f.trimmed().toStdString());
  return out;
}

QString joinPaths(const std::vector<std::string>& paths) {
  QStringList l;
  for (const auto& p : paths) l << QString::fromStdString(p);
  return l.join("; ");
}

const std::vector<std::string>& weightFormatNames() {
  return ptq::format_names();  // int, nf4, fp4, fp8_e4m3, fp8_e5m2, mxfp4, mxfp8, nvfp4
}

EvalSettings::EvalSettings(QWidget* parent) : QWidget(parent) {
  auto* form = new QFormLayout(this);
  form->setContentsMargins(0, 0, 0, 0);
  text_ = new QLineEdit(this);
  text_->setObjectName("evalText");
  text_->setToolTip(tr("perplexity text (empty: no perplexity)"));
  seqlen_ = makeSpin(this, "evalSeqlen", 2, 1 << 20);
  windows_ = makeSpin(this, "evalMaxWindows", 0, 1 << 20);
  windows_->setSpecialValueText(tr("all"));
  form->addRow(tr("Text"), withBrowseButton(text_, false, this));
  form->addRow(tr("Sequence length"), seqlen_);
  form->addRow(tr("Max windows"), windows_);
  // Two to a row (eight analyses in one row pushed the form wider than the panel); the catalog's
  // label on the box, its description as the tooltip, its id in the spec.
  auto* checks = new QGridLayout;
  int n = 0;
  for (const auto& a : ptq::experiment_analyses()) {
    if (a == "size") continue;  // always measured
    const ptq::AnalysisInfo& info = ptq::find_analysis(a);
    auto* c = new QCheckBox(QString::fromStdString(info.label), this);
    c->setObjectName(QString::fromStdString("analysis." + a));
    c->setToolTip(QString::fromStdString(a + ": " + info.description));
    analyses_[a] = c;
    checks->addWidget(c, n / 2, n % 2);
    ++n;
    connect(c, &QCheckBox::toggled, this, &EvalSettings::changed);
  }
  form->addRow(tr("Analyses"), checks);
  connect(text_, &QLineEdit::textChanged, this, &EvalSettings::changed);
  connect(seqlen_, &QSpinBox::valueChanged, this, &EvalSettings::changed);
  connect(windows_, &QSpinBox::valueChanged, this, &EvalSettings::changed);
  const ptq::ExperimentSpec defaults;
  setValues({}, int(defaults.eval_seqlen), int(defaults.eval_max_windows), defaults.analyses);
}

QString EvalSettings::text() const { return text_->text().trimmed(); }
int EvalSettings::seqlen() const { return seqlen_->value(); }
int EvalSettings::maxWindows() const { return windows_->value(); }

std::vector<std::string> EvalSettings::analyses() const {
  std::vector<std::string> out;
  for (const auto& a : ptq::experiment_analyses())
    if (analyses_.count(a) && analyses_.at(a)->isChecked()) out.push_back(a);
  return out;
}

void EvalSettings::setValues(const QString& text, int seqlen, int maxWindows, const std::vector<std::string>& analyses) {
  QSignalBlocker b1(text_), b2(seqlen_), b3(windows_);
  text_->setText(text);
  seqlen_->setValue(seqlen);
  windows_->setValue(maxWindows);
  for (auto& [name, box] : analyses_) {
    QSignalBlocker b(box);
    box->setChecked(std::find(analyses.begin(), analyses.end(), name) != analyses.end());
  }
  Q_EMIT changed();
}

nlohmann::json EvalSettings::evalJson() const {
  if (text().isEmpty()) return nullptr;
  return {{"text", text().toStdString()}, {"seqlen", seqlen()}, {"max_windows", maxWindows()}};
}

}  // namespace ptq::views
