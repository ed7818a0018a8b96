#include "eval/experiment/sweep.h"

#include <functional>
#include <set>

#include <algorithm>

#include "core/records/json_util.h"
#include "eval/analyses/analysis_catalog.h"
#include "core/runtime/errors.h"
#include "core/runtime/device_names.h"
#include "eval/experiment/json_fields.h"
#include "eval/experiment/spec_limits.h"
#include "quant/strategy_registry.h"

namespace ptq {

namespace {

const char* kWhere = "sweep spec";
const std::vector<std::string> kSweepKeys = {"models", "methods", "bits", "groups", "formats", "sym", "act_bits",
                                             "act_format", "act_granularity", "act_group", "act_static", "act_qkv_out",
                                             "calibration", "eval", "analyses", "tasks", "params", "overrides",
                                             "device", "dtype", "residency", "seed", "kv_bits", "kv_format",
                                             "kv_granularity", "kv_group", "kv_residual", "num_fewshot", "fewshot", "samples",
                                             "divergence_tokens"};

// Relative paths stay as written when no base folder is given.
std::string absolute_in(const std::string& p, const std::string& base) {
  return base.empty() ? p : resolve_path(p, base);
}

std::string stem(const std::string& path) {
  auto slash = path.rfind('/');
  std::string b = slash == std::string::npos ? path : path.substr(slash + 1);
  auto dot = b.rfind('.');
  return dot == std::string::npos || dot == 0 ? b : b.substr(0, dot);
}

// A scalar or an array of them, each checked by `one`.
template <class T, class F>
std::vector<T> list_of(const JsonFields& f, const std::string& key, std::vector<T> def, F one) {
  if (!f.has(key)) return def;
  const auto& v = f.raw(key);
  std::vector<T> out;
  if (v.is_array()) {
    for (const auto& e : v) out.push_back(one(e));
    if (out.empty()) f.fail(key, "must not be empty");
  } else {
    out.push_back(one(v));
  }
  return out;
}

std::string method_ids() {
  std::vector<std::string> ids = {"fp"};
  for (const auto& s : strategy_registry()) ids.push_back(s.id);
  return join_words(ids) + ", or a composition such as awq+gptq";
}

bool needs_calibration(const std::string& method) {
  if (method == "fp") return false;
  for (const auto* s : parse_method(method))
    if (s->needs_calibration) return true;
  return false;
}

// The sweep's parameters that apply to `method`: "stage.key" when the method has that stage, a
// plain key when one of its stages has that parameter. Marks the keys used.
nlohmann::json params_for(const std::string& method, const nlohmann::json& params, std::set<std::string>* used) {
  nlohmann::json out = nlohmann::json::object();
  const auto stages = parse_method(method);
  for (auto it = params.begin(); it != params.end(); ++it) {
    const std::string& key = it.key();
    const auto dot = key.find('.');
    bool applies = false;
    for (const auto* s : stages) {
      if (dot != std::string::npos) {
        applies |= key.substr(0, dot) == s->id;
        continue;
      }
      for (const auto& p : s->params) applies |= p.name == key;
    }
    if (!applies) continue;
    out[key] = it.value();
    used->insert(key);
  }
  return out;
}

void read_grid(const JsonFields& f, SweepSpec& s) {
  s.bits = list_of<int>(f, "bits", s.bits, [&](const nlohmann::json& v) {
    const auto b = json_integer_in(v, limits::kMinBits, limits::kMaxBits);
    if (!b) f.fail("bits", "must hold integers in 2..8, got " + v.dump());
    return int(*b);
  });
  s.groups = list_of<int64_t>(f, "groups", s.groups, [&](const nlohmann::json& v) {
    const auto g = json_integer_in(v, -1, limits::kMaxGroup);
    if (!g || *g == 0)
      f.fail("groups", "must hold -1 (per channel) or group sizes in 1.." + std::to_string(limits::kMaxGroup) +
                           ", got " + v.dump());
    return *g;
  });
  s.formats = list_of<std::string>(f, "formats", s.formats, [&](const nlohmann::json& v) {
    if (!v.is_string()) f.fail("formats", "must hold strings, got " + v.dump());
    std::string x = v.get<std::string>();
    const auto& known = format_names();
    if (std::find(known.begin(), known.end(), x) == known.end())
      f.fail("formats", "has unknown format '" + x + "' (allowed: " + join_words(known) + ")");
    return x;
  });
  s.act_bits = list_of<int>(f, "act_bits", s.act_bits, [&](const nlohmann::json& v) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > limits::kMaxBits)
      f.fail("act_bits", "must hold integers in 0..8 (0 = activations in full precision), got " + v.dump());
    return v.get<int>();
  });
  read_act_options(f, s.act);
  s.sym = list_of<bool>(f, "sym", s.sym, [&](const nlohmann::json& v) {
    if (!v.is_boolean()) f.fail("sym", "must be true, false or a list of them, got " + v.dump());
    return v.get<bool>();
  });
}

