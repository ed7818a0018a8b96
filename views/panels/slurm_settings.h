#pragma once
// Where the sweep builder's sweep runs: "Local devices" (the job queue) or "Slurm cluster" (a job
// array through eval/experiment/slurm_backend.h), the latter offered only when sbatch is on PATH.
// With the cluster chosen: partition, GPUs and CPUs per run, time limit, array limit, account and
// more sbatch options ("--qos=high; --constraint=a100").
#include <QGroupBox>

#include "eval/experiment/slurm_backend.h"

class QComboBox;
class QLineEdit;
class QSpinBox;
class QWidget;

namespace ptq::views {

class SlurmSettings : public QGroupBox {
  Q_OBJECT
 public:
  // slurmAvailable: offer the cluster (callers pass ptq::slurm_available()).
  explicit SlurmSettings(bool slurmAvailable, QWidget* parent = nullptr);

  bool slurmAvailable() const;
  bool slurmChosen() const;
  void chooseSlurm(bool on);  // no effect without Slurm
  // The form's options (ptq executable and resume left to the caller).
  ptq::SlurmOptions options() const;
  void setOptions(const ptq::SlurmOptions& o);

 Q_SIGNALS:
  void changed();

 private:
  QComboBox* target_;
  QWidget* cluster_;
  QLineEdit *partition_, *time_, *account_, *extra_;
  QSpinBox *gpus_, *cpus_, *arrayLimit_;
};

}  // namespace ptq::views
