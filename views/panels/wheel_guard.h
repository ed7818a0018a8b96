#pragma once
// The mouse wheel over a form must scroll the form, not change the combo boxes and spin boxes it
// passes over (issue 15: dtype float32 -> float16, unnoticed). Installed on the application, this
// filter gives those inputs a click-or-tab focus policy (the wheel no longer focuses them) and hands
// a wheel event over an unfocused one to its parent (the scroll area).
#include <QObject>

namespace ptq::views {

class WheelGuard : public QObject {
  Q_OBJECT
 public:
  explicit WheelGuard(QObject* parent = nullptr) : QObject(parent) {}
  // Installs one guard on the running application (idempotent).
  static void install();
  // Inputs the guard applies to: combo boxes, spin boxes, sliders.
  static bool guards(const QObject* o);

 protected:
  bool eventFilter(QObject* watched, QEvent* e) override;
};

}  // namespace ptq::views
