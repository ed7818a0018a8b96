#pragma once
// The experiment spec: what one run measures (plain data, torch-free: ptq_spec). The engine that
// runs it is eval/experiment/experiment.h; the GUI builds, shows and queues specs without it.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "eval/experiment/fewshot_spec.h"
#include "eval/generation/samples_spec.h"
#include "quant/kvcache/kv_cache_spec.h"
#include "quant/pipeline/calib_spec.h"
#include "quant/pipeline/quant_plan.h"

namespace ptq {

inline constexpr int64_t kDefaultDivergenceTokens = 512;

struct ExperimentSpec {
  std::string model_dir;
  std::string method = "fp";         // "fp" (no quantization) or a strategy id / composition ("awq+gptq")
  QuantPlan plan;                    // bits, group, format, sym, clip ratio, per-layer overrides
  nlohmann::json params = nlohmann::json::object();  // strategy parameters ("gptq.percdamp": 0.01)
  KvCacheSpec kv;                    // KV-cache quantization in evaluation (bits 0 = off; any method, fp too)
  CalibSpec calib;                   // files empty: no calibration (rtn, rotate, fp)
  int64_t calib_batch = 8;
  std::string eval_text;             // perplexity text ("" = none)
  int64_t eval_seqlen = 2048;
  int64_t eval_max_windows = 0;      // 0 = all windows
  int64_t eval_batch = 4;            // windows per forward pass (not part of the run's identity)
  // Extra measurements: "compare" (fp vs quantized outputs on eval_text), "kurtosis" (on the
  // calibration text), "lambada" (last-word task built from eval_text). Size is always measured
  // ("size" is accepted in JSON and dropped). from_json keeps them as canonical_analyses().
  std::vector<std::string> analyses;
  std::vector<std::string> task_files;  // lm-eval-style JSONL task files (multiple choice, generation, LAMBADA)
  FewshotSpec fewshot;                  // "num_fewshot", "fewshot": examples prepended to the tasks' items
  // "divergence_tokens": predicted tokens the divergence analysis records (from the first eval window on).
  int64_t divergence_tokens = kDefaultDivergenceTokens;
  SamplesSpec samples;               // "samples": greedy continuations recorded fp vs quantized (record["samples"])
  std::string device = "cpu";
  std::string dtype = "float32";
  std::string residency = "auto";
  std::string label;                 // free text shown in tables ("calib=austen")
  uint64_t seed = 0;                 // the strategy's own randomness (rotation); calib.seed draws windows

  // Deterministic, file-name-safe identity of the run: model, method, bits, group, format,
  // calibration and a short hash of identity_json(). Two specs with the same run_id are the same
  // experiment (sweep --resume and the GUI's job queue rely on it).
  std::string run_id() const;
  // The canonical form of exactly the settings that change the results: analyses and task files
  // as sorted sets ("size" is always measured and not part of it), strategy parameters with
  // their defaults resolved, bits and sym only where the format has them, the device as
  // canonical_device(); without label, residency and batch sizes.
  nlohmann::json identity_json() const;
  // Every field (the GUI's panels read a spec back with it and lose nothing).
  nlohmann::json to_json() const;
  // Throws ptq::Error naming an unknown key or a bad value. JSON keys: docs/results-schema.md
  // ("The experiment spec").
  static ExperimentSpec from_json(const nlohmann::json& j);
  // Checks values and combinations (method, format, bits, analyses that need an eval text or
  // calibration); from_json calls it. Throws ptq::Error naming the key.
  void validate() const;
  // Makes relative paths (model, calibration files, eval text, task files) absolute against
  // base_dir (itself taken against the working directory when relative).
  void resolve_paths(const std::string& base_dir);
};

// The act_* keys other than act_bits (act_format, act_granularity, act_group, act_static,
// act_qkv_out) into `a`; shared by the experiment and sweep specs.
void read_act_options(const class JsonFields& f, ActQuantSpec& a);

// The analyses an experiment knows ("size" is always measured and may be listed).
const std::vector<std::string>& experiment_analyses();
// Sorted, without duplicates and without the no-op "size".
std::vector<std::string> canonical_analyses(const std::vector<std::string>& analyses);

}  // namespace ptq
