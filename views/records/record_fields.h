#pragma once
// Reading result records (docs/results-schema.md) for the views: every accessor tolerates a
// missing or mistyped field (NaN / empty string), so a view fed a partial record shows what it
// has. One place for labels ("austen-tiny gptq w3g128") and for the fp baseline lookup.
#include <QString>
#include <QVariant>
#include <nlohmann/json.hpp>
#include <vector>

namespace ptq::views {

using Record = nlohmann::json;

// The value at a '/'-separated path ("metrics/size/total_bytes"), or nullptr-json when absent.
const nlohmann::json& field(const Record& r, const char* path);
// Number at path, NaN when absent or not a number.
double number(const Record& r, const char* path);
QString text(const Record& r, const char* path);
bool has(const Record& r, const char* path);

QString modelName(const Record& r);    // provenance.model.name, else the spec's model folder name
QString methodName(const Record& r);   // "fp" for a baseline
bool isBaseline(const Record& r);      // method "fp" or no quant block
// Bits of the quantized linears; 16 for a baseline (as it is stored for size accounting).
double bits(const Record& r);
// Activation bits of a W-A record (quant.act_bits); 0 when activations stayed in full precision.
double actBits(const Record& r);
// Group size; 0 = per channel; NaN for a baseline.
double groupSize(const Record& r);
// "w3g128", "w4 per-ch", "fp"; with format/sym when not the default int/asym ("w4g128 nf4").
QString quantTag(const Record& r);
// "austen-tiny gptq w3g128" (+ " [label]" when the record has one and withLabel).
QString recordLabel(const Record& r, bool withLabel = true);
// Short tag for point labels: "austen-tiny 3b" / "austen-tiny fp".
QString pointLabel(const Record& r);

// Perplexity difference to full precision: metrics.compare.ppl_fp when present, else the ppl of a
// baseline record in `all` with the same model and eval text/seqlen; NaN when neither exists.
double deltaPpl(const Record& r, const std::vector<Record>& all);

// The lessThan of the record tables' sort proxies (results browser, comparison table): numbers
// by value, text by locale; a missing number (NaN) sorts after every number in either `order`
// (a proxy sorting descending reverses lessThan, so this answers for that).
bool sortsBefore(const QVariant& a, const QVariant& b, Qt::SortOrder order);

// Names of the accuracy tasks over all records ("lambada:austen-test"), sorted.
std::vector<QString> taskNames(const std::vector<Record>& records);
// metrics.tasks[task].acc, NaN when absent.
double taskAccuracy(const Record& r, const QString& task);

// Formats a value with `sig` significant digits; `missing` for NaN.
QString formatNumber(double v, int sig = 4, const QString& missing = QStringLiteral("–"));

}  // namespace ptq::views
