#pragma once
// Small form pieces shared by the strategy panel and the sweep builder: a path field with a
// browse button, a named spin box, and the evaluation settings (perplexity text, sequence length,
// window limit, opt-in analyses) that experiment and sweep specs share ("eval", "analyses").
#include <QWidget>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

class QCheckBox;
class QLineEdit;
class QSpinBox;

namespace ptq::views {

// `edit` with a "…" button that picks one file (or several, joined with "; ", when `many`).
QWidget* withBrowseButton(QLineEdit* edit, bool many, QWidget* parent);
QSpinBox* makeSpin(QWidget* parent, const char* objectName, int lo, int hi);
// "a; b" ↔ ["a", "b"].
std::vector<std::string> splitPaths(const QString& text);
QString joinPaths(const std::vector<std::string>& paths);
// The weight formats the quantizer knows ("int", "nf4", ...), in quant/quantizer.h's order.
const std::vector<std::string>& weightFormatNames();

class EvalSettings : public QWidget {
  Q_OBJECT
 public:
  explicit EvalSettings(QWidget* parent = nullptr);
  QString text() const;
  int seqlen() const;
  int maxWindows() const;  // 0 = all
  std::vector<std::string> analyses() const;  // checked, in experiment_analyses() order
  void setValues(const QString& text, int seqlen, int maxWindows, const std::vector<std::string>& analyses);
  // {"text", "seqlen", "max_windows"} or null when no text is set (the specs' "eval" value).
  nlohmann::json evalJson() const;

 Q_SIGNALS:
  void changed();

 private:
  QLineEdit* text_;
  QSpinBox *seqlen_, *windows_;
  std::map<std::string, QCheckBox*> analyses_;
};

}  // namespace ptq::views
