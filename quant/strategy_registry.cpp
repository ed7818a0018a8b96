#include "quant/strategy_registry.h"

#include "core/records/json_util.h"
#include "core/runtime/errors.h"
#include "quant/kvcache/kv_cache_spec.h"

namespace ptq {

using json = nlohmann::json;

namespace {

ParamSpec p_int(const char* n, int64_t d, double lo, double hi, const char* help) {
  return {n, "int", d, lo, hi, {}, help};
}
ParamSpec p_float(const char* n, double d, double lo, double hi, const char* help) {
  return {n, "float", d, lo, hi, {}, help};
}
ParamSpec p_bool(const char* n, bool d, const char* help) { return {n, "bool", d, 0, 1, {}, help}; }
ParamSpec p_choice(const char* n, const char* d, std::vector<std::string> c, const char* help) {
  return {n, "choice", d, 0, 0, std::move(c), help};
}

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

}  // namespace

const std::vector<ParamSpec>& plan_param_schema() {
  static const std::vector<ParamSpec> schema = {
      p_choice("sym_style", "gptq", {"gptq", "absmax"},
               "symmetric int weights: gptq's 2·max|w|/(2^b-1) or SmoothQuant's absmax max|w|/(2^(b-1)-1)"),
      p_int("act_bits", 0, 0, 8, "activation bits (0 = full precision; int 2-8, fp8 8, fp4/mxfp4/nvfp4 4)"),
      p_choice("act_format", "int", {"int", "fp8_e4m3", "fp8_e5m2", "fp4", "mxfp4", "mxfp8", "nvfp4"},
               "number format of linear-layer inputs"),
      p_choice("act_granularity", "token", {"tensor", "token", "group"}, "one activation scale per tensor, token or group"),
      p_int("act_group", 128, 1, 1 << 20, "channels per activation scale (granularity group)"),
      p_choice("act_static", "dynamic", {"dynamic", "absmax", "percentile:99.9", "percentile:99.99", "mse"},
               "dynamic scales per batch, or static scales calibrated on the calibration text"),
      p_bool("act_qkv_out", false, "also quantize the q/k/v projection outputs"),
      p_int("kv_bits", 0, 0, 8, "KV-cache bits (0 = full-precision cache; int 2-8, fp8 8)"),
      p_choice("kv_format", "int", kv_formats(), "number format of the cached K and V"),
      p_choice("kv_granularity", "token", kv_granularities(),
               "K per token, per group of channels, or per channel over groups of tokens (KIVI); V per token"),
      p_int("kv_group", 0, 0, 1 << 20, "channels (group) or tokens (channel) per scale; 0 with token"),
      p_int("kv_residual", 0, 0, 1 << 20, "most recent tokens kept in full precision (KIVI's residual)"),
  };
  return schema;
}

json StrategyInfo::to_json() const {
  json ps = json::array();
  for (const auto& p : params) {
    json j = {{"name", p.name}, {"type", p.type}, {"default", p.default_value}, {"help", p.help}};
    if (p.type == "int" || p.type == "float") j["range"] = {p.min, p.max};
    if (p.type == "choice") j["choices"] = p.choices;
    ps.push_back(j);
  }
  const char* k = kind == StageKind::ModelTransform   ? "model-transform"
                  : kind == StageKind::BlockTransform ? "block-transform"
                  : kind == StageKind::LayerTransform ? "layer-transform"
                                                      : "quantizer";
  return {{"id", id}, {"label", label}, {"family", family}, {"description", description},
          {"kind", k}, {"needs_calibration", needs_calibration}, {"own_grouping", own_grouping}, {"params", ps}};
}

namespace {

// The table, in the order the GUI lists it: baseline, compensation, saliency, smoothing ...
std::vector<StrategyInfo> rounding_and_scaling_entries() {
  return {
      {"rtn", "RTN", "baseline",
       "Round-to-nearest of every weight with per-channel or per-group min/max scales.",
       StageKind::Quantizer, {}, false},
      {"gptq", "GPTQ", "compensation",
       "Column-by-column quantization that compensates each column's error on the remaining columns "
       "with the inverse Hessian of the calibration inputs (Frantar et al., 2023).",
       StageKind::Quantizer,
       {p_float("percdamp", 0.01, 0.0, 1.0, "damping added to the Hessian diagonal, as a fraction of its mean"),
        p_int("blocksize", 128, 1, 4096, "columns per lazy batch update"),
        p_bool("act_order", false, "quantize columns in order of decreasing Hessian diagonal"),
        p_bool("static_groups", false, "group parameters from the original weights (with act_order)"),
        p_bool("true_sequential", true, "quantize [k,v,q] -> [o] -> [up,gate] -> [down], re-capturing inputs"),
        p_bool("hessian_tf32", true, "on CUDA, accumulate the Hessian on tensor cores: bf16/fp16 inputs with exact "
                                     "products, float32 inputs in TF32 (several times faster; off reproduces the "
                                     "float32 reference bit for bit)")},
       true},
      {"awq", "AWQ", "saliency",
       "Activation-aware per-channel scaling searched on calibration data and folded into the preceding "
       "operation, then a clipping search (Lin et al., 2024).",
       StageKind::BlockTransform,
       {p_int("grid", 20, 2, 100, "points of the scale exponent grid in [0,1)"),
        p_bool("clip", true, "search a clipping range per output channel and group"),
        p_int("clip_grid", 20, 2, 100, "points of the clipping grid"),
        p_float("max_shrink", 0.5, 0.0, 0.99, "largest shrink of the weight range tried"),
        p_int("n_sample_tokens", 512, 16, 65536, "tokens used by the clipping search"),
        p_int("probe_tokens", 8192, 1, 1 << 20, "tokens per forward when a scale candidate is scored on its module "
                                                "(calibration batches joined up to this; each still scored alone)"),
        p_bool("search_tf32", true, "on CUDA, the searches' float32 matrix products (XᵀX, the fc -> fc scale "
                                    "candidates' tr(D·XᵀX·Dᵀ), the clipped outputs) use TF32 tensor cores "
                                    "(llm-awq runs them in float16; off: float32)")},
       true},
      {"smoothquant", "SmoothQuant", "smoothing",
       "Per-channel smoothing s = max|X|^alpha / max|W|^(1-alpha) from calibration activations, folded into the "
       "preceding RMSNorm, so activation outliers move into the weights (Xiao et al., 2023).",
       StageKind::BlockTransform,
       {p_float("alpha", 0.5, 0.0, 1.0, "migration strength: 0 keeps the activations, 1 moves all their range into the weights"),
        p_bool("search", false, "search alpha per group on a grid, minimising the block output error"),
        p_int("grid", 20, 2, 100, "points of the alpha grid in [0,1) when searching"),
        p_bool("linear_groups", false, "also smooth v_proj -> o_proj (same shapes only) and up -> down, as AWQ folds")},
       true},
      {"osplus", "OS+ (Outlier Suppression+)", "smoothing",
       "Channel-wise scaling of outlier channels, s = max(max x / t, min x / -t, 1), the threshold t searched on the "
       "inspected module's output error under weight and activation quantization, folded into the preceding RMSNorm "
       "(Wei et al., 2023, as LLMC; RMSNorm models get no shift, as LLMC's).",
       StageKind::BlockTransform,
       {p_int("steps", 100, 1, 10000, "fewest thresholds tried between max|x| and 1 (LLMC: max(100, max x / 0.5))")},
       true},
  };
}

// ... rotation, optimization, calibration-free, saliency with fp16 columns.
std::vector<StrategyInfo> rotation_and_later_entries() {
  return {
      {"rotate", "Rotation (QuaRot)", "rotation",
       "RMSNorm weights folded into the next layers, then a random Hadamard rotation of the residual "
       "stream fused into the weights, and an online Hadamard on down_proj inputs (Ashkboos et al., 2024).",
       StageKind::ModelTransform,
       {p_bool("online_hadamard", true, "Hadamard transform of down_proj inputs at run time"),
        p_choice("rotation", "hadamard", {"hadamard", "orthogonal"}, "kind of random rotation"),
        p_bool("headwise_hadamard", true, "Hadamard on each value head, undone offline in o_proj")},
       false},
      {"omniquant", "OmniQuant (LWC)", "optimization",
       "Learnable weight clipping: per channel and group clipping factors trained by gradient descent to "
       "minimise the block output error (Shao et al., 2024).",
       StageKind::Quantizer,
       {p_int("epochs", 5, 1, 100, "passes over the calibration batches"),
        p_float("lr", 0.01, 1e-5, 1.0, "AdamW learning rate of the clipping factors (OmniQuant's lwc_lr)"),
        p_int("batch", 1, 1, 256, "calibration windows per optimisation step"),
        p_float("init", 4.0, -10.0, 10.0, "initial value of the clipping logits (sigmoid(4) = 0.98)")},
       true},
      {"hqq", "HQQ", "calibration-free",
       "Half-quadratic quantization: per group, the zero point is fitted by a proximal solver of the "
       "weight error in an lp norm with p < 1, without calibration data (Badri & Shaji, 2023; mobiusml/hqq).",
       StageKind::Quantizer,
       {p_int("iters", 20, 1, 1000, "solver iterations (stops early when the mean error stops decreasing)"),
        p_float("lp_norm", 0.7, 0.1, 1.0, "p of the lp-norm shrinkage"),
        p_float("beta", 10.0, 1e-3, 1e6, "initial beta of the half-quadratic split"),
        p_float("kappa", 1.0, 1.0, 10.0, "beta *= kappa per iteration (1: hqq's solver since May 2025, which "
                                         "keeps beta fixed; 1.01: the paper's schedule)"),
        p_choice("round_zero", "auto", {"auto", "always", "never"},
                 "round the initial zero point (auto: for 4 bits, as hqq's BaseQuantizeConfig)"),
        p_bool("optimize", true, "run the solver (off: min/max parameters only)"),
        p_int("axis", 1, 0, 1, "1: groups of consecutive input columns (BaseQuantizeConfig's default); 0: groups "
                               "along the output dimension (hqq's better-quality setting)")},
       false},
      {"owq", "OWQ", "saliency",
       "Outlier-aware weight quantization: the input columns most sensitive by H_jj·||dW_j||² stay in "
       "fp16, the rest are quantized by GPTQ with their error compensated into them (Lee et al., 2024).",
       StageKind::Quantizer,
       {p_int("columns", 0, 0, 1 << 20, "fp16 columns per layer (0: from fraction)"),
        p_float("fraction", 0.01, 1e-4, 0.99, "fp16 columns as a fraction of the input width, rounded to even"),
        p_bool("frob_norm", true, "sensitivity H_jj·||dW_j||² (off: H_jj alone)"),
        p_choice("tuning", "mse", {"mse", "minmax"},
                 "quantizer parameters: owq's MSE grid search of range and zero (|x-Q(x)|^2.4), or min/max"),
        p_float("percdamp", 0.01, 0.0, 1.0, "damping added to the Hessian diagonal, as a fraction of its mean"),
        p_int("blocksize", 128, 1, 4096, "columns per lazy batch update"),
        p_bool("act_order", false, "quantize columns in order of decreasing sensitivity"),
        p_bool("true_sequential", true, "quantize [k,v,q] -> [o] -> [up,gate] -> [down], re-capturing inputs")},
       true},
  };
}

// ... binarization (PB-LLM, BiLLM).
std::vector<StrategyInfo> binarization_entries() {
  return {
      {"pbllm", "PB-LLM", "binarization",
       "Partial binarization: a fraction of salient weights (by magnitude or by the Hessian) kept at 8 bits or "
       "fp16, the rest binarized as sign·α + μ per row and group, with GPTQ's error compensation "
       "(Shang et al., 2024; hahnyuan/PB-LLM gptq_pb). The run's group size is the binarization group.",
       StageKind::Quantizer,
       {p_float("salient_fraction", 0.1, 1e-4, 0.9999, "weights kept at high precision, a fraction in (0, 1)"),
        p_choice("criterion", "magnitude", {"magnitude", "hessian"}, "salience: |w| or w²/diag(H⁻¹)²"),
        p_choice("kept", "int8", {"int8", "fp16"}, "precision of the salient weights (int8: per-row asymmetric)"),
        p_int("blocksize", 128, 1, 4096, "columns per GPTQ block"),
        p_float("percdamp", 0.01, 0.0, 1.0, "damping added to the Hessian diagonal, as a fraction of its mean"),
        p_bool("true_sequential", true, "quantize [k,v,q] -> [o] -> [up,gate] -> [down], re-capturing inputs")},
       true},
      {"billm", "BiLLM", "binarization",
       "Binarization with salient columns by Hessian sensitivity kept as two residual binary bases, the "
       "bell-shaped rest split at a searched break point into two binarized groups, and GPTQ's block "
       "compensation (Huang et al., 2024; Aaronhuang-778/BiLLM). The run's bits and group do not apply.",
       StageKind::Quantizer,
       {p_choice("criterion", "hessian", {"magnitude", "hessian"}, "search matrix: w or w²/diag(H⁻¹)²"),
        p_int("blocksize", 128, 2, 4096, "columns per block (the binarization group)"),
        p_int("search_columns", 50, 2, 4096, "salient columns searched per block: 1 .. this - 1"),
        p_float("percdamp", 0.01, 0.0, 1.0, "damping added to the Hessian diagonal, as a fraction of its mean"),
        p_bool("true_sequential", true, "quantize [k,v,q] -> [o] -> [up,gate] -> [down], re-capturing inputs")},
       true, /*own_grouping=*/true},
  };
}

// QuIP (quant/methods/quip/quip.h): incoherence processing around a layer's rounding.
std::vector<StrategyInfo> incoherence_entries() {
  return {
      {"quip", "QuIP", "rotation",
       "Incoherence processing per layer: W' = U W V^T, H' = V H V^T with random orthogonal U, V (Kronecker products "
       "of small random orthogonal matrices, or QuIP#'s randomized Hadamard) after a diagonal rescaling, LDLQ "
       "rounding with greedy passes (alone) or the following quantizer's (quip+gptq, quip+rtn), and U^T Q(W') V "
       "back (Chee et al., 2023; Cornell-RelaxML/QuIP). U and V are regenerated from the seed, not stored.",
       StageKind::LayerTransform,
       {p_choice("incoherence", "kron", {"kron", "hadamard"},
                 "random orthogonal U, V: Kronecker product of two random orthogonal factors (QuIP), or randomized "
                 "Hadamard (QuIP#)"),
        p_int("seed", 0, 0, 2147483647, "seed of U and V (each layer's seed mixes in its name)"),
        p_bool("rescale", true, "diagonal rescaling of W and H before the rotation (QuIP's pre_rescale)"),
        p_int("greedy_passes", 1, 0, 100, "greedy coordinate passes after LDLQ (quip alone; the reference's npasses)"),
        p_choice("grid", "rms", {"rms", "minmax"},
                 "rms: QuIP's qfn b, one scale 2.4·RMS(W') (per group with a group size); minmax: GPTQ's per "
                 "channel / group min-max"),
        p_float("percdamp", 0.01, 0.0, 1.0, "damping added to the Hessian diagonal, as a fraction of its mean (LDLQ)"),
        p_int("blocksize", 128, 1, 4096, "columns per lazy batch update (LDLQ)"),
        p_bool("true_sequential", true, "quantize [k,v,q] -> [o] -> [up,gate] -> [down], re-capturing inputs")},
       true},
  };
}

}  // namespace

const std::vector<StrategyInfo>& strategy_registry() {
  static const std::vector<StrategyInfo> r = [] {
    std::vector<StrategyInfo> all = rounding_and_scaling_entries();
    for (auto& e : rotation_and_later_entries()) all.push_back(std::move(e));
    for (auto& e : binarization_entries()) all.push_back(std::move(e));
    for (auto& e : incoherence_entries()) all.push_back(std::move(e));
    return all;
  }();
  return r;
}

const StrategyInfo& find_strategy(const std::string& id) {
  std::vector<std::string> ids;
  for (const auto& s : strategy_registry()) {
    if (s.id == id) return s;
    ids.push_back(s.id);
  }
  throw Error("unknown method '" + id + "' (choose from: " + join(ids) + ", or a composition such as rotate+gptq)");
}

std::vector<const StrategyInfo*> parse_method(const std::string& method) {
  std::vector<const StrategyInfo*> stages;
  size_t start = 0;
  while (true) {
    size_t plus = method.find('+', start);
    std::string part = method.substr(start, plus == std::string::npos ? std::string::npos : plus - start);
    if (part.empty()) throw Error("bad method '" + method + "': empty stage");
    stages.push_back(&find_strategy(part));
    if (plus == std::string::npos) break;
    start = plus + 1;
  }
  int quantizers = 0;
  for (size_t i = 0; i < stages.size(); ++i) {
    if (stages[i]->kind == StageKind::Quantizer) {
      ++quantizers;
      if (i + 1 != stages.size())
        throw Error("bad method '" + method + "': the quantizer (" + stages[i]->id + ") must come last");
    }
    for (size_t j = 0; j < i; ++j)
      if (stages[j] == stages[i]) throw Error("bad method '" + method + "': " + stages[i]->id + " appears twice");
    if (i > 0 && stages[i]->kind == StageKind::ModelTransform)
      throw Error("bad method '" + method + "': " + stages[i]->id + " must come first");
    if (stages[i]->kind == StageKind::LayerTransform && i + 1 < stages.size() &&
        !(i + 2 == stages.size() && (stages[i + 1]->id == "gptq" || stages[i + 1]->id == "rtn")))
      throw Error("bad method '" + method + "': " + stages[i]->id +
                  " comes last or just before the quantizer whose rounding it wraps (gptq or rtn)");
  }
  if (quantizers > 1) throw Error("bad method '" + method + "': more than one quantizer");
  if (quantizers == 0 && stages.back()->kind != StageKind::LayerTransform) stages.push_back(&find_strategy("rtn"));
  return stages;
}

json resolve_params(const std::vector<const StrategyInfo*>& stages, const json& user) {
  json out = json::object();
  for (const auto* s : stages) {
    json& o = out[s->id] = json::object();
    for (const auto& p : s->params) o[p.name] = p.default_value;
  }
  for (auto it = user.begin(); it != user.end(); ++it) {
    std::string key = it.key(), stage;
    auto dot = key.find('.');
    if (dot != std::string::npos) {
      stage = key.substr(0, dot);
      key = key.substr(dot + 1);
    }
    bool used = false;
    for (const auto* s : stages) {
      if (!stage.empty() && s->id != stage) continue;
      for (const auto& p : s->params) {
        if (p.name != key) continue;
        const json& v = it.value();
        std::string where = "parameter " + s->id + "." + p.name;
        if (p.type == "int") {
          if (!v.is_number_integer()) throw Error(where + " expects an integer, got " + v.dump());
          double d = double(v.get<int64_t>());
          if (d < p.min || d > p.max)
            throw Error(where + " = " + v.dump() + " is out of range [" + json(int64_t(p.min)).dump() + ", " +
                        json(int64_t(p.max)).dump() + "]");
        } else if (p.type == "float") {
          if (!v.is_number()) throw Error(where + " expects a number, got " + v.dump());
          double d = v.get<double>();
          if (d < p.min || d > p.max)
            throw Error(where + " = " + v.dump() + " is out of range [" + json(p.min).dump() + ", " + json(p.max).dump() + "]");
        } else if (p.type == "bool") {
          if (!v.is_boolean()) throw Error(where + " expects true or false, got " + v.dump());
        } else if (p.type == "choice") {
          if (!v.is_string() || std::find(p.choices.begin(), p.choices.end(), v.get<std::string>()) == p.choices.end())
            throw Error(where + " = " + v.dump() + " is not one of: " + join(p.choices));
        }
        out[s->id][p.name] = v;
        used = true;
      }
    }
    if (!used) {
      std::vector<std::string> known;
      for (const auto* s : stages)
        for (const auto& p : s->params) known.push_back(s->id + "." + p.name);
      throw Error("unknown parameter '" + it.key() + "' for this method (known: " +
                  (known.empty() ? std::string("none") : join(known)) + ")");
    }
  }
  return out;
}

void parse_param_assignment(const std::string& kv, json& into) {
  auto eq = kv.find('=');
  if (eq == std::string::npos || eq == 0) throw Error("bad --param '" + kv + "': expected key=value");
  std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
  // Not JSON: the plain string. JSON: parsed with the nesting bounded (json::accept builds nothing).
  into[k] = json::accept(v) ? parse_json(v, "--param '" + k + "'") : json(v);
}

}  // namespace ptq
