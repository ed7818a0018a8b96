#pragma once
// The workbench's persistent settings, every one declared here once with its key, type and
// default (a typed façade over QSettings): window geometry and state, recent models and results
// folders, the last export preset and DPI. Tests pass their own QSettings (a temporary INI file).
#include <QByteArray>
#include <QSettings>
#include <QString>
#include <QStringList>
#include <QVariant>
#include <memory>

namespace ptq::views {

template <class T>
struct SettingKey {
  const char* name;
  T fallback;
};

namespace setting {
inline const SettingKey<QByteArray> windowGeometry{"window/geometry", {}};
inline const SettingKey<QByteArray> windowState{"window/state", {}};
inline const SettingKey<QStringList> recentModels{"recent/models", {}};
inline const SettingKey<QStringList> recentResultsDirs{"recent/results_dirs", {}};
inline const SettingKey<QString> lastExportPreset{"export/preset", QStringLiteral("single-column")};
inline const SettingKey<int> lastExportDpi{"export/dpi", 300};
inline const SettingKey<QString> lastExportDir{"export/dir", {}};
inline const SettingKey<QString> lastExportFormat{"export/format", QStringLiteral("pdf")};
// The session a reopened window comes back to: the model library, the results folder, the
// experiment form (ExperimentSpec JSON) and the sweep form (SweepSpec JSON).
inline const SettingKey<QStringList> sessionModels{"session/models", {}};
inline const SettingKey<QString> sessionResultsDir{"session/results_dir", {}};
inline const SettingKey<QString> sessionExperiment{"session/experiment", {}};
inline const SettingKey<QString> sessionSweep{"session/sweep", {}};
}  // namespace setting

class Settings {
 public:
  // nullptr: the application's QSettings (organisation / application name).
  explicit Settings(QSettings* store = nullptr);
  ~Settings();

  template <class T>
  T get(const SettingKey<T>& k) const {
    QVariant v = store_->value(QLatin1String(k.name));
    // A missing key or a value that does not convert (edited by hand) gives the default.
    return v.isValid() && v.convert(QMetaType::fromType<T>()) ? v.value<T>() : k.fallback;
  }
  template <class T>
  void set(const SettingKey<T>& k, const T& value) {
    store_->setValue(QLatin1String(k.name), QVariant::fromValue(value));
  }

  // Most recently used first, no duplicates, at most kMaxRecent entries.
  static constexpr int kMaxRecent = 10;
  void pushRecent(const SettingKey<QStringList>& k, const QString& entry);

  void sync() { store_->sync(); }
  QSettings& store() { return *store_; }

 private:
  std::unique_ptr<QSettings> owned_;
  QSettings* store_;
};

}  // namespace ptq::views
