#include "views/charts/layer_grid.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

namespace ptq::views {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double meanOf(const std::vector<double>& v) {
  double s = 0;
  int n = 0;
  for (double x : v)
    if (std::isfinite(x)) { s += x; ++n; }
  return n ? s / n : kNaN;
}
}  // namespace

QStringList orderTypes(const QStringList& types) {
  // Rows in execution order: attention (fused qkv; DeepSeek's latent q_a -> q_b and kv_a -> kv_b),
  // MLP (fused gate_up beside its parts), MoE experts' rows (kurtosis_type: expert_*), the router,
  // then Mamba's mixer (in_proj -> x_proj -> dt_proj -> out_proj); unknown types follow, sorted.
  static const QStringList known = {"q",           "k",         "v",           "qkv",     "q_a",    "q_b",
                                    "kv_a",        "kv_b",      "o",           "gate",    "up",     "gate_up",
                                    "down",        "expert_gate", "expert_up", "expert_down", "router", "in_proj",
                                    "x_proj",      "dt_proj",   "out_proj"};
  QStringList out, rest;
  for (const auto& k : known)
    if (types.contains(k)) out << k;
  for (const auto& t : types)
    if (!known.contains(t) && !rest.contains(t)) rest << t;
  rest.sort();
  return out + rest;
}

int LayerGrid::blockIndex(int block) const {
  auto it = std::find(blocks.begin(), blocks.end(), block);
  return it == blocks.end() ? -1 : static_cast<int>(it - blocks.begin());
}

double LayerGrid::at(int block, const QString& type) const {
  int t = typeIndex(type), b = blockIndex(block);
  return (t < 0 || b < 0) ? kNaN : values[t][b];
}

std::vector<double> LayerGrid::typeMeans() const {
  std::vector<double> out;
  for (const auto& row : values) out.push_back(meanOf(row));
  return out;
}

std::vector<double> LayerGrid::blockMeans() const {
  std::vector<double> out;
  for (size_t b = 0; b < blocks.size(); ++b) {
    std::vector<double> col;
    for (const auto& row : values) col.push_back(row[b]);
    out.push_back(meanOf(col));
  }
  return out;
}

double LayerGrid::minValue() const {
  double m = INFINITY;
  for (const auto& row : values)
    for (double v : row)
      if (std::isfinite(v)) m = std::min(m, v);
  return std::isfinite(m) ? m : kNaN;
}

double LayerGrid::maxValue() const {
  double m = -INFINITY;
  for (const auto& row : values)
    for (double v : row)
      if (std::isfinite(v)) m = std::max(m, v);
  return std::isfinite(m) ? m : kNaN;
}

bool LayerGrid::hasValues() const { return std::isfinite(minValue()); }

LayerGrid layerGrid(const nlohmann::json& layers, const std::string& key, bool keepUnmeasured) {
  LayerGrid g;
  if (!layers.is_array()) return g;
  struct Cell { double sum = 0; int n = 0; QStringList names, unmeasured; };
  std::map<std::pair<QString, int>, Cell> cells;
  QStringList types;
  std::set<int> blocks;
  for (const auto& l : layers) {
    if (!l.is_object()) continue;
    auto v = l.find(key), t = l.find("type"), b = l.find("block");
    if (t == l.end() || !t->is_string() || b == l.end() || !b->is_number_integer()) continue;
    const bool isValue = v != l.end() && v->is_number() && std::isfinite(v->get<double>());
    if (!isValue && !(keepUnmeasured && (v == l.end() || v->is_null()))) continue;
    QString type = QString::fromStdString(t->get<std::string>());
    int block = b->get<int>();
    Cell& c = cells[{type, block}];
    const QString name = QString::fromStdString(l.value("name", std::string()));
    if (isValue) {
      c.sum += v->get<double>();
      ++c.n;
      c.names << name;
    } else {
      c.unmeasured << name;
    }
    if (!types.contains(type)) types << type;
    blocks.insert(block);
  }
  g.types = orderTypes(types);
  g.blocks.assign(blocks.begin(), blocks.end());
  g.values.assign(g.types.size(), std::vector<double>(g.blocks.size(), kNaN));
  g.names.assign(g.types.size(), std::vector<QStringList>(g.blocks.size()));
  for (const auto& [k, c] : cells) {
    int ti = g.typeIndex(k.first), bi = g.blockIndex(k.second);
    g.values[ti][bi] = c.n ? c.sum / c.n : kNaN;
    g.names[ti][bi] = c.n ? c.names : c.unmeasured;  // the layers behind the value, else those not measured
  }
  return g;
}

}  // namespace ptq::views
