#include "views/analyses/kurtosis_inputs.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "views/charts/chart_style.h"
#include "views/records/record_fields.h"

namespace ptq::views {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const nlohmann::json& stageLayers(const nlohmann::json& r, const char* stage) {
  return field(r, (std::string("analyses/kurtosis/") + stage + "/layers").c_str());
}

// The stage's row of `layer`, or null.
const nlohmann::json* findLayer(const nlohmann::json& r, const char* stage, const QString& layer) {
  const nlohmann::json& ls = stageLayers(r, stage);
  if (!ls.is_array()) return nullptr;
  for (const auto& l : ls)
    if (l.is_object() && QString::fromStdString(l.value("name", std::string())) == layer) return &l;
  return nullptr;
}

double num(const nlohmann::json& j) { return j.is_number() ? j.get<double>() : kNaN; }

// Mean activation kurtosis of every input group over the stage's layers (NaN where none).
std::vector<double> groupMeans(const nlohmann::json& layers) {
  std::map<QString, std::pair<double, int>> acc;
  if (layers.is_array())
    for (const auto& l : layers) {
      const QString g = inputGroupOf(QString::fromStdString(l.value("type", std::string())));
      const double v = num(l.value("activation", nlohmann::json()));
      if (g.isEmpty() || !std::isfinite(v)) continue;
      acc[g].first += v;
      acc[g].second += 1;
    }
  std::vector<double> out;
  for (const auto& g : inputGroups()) {
    auto it = acc.find(g);
    out.push_back(it == acc.end() ? kNaN : it->second.first / it->second.second);
  }
  return out;
}

bool hasTransformed(const nlohmann::json& r) { return field(r, "analyses/kurtosis/transformed").is_object(); }

}  // namespace

const QStringList& inputGroups() {
  static const QStringList g = {"q/k/v input", "o input", "gate/up input", "down input"};
  return g;
}

QString inputGroupOf(const QString& t) {
  if (t == "q" || t == "k" || t == "v" || t == "qkv") return inputGroups()[0];
  if (t == "o") return inputGroups()[1];
  if (t == "gate" || t == "up" || t == "gate_up" || t == "expert_gate" || t == "expert_up" || t == "router")
    return inputGroups()[2];
  if (t == "down" || t == "expert_down") return inputGroups()[3];
  return {};
}

QString transformName(const nlohmann::json& r) {
  const QString m = methodName(r);
  return m.contains('+') ? m.section('+', 0, -2) : m;
}

BarChart inputKurtosisChart(const nlohmann::json& r, bool log) {
  BarChart c;
  c.log = log;
  c.title = QObject::tr("Activation kurtosis by layer input: %1").arg(recordLabel(r, false));
  c.categoryLabel = QObject::tr("layer input");
  c.valueLabel = QObject::tr("kurtosis (Pearson)");
  c.categories = inputGroups();
  c.series.push_back({QObject::tr("before (fp)"), ChartStyle::seriesColor(5), groupMeans(stageLayers(r, "fp"))});
  if (hasTransformed(r))
    c.series.push_back({QObject::tr("after %1").arg(transformName(r)), ChartStyle::seriesColor(1),
                        groupMeans(stageLayers(r, "transformed"))});
  return c;
}

QStringList channelLayers(const nlohmann::json& r) {
  std::vector<std::pair<double, QString>> byOutlier;  // (max / median, name)
  const nlohmann::json& ls = stageLayers(r, "fp");
  if (ls.is_array())
    for (const auto& l : ls) {
      if (!l.is_object() || !l.value("channel_absmax", nlohmann::json()).is_object()) continue;
      const nlohmann::json& ca = l["channel_absmax"];
      const double mx = num(ca.value("max", nlohmann::json())), med = num(ca.value("median", nlohmann::json()));
      byOutlier.push_back({med > 0 ? mx / med : 0.0, QString::fromStdString(l.value("name", std::string()))});
    }
  std::stable_sort(byOutlier.begin(), byOutlier.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  QStringList out;
  for (const auto& p : byOutlier) out << p.second;
  return out;
}

BarChart channelAbsmaxChart(const nlohmann::json& r, const QString& layer, bool log) {
  BarChart c;
  c.log = log;
  c.title = QObject::tr("Outlier channels of %1's input: %2").arg(layer, recordLabel(r, false));
  c.categoryLabel = QObject::tr("channel rank by max|x| (channel indexes in the data table)");
  c.valueLabel = QObject::tr("max |x| over calibration tokens");
  const nlohmann::json* fp = findLayer(r, "fp", layer);
  const nlohmann::json* tr = hasTransformed(r) ? findLayer(r, "transformed", layer) : nullptr;
  size_t k = 0;
  for (const nlohmann::json* l : {fp, tr})
    if (l && l->value("channel_absmax", nlohmann::json()).is_object())
      k = std::max(k, (*l)["channel_absmax"].value("top", nlohmann::json::array()).size());
  if (k == 0) return c;
  for (size_t i = 0; i < k; ++i) c.categories << QString("#%1").arg(i + 1);
  c.categories << QObject::tr("median");
  auto values = [&](const nlohmann::json* l) {
    std::vector<double> v(k + 1, kNaN);
    if (!l || !l->value("channel_absmax", nlohmann::json()).is_object()) return v;
    const nlohmann::json& ca = (*l)["channel_absmax"];
    const nlohmann::json top = ca.value("top", nlohmann::json::array());
    for (size_t i = 0; i < top.size() && i < k; ++i) v[i] = num(top[i][1]);
    v[k] = num(ca.value("median", nlohmann::json()));
    return v;
  };
  c.series.push_back({QObject::tr("before (fp)"), ChartStyle::seriesColor(5), values(fp)});
  if (tr) c.series.push_back({QObject::tr("after %1").arg(transformName(r)), ChartStyle::seriesColor(1), values(tr)});
  return c;
}

TextTable channelTable(const nlohmann::json& r, const QString& layer) {
  TextTable t;
  t.headers = {QObject::tr("rank"), QObject::tr("fp channel"), QObject::tr("fp max|x|")};
  const nlohmann::json* fp = findLayer(r, "fp", layer);
  const nlohmann::json* tr = hasTransformed(r) ? findLayer(r, "transformed", layer) : nullptr;
  if (tr) t.headers << QObject::tr("%1 channel").arg(transformName(r)) << QObject::tr("%1 max|x|").arg(transformName(r));
  auto top = [](const nlohmann::json* l) {
    if (!l || !l->value("channel_absmax", nlohmann::json()).is_object()) return nlohmann::json::array();
    return (*l)["channel_absmax"].value("top", nlohmann::json::array());
  };
  const nlohmann::json a = top(fp), b = top(tr);
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    QStringList row{QString::number(i + 1)};
    for (const nlohmann::json* s : {&a, &b}) {
      if (s == &b && !tr) continue;
      const bool have = i < s->size();
      row << (have ? QString::number((*s)[i][0].get<long long>()) : QString())
          << (have ? QString::number(num((*s)[i][1]), 'g', 5) : QString());
    }
    t.rows.push_back(row);
  }
  return t;
}

}  // namespace ptq::views
