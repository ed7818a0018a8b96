#pragma once
// Strategy panel: one experiment, composed from the strategy registry alone. The method is a
// quantizer (or "fp") with optional transforms before it (rotate+gptq, awq+gptq); each selected
// stage's parameters get typed editors generated from its schema (param_form.h); then the
// quantization grid (bits, group, format, sym, clip ratio), calibration, evaluation, analyses and
// device. spec() is the ExperimentSpec JSON (eval/experiment.h) the job queue runs.
#include <QString>
#include <QStringList>
#include <QWidget>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "views/panels/run_check.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;

namespace ptq {
struct ExperimentSpec;
}

namespace ptq::views {

class EvalSettings;

class StrategyPanel : public QWidget {
  Q_OBJECT
 public:
  explicit StrategyPanel(QWidget* parent = nullptr);

  // The experiment as ExperimentSpec::to_json(); throws ptq::Error naming what is wrong.
  nlohmann::json spec() const;
  // Empty when spec() succeeds and (with a checkpoint reader) the run fits the chosen model and
  // its files exist (run_check.h), else the problem.
  QString validationError() const;
  // What reads a checkpoint's summary (the engine's, injected by the application): with it the
  // form checks the run against the model before queueing and the cost hint counts its blocks.
  void setCheckpointReader(ModelSummaries::Reader reader);
  // Earlier result records (the results folder) that the cost hint times the run by.
  void setTimingRecords(std::vector<nlohmann::json> records);
  QString costHint() const;
  // Fills the form from an ExperimentSpec JSON; false (and error in *error) when it does not parse.
  bool setSpec(const nlohmann::json& spec, QString* error = nullptr);

  // "fp", "gptq", "rotate+gptq": composed from the quantizer and the checked transforms.
  QString method() const;
  void setModels(const QStringList& dirs);  // choices of the model box (the library's folders)
  void setModel(const QString& dir);
  void setDefaultTexts(const QString& calibFile, const QString& evalText);

  // Stage parameters that differ from their defaults, as {"gptq.percdamp": 0.02}.
  nlohmann::json changedParams() const;

 Q_SIGNALS:
  void specChanged();
  void runRequested();  // the user pressed Run: the owner enqueues spec()

 private:
  struct StageForm {
    QGroupBox* box = nullptr;
    std::map<std::string, QWidget*> editors;  // parameter name → editor
  };
  QWidget* buildMethodBox();
  QWidget* buildQuantBox();
  QWidget* buildCalibBox();
  QWidget* buildEvalBox();
  QWidget* buildRunBox();
  void buildStageForms(QWidget* host);
  void apply(const ptq::ExperimentSpec& s);  // fills every editor
  void refresh();  // visibility of stage forms, enabled state, preview
  int groupValue() const;
  ptq::ExperimentSpec overridesValue() const;  // the overrides box parsed (throws ptq::Error)
  void watch(QWidget* w);  // any edit of w → refresh
  QString modelProblem(const ptq::ExperimentSpec& s) const;

  QComboBox* model_;
  QComboBox* quantizer_;
  std::map<std::string, QCheckBox*> transforms_;
  QLabel* methodInfo_;
  QGroupBox* quantBox_;
  QSpinBox* bits_;
  QComboBox* group_;
  QComboBox* format_;
  QCheckBox* sym_;
  QDoubleSpinBox* clip_;
  QLineEdit* overrides_;
  std::map<std::string, QWidget*> planEditors_;  // ptq::plan_param_schema(): sym_style, act_*
  std::map<std::string, StageForm> stages_;
  QGroupBox* calibBox_;
  QLineEdit* calibFiles_;
  QSpinBox *nsamples_, *calibSeqlen_, *calibSeed_;
  QComboBox* sampling_;
  QSpinBox* calibBatch_;
  EvalSettings* eval_;
  QComboBox *device_, *dtype_, *residency_;
  QSpinBox *evalBatch_, *seed_;
  QLineEdit* tasks_;
  QLineEdit* label_;
  QPlainTextEdit* preview_;
  QLabel* error_;
  QLabel* cost_;
  QPushButton* run_;
  mutable ModelSummaries summaries_;
  std::vector<nlohmann::json> timingRecords_;
  bool loading_ = false;
};

}  // namespace ptq::views
