#include "views/records/settings.h"

namespace ptq::views {

Settings::Settings(QSettings* store) {
  if (!store) {
    owned_ = std::make_unique<QSettings>();
    store = owned_.get();
  }
  store_ = store;
}

Settings::~Settings() = default;

void Settings::pushRecent(const SettingKey<QStringList>& k, const QString& entry) {
  if (entry.isEmpty()) return;
  QStringList list = get(k);
  list.removeAll(entry);
  list.prepend(entry);
  while (list.size() > kMaxRecent) list.removeLast();
  set(k, list);
}

}  // namespace ptq::views
