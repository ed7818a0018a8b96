#pragma once
// What the workbench says about a run before it is queued: whether it fits the chosen model (the
// engine's own plan check, ptq::validate_plan_for_layers, on the checkpoint's summary: every
// quantized layer's width takes the group, overrides match layers; and the files it reads exist),
// and what it will cost (calibration and evaluation tokens through the model's blocks, and the
// time scaled from the most similar earlier run in the results folder). Torch-free: the summary
// comes from the injected checkpoint reader, token counts from the torch-free tokenizer.
#include <QString>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "core/model/model_summary.h"

namespace ptq {
struct ExperimentSpec;
}

namespace ptq::views {

// Empty when the run fits: else the first problem, naming the layer or the file.
QString checkRunAgainstModel(const ptq::ExperimentSpec& spec, const ptq::ModelSummary& model);
// Files the spec reads that do not exist (calibration texts, eval text, task files), as
// "calibration text '/x/y.txt' does not exist"; empty when all do.
QString missingInputFiles(const ptq::ExperimentSpec& spec);

struct CostEstimate {
  int64_t calibSamples = 0, calibSeqlen = 0;
  int64_t calibTokens = 0;  // nsamples × seqlen when the run calibrates
  int64_t evalTokens = -1;  // windows × seqlen of the eval text; -1 when not known
  int blocks = 0, linears = 0;
  double seconds = -1;      // -1: no similar run to time it by
  QString basis;            // the run the time is scaled from, and how
};

// Tokens of a text file under a tokenizer.json (cached by path, size and time; -1 when either
// cannot be read).
int64_t countTokens(const QString& tokenizerPath, const QString& textPath);

// The estimate for `spec` on `model` from `records` (result records, newest preferred): the most
// similar run is of the same model and method, else the same model; its quantize time scales with
// the calibration tokens, the rest of its time with the evaluation tokens.
CostEstimate estimateCost(const ptq::ExperimentSpec& spec, const ptq::ModelSummary* model,
                          const std::vector<nlohmann::json>& records);
// "calibration 8 × 512 = 4.1 k tokens through 4 blocks (28 layers) · evaluation 8.2 k tokens ·
// about 40 s (from <run>: …)".
QString costHintText(const CostEstimate& e);
QString durationText(double seconds);  // "40 s", "3 min 20 s", "1 h 5 min"

// The experiment form's starting point: the engine's defaults (ExperimentSpec{}) with a
// calibration and evaluation a CPU finishes in a minute or two on a small model (32 × 512
// calibration windows instead of the papers' 128 × 2048, 512-token evaluation windows, at most 40):
// the cost hint shows what larger settings would cost before they are queued.
ptq::ExperimentSpec workbenchDefaultSpec();

// Reads and remembers checkpoint summaries for the panels (one read per folder until forget()).
class ModelSummaries {
 public:
  using Reader = std::function<ptq::ModelSummary(const std::string& dir)>;
  void setReader(Reader r) { reader_ = std::move(r); cache_.clear(); }
  bool hasReader() const { return bool(reader_); }
  // nullptr and *error set when the folder cannot be read.
  const ptq::ModelSummary* get(const QString& dir, QString* error);
  void forget() { cache_.clear(); }

 private:
  struct Entry {
    std::optional<ptq::ModelSummary> summary;
    QString error;
  };
  Reader reader_;
  std::map<QString, Entry> cache_;
};

}  // namespace ptq::views
