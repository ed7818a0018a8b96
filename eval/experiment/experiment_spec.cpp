// ExperimentSpec: JSON in and out, validation, run identity.
#include <algorithm>

#include "core/records/sha256.h"
#include "core/runtime/device_names.h"
#include "core/runtime/errors.h"
#include "eval/analyses/analysis_catalog.h"
#include "eval/experiment/experiment_spec.h"
#include "eval/experiment/json_fields.h"
#include "eval/experiment/spec_limits.h"
#include "quant/strategy_registry.h"

namespace ptq {

namespace {

const char* kWhere = "experiment spec";

const std::vector<std::string> kSpecKeys = {"model", "method", "bits", "group", "format", "sym", "clip_ratio",
                                            "sym_style", "act_bits", "act_format", "act_granularity", "act_group", "act_static",
                                            "act_qkv_out", "overrides", "params", "calibration", "eval", "analyses", "tasks",
                                            "device", "dtype", "residency", "label", "seed", "kv_bits", "kv_format",
                                            "kv_granularity", "kv_group", "kv_residual", "num_fewshot", "fewshot", "samples",
                                            "divergence_tokens"};
const std::vector<std::string> kCalibKeys = {"files", "nsamples", "seqlen", "seed", "sampling", "batch"};
const std::vector<std::string> kEvalKeys = {"text", "seqlen", "max_windows", "batch"};

bool lists_divergence(const ExperimentSpec& s) {
  return std::find(s.analyses.begin(), s.analyses.end(), "divergence") != s.analyses.end();
}

std::string base_name(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

std::string stem(const std::string& path) {
  std::string b = base_name(path);
  auto dot = b.rfind('.');
  return dot == std::string::npos || dot == 0 ? b : b.substr(0, dot);
}

// Keeps [A-Za-z0-9._+-]; everything else becomes '-'.
std::string file_safe(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '+' || c == '-') ? c : '-';
  return out.empty() ? "x" : out;
}

LayerOverride override_from_json(const nlohmann::json& o, size_t i) {
  const std::string where = std::string(kWhere) + " 'overrides[" + std::to_string(i) + "]'";
  if (o.is_string()) {
    try {
      return parse_override(o.get<std::string>());
    } catch (const Error& e) {
      throw Error(where + ": " + e.what());
    }
  }
  JsonFields f(o, where, {"pattern", "bits", "group", "skip"});
  LayerOverride lo;
  lo.pattern = f.str("pattern", "");
  if (lo.pattern.empty()) f.fail("pattern", "is required");
  try {
    check_glob(lo.pattern);
  } catch (const Error& e) {
    f.fail("pattern", std::string("is invalid: ") + e.what());
  }
  if (f.has("bits")) {
    lo.bits = int(f.integer("bits", 0, limits::kMinBits, limits::kMaxBits));
  }
  if (f.has("group")) {
    lo.group_size = f.integer("group", 0, -1, limits::kMaxGroup);
    if (*lo.group_size == 0) f.fail("group", "must be -1 (per channel) or a positive group size, got 0");
  }
  if (f.has("skip")) lo.skip = f.boolean("skip", false);
  return lo;
}

}  // namespace

void read_act_options(const JsonFields& f, ActQuantSpec& a) {
  a.format = parse_format(f.choice("act_format", "int", act_format_names()));
  a.granularity = parse_act_granularity(f.choice("act_granularity", "token", act_granularity_names()));
  a.group_size = f.integer("act_group", 128, 1, limits::kMaxGroup);
  try {
    parse_act_static(f.str("act_static", "dynamic"), a);
  } catch (const Error& e) {
    f.fail("act_static", e.what());
  }
  a.qkv_out = f.boolean("act_qkv_out", false);
}

namespace {


void read_plan(const JsonFields& f, QuantPlan& plan) {
  plan.spec.bits = int(f.integer("bits", 4, limits::kMinBits, limits::kMaxBits));
  plan.spec.group_size = f.integer("group", 128, -1, limits::kMaxGroup);
  plan.spec.symmetric = f.boolean("sym", false);
  plan.spec.format = parse_format(f.choice("format", "int", format_names()));
  const int64_t block = format_block_size(plan.spec.format);  // mxfp4 / mxfp8 / nvfp4: the group is the block
  if (block > 0 && !f.has("group")) plan.spec.group_size = block;
  plan.spec.clip_ratio = f.number("clip_ratio", 1.0);
  plan.spec.absmax_sym = f.choice("sym_style", "gptq", {"gptq", "absmax"}) == "absmax";
  if (plan.spec.absmax_sym && !plan.spec.symmetric) f.fail("sym_style", "'absmax' needs \"sym\": true");
  plan.act.bits = int(f.integer("act_bits", 0, 0, limits::kMaxBits));  // 0: activations in full precision
  read_act_options(f, plan.act);
  if (!f.has("overrides")) return;
  const auto& ov = f.raw("overrides");
  if (!ov.is_array()) f.fail("overrides", "must be an array, got " + ov.dump());
  for (size_t i = 0; i < ov.size(); ++i) plan.overrides.push_back(override_from_json(ov[i], i));
}

void read_kv(const JsonFields& f, KvCacheSpec& kv) {
  kv.bits = int(f.integer("kv_bits", 0, 0, 8));
  if (kv.bits == 1) f.fail("kv_bits", "must be 0 (full-precision cache) or 2..8, got 1");
  kv.format = f.choice("kv_format", kv.format, kv_formats());
  kv.granularity = f.choice("kv_granularity", kv.granularity, kv_granularities());
  kv.group = f.integer("kv_group", 0, 0, limits::kMaxSeqlen);
  kv.residual = f.integer("kv_residual", 0, 0, limits::kMaxSeqlen);
}

void read_calibration(const nlohmann::json& j, ExperimentSpec& s) {
  JsonFields c(j, std::string(kWhere) + " 'calibration'", kCalibKeys);
  s.calib.files = c.strings("files");
  s.calib.nsamples = c.integer("nsamples", s.calib.nsamples, 1, limits::kMaxNsamples);
  s.calib.seqlen = c.integer("seqlen", s.calib.seqlen, 2, limits::kMaxSeqlen);
  s.calib.seed = uint64_t(c.integer("seed", 0, 0, limits::kMaxSeed));
  s.calib.sampling = c.choice("sampling", default_calib_sampling(s.method), calib_sampling_names());
  s.calib_batch = c.integer("batch", s.calib_batch, 1, limits::kMaxBatch);
  if (s.calib.files.empty()) c.fail("files", "must name at least one text file");
}

void read_eval(const nlohmann::json& j, ExperimentSpec& s) {
  JsonFields e(j, std::string(kWhere) + " 'eval'", kEvalKeys);
  s.eval_text = e.str("text", "");
  if (s.eval_text.empty()) e.fail("text", "must name a text file");
  s.eval_seqlen = e.integer("seqlen", s.eval_seqlen, 2, limits::kMaxSeqlen);
  s.eval_max_windows = e.integer("max_windows", 0, 0, limits::kMaxWindows);
  s.eval_batch = e.integer("batch", s.eval_batch, 1, limits::kMaxBatch);
}

}  // namespace

std::vector<std::string> canonical_analyses(const std::vector<std::string>& analyses) {
  std::vector<std::string> out;
  for (const auto& a : analyses)
    if (a != "size") out.push_back(a);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

nlohmann::json ExperimentSpec::to_json() const {
  nlohmann::json j = {{"model", model_dir}, {"method", method}};
  if (method != "fp") {
    nlohmann::json p = plan.to_json();  // bits, group, sym, format, clip_ratio, overrides
    for (auto it = p.begin(); it != p.end(); ++it) j[it.key()] = it.value();
    j["params"] = params;
  }
  if (!calib.files.empty()) {
    j["calibration"] = calib.to_json();
    j["calibration"]["batch"] = calib_batch;
  } else {
    j["calibration"] = nullptr;
  }
  if (!eval_text.empty())
    j["eval"] = {{"text", eval_text}, {"seqlen", eval_seqlen}, {"max_windows", eval_max_windows}, {"batch", eval_batch}};
  else
    j["eval"] = nullptr;
  j["analyses"] = analyses;
  j["tasks"] = task_files;
  fewshot.write(j);
  if (samples.enabled()) j["samples"] = samples.to_json();
  if (lists_divergence(*this) || divergence_tokens != kDefaultDivergenceTokens) j["divergence_tokens"] = divergence_tokens;
  j["device"] = device;
  j["dtype"] = dtype;
  j["residency"] = residency;
  j["label"] = label;
  j["seed"] = seed;
  if (kv.enabled()) {
    j["kv_bits"] = kv.bits;
    j["kv_format"] = kv.format;
    j["kv_granularity"] = kv.granularity;
    j["kv_group"] = kv.group;
    j["kv_residual"] = kv.residual;
  }
  return j;
}

ExperimentSpec ExperimentSpec::from_json(const nlohmann::json& j) {
  JsonFields f(j, kWhere, kSpecKeys);
  ExperimentSpec s;
  s.model_dir = f.str("model", "");
  s.method = f.str("method", "fp");
  read_plan(f, s.plan);
  if (f.has("params")) {
    s.params = f.raw("params");
    if (!s.params.is_object()) f.fail("params", "must be an object such as {\"gptq.percdamp\": 0.01}");
  }
  if (f.has("calibration")) read_calibration(f.raw("calibration"), s);
  if (f.has("eval")) read_eval(f.raw("eval"), s);
  s.analyses = canonical_analyses(f.strings("analyses"));
  s.task_files = f.strings("tasks");
  s.fewshot = FewshotSpec::read(f);
  if (f.has("samples")) s.samples = SamplesSpec::from_json(f.raw("samples"));
  s.divergence_tokens = f.integer("divergence_tokens", kDefaultDivergenceTokens, 1, limits::kMaxDivergenceTokens);
  s.device = f.str("device", s.device);
  s.dtype = f.str("dtype", s.dtype);
  s.residency = f.choice("residency", s.residency, residency_names());
  s.label = f.str("label", "");
  s.seed = uint64_t(f.integer("seed", 0, 0, limits::kMaxSeed));
  read_kv(f, s.kv);
  s.validate();  // names a bad device or dtype
  s.device = canonical_device(s.device);
  s.dtype = canonical_dtype(s.dtype);
  return s;
}

namespace {

// The device, dtype, KV-cache and residency keys of a spec (ExperimentSpec::validate's last part).
void validate_runtime(const ExperimentSpec& s) {
  auto bad = [](const std::string& key, const std::string& problem) -> void {
    throw Error(std::string(kWhere) + ": '" + key + "' " + problem);
  };
  try {
    canonical_device(s.device);
  } catch (const Error&) {
    bad("device", "has unknown value '" + s.device + "' (allowed: cpu, cuda, cuda:N, auto)");
  }
  try {
    canonical_dtype(s.dtype);
  } catch (const Error& e) {
    throw Error(std::string(kWhere) + ": " + e.what());
  }
  try {
    s.kv.validate();
  } catch (const Error& e) {
    throw Error(std::string(kWhere) + ": " + e.what());
  }
  const auto& res = residency_names();
  if (std::find(res.begin(), res.end(), s.residency) == res.end())
    bad("residency", "has unknown value '" + s.residency + "' (allowed: " + join_words(res) + ")");
}

}  // namespace

void ExperimentSpec::validate() const {
  auto bad = [](const std::string& key, const std::string& problem) -> void {
    throw Error(std::string(kWhere) + ": '" + key + "' " + problem);
  };
  if (model_dir.empty()) bad("model", "is required (a checkpoint folder)");
  bool needs_calib = false;
  if (method != "fp") {
    std::vector<const StrategyInfo*> stages;
    try {
      stages = parse_method(method);
    } catch (const Error& e) {
      bad("method", std::string("is invalid: ") + e.what() + "; or fp for no quantization");
    }
    for (const auto* st : stages) {
      needs_calib |= st->needs_calibration;
    }
    try {
      resolve_params(stages, params);
    } catch (const Error& e) {
      bad("params", std::string("are invalid: ") + e.what());
    }
    const QuantSpec& q = plan.spec;
    if (q.format == WeightFormat::Int && (q.bits < 2 || q.bits > 8))
      bad("bits", "must be in 2..8, got " + std::to_string(q.bits));
    if (q.group_size == 0 || q.group_size < -1)
      bad("group", "must be -1 (per channel) or a positive group size, got " + std::to_string(q.group_size));
    if (!(q.clip_ratio > 0 && q.clip_ratio <= 1)) bad("clip_ratio", "must be in (0, 1]");
    if (q.absmax_sym && !(q.symmetric && q.format == WeightFormat::Int))
      bad("sym_style", "'absmax' applies to symmetric int weights only (\"sym\": true, \"format\": \"int\")");
    try {
      plan.act.validate();
    } catch (const Error& e) {
      throw Error(std::string(kWhere) + ": " + e.what());
    }
    if (plan.act.enabled() && plan.act.is_static() && calib.files.empty())
      bad("act_static", "'" + act_static_name(plan.act) + "' calibrates activation scales: 'calibration' is required");
  } else if (plan.act.enabled()) {
    bad("act_bits", "needs a quantization method (rtn, gptq, ...): method fp leaves the model in full precision");
  }
  const bool have_calib = !calib.files.empty();
  if (needs_calib && !have_calib) bad("calibration", "is required: method '" + method + "' needs calibration text");
  if (have_calib) {
    if (calib.nsamples < 1) bad("calibration.nsamples", "must be at least 1");
    if (calib.seqlen < 2) bad("calibration.seqlen", "must be at least 2");
    const auto& names = calib_sampling_names();
    if (std::find(names.begin(), names.end(), calib.sampling) == names.end())
      bad("calibration.sampling", "has unknown value '" + calib.sampling + "' (allowed: " + join_sampling_names() + ")");
    if (calib_batch < 1) bad("calibration.batch", "must be at least 1");
  }
  if (!eval_text.empty()) {
    if (eval_seqlen < 2) bad("eval.seqlen", "must be at least 2");
    if (eval_max_windows < 0) bad("eval.max_windows", "must be 0 (all windows) or positive");
    if (eval_batch < 1) bad("eval.batch", "must be at least 1");
  }
  const auto& known = experiment_analyses();
  const AnalysisInputs inputs{!eval_text.empty(), have_calib, method != "fp", !task_files.empty()};
  for (const auto& a : analyses) {
    if (a == "lambada")
      bad("analyses", "has 'lambada', which is the LAMBADA data set: give its file in \"tasks\" (JSONL lines "
                      "{\"text\": ...}); the last-word task built from the eval text is 'lastword'");
    if (std::find(known.begin(), known.end(), a) == known.end())
      bad("analyses", "has unknown value '" + a + "' (allowed: " + join_words(known) + ")");
    const std::string unmet = unmet_needs(find_analysis(a), inputs);
    if (!unmet.empty()) bad("analyses", "'" + a + "' " + unmet);
  }
  fewshot.validate(kWhere, !task_files.empty());
  validate_runtime(*this);
}

void ExperimentSpec::resolve_paths(const std::string& base_dir) {
  model_dir = resolve_path(model_dir, base_dir);
  for (auto& f : calib.files) f = resolve_path(f, base_dir);
  eval_text = resolve_path(eval_text, base_dir);
  for (auto& f : task_files) f = resolve_path(f, base_dir);
  for (auto& [name, f] : fewshot.files) f = resolve_path(f, base_dir);
}

nlohmann::json ExperimentSpec::identity_json() const {
  nlohmann::json j = {{"model", model_dir}, {"method", method}};
  if (method != "fp") {
    const QuantSpec& q = plan.spec;
    const bool is_int = q.format == WeightFormat::Int;
    j["format"] = format_name(q.format);
    j["bits"] = q.element_bits();
    if (is_int) j["sym"] = q.symmetric;
    if (is_int && q.absmax_sym) j["sym_style"] = "absmax";  // only when set: old ids stay
    j["group"] = q.group_size;
    j["clip_ratio"] = q.clip_ratio;
    j["overrides"] = plan.to_json()["overrides"];  // in order: later entries win
    j["params"] = resolve_params(parse_method(method), params);
    const nlohmann::json act = plan.act.to_json();  // only when enabled: old ids stay
    for (auto& kv : act.items()) j[kv.key()] = kv.value();
  }
  j["calibration"] = nullptr;
  if (!calib.files.empty()) j["calibration"] = calib.to_json();
  j["eval"] = nullptr;
  if (!eval_text.empty()) j["eval"] = {{"text", eval_text}, {"seqlen", eval_seqlen}, {"max_windows", eval_max_windows}};
  std::vector<std::string> tasks = task_files;
  std::sort(tasks.begin(), tasks.end());
  tasks.erase(std::unique(tasks.begin(), tasks.end()), tasks.end());
  j["analyses"] = canonical_analyses(analyses);
  j["tasks"] = tasks;
  fewshot.write(j);  // absent without few-shot: earlier run ids stay
  j["device"] = canonical_device(device);
  j["dtype"] = canonical_dtype(dtype);
  j["seed"] = seed;
  if (kv.enabled()) j["kv_cache"] = kv.to_json();  // absent when off: earlier run ids stay as they were
  if (samples.enabled()) j["samples"] = samples.to_json();  // absent when off, as kv_cache
  if (lists_divergence(*this)) j["divergence_tokens"] = divergence_tokens;  // only with the analysis: old ids stay
  return j;
}

std::string ExperimentSpec::run_id() const {
  std::string id = file_safe(base_name(model_dir)) + "." + file_safe(method);
  if (method != "fp") {
    const QuantSpec& q = plan.spec;
    const ActQuantSpec& a = plan.act;
    id += ".w" + std::to_string(q.element_bits()) + (a.enabled() ? "a" + std::to_string(a.bits) : std::string()) + "g" +
          (q.group_size < 0 ? std::string("ch") : std::to_string(q.group_size));
    id += "." + format_name(q.format);
    if (q.format == WeightFormat::Int) id += q.symmetric ? (q.absmax_sym ? ".sym-absmax" : ".sym") : ".asym";
    if (a.enabled()) id += ".a-" + format_name(a.format) + "-" + act_granularity_name(a.granularity) +
                           (a.granularity == ActGranularity::Group ? std::to_string(a.group_size) : std::string()) +
                           (a.is_static() ? "-" + file_safe(act_static_name(a)) : std::string());
  }
  if (kv.enabled()) id += "." + kv.label();
  if (!calib.files.empty()) {
    std::string c = "c-" + file_safe(stem(calib.files[0]));
    if (calib.files.size() > 1) c += "+" + std::to_string(calib.files.size() - 1);
    c += "-n" + std::to_string(calib.nsamples) + "x" + std::to_string(calib.seqlen) + "-s" + std::to_string(calib.seed);
    if (calib.sampling != "random") c += "-" + file_safe(calib.sampling);
    id += "." + c;
  }
  return id + "." + sha256_hex(identity_json().dump()).substr(0, 8);
}

}  // namespace ptq
