#pragma once
// Per-layer values arranged as layer types × blocks: the heatmap's cells, and the per-type or
// per-block means the bar charts show. Built from any array of layer objects carrying "type",
// "block" and a numeric field (a record's "layers", or a kurtosis analysis' "layers"); several
// layers in one cell (Mixtral's experts) are averaged.
#include <QString>
#include <QStringList>
#include <cmath>
#include <nlohmann/json.hpp>
#include <vector>

namespace ptq::views {

struct LayerGrid {
  QStringList types;                        // rows, in model order: q k v o gate up down router, then others
  std::vector<int> blocks;                  // columns, ascending
  std::vector<std::vector<double>> values;  // [type][block column], NaN where no layer or not measured
  std::vector<std::vector<QStringList>> names;  // layer names in each cell (also of layers not measured)

  bool empty() const { return types.isEmpty() || blocks.empty(); }
  int typeIndex(const QString& type) const { return static_cast<int>(types.indexOf(type)); }
  int blockIndex(int block) const;
  // NaN when the type or block is absent.
  double at(int block, const QString& type) const;
  // Mean over blocks of each type / over types of each block (NaN cells skipped).
  std::vector<double> typeMeans() const;
  std::vector<double> blockMeans() const;
  // A cell with layers but no value: they were not measured (JSON null).
  bool notMeasured(int row, int col) const { return std::isnan(values[row][col]) && !names[row][col].isEmpty(); }
  bool hasValues() const;  // any cell with a value
  double minValue() const;
  double maxValue() const;
};

// keepUnmeasured: layers whose value is null or absent still get their cell (with no value), so
// a view can show them as "not measured" rather than as missing layers.
LayerGrid layerGrid(const nlohmann::json& layers, const std::string& key, bool keepUnmeasured = false);
// Canonical order of layer types; unknown types after the known ones, alphabetically.
QStringList orderTypes(const QStringList& types);

}  // namespace ptq::views
