// The packed tensors and quantization_config of an export (quant/export/hf_export.h).
#include <set>

#include "core/io/quantized_layouts.h"
#include "core/model/model_layout.h"
#include "core/runtime/errors.h"
#include "quant/export/hf_export_internal.h"

namespace ptq::hf_export_detail {

using nlohmann::json;

std::vector<LinearRef> model_linears(Model& m) {
  std::vector<LinearRef> out;
  for (int i = 0; i < m.num_blocks(); ++i) {
    Block& b = m.acquire(i);
    for (const auto& l : b.linears()) {
      std::string key = linear_weight_key(m.config(), i, l.name());
      out.push_back({linear_full_name(i, l.name()), key.substr(0, key.size() - 7), bool(l.input_transform)});
    }
    m.release(i);
  }
  return out;
}

at::Tensor stored_scales(const at::Tensor& s) {
  at::Tensor f = s.to(at::kCPU, at::kFloat).contiguous();
  at::Tensor h = f.to(at::kHalf);
  return at::equal(h.to(at::kFloat), f) ? h : f;
}

namespace {

// Column j's group: g_idx when act-order permuted it, else j / group (AutoGPTQ's g_idx buffer).
at::Tensor group_index_int32(const QuantizedWeight& q) {
  const int64_t in = q.codes.size(1);
  if (q.g_idx.defined()) return q.g_idx.to(at::kCPU, at::kInt).contiguous();
  return at::div(at::arange(in, at::kLong), q.spec.effective_group(in), "floor").to(at::kInt);
}

at::Tensor codes_i64(const QuantizedWeight& q) { return q.codes.to(at::kCPU, at::kLong); }
at::Tensor zeros_i64(const QuantizedWeight& q) { return q.zeros.to(at::kCPU, at::kDouble).round().to(at::kLong); }

using Tensors = std::vector<std::pair<std::string, at::Tensor>>;

// qlinear_cuda_old.py pack(): qweight [in·b/32, out], qzeros [groups, out·b/32] (v1: zero − 1),
// scales [groups, out], g_idx int32 [in].
Tensors gptq_tensors(const QuantizedWeight& q, const std::string& m, bool v2) {
  const int b = q.spec.bits;
  return {{m + ".qweight", pack_gptq_bitstream(codes_i64(q).t(), b, 0, m + ".qweight")},
          {m + ".qzeros", pack_gptq_bitstream((zeros_i64(q) - (v2 ? 0 : 1)).t(), b, 1, m + ".qzeros")},
          {m + ".scales", stored_scales(q.scales.t())},
          {m + ".g_idx", group_index_int32(q)}};
}

// AutoAWQ gemm.py from_linear: qweight [in, out/8], qzeros [groups, out/8], scales [groups, out].
Tensors awq_tensors(const QuantizedWeight& q, const std::string& m) {
  return {{m + ".qweight", pack_awq_gemm(codes_i64(q).t(), m + ".qweight")},
          {m + ".qzeros", pack_awq_gemm(zeros_i64(q).t(), m + ".qzeros")},
          {m + ".scales", stored_scales(q.scales.t())}};
}

// compressed-tensors: pack_quantized.py compress_weight (weight_packed, weight_shape,
// weight_zero_point packed along dim 0 when asymmetric), naive_quantized.py (int8 / FP8 weight).
Tensors ct_tensors(const HfExportInput& in, const QuantizedWeight& q, const std::string& full, const std::string& m,
                   std::vector<std::string>* fp8_names) {
  const int b = q.spec.bits;
  const std::string ct = ct_format_of(in);
  Tensors t;
  if (ct == "pack-quantized") {
    t.emplace_back(m + ".weight_packed", pack_ct_int32(codes_i64(q), b, 1, m + ".weight_packed"));
    t.emplace_back(m + ".weight_shape", at::tensor({q.codes.size(0), q.codes.size(1)}, at::kLong));
    if (!q.spec.symmetric) t.emplace_back(m + ".weight_zero_point", pack_ct_int32(zeros_i64(q), b, 0, m + ".weight_zero_point"));
    if (q.g_idx.defined()) t.emplace_back(m + ".weight_g_idx", group_index_int32(q));
  } else if (ct == "int-quantized") {
    t.emplace_back(m + ".weight", (codes_i64(q) - (int64_t(1) << (b - 1))).to(at::kChar));
  } else {
    const at::Tensor grid = format_grid(WeightFormat::FP8_E4M3);
    const at::Tensor v = grid.index_select(0, codes_i64(q).reshape({-1})).view(q.codes.sizes());
    t.emplace_back(m + ".weight", encode_fp8_e4m3(v, m + ".weight"));
    fp8_names->push_back(m + ".weight");
  }
  // W8A8 scales stay float32 (vLLM's W8A8 schemes register float32 weight_scale / input_scale).
  t.emplace_back(m + ".weight_scale", ct == "pack-quantized" ? stored_scales(q.scales) : q.scales.to(at::kCPU, at::kFloat));
  auto s = in.act_scales.find(full);
  if (in.act.enabled() && in.act.is_static()) {
    if (s == in.act_scales.end()) throw Error("cannot export '" + full + "': its static activation scale is missing");
    t.emplace_back(m + ".input_scale", s->second.to(at::kCPU, at::kFloat).reshape({1}));
  }
  return t;
}

json ct_weights_args(const QuantSpec& s, bool actorder) {
  const bool fp8 = s.format == WeightFormat::FP8_E4M3;
  json w = {{"num_bits", fp8 ? 8 : s.bits}, {"type", fp8 ? "float" : "int"}, {"symmetric", fp8 || s.symmetric},
            {"strategy", s.group_size == -1 ? "channel" : "group"}, {"group_size", json()}, {"dynamic", false},
            {"actorder", actorder ? json("group") : json()}, {"observer", "minmax"}, {"block_structure", json()},
            {"observer_kwargs", json::object()}};
  if (s.group_size != -1) w["group_size"] = s.group_size;
  return w;
}

json ct_input_args(const ActQuantSpec& a) {
  if (!a.enabled()) return json();
  const bool fp8 = a.format == WeightFormat::FP8_E4M3;
  return {{"num_bits", 8}, {"type", fp8 ? "float" : "int"}, {"symmetric", true},
          {"strategy", a.granularity == ActGranularity::Tensor ? "tensor" : "token"}, {"group_size", json()},
          {"dynamic", !a.is_static()}, {"actorder", json()}, {"observer", a.is_static() ? json("minmax") : json()},
          {"block_structure", json()}, {"observer_kwargs", json::object()}};
}

json ct_config(const HfExportInput& in) {
  std::map<std::string, std::vector<std::string>> by_spec;  // one config group per distinct setting
  std::map<std::string, json> args;
  std::set<std::string> quantized_modules;
  for (const auto& l : model_linears(*in.model)) {
    auto it = in.quantized.find(l.full);
    if (it == in.quantized.end()) continue;
    const json w = ct_weights_args(it->second.spec, it->second.g_idx.defined());
    by_spec[w.dump()].push_back(l.module);
    args[w.dump()] = w;
    quantized_modules.insert(l.module);
  }
  json ignore = json::array();
  for (const auto& l : model_linears(*in.model))
    if (!quantized_modules.count(l.module)) ignore.push_back(l.module);
  ignore.push_back("lm_head");
  json groups = json::object();
  int k = 0;
  for (const auto& kv : by_spec) {
    json targets = by_spec.size() == 1 ? json::array({"Linear"}) : json(kv.second);
    groups["group_" + std::to_string(k++)] = {{"targets", targets}, {"weights", args[kv.first]},
                                               {"input_activations", ct_input_args(in.act)}, {"output_activations", json()}};
  }
  return {{"quant_method", "compressed-tensors"}, {"format", ct_format_of(in)}, {"quantization_status", "compressed"},
          {"config_groups", groups}, {"ignore", ignore}, {"kv_cache_scheme", json()},
          {"global_compression_ratio", json()}, {"sparsity_config", json::object()}};
}

}  // namespace

Tensors packed_layer_tensors(const HfExportInput& in, HfExportFormat f, const std::string& full, const std::string& module,
                             std::vector<std::string>* fp8_names) {
  const QuantizedWeight& q = in.quantized.at(full);
  if (f == HfExportFormat::Gptq || f == HfExportFormat::GptqV2) return gptq_tensors(q, module, f == HfExportFormat::GptqV2);
  if (f == HfExportFormat::Awq) return awq_tensors(q, module);
  return ct_tensors(in, q, full, module, fp8_names);
}

json quantization_config_of(const HfExportInput& in, HfExportFormat f) {
  if (f == HfExportFormat::CompressedTensors) return ct_config(in);
  const QuantSpec& s = in.quantized.begin()->second.spec;
  if (f == HfExportFormat::Awq) {
    json skip = json::array();
    for (const auto& l : model_linears(*in.model))
      if (!in.quantized.count(l.full)) skip.push_back(l.module);
    return {{"quant_method", "awq"}, {"bits", 4}, {"group_size", s.group_size}, {"zero_point", true},
            {"version", "gemm"}, {"modules_to_not_convert", skip.empty() ? json() : skip}};
  }
  bool act_order = false;
  for (const auto& kv : in.quantized) act_order = act_order || kv.second.g_idx.defined();
  return {{"quant_method", "gptq"}, {"bits", s.bits}, {"group_size", s.group_size}, {"desc_act", act_order},
          {"sym", s.symmetric}, {"true_sequential", true}, {"damp_percent", in.damp_percent},
          {"static_groups", false}, {"lm_head", false},
          {"checkpoint_format", f == HfExportFormat::GptqV2 ? "gptq_v2" : "gptq"},
          {"meta", {{"quantizer", json::array({"ptq-workbench:" + in.method})}}}};
}

}  // namespace ptq::hf_export_detail