void read_models_and_methods(const JsonFields& f, const std::string& base_dir, SweepSpec& s) {
  s.models = f.strings("models");
  if (s.models.empty()) f.fail("models", "must name at least one model folder");
  for (auto& m : s.models) m = absolute_in(m, base_dir);
  s.methods = f.strings("methods");
  if (s.methods.empty()) f.fail("methods", "must name at least one method (" + method_ids() + ")");
  for (const auto& m : s.methods) {
    if (m == "fp") continue;
    try {
      parse_method(m);
    } catch (const Error& e) {
      f.fail("methods", "has unknown method '" + m + "' (allowed: " + method_ids() + "): " + e.what());
    }
  }
}

SweepCalibration read_calibration(const nlohmann::json& j, size_t i, const std::string& base_dir, uint64_t seed) {
  JsonFields c(j, std::string(kWhere) + " 'calibration[" + std::to_string(i) + "]'",
               {"name", "files", "nsamples", "seqlen", "sampling", "seed", "batch"});
  SweepCalibration cal;
  cal.files = c.strings("files");
  if (cal.files.empty()) c.fail("files", "must name at least one text file");
  for (auto& file : cal.files) file = absolute_in(file, base_dir);
  cal.name = c.str("name", stem(cal.files[0]));
  cal.nsamples = c.integer("nsamples", cal.nsamples, 1, limits::kMaxNsamples);
  cal.seqlen = c.integer("seqlen", cal.seqlen, 2, limits::kMaxSeqlen);
  if (c.has("sampling")) cal.sampling = c.choice("sampling", "", calib_sampling_names());
  cal.seed = uint64_t(c.integer("seed", int64_t(seed), 0, limits::kMaxSeed));
  cal.batch = c.integer("batch", cal.batch, 1, limits::kMaxBatch);
  return cal;
}

void read_measurements(const JsonFields& f, const std::string& base_dir, SweepSpec& s) {
  if (f.has("eval")) {
    JsonFields e(f.raw("eval"), std::string(kWhere) + " 'eval'", {"text", "seqlen", "max_windows", "batch"});
    s.eval_text = absolute_in(e.str("text", ""), base_dir);
    if (s.eval_text.empty()) e.fail("text", "must name a text file");
    s.eval_seqlen = e.integer("seqlen", s.eval_seqlen, 2, limits::kMaxSeqlen);
    s.eval_max_windows = e.integer("max_windows", 0, 0, limits::kMaxWindows);
    s.eval_batch = e.integer("batch", s.eval_batch, 1, limits::kMaxBatch);
  }
  s.analyses = f.strings("analyses");
  const auto& known = experiment_analyses();
  for (const auto& a : s.analyses)
    if (std::find(known.begin(), known.end(), a) == known.end())
      f.fail("analyses", "has unknown value '" + a + "' (allowed: " + join_words(known) + ")");
  s.analyses = canonical_analyses(s.analyses);
  s.task_files = f.strings("tasks");
  for (auto& t : s.task_files) t = absolute_in(t, base_dir);
  s.fewshot = FewshotSpec::read(f);
  for (auto& [name, file] : s.fewshot.files) file = absolute_in(file, base_dir);
  if (f.has("samples")) s.samples = SamplesSpec::from_json(f.raw("samples"));
  s.divergence_tokens = f.integer("divergence_tokens", kDefaultDivergenceTokens, 1, limits::kMaxDivergenceTokens);
}

