#pragma once
// Sweep builder: models × methods × bits × groups × formats × sym × activation bits × calibration
// sets, with the
// eval text, analyses and device, as the sweep spec JSON that eval/sweep.h parses (`ptq sweep`
// reads the same file). Shows how many runs the sweep expands to (fp once per model; see
// eval/sweep.h), saves and loads the spec, and asks for it to be enqueued. Keys the form has no
// editor for (params, overrides, tasks, dtype, ...) are kept from the loaded spec.
#include <QString>
#include <QStringList>
#include <QWidget>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QTableWidget;

namespace ptq::views {

class EvalSettings;
class SlurmSettings;

class SweepBuilder : public QWidget {
  Q_OBJECT
 public:
  // slurmAvailable < 0: offer the Slurm target when sbatch is on PATH (ptq::slurm_available()).
  explicit SweepBuilder(QWidget* parent = nullptr, int slurmAvailable = -1);
  // Where the sweep runs: local devices (the job queue) or the Slurm cluster, and its limits.
  SlurmSettings* target() const { return target_; }

  // The sweep spec (paths absolute). Does not validate: see runs().
  nlohmann::json sweepJson() const;
  // Fills the form; relative paths are made absolute against baseDir. False + *error when the
  // spec does not parse (eval/sweep.h names the key).
  bool setSweepJson(const nlohmann::json& j, const QString& baseDir, QString* error = nullptr);
  bool loadFile(const QString& path, QString* error = nullptr);
  bool saveFile(const QString& path, QString* error = nullptr) const;

  // The expanded runs (ExperimentSpec JSON each); throws ptq::Error naming a bad key or value.
  std::vector<nlohmann::json> runs() const;
  int runCount() const { return count_; }  // -1 when the spec is invalid
  QString validationError() const { return error_; }

  void setModels(const QStringList& dirs);  // adds the library's models (unchecked when new)
  void addModel(const QString& dir, bool checked = true);

 Q_SIGNALS:
  void sweepChanged();
  void enqueueRequested();  // the owner enqueues runs()

 private:
  QWidget* buildAxes();
  QWidget* buildCalibrations();
  void addCalibrationRow(const nlohmann::json& c);
  void addMethod(const QString& m, bool checked);
  void recount();
  void watch(QWidget* w);

  QListWidget* models_;
  QListWidget* methods_;
  QLineEdit* customMethod_;
  std::map<int, QCheckBox*> bits_;
  std::map<int, QCheckBox*> groups_;
  std::map<int, QCheckBox*> act_bits_;  // 0 = activations in full precision (W-only)
  std::map<std::string, QCheckBox*> formats_;
  QCheckBox *asym_, *sym_;
  QTableWidget* calibs_;
  EvalSettings* eval_;
  SlurmSettings* target_;
  QComboBox* device_;
  QLabel* count_label_;
  nlohmann::json extra_ = nlohmann::json::object();  // loaded keys without an editor
  QString error_;
  int count_ = -1;
  bool loading_ = false;
};

}  // namespace ptq::views
