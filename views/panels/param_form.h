#pragma once
// Typed editors for strategy parameters, built from the registry's schema alone
// (quant/strategy_registry.h ParamSpec): int → spin box, float → double spin box, bool → check
// box, choice → combo box; each with the schema's range, default and help (tooltip).
#include <nlohmann/json.hpp>

#include "quant/strategy_registry.h"

class QWidget;

namespace ptq::views {

QWidget* makeParamEditor(const ptq::ParamSpec& p, QWidget* parent);
nlohmann::json paramEditorValue(const QWidget* editor, const ptq::ParamSpec& p);
void setParamEditorValue(QWidget* editor, const ptq::ParamSpec& p, const nlohmann::json& v);
// True when v equals the schema default (floats within 1e-12 relative).
bool isParamDefault(const ptq::ParamSpec& p, const nlohmann::json& v);

}  // namespace ptq::views