bool observes_calibration(const std::vector<std::string>& analyses) {
  for (const auto& a : analyses)
    if (a == "outliers" || a == "quant_grid") return true;
  return false;
}

// The expansion of one method (not fp) on `base`: formats × bits × groups × sym × calibrations.
void expand_method(const SweepSpec& sw, const ExperimentSpec& m, const std::function<void(ExperimentSpec)>& add,
                   const std::function<ExperimentSpec(ExperimentSpec, const SweepCalibration&)>& with_calib) {
  const bool calib = needs_calibration(m.method);
  for (const auto& fmt : sw.formats) {
    const WeightFormat wf = parse_format(fmt);
    const bool is_int = wf == WeightFormat::Int;
    for (int b : is_int ? sw.bits : std::vector<int>{sw.bits[0]}) {
      const int64_t block = format_block_size(wf);  // block formats: the group is the block
      for (int64_t g : block > 0 ? std::vector<int64_t>{block} : sw.groups) {
        for (bool sy : is_int ? sw.sym : std::vector<bool>{false}) {
          for (int ab : sw.act_bits) {
            ExperimentSpec e = m;
            e.plan.spec.format = wf;
            QuantSpec fmt_only;
            fmt_only.format = wf;
            e.plan.spec.bits = is_int ? b : fmt_only.element_bits();
            e.plan.spec.group_size = g;
            e.plan.spec.symmetric = sy;
            e.plan.act = sw.act;
            e.plan.act.bits = ab;
            if (!calib && !e.plan.act.is_static()) {
              // outliers / quant_grid observe each block on its calibration inputs: a method that
              // does not calibrate (rtn, rotate) gets the first calibration set for them.
              add(observes_calibration(sw.analyses) && !sw.calibrations.empty() ? with_calib(e, sw.calibrations[0]) : e);
              continue;
            }
            for (const auto& c : sw.calibrations) add(with_calib(e, c));
          }
        }
      }
    }
  }
}

ExperimentSpec with_calibration(ExperimentSpec e, const SweepCalibration& c) {
  e.calib.files = c.files;
  e.calib.nsamples = c.nsamples;
  e.calib.seqlen = c.seqlen;
  e.calib.sampling = c.sampling.empty() ? default_calib_sampling(e.method) : c.sampling;
  e.calib.seed = c.seed;
  e.calib_batch = c.batch;
  e.label = "calib=" + c.name;
  return e;
}

// The settings every run of `model` shares.
ExperimentSpec base_run(const SweepSpec& sw, const std::string& model) {
  ExperimentSpec base;
  base.model_dir = model;
  base.eval_text = sw.eval_text;
  base.eval_seqlen = sw.eval_seqlen;
  base.eval_max_windows = sw.eval_max_windows;
  base.eval_batch = sw.eval_batch;
  base.task_files = sw.task_files;
  base.fewshot = sw.fewshot;
  base.samples = sw.samples;
  base.divergence_tokens = sw.divergence_tokens;
  base.device = sw.device;
  base.dtype = sw.dtype;
  base.residency = sw.residency;
  base.seed = sw.seed;
  // Overrides in the experiment spec's own JSON form, parsed once per run by from_json's rules.
  if (!sw.overrides.empty()) {
    nlohmann::json tmp = {{"model", model}, {"method", "rtn"}, {"overrides", sw.overrides}};
    base.plan.overrides = ExperimentSpec::from_json(tmp).plan.overrides;
  }
  return base;
}

void read_kv(const JsonFields& f, SweepSpec& s) {
  s.kv_bits = list_of<int>(f, "kv_bits", s.kv_bits, [&](const nlohmann::json& v) {
    const auto b = json_integer_in(v, 0, 8);
    if (!b || *b == 1) f.fail("kv_bits", "must hold 0 (full-precision cache) or integers in 2..8, got " + v.dump());
    return int(*b);
  });
  s.kv.format = f.choice("kv_format", s.kv.format, kv_formats());
  s.kv.granularity = f.choice("kv_granularity", s.kv.granularity, kv_granularities());
  s.kv.group = f.integer("kv_group", 0, 0, limits::kMaxSeqlen);
  s.kv.residual = f.integer("kv_residual", 0, 0, limits::kMaxSeqlen);
}

}  // namespace

