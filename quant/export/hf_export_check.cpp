// check_hf_exportable and the quantization_config of an export (quant/export/hf_export.h).
#include <iterator>
#include <set>

#include "core/model/model_layout.h"
#include "core/runtime/errors.h"
#include "quant/export/hf_export_internal.h"

namespace ptq {

using nlohmann::json;
using namespace hf_export_detail;

namespace {

std::string spec_key(const QuantSpec& s) {
  return format_name(s.format) + "/" + std::to_string(s.bits) + "/" + std::to_string(s.group_size) + "/" +
         (s.symmetric ? "sym" : "asym");
}

// Zero points must be integers in 0..2^b-1 (they are packed at b bits); GPTQ v1 stores zero − 1,
// so a zero of 0 cannot be written (qlinear_cuda_old.py pack: `zeros -= 1` into uint32).
void check_zeros(const std::string& name, const QuantizedWeight& q, HfExportFormat f) {
  if (!q.zeros.defined()) return;
  const at::Tensor z = q.zeros.to(at::kCPU, at::kDouble);
  const int64_t maxq = (int64_t(1) << q.spec.bits) - 1;
  if (!at::equal(z, z.round()) || z.min().item<double>() < 0 || z.max().item<double>() > double(maxq))
    throw Error("cannot export '" + name + "': its zero points are not integers in 0.." + std::to_string(maxq));
  if (f == HfExportFormat::Gptq && z.min().item<double>() == 0)
    throw Error("cannot export '" + name + "' as gptq (v1): a zero point of 0 is stored as zero - 1 = -1, which " +
                "GPTQ v1 cannot hold; use --export-format gptq_v2 or compressed-tensors");
}

void check_layer(const std::string& name, const QuantizedWeight& q, HfExportFormat f, const HfExportInput& in) {
  const std::string where = "cannot export '" + name + "' as " + hf_export_format_name(f) + ": ";
  if (q.kept_columns.defined()) throw Error(where + "OWQ keeps full-precision weight columns, which the format cannot hold");
  if (q.zero_bytes > 0) throw Error(where + "its zero points are real-valued (HQQ), the format stores integer zeros");
  const bool fp8 = q.spec.format == WeightFormat::FP8_E4M3;
  if (q.spec.format != WeightFormat::Int && !(fp8 && f == HfExportFormat::CompressedTensors))
    throw Error(where + format_name(q.spec.format) + " weights are not expressible (integer weights only" +
                (f == HfExportFormat::CompressedTensors ? std::string(", or fp8_e4m3 per channel)") : std::string(")")));
  const int b = q.spec.bits;
  if ((f == HfExportFormat::Gptq || f == HfExportFormat::GptqV2) && b != 2 && b != 3 && b != 4 && b != 8)
    throw Error(where + std::to_string(b) + "-bit weights (GPTQ readers take 2, 3, 4, 8 bits)");
  if (f == HfExportFormat::Awq) {
    if (b != 4) throw Error(where + std::to_string(b) + "-bit weights (AWQ GEMM is 4-bit only)");
    if (q.g_idx.defined()) throw Error(where + "act-order (g_idx) is not expressible in AWQ GEMM");
  }
  if (f == HfExportFormat::CompressedTensors) {
    const std::string ct = ct_format_of(in);
    if (!fp8 && b != 4 && b != 8)
      throw Error(where + std::to_string(b) + "-bit weights (vLLM's compressed-tensors WNA16 takes 4 and 8 bits)");
    if (ct != "pack-quantized" && (q.spec.group_size != -1 || (!q.spec.symmetric && !fp8) || q.g_idx.defined()))
      throw Error(where + "W8A8 needs symmetric per-channel weights without act-order (vLLM's W8A8 schemes)");
    const int64_t per = 32 / b, out = q.codes.size(0);
    if (ct == "pack-quantized" && !q.spec.symmetric && out % per != 0)
      throw Error(where + "asymmetric zero points are packed along the " + std::to_string(out) +
                  " output rows, which must be a multiple of " + std::to_string(per));
  }
  check_zeros(name, q, f);
}

void check_activations(const HfExportInput& in, HfExportFormat f) {
  if (in.kv_bits > 0)
    throw Error("cannot export a run with a quantized KV cache: the workbench quantizes keys and values with dynamic " +
                std::string("scales per token / group / channel, while compressed-tensors' kv_cache_scheme holds static ") +
                "per-tensor k_scale / v_scale; export the run without --kv-bits");
  if (!in.act.enabled()) return;
  if (f != HfExportFormat::CompressedTensors)
    throw Error("cannot export activation quantization (" + in.act.label() + ") as " + hf_export_format_name(f) +
                ", a weight-only format; use --export-format compressed-tensors");
  const ActQuantSpec& a = in.act;
  const std::string why = "cannot export activations " + a.label() + " as compressed-tensors: ";
  if (a.qkv_out) throw Error(why + "quantized q/k/v outputs (--act-qkv-out) have no compressed-tensors scheme");
  if (a.granularity == ActGranularity::Group) throw Error(why + "per-group activation scales (vLLM's W8A8 kernels take per-tensor or per-token)");
  const bool int8 = a.format == WeightFormat::Int && a.bits == 8, fp8 = a.format == WeightFormat::FP8_E4M3;
  if (!int8 && !fp8) throw Error(why + "only INT8 and FP8 E4M3 activations have W8A8 schemes");
  if (a.is_static() && a.granularity != ActGranularity::Tensor) throw Error(why + "static scales must be per tensor");
  if (int8 && a.is_static())
    throw Error(why + "static INT8 clamps to [-128, 127] in compressed-tensors, the workbench to [-127, 127]: " +
                "inputs beyond the calibrated range would differ");
}

}  // namespace

std::string hf_export_detail::ct_format_of(const HfExportInput& in) {
  for (const auto& kv : in.quantized)
    if (kv.second.spec.format == WeightFormat::FP8_E4M3) return "float-quantized";
  return in.act.enabled() ? "int-quantized" : "pack-quantized";
}

void check_hf_exportable(const HfExportInput& in, HfExportFormat f) {
  if (!in.model) throw Error("export: no model");
  if (in.quantized.empty()) throw Error("cannot export: the run quantized no layer");
  check_activations(in, f);
  if (f == HfExportFormat::CompressedTensors && in.act.enabled()) {
    const bool fp8_act = in.act.format == WeightFormat::FP8_E4M3;
    for (const auto& kv : in.quantized)
      if ((kv.second.spec.format == WeightFormat::FP8_E4M3) != fp8_act || (!fp8_act && kv.second.spec.bits != 8))
        throw Error("cannot export '" + kv.first + "' as compressed-tensors W8A8: weights and activations must both " +
                    "be INT8 (int-quantized) or both FP8 E4M3 (float-quantized)");
  }
  std::set<std::string> specs;
  for (const auto& kv : in.quantized) {
    check_layer(kv.first, kv.second, f, in);
    specs.insert(spec_key(kv.second.spec));
  }
  std::vector<std::string> plain;
  for (const auto& l : model_linears(*in.model)) {
    if (l.online_transform)
      throw Error("cannot export: '" + l.full + "' has an online input transform (QuaRot's online Hadamard), which no " +
                  "Hugging Face format expresses; quantize with rotate.online_hadamard=false");
    if (!in.quantized.count(l.full) && layer_type_of(l.full) != "router") plain.push_back(l.full);
  }
  if (f == HfExportFormat::CompressedTensors) return;
  if (specs.size() > 1)
    throw Error("cannot export as " + hf_export_format_name(f) + ": layers have different settings (" + *specs.begin() +
                ", " + *std::next(specs.begin()) + "); one setting per checkpoint, or use compressed-tensors");
  if ((f == HfExportFormat::Gptq || f == HfExportFormat::GptqV2) && !plain.empty())
    throw Error("cannot export as " + hf_export_format_name(f) + ": '" + plain.front() + "' is not quantized and GPTQ " +
                "quantizes every linear of the blocks; use awq or compressed-tensors (their ignore lists)");
}

}  // namespace ptq
