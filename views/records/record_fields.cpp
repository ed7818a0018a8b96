#include "views/records/record_fields.h"

#include <QFileInfo>
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace ptq::views {
namespace {
const nlohmann::json& nullJson() {
  static const nlohmann::json n;
  return n;
}
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

const nlohmann::json& field(const Record& r, const char* path) {
  const nlohmann::json* cur = &r;
  std::string p(path);
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    std::string key = p.substr(start, end - start);
    if (!cur->is_object()) return nullJson();
    auto it = cur->find(key);
    if (it == cur->end()) return nullJson();
    cur = &*it;
    start = end + 1;
  }
  return *cur;
}

double number(const Record& r, const char* path) {
  const auto& v = field(r, path);
  return v.is_number() ? v.get<double>() : kNaN;
}

QString text(const Record& r, const char* path) {
  const auto& v = field(r, path);
  return v.is_string() ? QString::fromStdString(v.get<std::string>()) : QString();
}

bool has(const Record& r, const char* path) { return !field(r, path).is_null(); }

QString modelName(const Record& r) {
  QString name = text(r, "provenance/model/name");
  if (name.isEmpty()) name = QFileInfo(text(r, "spec/model_dir")).fileName();
  return name.isEmpty() ? QStringLiteral("?") : name;
}

QString methodName(const Record& r) {
  QString m = text(r, "method");
  return m.isEmpty() ? QStringLiteral("fp") : m;
}

bool isBaseline(const Record& r) { return methodName(r) == "fp" || !field(r, "quant").is_object(); }

double bits(const Record& r) {
  if (isBaseline(r)) return 16;
  return number(r, "quant/bits");
}

double groupSize(const Record& r) {
  if (isBaseline(r)) return kNaN;
  double g = number(r, "quant/group");
  return std::isnan(g) ? kNaN : std::max(0.0, g);
}

QString quantTag(const Record& r) {
  if (isBaseline(r)) return QStringLiteral("fp");
  double b = bits(r), g = groupSize(r);
  QString tag = QStringLiteral("w%1").arg(std::isnan(b) ? QStringLiteral("?") : QString::number(b));
  const double a = actBits(r);
  if (a > 0) tag += QStringLiteral("a%1").arg(a);  // w4a8g128, as the literature writes it
  tag += (std::isnan(g) || g <= 0) ? QStringLiteral(" per-ch") : QStringLiteral("g%1").arg(g);
  QString fmt = text(r, "quant/format");
  if (!fmt.isEmpty() && fmt != "int") tag += " " + fmt;
  QString afmt = text(r, "quant/act_format");
  if (a > 0 && !afmt.isEmpty() && afmt != "int") tag += " a-" + afmt;
  if (field(r, "quant/sym").is_boolean() && field(r, "quant/sym").get<bool>()) tag += " sym";
  return tag;
}

QString recordLabel(const Record& r, bool withLabel) {
  QString s = modelName(r) + " " + (isBaseline(r) ? QStringLiteral("fp") : methodName(r) + " " + quantTag(r));
  QString label = text(r, "label");
  if (withLabel && !label.isEmpty()) s += " [" + label + "]";
  return s;
}

double actBits(const Record& r) {
  if (isBaseline(r)) return 0;
  const double a = number(r, "quant/act_bits");
  return std::isnan(a) ? 0 : a;
}

QString pointLabel(const Record& r) {
  if (isBaseline(r)) return modelName(r) + " fp";
  const double a = actBits(r);
  if (a > 0) return modelName(r) + " w" + QString::number(bits(r)) + "a" + QString::number(a);
  return modelName(r) + " " + QString::number(bits(r)) + "b";
}

double deltaPpl(const Record& r, const std::vector<Record>& all) {
  double ppl = number(r, "metrics/ppl");
  if (std::isnan(ppl)) return kNaN;
  if (isBaseline(r)) return 0.0;  // the baseline is its own reference
  double fp = number(r, "metrics/compare/ppl_fp");
  if (std::isnan(fp)) {
    for (const auto& o : all) {
      if (!isBaseline(o) || modelName(o) != modelName(r)) continue;
      if (text(o, "metrics/eval/text") != text(r, "metrics/eval/text")) continue;
      if (number(o, "metrics/eval/seqlen") != number(r, "metrics/eval/seqlen")) continue;
      const double wo = number(o, "metrics/eval/windows"), wr = number(r, "metrics/eval/windows");
      if (!std::isnan(wo) && !std::isnan(wr) && wo != wr) continue;  // a different number of windows
      fp = number(o, "metrics/ppl");
      if (!std::isnan(fp)) break;
    }
  }
  return ppl - fp;
}

std::vector<QString> taskNames(const std::vector<Record>& records) {
  std::set<QString> names;
  for (const auto& r : records) {
    const auto& tasks = field(r, "metrics/tasks");
    if (!tasks.is_object()) continue;
    for (auto it = tasks.begin(); it != tasks.end(); ++it)
      if (it->is_object() && it->contains("acc")) names.insert(QString::fromStdString(it.key()));
  }
  return {names.begin(), names.end()};
}

double taskAccuracy(const Record& r, const QString& task) {
  const auto& tasks = field(r, "metrics/tasks");
  if (!tasks.is_object()) return kNaN;
  auto it = tasks.find(task.toStdString());
  if (it == tasks.end() || !it->is_object()) return kNaN;
  auto acc = it->find("acc");
  return (acc != it->end() && acc->is_number()) ? acc->get<double>() : kNaN;
}

QString formatNumber(double v, int sig, const QString& missing) {
  if (std::isnan(v)) return missing;
  return QString::number(v, 'g', sig);
}

bool sortsBefore(const QVariant& a, const QVariant& b, Qt::SortOrder order) {
  if (a.typeId() == QMetaType::Double && b.typeId() == QMetaType::Double) {
    const double x = a.toDouble(), y = b.toDouble();
    if (std::isnan(x) || std::isnan(y)) {
      const bool onlyYMissing = !std::isnan(x) && std::isnan(y), onlyXMissing = std::isnan(x) && !std::isnan(y);
      return order == Qt::AscendingOrder ? onlyYMissing : onlyXMissing;
    }
    return x < y;
  }
  return QString::localeAwareCompare(a.toString(), b.toString()) < 0;
}

}  // namespace ptq::views
