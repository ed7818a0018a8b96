#include "views/panels/param_form.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QSpinBox>
#include <algorithm>
#include <cmath>

namespace ptq::views {

namespace {
// Enough decimals to show the smallest non-zero bound and the default.
int decimalsFor(const ptq::ParamSpec& p) {
  double smallest = 1.0;
  for (double v : {p.min, p.max, p.default_value.get<double>()})
    if (v != 0) smallest = std::min(smallest, std::abs(v));
  return std::clamp(int(std::ceil(-std::log10(smallest))) + 2, 2, 8);
}
}  // namespace

QWidget* makeParamEditor(const ptq::ParamSpec& p, QWidget* parent) {
  QWidget* w = nullptr;
  QString range;
  if (p.type == "int") {
    auto* s = new QSpinBox(parent);
    s->setRange(int(p.min), int(p.max));
    w = s;
    range = QStringLiteral(" [%1, %2]").arg(int(p.min)).arg(int(p.max));
  } else if (p.type == "float") {
    auto* s = new QDoubleSpinBox(parent);
    s->setDecimals(decimalsFor(p));
    s->setRange(p.min, p.max);
    s->setSingleStep(std::max((p.max - p.min) / 100.0, std::pow(10.0, -s->decimals())));
    w = s;
    range = QStringLiteral(" [%1, %2]").arg(p.min).arg(p.max);
  } else if (p.type == "bool") {
    w = new QCheckBox(parent);
  } else {
    auto* c = new QComboBox(parent);
    for (const auto& ch : p.choices) c->addItem(QString::fromStdString(ch));
    w = c;
  }
  w->setToolTip(QStringLiteral("%1%2, default %3")
                    .arg(QString::fromStdString(p.help), range, QString::fromStdString(p.default_value.dump())));
  setParamEditorValue(w, p, p.default_value);
  return w;
}

nlohmann::json paramEditorValue(const QWidget* w, const ptq::ParamSpec& p) {
  if (p.type == "int") return int64_t(static_cast<const QSpinBox*>(w)->value());
  if (p.type == "float") return static_cast<const QDoubleSpinBox*>(w)->value();
  if (p.type == "bool") return static_cast<const QCheckBox*>(w)->isChecked();
  return static_cast<const QComboBox*>(w)->currentText().toStdString();
}

void setParamEditorValue(QWidget* w, const ptq::ParamSpec& p, const nlohmann::json& v) {
  if (p.type == "int" && v.is_number()) static_cast<QSpinBox*>(w)->setValue(int(v.get<double>()));
  else if (p.type == "float" && v.is_number()) static_cast<QDoubleSpinBox*>(w)->setValue(v.get<double>());
  else if (p.type == "bool" && v.is_boolean()) static_cast<QCheckBox*>(w)->setChecked(v.get<bool>());
  else if (p.type == "choice" && v.is_string())
    static_cast<QComboBox*>(w)->setCurrentText(QString::fromStdString(v.get<std::string>()));
}

bool isParamDefault(const ptq::ParamSpec& p, const nlohmann::json& v) {
  if (p.type == "float" && v.is_number()) {
    double a = v.get<double>(), b = p.default_value.get<double>();
    return std::abs(a - b) <= 1e-12 * std::max(1.0, std::abs(b));
  }
  return v == p.default_value;
}

}  // namespace ptq::views
