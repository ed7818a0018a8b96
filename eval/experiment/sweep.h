#pragma once
// A sweep: the cross product of models × methods × bits × groups × formats × sym × calibration
// sets, each an ExperimentSpec (torch-free: ptq_spec). `ptq sweep` and the GUI's sweep builder
// expand sweeps with this code and run the expanded specs with eval/experiment/sweep_runner.h.
//
// Expansion rules: "fp" runs once per model (not per bits/group/calibration; with the first
// calibration set attached only when kurtosis or token_kl asks for calibration text); methods
// that need no calibration (rtn, rotate) run once, without calibration, per quantization setting;
// codebook formats (nf4, fp4, fp8_*) ignore bits and sym, so they run once per group. "compare"
// is dropped for fp runs and token_kl for runs without calibration. Duplicates (same run_id) run once.
// `params` go to the runs whose method has them ("awq.grid" to methods with awq, a plain "percdamp"
// to methods with a stage that has it); a key no method uses is an error.
//
// Spec keys (docs/results-schema.md, "Sweep spec"); relative paths are resolved against the
// folder of the spec file.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "eval/experiment/experiment_spec.h"

namespace ptq {

struct SweepCalibration {
  std::string name;  // shown in labels; defaults to the first file's stem
  std::vector<std::string> files;
  int64_t nsamples = 128;
  int64_t seqlen = 2048;
  std::string sampling;  // "" = each method's reference sampler (default_calib_sampling)
  uint64_t seed = 0;
  int64_t batch = 8;
};

struct SweepSpec {
  std::vector<std::string> models;
  std::vector<std::string> methods;  // strategy ids / compositions, or "fp"
  std::vector<int> bits = {4};
  std::vector<int64_t> groups = {128};
  std::vector<std::string> formats = {"int"};
  std::vector<bool> sym = {false};
  std::vector<int> act_bits = {0};   // 0 = activations in full precision; each value a run
  ActQuantSpec act;                  // act_format, act_granularity, act_group, act_static, act_qkv_out
  std::vector<SweepCalibration> calibrations;
  std::string eval_text;
  int64_t eval_seqlen = 2048, eval_max_windows = 0, eval_batch = 4;
  std::vector<std::string> analyses;
  std::vector<std::string> task_files;
  FewshotSpec fewshot;               // "num_fewshot", "fewshot" as in the experiment spec, for every run
  int64_t divergence_tokens = kDefaultDivergenceTokens;  // experiment spec's key, for every run
  SamplesSpec samples;               // "samples": every run records them (experiment spec's key)
  nlohmann::json params = nlohmann::json::object();
  nlohmann::json overrides = nlohmann::json::array();  // as in the experiment spec
  std::string device = "cpu", dtype = "float32", residency = "auto";
  uint64_t seed = 0;
  // KV cache: every run (fp too) once per kv_bits entry (0 = full-precision cache), with the
  // other kv_* settings shared.
  std::vector<int> kv_bits = {0};
  KvCacheSpec kv;

  // Throws ptq::Error naming an unknown key (listing the allowed ones) or a bad value (listing the
  // allowed values). Relative paths are resolved against base_dir ("" keeps them as written).
  static SweepSpec from_json(const nlohmann::json& j, const std::string& base_dir = "");
  static SweepSpec load(const std::string& path);
  // Every run, validated (ExperimentSpec::validate), in a stable order.
  std::vector<ExperimentSpec> expand() const;
};

}  // namespace ptq
