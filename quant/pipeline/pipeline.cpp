#include "quant/pipeline/pipeline.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/runtime/device.h"
#include "core/runtime/errors.h"
#include "core/model/model.h"
#include "core/text/tokenizer.h"
#include "quant/pipeline/block_stage.h"
#include "quant/strategy_registry.h"

namespace ptq {

namespace {

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

BlockStageFn block_stage(const std::string& id) {
  if (id == "rtn") return rtn_quantize_block;
  if (id == "gptq") return gptq_quantize_block;
  if (id == "awq") return awq_transform_block;
  if (id == "omniquant") return omniquant_quantize_block;
  throw Error("no block stage for '" + id + "'");
}

// Output error of each linear layer: the quantized block runs, and for every layer the observer
// also applies the full-precision weight (kept in the compute dtype) to the same input. Products
// run in the compute dtype; every reduction accumulates in float32, so bf16 runs on the GPU need
// no float32 copies of the activations.
struct ActivationErrorObserver : LinearObserver {
  std::map<std::string, at::Tensor> fp_weight;  // by name inside the block
  struct Acc {
    double err = 0, ref = 0, cos = 0;
    int64_t tokens = 0;
  };
  std::map<std::string, Acc> acc;
  void on_linear(int, const Linear& l, const at::Tensor& in, const at::Tensor& out) override {
    auto it = fp_weight.find(l.name());
    if (it == fp_weight.end() || in.size(0) == 0) return;
    at::Tensor y = at::linear(in, it->second, l.bias.defined() ? c10::optional<at::Tensor>(l.bias) : c10::nullopt);
    const at::ScalarType f = at::kFloat;
    Acc& a = acc[l.name()];
    a.err += at::norm(out - y, 2, f).pow(2).item<double>();
    a.ref += at::norm(y, 2, f).pow(2).item<double>();
    at::Tensor dot = at::sum(out * y, {1}, false, f);
    at::Tensor nq = at::norm(out, 2, {1}, false, f), ny = at::norm(y, 2, {1}, false, f);
    a.cos += (dot / (nq * ny).clamp_min(1e-8)).sum().item<double>();
    a.tokens += in.size(0);
  }
};

void check_finite(DecoderBlock& b) {
  for (auto& l : b.linears())
    if (!at::isfinite(l.weight).all().item<bool>())
      throw Error("weight of " + linear_full_name(b.index(), l.name()) + " contains NaN or Inf");
}

}  // namespace

nlohmann::json QuantResult::to_json() const {
  nlohmann::json ls = nlohmann::json::array(), bs = nlohmann::json::array();
  for (const auto& l : layers) ls.push_back(l.to_json());
  for (const auto& b : blocks) bs.push_back(b.to_json());
  const auto& s = plan.spec;
  return {{"method", method}, {"bits", s.element_bits()}, {"group", s.group_size}, {"sym", s.symmetric},
          {"format", format_name(s.format)}, {"params", params}, {"plan", plan.to_json()},
          {"calibration", calibration}, {"layers", ls}, {"blocks", bs}, {"quantize_seconds", seconds},
          {"peak_gpu_bytes", peak_gpu_bytes}};
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
  std::vector<std::string> layer_names;
  for (int i = 0; i < cfg.num_layers; ++i)
    for (const auto& s : block_linears(cfg)) layer_names.push_back(linear_full_name(i, s.name));
  check_overrides_match(req.plan, layer_names);
  for (int i = 0; i < cfg.num_layers; ++i)
    for (const auto& s : block_linears(cfg)) {
      auto spec = req.plan.spec_for(linear_full_name(i, s.name), s.type);
      if (!spec) continue;
      try {
        spec->validate(s.in_features);
        if (spec->format == WeightFormat::Int && (spec->bits < 2 || spec->bits > 8))
          throw Error("bits must be in 2..8, got " + std::to_string(spec->bits));
      } catch (const Error& e) {
        throw Error("layer " + linear_full_name(i, s.name) + ": " + e.what());
      }
    }
  bool needs_calib = false;
  for (const auto* s : stages) needs_calib |= s->needs_calibration;
  const bool have_calib = !req.calib.files.empty();
  if (needs_calib && !have_calib) throw Error("method '" + req.method + "' needs calibration text (--calib FILE)");
  at::Tensor windows;
  if (have_calib) {
    if (!tok) throw Error("calibration needs the model's tokenizer");
    windows = calibration_windows(*tok, req.calib);
    res.calibration = req.calib.to_json();
  }
  reset_peak_memory(model.device());

  for (const auto* s : stages)
    if (s->kind == StageKind::ModelTransform) rotate_model(model, res.params[s->id], req.seed, fb);

  std::vector<at::Tensor> inputs;
  if (have_calib) {
    at::Tensor dev = windows.to(model.device());
    for (int64_t b = 0; b < dev.size(0); b += req.calib_batch)
      inputs.push_back(model.embed(dev.slice(0, b, std::min(dev.size(0), b + req.calib_batch))));
  }
  const int64_t T = have_calib ? req.calib.seqlen : 1;
  BlockContext ctx = model.context(T);
  for (int i = 0; i < cfg.num_layers; ++i) {
    check_cancel(fb);
    auto tb = std::chrono::steady_clock::now();
    DecoderBlock& blk = model.acquire(i);
    check_finite(blk);
    std::map<std::string, LayerRecord> records;
    std::map<std::string, QuantizedWeight> quantized;
    std::vector<at::Tensor> fp_outputs;
    if (have_calib)
      for (const auto& x : inputs) fp_outputs.push_back(blk.forward(x, ctx));
    const bool profile = std::getenv("PTQ_PROFILE") != nullptr;
    if (profile) {
      synchronize(model.device());
      std::fprintf(stderr, "block %d: load + fp forward %.3f s\n", i, since(tb));
    }
    for (const auto* s : stages) {
      if (s->kind == StageKind::ModelTransform) continue;
      BlockWork w{model, blk, ctx, inputs, fp_outputs, req.plan, res.params[s->id], records, quantized, fb};
      if (s->kind == StageKind::Quantizer) {
        if (req.after_transform) req.after_transform(w);
        if (req.transform_only) {
          if (have_calib) inputs = w.run();
          break;
        }
      }
      ActivationErrorObserver err;
      if (s->kind == StageKind::Quantizer)
        for (auto& l : blk.linears())
          if (w.spec_for(l)) err.fp_weight[l.name()] = l.weight.clone();
      block_stage(s->id)(w);
      if (s->kind != StageKind::Quantizer) continue;
      BlockRecord br;
      br.block = i;
      if (have_calib) {
        // Block i+1 sees the quantized block i: each batch's input is replaced by its output as
        // soon as it is computed (and the full-precision output dropped), so no third copy of the
        // calibration activations is ever held.
        BlockContext c = ctx;
        c.observer = &err;
        double sum = 0;
        for (size_t b = 0; b < inputs.size(); ++b) {
          check_cancel(fb);
          at::Tensor out = blk.forward(inputs[b], c);
          at::Tensor d = out - fp_outputs[b];
          sum += (at::norm(d, 2, at::kFloat).pow(2) / at::norm(fp_outputs[b], 2, at::kFloat).pow(2).clamp_min(1e-30))
                     .item<double>();
          inputs[b] = out;
          fp_outputs[b] = at::Tensor();
        }
        br.out_rel_mse = inputs.empty() ? -1 : sum / double(inputs.size());
        if (!std::isfinite(br.out_rel_mse))
          throw Error("block " + std::to_string(i) + ": the quantized block's outputs are not finite (NaN or Inf)");
        for (auto& kv : err.acc) {
          LayerRecord& r = records[kv.first];
          r.out_rel_mse = kv.second.err / std::max(kv.second.ref, 1e-30);
          r.out_cosine = kv.second.tokens ? kv.second.cos / double(kv.second.tokens) : -1;
          r.calib_tokens = kv.second.tokens;
        }
      }
      br.seconds = since(tb);
      if (profile) {
        synchronize(model.device());
        std::fprintf(stderr, "block %d: %s done at %.3f s (error pass included)\n", i, s->id.c_str(), since(tb));
      }
      res.blocks.push_back(br);
    }
    for (auto& l : blk.linears()) {  // layers left in full precision still get a row
      LayerRecord& r = layer_record(records, i, l);
      if (r.quantized) continue;
      std::string why = l.spec.type == "router" ? "router: kept in full precision" : "skipped by the plan";
      r.note = r.note.empty() ? why : r.note + "; " + why;
    }
    for (auto& l : blk.linears()) res.layers.push_back(records[l.name()]);
    for (auto& kv : quantized) res.quantized[linear_full_name(i, kv.first)] = std::move(kv.second);
    model.release(i);
    report(fb, "quantize", i + 1, cfg.num_layers);
  }
  synchronize(model.device());
  res.seconds = since(t0);
  res.peak_gpu_bytes = peak_memory_bytes(model.device());
  return res;
}

}  // namespace ptq
