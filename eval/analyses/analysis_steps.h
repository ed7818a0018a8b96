#pragma once
// The engine side of the analysis catalog (eval/analyses/analysis_catalog.h): each analysis is a
// class whose methods the driver calls in the stages its catalog row declares, sharing one
// ExperimentRun (what the driver loaded and what the record collects). An analysis keeps its own
// state between stages (compare's full-precision reference, kurtosis' table of transformed blocks).
#include <ATen/ATen.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/runtime/feedback.h"
#include "eval/analyses/analysis_catalog.h"

namespace ptq {

class Model;
class Tokenizer;
struct BlockWork;
struct ExperimentSpec;
struct QuantResult;
struct QuantRequest;

// What the driver prepared (Load stage) and what the record collects.
struct ExperimentRun {
  const ExperimentSpec& spec;
  Feedback* fb = nullptr;
  Model* model = nullptr;
  const Tokenizer* tok = nullptr;        // null when the checkpoint has no tokenizer.json
  std::vector<int64_t> eval_ids;         // eval.text tokens (empty without an eval text)
  at::Tensor eval_windows;               // [N, seqlen] perplexity windows of eval_ids
  at::Tensor calib_windows;              // the calibration windows the quantizer draws, when an analysis needs them
  bool quantized = false;                // a method other than fp
  bool transforms = false;               // the method has a model or block transform (AWQ, rotation)
  const QuantResult* quant = nullptr;    // after quantization (null for fp)
  nlohmann::json metrics = nlohmann::json::object();
  nlohmann::json analyses = nlohmann::json::object();
  nlohmann::json samples;                // record["samples"] when the spec asks for them (null: absent)
};

class AnalysisSteps {
 public:
  virtual ~AnalysisSteps() = default;
  // Called for every step of the catalog row, in stage order (DuringQuantization: once, after the
  // pipeline ran, to store what on_transformed_block gathered).
  virtual void run(AnalysisStage stage, ExperimentRun& run) = 0;
  // DuringQuantization: each block after its transforms, before its quantizer (methods with a transform).
  virtual void on_transformed_block(ExperimentRun&, BlockWork&) {}
  // True: on_transformed_block is called for every quantized method (the block as its quantizer
  // receives it), not only for methods with a transform.
  virtual bool observes_every_block() const { return false; }
  // DuringQuantization: before the pipeline starts, to ask it for what the analysis records
  // (column_error: the column-wise errors).
  virtual void prepare_quantization(ExperimentRun&, QuantRequest&) {}
};

// The steps of analysis `id` (a fresh object per run). Throws ptq::Error for an id without steps.
std::unique_ptr<AnalysisSteps> make_analysis_steps(const std::string& id);

// Whether the spec turns the analysis on (its trigger).
bool analysis_enabled(const AnalysisInfo& a, const ExperimentSpec& spec);

}  // namespace ptq