SweepSpec SweepSpec::from_json(const nlohmann::json& j, const std::string& base_dir) {
  JsonFields f(j, kWhere, kSweepKeys);
  SweepSpec s;
  read_models_and_methods(f, base_dir, s);
  read_grid(f, s);
  s.seed = uint64_t(f.integer("seed", 0, 0, limits::kMaxSeed));
  if (f.has("calibration")) {
    nlohmann::json cs = f.raw("calibration");
    if (cs.is_object()) cs = nlohmann::json::array({cs});
    if (!cs.is_array()) f.fail("calibration", "must be an object or an array of objects");
    for (size_t i = 0; i < cs.size(); ++i) s.calibrations.push_back(read_calibration(cs[i], i, base_dir, s.seed));
  }
  read_measurements(f, base_dir, s);
  if (f.has("params")) {
    s.params = f.raw("params");
    if (!s.params.is_object()) f.fail("params", "must be an object such as {\"gptq.percdamp\": 0.01}");
  }
  if (f.has("overrides")) {
    s.overrides = f.raw("overrides");
    if (!s.overrides.is_array()) f.fail("overrides", "must be an array");
  }
  s.device = f.str("device", s.device);
  s.dtype = f.str("dtype", s.dtype);
  s.residency = f.choice("residency", s.residency, residency_names());
  read_kv(f, s);
  for (const auto& m : s.methods)
    if (needs_calibration(m) && s.calibrations.empty())
      f.fail("calibration", "is required: method '" + m + "' needs calibration text");
  if (s.act.is_static() && s.calibrations.empty())
    f.fail("calibration", "is required: act_static '" + act_static_name(s.act) + "' calibrates activation scales");
  s.expand();  // validates every run before anything runs
  return s;
}

SweepSpec SweepSpec::load(const std::string& path) {
  return from_json(read_json_file(path), parent_dir(path));
}

std::vector<ExperimentSpec> SweepSpec::expand() const {
  const bool calib_analysis = std::find(analyses.begin(), analyses.end(), "kurtosis") != analyses.end() ||
                              std::find(analyses.begin(), analyses.end(), "token_kl") != analyses.end() ||
                              std::find(analyses.begin(), analyses.end(), "outliers") != analyses.end();
  std::vector<ExperimentSpec> out;
  std::set<std::string> seen, used_params;
  auto add_one = [&](ExperimentSpec e) {
    std::vector<std::string> keep;
    for (const auto& a : analyses) {
      if (e.method == "fp" && (find_analysis(a).needs & kNeedsQuantized)) continue;  // compare, column_error, divergence
      if (a == "token_kl" && e.calib.files.empty()) continue;
      keep.push_back(a);
    }
    e.analyses = canonical_analyses(keep);
    try {
      e.validate();
    } catch (const Error& err) {
      throw Error(std::string(kWhere) + ": run " + e.method + " on '" + e.model_dir + "': " + err.what());
    }
    if (seen.insert(e.run_id()).second) out.push_back(std::move(e));
  };
  auto add = [&](const ExperimentSpec& e) {
    for (int b : kv_bits) {
      ExperimentSpec k = e;
      k.kv = kv;
      k.kv.bits = b;
      add_one(std::move(k));
    }
  };
  for (const auto& model : models) {
    const ExperimentSpec base = base_run(*this, model);
    for (const auto& method : methods) {
      ExperimentSpec m = base;
      m.method = method;
      if (method == "fp") {
        m.plan.overrides.clear();
        add(calib_analysis && !calibrations.empty() ? with_calibration(m, calibrations[0]) : m);
        continue;
      }
      m.params = params_for(method, params, &used_params);
      expand_method(*this, m, add, with_calibration);
    }
  }
  for (auto it = params.begin(); it != params.end(); ++it)
    if (!used_params.count(it.key()))
      throw Error(std::string(kWhere) + ": 'params' key '" + it.key() + "' applies to none of the methods (" +
                  join_words(methods) + "); write stage.key, e.g. gptq.percdamp");
  return out;
}

}  // namespace ptq
