#include "quant/pipeline/pipeline.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "core/runtime/device.h"
#include "core/runtime/errors.h"
#include "core/model/model.h"
#include "core/model/transform_support.h"
#include "core/text/tokenizer.h"
#include "quant/pipeline/act_calibration.h"
#include "quant/pipeline/act_install.h"
#include "quant/pipeline/plan_check.h"
#include "quant/pipeline/block_stage.h"
#include "quant/pipeline/column_error.h"
#include "quant/pipeline/output_error.h"
#include "quant/methods/gptq/gptq_stage_helpers.h"
#include "quant/methods/rotation/rotation.h"
#include "quant/strategy_registry.h"

namespace ptq {

// quant/methods/smoothing/osplus.cpp (declared here, not in block_stage.h, so adding it recompiles one file).
void osplus_transform_block(BlockWork& w);

namespace {

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

BlockStageFn block_stage(const std::string& id) {
  if (id == "rtn") return rtn_quantize_block;
  if (id == "gptq") return gptq_quantize_block;
  if (id == "awq") return awq_transform_block;
  if (id == "smoothquant") return smoothquant_transform_block;
  if (id == "osplus") return osplus_transform_block;
  if (id == "omniquant") return omniquant_quantize_block;
  if (id == "hqq") return hqq_quantize_block;
  if (id == "owq") return owq_quantize_block;
  if (id == "pbllm") return pbllm_quantize_block;
  if (id == "billm") return billm_quantize_block;
  throw Error("no block stage for '" + id + "'");
}

// Output error of each linear layer: the quantized block runs, and for every layer the observer
// also applies the full-precision weight (kept in the compute dtype) to the same input. Products
// run in the compute dtype; every reduction accumulates in float32 (output_error_sums), so bf16 runs
// on the GPU need no float32 copies of the activations.
struct ActivationErrorObserver : LinearObserver {
  std::map<std::string, at::Tensor> fp_weight;  // by name inside the block
  struct Acc {  // float64 scalars on the device: summed there in batch order, read once per block
    at::Tensor err, ref, cos;
    int64_t tokens = 0;
  };
  static void add(at::Tensor& a, const at::Tensor& v) {
    at::Tensor d = v.to(at::kDouble);
    a = a.defined() ? a + d : d;
  }
  std::map<std::string, Acc> acc;
  void on_linear(int, const Linear& l, const at::Tensor& in, const at::Tensor& out) override {
    auto it = fp_weight.find(l.name());
    if (it == fp_weight.end() || in.size(0) == 0) return;
    at::Tensor y = at::linear(in, it->second, l.bias.defined() ? c10::optional<at::Tensor>(l.bias) : c10::nullopt);
    Acc& a = acc[l.name()];
    const at::Tensor s = output_error_sums(out.reshape({-1, out.size(-1)}), y.reshape({-1, y.size(-1)}));
    add(a.err, s[0]);
    add(a.ref, s[1]);
    add(a.cos, s[2]);
    a.tokens += in.size(0);
  }
};

void check_finite(Block& b) {
  for (auto& l : b.linears())
    if (!at::isfinite(l.weight).all().item<bool>())
      throw Error("weight of " + linear_full_name(b.index(), l.name()) + " contains NaN or Inf");
}

// Every planned layer's spec against its shape, and calibration text where a stage needs it.
void validate_request(const ModelConfig& cfg, const QuantRequest& req, const std::vector<const StrategyInfo*>& stages) {
  std::vector<PlannedLinear> layers;
  for (int i = 0; i < cfg.num_layers; ++i)
    for (const auto& s : block_linears(cfg, i)) layers.push_back({linear_full_name(i, s.name), s.type, s.in_features});
  const bool own_groups = !stages.empty() && stages.back()->own_grouping;  // e.g. BiLLM's own column blocks
  validate_plan_for_layers(req.plan, layers, own_groups);
  bool needs_calib = false;
  for (const auto* s : stages) needs_calib |= s->needs_calibration;
  if (needs_calib && req.calib.files.empty())
    throw Error("method '" + req.method + "' needs calibration text (--calib FILE)");
  if (req.plan.act.enabled() && req.plan.act.is_static() && req.calib.files.empty())
    throw Error("act_static '" + act_static_name(req.plan.act) +
                "' calibrates activation scales on calibration data: give --calib FILE (or use dynamic scales)");
}

// Embedded calibration windows, in batches of calib_batch, on the model's device.
std::vector<at::Tensor> embed_calibration(Model& model, const at::Tensor& windows, int64_t batch, CalibStaging st) {
  std::vector<at::Tensor> inputs;
  at::Tensor dev = windows.to(model.device());
  for (int64_t b = 0; b < dev.size(0); b += batch)
    inputs.push_back(to_staging(model.embed(dev.slice(0, b, std::min(dev.size(0), b + batch))), st));
  return inputs;
}

// The state of one block while its stages run.
struct BlockPass {
  int index = 0;
  Block& blk;
  std::vector<at::Tensor>& inputs;
  std::vector<at::Tensor> fp_outputs;
  std::map<std::string, LayerRecord> records;
  std::map<std::string, QuantizedWeight> quantized;
  std::chrono::steady_clock::time_point t0;
  CalibStaging staging = CalibStaging::Device;
  std::unique_ptr<HessianObserver> precaptured;  // GPTQ's first group, on the full-precision forward
};

// GPTQ as the only block stage (after any model transform) sees the block as the full-precision
// forward does, so that forward can accumulate its first group's Hessians.
bool gptq_alone(const std::vector<const StrategyInfo*>& stages) {
  int block_stages = 0;
  for (const auto* s : stages) block_stages += s->kind != StageKind::ModelTransform;
  return block_stages == 1 && stages.back()->id == "gptq";
}

// The block's full-precision outputs on every calibration batch, staged like the inputs; GPTQ alone
// also takes its first group's Hessians from this pass.
void full_precision_outputs(Model& model, BlockPass& p, const BlockContext& ctx, const QuantRequest& req,
                            const std::vector<const StrategyInfo*>& stages, QuantResult& res, Feedback* fb) {
  BlockContext fp_ctx = ctx;
  if (!req.transform_only && gptq_alone(stages)) {
    const BlockWork w{model, p.blk, ctx, p.inputs, p.fp_outputs, req.plan, res.params["gptq"], p.records, p.quantized, fb};
    p.precaptured = gptq_first_group_observer(w);
    fp_ctx.observer = p.precaptured.get();
  }
  StagedBatches xs(p.inputs, model.device());
  const bool profile = p.index == 0 && std::getenv("PTQ_PROFILE");
  for (size_t b = 0; b < p.inputs.size(); ++b) {
    check_cancel(fb);
    p.fp_outputs.push_back(to_staging(p.blk.forward(xs.get(b), fp_ctx), p.staging));
    if (profile && b < 2) {  // the first block's one-off costs: the first batch against the second
      synchronize(model.device());
      std::fprintf(stderr, "block 0: fp batch %zu done at %.3f s\n", b, since(p.t0));
    }
  }
}

// After the quantizer ran: block i+1 sees the quantized block i. Each batch's input is replaced by
// its output as soon as it is computed (and the full-precision output dropped), so no third copy of
// the calibration activations is ever held. Fills the block's and every observed layer's output error.
// With `rs` filled by the quantizer's captures, only the block's second half runs (its first-half
// layers were observed when rs was filled).
void measure_quantized_block(BlockPass& p, const BlockContext& ctx, ActivationErrorObserver& err, BlockRecord& br,
                             BlockResume& rs, Feedback* fb) {
  BlockContext c = ctx;
  c.observer = &err;
  at::Tensor sum;
  const at::Device dev = p.blk.linears().front().weight.device();
  const bool resume = rs.filled(p.inputs.size());
  StagedBatches xs(resume ? rs.mid : p.inputs, dev), fps(p.fp_outputs, dev);
  for (size_t b = 0; b < p.inputs.size(); ++b) {
    check_cancel(fb);
    at::Tensor out = resume ? p.blk.second_half(xs.get(b), c) : p.blk.forward(xs.get(b), c);
    const at::Tensor fp = fps.get(b);
    at::Tensor d = out - fp;
    // One ratio per batch, summed on the device in double (as the host did): no sync per batch.
    ActivationErrorObserver::add(sum, at::norm(d, 2, at::kFloat).pow(2) / at::norm(fp, 2, at::kFloat).pow(2).clamp_min(1e-30));
    p.inputs[b] = to_staging(out, p.staging);
    p.fp_outputs[b] = at::Tensor();
    if (resume) rs.mid[b] = at::Tensor();
  }
  br.out_rel_mse = p.inputs.empty() ? kNotMeasured : sum.item<double>() / double(p.inputs.size());
  if (!p.inputs.empty() && !std::isfinite(br.out_rel_mse))
    throw Error("block " + std::to_string(br.block) + ": the quantized block's outputs are not finite (NaN or Inf)");
  for (auto& kv : err.acc) {
    LayerRecord& r = p.records[kv.first];
    r.out_rel_mse = kv.second.err.item<double>() / std::max(kv.second.ref.item<double>(), 1e-30);
    r.out_cosine = kv.second.tokens ? kv.second.cos.item<double>() / double(kv.second.tokens) : kNotMeasured;
    r.calib_tokens = kv.second.tokens;
  }
}

// Runs the block-level stages of one block (the model transforms already ran) and appends its
// block record; stops before the quantizer when the request is transform_only.
void run_block_stages(Model& model, BlockPass& p, const BlockContext& ctx, const QuantRequest& req,
                      const std::vector<const StrategyInfo*>& stages, QuantResult& res, bool have_calib, Feedback* fb) {
  const bool profile = std::getenv("PTQ_PROFILE") != nullptr;
  const bool quip = std::any_of(stages.begin(), stages.end(), [](const auto* s) { return s->id == "quip"; });
  for (const auto* s : stages) {
    if (s->kind == StageKind::ModelTransform) continue;
    // The last stage sets the weights: the quantizer, or a layer transform alone (quip: LDLQ).
    const bool quantizes = s == stages.back();
    if (s->kind == StageKind::LayerTransform && !quantizes) continue;  // runs around the quantizer's rounding
    BlockWork w{model, p.blk, ctx, p.inputs, p.fp_outputs, req.plan, res.params[s->id], p.records, p.quantized, fb};
    if (quantizes) {
      w.precaptured = p.precaptured.get();
      if (req.after_transform) req.after_transform(w);
      if (req.transform_only) {
        if (have_calib) {
          std::vector<at::Tensor> outs = w.run();
          for (size_t b = 0; b < outs.size(); ++b) p.inputs[b] = to_staging(outs[b], p.staging);
        }
        return;
      }
    }
    ActivationErrorObserver err;
    if (quantizes)
      for (auto& l : p.blk.linears())
        if (w.spec_for(l)) err.fp_weight[l.name()] = l.weight.clone();
    BlockResume resume;  // the quantizer's captures may keep the residual streams after the attention
    if (quantizes && have_calib) {
      // Not in GPU memory; PTQ_NO_BLOCK_RESUME runs every capture and the error pass in full (same numbers).
      resume.enabled = (p.staging == CalibStaging::Host || !model.device().is_cuda()) && !std::getenv("PTQ_NO_BLOCK_RESUME");
      resume.staging = p.staging;
      resume.settled = &err;
      w.resume = &resume;
    }
    if (quantizes && quip)
      quip_quantize_block(w, res.params["quip"], s->id == "quip" ? "ldlq" : s->id);
    else
      block_stage(s->id)(w);
    if (!quantizes) continue;
    if (req.column_errors)  // the weight the quantizer saw (after transforms) against what it left
      for (auto& l : p.blk.linears())
        if (err.fp_weight.count(l.name()) && layer_record(p.records, p.index, l).quantized)
          layer_record(p.records, p.index, l).column_rel_error = column_relative_error(err.fp_weight[l.name()], l.weight);
    if (req.plan.act.enabled() && req.plan.act.is_static())  // on the inputs the quantizer will see
      for (auto& kv : calibrate_static_act_scales(p.blk, ctx, p.inputs, req.plan)) res.act_scales[kv.first] = kv.second;
    BlockRecord br;
    br.block = p.index;
    model.prefetch(p.index + 1);  // a no-op when quantize_model already asked for it
    if (have_calib) measure_quantized_block(p, ctx, err, br, resume, fb);
    br.seconds = since(p.t0);
    if (profile) {
      synchronize(model.device());
      std::fprintf(stderr, "block %d: %s done at %.3f s (error pass included)\n", p.index, s->id.c_str(), since(p.t0));
    }
    res.blocks.push_back(br);
  }
}

// Layer records of the block in its layer order (layers left in full precision get a row and a
// note saying why), and its integer forms by full name.
void collect_block_records(BlockPass& p, QuantResult& res) {
  for (auto& l : p.blk.linears()) {
    LayerRecord& r = layer_record(p.records, p.index, l);
    if (r.quantized) continue;
    std::string why = l.spec.type == "router" ? "router: kept in full precision" : "skipped by the plan";
    r.note = r.note.empty() ? why : r.note + "; " + why;
  }
  for (auto& l : p.blk.linears()) res.layers.push_back(p.records[l.name()]);
  for (auto& kv : p.quantized) res.quantized[linear_full_name(p.index, kv.first)] = std::move(kv.second);
}

}  // namespace

nlohmann::json QuantResult::to_json() const {
  nlohmann::json ls = nlohmann::json::array(), bs = nlohmann::json::array();
  for (const auto& l : layers) ls.push_back(l.to_json());
  for (const auto& b : blocks) bs.push_back(b.to_json());
  const auto& s = plan.spec;
  nlohmann::json j = {{"method", method}, {"bits", s.element_bits()}, {"group", s.group_size}, {"sym", s.symmetric},
                      {"format", format_name(s.format)}, {"params", params}, {"plan", plan.to_json()},
                      {"calibration", calibration}, {"layers", ls}, {"blocks", bs}, {"quantize_seconds", seconds},
                      {"peak_gpu_bytes", peak_gpu_bytes}, {"calib_staging", calib_staging_name(calib_staging)}};
  if (!activations.is_null()) j["activations"] = activations;
  return j;
}

QuantResult quantize_model(Model& model, const Tokenizer* tok, const QuantRequest& req, Feedback* fb) {
  auto t0 = std::chrono::steady_clock::now();
  QuantResult res;
  res.method = req.method;
  res.plan = req.plan;
  // Validate everything before any work.
  auto stages = parse_method(req.method);
  res.params = resolve_params(stages, req.params);
  const ModelConfig& cfg = model.config();
  if (model.split())
    throw Error("a model split across devices (--split-devices) is for evaluation; quantize on one device "
                "(--residency stream for a model larger than it)");
  validate_request(cfg, req, stages);
  for (const auto* s : stages) {  // transforms that cannot fold into this architecture say why, before any work
    const std::string why = transform_refusal(cfg, s->id, res.params[s->id]);
    if (!why.empty()) throw Error(why);
  }
  res.calib_staging = resolve_calib_staging(req.calib_staging, model.device(), model.streaming());
  const bool have_calib = !req.calib.files.empty();
  at::Tensor windows;
  if (have_calib) {
    if (!tok) throw Error("calibration needs the model's tokenizer");
    windows = calibration_windows(*tok, req.calib);
    res.calibration = req.calib.to_json();
  }
  const bool profile = std::getenv("PTQ_PROFILE") != nullptr;
  auto mark = [&](const char* what) {
    if (!profile) return;
    synchronize(model.device());
    std::fprintf(stderr, "quantize: %s at %.3f s\n", what, since(t0));
  };
  mark("calibration windows");
  reset_peak_memory(model.device());
  begin_result_copies();

  for (const auto* s : stages)
    if (s->kind == StageKind::ModelTransform) {
      rotate_model(model, res.params[s->id], req.seed, fb);
      res.params[s->id] = rotation_record(cfg, res.params[s->id]);
    }

  std::vector<at::Tensor> inputs;
  if (have_calib) inputs = embed_calibration(model, windows, req.calib_batch, res.calib_staging);
  mark("embedded");
  const int64_t T = have_calib ? req.calib.seqlen : 1;
  BlockContext ctx = model.context(T);
  for (int i = 0; i < cfg.num_layers; ++i) {
    check_cancel(fb);
    mark("acquire");
    BlockPass p{i, model.acquire(i), inputs, {}, {}, {}, std::chrono::steady_clock::now(), res.calib_staging};
    // The next block is read into pinned host memory while this one computes (its device copy waits
    // for the acquire): the worker's read, and the previous block's write-back, are then done when
    // this block ends instead of holding up the next one.
    if (!std::getenv("PTQ_LATE_PREFETCH")) model.prefetch(i + 1);
    check_finite(p.blk);
    if (have_calib) full_precision_outputs(model, p, ctx, req, stages, res, fb);
    if (profile) {
      synchronize(model.device());
      std::fprintf(stderr, "block %d: load + fp forward %.3f s\n", i, since(p.t0));
    }
    run_block_stages(model, p, ctx, req, stages, res, have_calib, fb);
    collect_block_records(p, res);
    mark("records");
    model.release(i);
    mark("released");
    report(fb, "quantize", i + 1, cfg.num_layers);
  }
  if (!req.transform_only && req.plan.act.enabled())
    res.activations = activation_record(model, req.plan, install_activation_quantizers(model, req.plan, res.act_scales));
  mark("blocks done");
  model.finish_transfers();  // every quantized block is in host memory, or the run fails here
  synchronize(model.device());
  mark("transfers finished");
  res.seconds = since(t0);
  res.peak_gpu_bytes = peak_memory_bytes(model.device());
  return res;
}

}  // namespace ptq
