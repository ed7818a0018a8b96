#include "views/analyses/run_description.h"

#include <QFileInfo>
#include <QObject>
#include <QStringList>
#include <cmath>

namespace ptq::views {

QString calibrationText(const Record& r) {
  const auto& c = field(r, "calibration");
  if (!c.is_object()) return QObject::tr("none");
  QStringList files;
  if (c.contains("files") && c["files"].is_array())
    for (const auto& f : c["files"])
      if (f.is_string()) files << QFileInfo(QString::fromStdString(f.get<std::string>())).fileName();
  QString s = files.isEmpty() ? QObject::tr("?") : files.join(", ");
  const double n = number(c, "nsamples"), len = number(c, "seqlen"), seed = number(c, "seed");
  if (std::isfinite(n) && std::isfinite(len)) s += QObject::tr(", %1 × %2 tokens").arg(n).arg(len);
  if (std::isfinite(seed)) s += QObject::tr(", seed %1").arg(seed);
  const QString sampling = text(c, "sampling");
  if (!sampling.isEmpty() && sampling != "random") s += ", " + sampling;
  return s;
}

QString runDescription(const Record& r) {
  QStringList lines;
  lines << QObject::tr("model: %1").arg(modelName(r));
  lines << QObject::tr("method: %1 (%2)").arg(methodName(r), quantTag(r));
  const double g = groupSize(r);
  lines << QObject::tr("bits: %1, group: %2")
               .arg(formatNumber(bits(r)))
               .arg(std::isnan(g) ? QObject::tr("–") : g <= 0 ? QObject::tr("per channel") : QString::number(g));
  lines << QObject::tr("calibration: %1").arg(calibrationText(r));
  const QString label = text(r, "label");
  if (!label.isEmpty()) lines << QObject::tr("label: %1").arg(label);
  return lines.join('\n');
}

}  // namespace ptq::views
