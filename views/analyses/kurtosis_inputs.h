#pragma once
// The two W-A figures of the kurtosis view, from a record's analyses.kurtosis (fp = before,
// transformed = after the run's transform):
//   inputKurtosisChart: LLMC's Figure 3, activation kurtosis grouped by the input the layers read
//     (q/k/v input, o input, gate/up input, down input; MoE experts and the router with the MLP
//     input they read), mean over the blocks' layers of that group, before vs after.
//   channelAbsmaxChart: the outlier channels of one layer's input: max|x| of the largest channels
//     (the record keeps the top 8 per stage, largest first) by rank, and the median channel, before
//     vs after; channelTable lists the channel indexes, which differ between the stages.
#include <QObject>
#include <QString>
#include <QStringList>
#include <nlohmann/json.hpp>

#include "views/charts/bar_chart.h"
#include "views/export/table_export.h"

namespace ptq::views {

// "q/k/v input" ... "down input"; empty for a type outside the four (e.g. an unknown future one).
QString inputGroupOf(const QString& layerType);
const QStringList& inputGroups();

// What the run's transform is called in the legend: the method without its quantizer
// ("smoothquant+gptq" -> "smoothquant", "rotate+gptq" -> "rotate"; a lone "awq" stays "awq").
QString transformName(const nlohmann::json& record);

BarChart inputKurtosisChart(const nlohmann::json& record, bool log);

// Layers whose input has a per-channel max|x| in the fp stage, the most outlying first (largest
// max / median channel ratio; ties in record order).
QStringList channelLayers(const nlohmann::json& record);
BarChart channelAbsmaxChart(const nlohmann::json& record, const QString& layer, bool log);
TextTable channelTable(const nlohmann::json& record, const QString& layer);

}  // namespace ptq::views
