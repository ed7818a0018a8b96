#include "views/panels/wheel_guard.h"

#include <QAbstractSlider>
#include <QAbstractSpinBox>
#include <QApplication>
#include <QComboBox>
#include <QEvent>
#include <QWidget>

namespace ptq::views {

void WheelGuard::install() {
  if (!qApp || qApp->findChild<WheelGuard*>(QString(), Qt::FindDirectChildrenOnly)) return;
  qApp->installEventFilter(new WheelGuard(qApp));
}

bool WheelGuard::guards(const QObject* o) {
  if (qobject_cast<const QComboBox*>(o) || qobject_cast<const QAbstractSpinBox*>(o)) return true;
  // Sliders, but not the scroll bars the wheel is meant for.
  auto* slider = qobject_cast<const QAbstractSlider*>(o);
  return slider && !o->inherits("QScrollBar");
}

bool WheelGuard::eventFilter(QObject* watched, QEvent* e) {
  if (!watched->isWidgetType() || !guards(watched)) return false;
  auto* w = static_cast<QWidget*>(watched);
  if (e->type() == QEvent::Polish && w->focusPolicy() == Qt::WheelFocus) w->setFocusPolicy(Qt::StrongFocus);
  if (e->type() == QEvent::Wheel && !w->hasFocus()) {
    e->ignore();  // filtered and not accepted: QApplication offers it to the parent (the scroll area)
    return true;
  }
  return false;
}

}  // namespace ptq::views
