#pragma once
// What the experiment-form Qt tests share: a named child widget (fatal when missing, so a renamed
// editor fails the test loudly) and composing a method from the quantizer box and transform checks.
#include <QCheckBox>
#include <QComboBox>
#include <QString>
#include <QStringList>
#include <QWidget>

#include "quant/strategy_registry.h"
#include "views/panels/strategy_panel.h"

namespace ptq::views::test {

template <class W>
W* child(QWidget& w, const QString& name) {
  W* c = w.findChild<W*>(name);
  if (!c) qFatal("no child %s", qPrintable(name));
  return c;
}

// Picks `quantizer` and checks exactly the transforms in `transforms` (registry ids).
inline void compose(StrategyPanel& p, const QString& quantizer, const QStringList& transforms) {
  auto* q = child<QComboBox>(p, "quantizer");
  q->setCurrentIndex(q->findData(quantizer));
  for (const auto& s : ptq::strategy_registry())
    if (s.kind != ptq::StageKind::Quantizer)
      child<QCheckBox>(p, QString::fromStdString("transform." + s.id))->setChecked(transforms.contains(QString::fromStdString(s.id)));
}

}  // namespace ptq::views::test
