#pragma once
// Per-layer values arranged as layer types × blocks: the heatmap's cells, and the per-type or
// per-block means the bar charts show. Built from any array of layer objects carrying "type",
// "block" and a numeric field (a record's "layers", or a kurtosis analysis' "layers"); several
// layers in one cell (Mixtral's experts) are averaged.
#include <QString>
#include <QStringList>
#include <nlohmann/json.hpp>
#include <vector>

namespace ptq::views {

struct LayerGrid {
  QStringList types;                        // rows, in model order: q k v o gate up down router, then others
  std::vector<int> blocks;                  // columns, ascending
  std::vector<std::vector<double>> values;  // [type][block column], NaN where no layer
  std::vector<std::vector<QStringList>> names;  // layer names in each cell

  bool empty() const { return types.isEmpty() || blocks.empty(); }
  int typeIndex(const QString& type) const { return static_cast<int>(types.indexOf(type)); }
  int blockIndex(int block) const;
  // NaN when the type or block is absent.
  double at(int block, const QString& type) const;
  // Mean over blocks of each type / over types of each block (NaN cells skipped).
  std::vector<double> typeMeans() const;
  std::vector<double> blockMeans() const;
  double minValue() const;
  double maxValue() const;
};

LayerGrid layerGrid(const nlohmann::json& layers, const std::string& key);
// Canonical order of layer types; unknown types after the known ones, alphabetically.
QStringList orderTypes(const QStringList& types);

}  // namespace ptq::views
