#include "app/gui/workbench_paths.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

namespace ptq::gui {

QString resourcesDir() {
  QStringList candidates;
  QDir exe(QCoreApplication::applicationDirPath());
  for (int up = 0; up < 4; ++up) {
    candidates << exe.absoluteFilePath("resources") << exe.absoluteFilePath("share/ptq-workbench/resources");
    if (!exe.cdUp()) break;
  }
#ifdef PTQ_SOURCE_DIR
  candidates << QStringLiteral(PTQ_SOURCE_DIR "/resources");
#endif
  for (const QString& c : candidates)
    if (QFileInfo(c + "/demo-model/config.json").exists()) return QDir::cleanPath(c);
  return {};
}

QString resourcePath(const QString& relative) {
  const QString dir = resourcesDir();
  return dir.isEmpty() ? QString() : dir + "/" + relative;
}

QString defaultResultsDir() {
  QFileInfo cwd(QDir::currentPath());
  if (cwd.isWritable()) return QDir::current().absoluteFilePath("demo-results");
  return QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) + "/demo-results";
}

}  // namespace ptq::gui
