#include "views/panels/slurm_settings.h"

#include <QComboBox>
#include <QFormLayout>
#include <QLineEdit>
#include <QSpinBox>
#include <QVBoxLayout>

namespace ptq::views {

namespace {

QSpinBox* spin(QWidget* parent, const char* name, int lo, int hi, const QString& special) {
  auto* s = new QSpinBox(parent);
  s->setObjectName(name);
  s->setRange(lo, hi);
  s->setSpecialValueText(special);  // shown at the minimum: "auto", "partition default", "no limit"
  s->setValue(lo);
  return s;
}

QLineEdit* line(QWidget* parent, const char* name, const QString& placeholder) {
  auto* e = new QLineEdit(parent);
  e->setObjectName(name);
  e->setPlaceholderText(placeholder);
  return e;
}

}  // namespace

SlurmSettings::SlurmSettings(bool slurmAvailable, QWidget* parent) : QGroupBox(tr("Run on"), parent) {
  target_ = new QComboBox(this);
  target_->setObjectName("target");
  target_->addItem(tr("Local devices"), QStringLiteral("local"));
  if (slurmAvailable) target_->addItem(tr("Slurm cluster"), QStringLiteral("slurm"));
  target_->setToolTip(slurmAvailable ? tr("A Slurm cluster: the sweep becomes a job array (sbatch is on PATH)")
                                     : tr("Slurm is not offered: sbatch is not on PATH"));
  cluster_ = new QWidget(this);
  cluster_->setObjectName("slurmOptions");
  auto* form = new QFormLayout(cluster_);
  form->setContentsMargins(0, 0, 0, 0);
  partition_ = line(cluster_, "partition", tr("cluster default"));
  gpus_ = spin(cluster_, "gpusPerRun", -1, 64, tr("auto (1 unless device is cpu)"));
  cpus_ = spin(cluster_, "cpusPerRun", 0, 4096, tr("partition default"));
  time_ = line(cluster_, "timeLimit", tr("HH:MM:SS, e.g. 04:00:00"));
  arrayLimit_ = spin(cluster_, "arrayLimit", 0, 100000, tr("no limit"));
  account_ = line(cluster_, "account", tr("cluster default"));
  extra_ = line(cluster_, "sbatchArgs", tr("more sbatch options, ; separated, e.g. --qos=high"));
  form->addRow(tr("Partition"), partition_);
  form->addRow(tr("GPUs per run"), gpus_);
  form->addRow(tr("CPUs per run"), cpus_);
  form->addRow(tr("Time limit"), time_);
  form->addRow(tr("Tasks at once"), arrayLimit_);
  form->addRow(tr("Account"), account_);
  form->addRow(tr("sbatch options"), extra_);
  auto* lay = new QVBoxLayout(this);
  lay->addWidget(target_);
  lay->addWidget(cluster_);
  cluster_->setVisible(false);
  connect(target_, &QComboBox::currentIndexChanged, this, [this] {
    cluster_->setVisible(slurmChosen());
    Q_EMIT changed();
  });
  for (QLineEdit* e : {partition_, time_, account_, extra_}) connect(e, &QLineEdit::textChanged, this, &SlurmSettings::changed);
  for (QSpinBox* s : {gpus_, cpus_, arrayLimit_}) connect(s, &QSpinBox::valueChanged, this, &SlurmSettings::changed);
}

bool SlurmSettings::slurmAvailable() const { return target_->count() > 1; }
bool SlurmSettings::slurmChosen() const { return target_->currentData().toString() == "slurm"; }

void SlurmSettings::chooseSlurm(bool on) {
  const int i = target_->findData(on ? QStringLiteral("slurm") : QStringLiteral("local"));
  if (i >= 0) target_->setCurrentIndex(i);
}

ptq::SlurmOptions SlurmSettings::options() const {
  ptq::SlurmOptions o;
  o.partition = partition_->text().trimmed().toStdString();
  o.time = time_->text().trimmed().toStdString();
  o.account = account_->text().trimmed().toStdString();
  o.gpus_per_run = gpus_->value();
  o.cpus_per_run = cpus_->value();
  o.array_limit = arrayLimit_->value();
  for (const QString& a : extra_->text().split(';', Qt::SkipEmptyParts))
    if (!a.trimmed().isEmpty()) o.sbatch_args.push_back(a.trimmed().toStdString());
  return o;
}

void SlurmSettings::setOptions(const ptq::SlurmOptions& o) {
  partition_->setText(QString::fromStdString(o.partition));
  time_->setText(QString::fromStdString(o.time));
  account_->setText(QString::fromStdString(o.account));
  gpus_->setValue(o.gpus_per_run);
  cpus_->setValue(o.cpus_per_run);
  arrayLimit_->setValue(o.array_limit);
  QStringList extra;
  for (const auto& a : o.sbatch_args) extra << QString::fromStdString(a);
  extra_->setText(extra.join("; "));
}

}  // namespace ptq::views
