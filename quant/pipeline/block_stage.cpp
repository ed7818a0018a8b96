#include "quant/pipeline/block_stage.h"

#include <cmath>

#include "core/runtime/errors.h"
#include "core/model/model.h"
#include "quant/pipeline/calib_staging.h"

namespace ptq {

std::optional<QuantSpec> BlockWork::spec_for(const Linear& l) const {
  return plan.spec_for(linear_full_name(block.index(), l.name()), l.spec.type);
}

std::vector<at::Tensor> BlockWork::run(LinearObserver* obs) const {
  BlockContext c = ctx;
  c.observer = obs;
  std::vector<at::Tensor> outs;
  outs.reserve(inputs.size());
  StagedBatches xs(inputs, model.device());
  for (size_t b = 0; b < inputs.size(); ++b) {
    check_cancel(fb);
    outs.push_back(block.forward(xs.get(b), c));
  }
  return outs;
}

double BlockWork::output_error(const std::vector<at::Tensor>& outs) const {
  if (outs.empty()) return -1;
  double sum = 0;
  for (size_t i = 0; i < outs.size(); ++i) {
    at::Tensor f = on_device(fp_outputs[i], model.device()).to(at::kFloat), o = outs[i].to(at::kFloat);
    sum += ((o - f).pow(2).sum() / f.pow(2).sum().clamp_min(1e-30)).item<double>();
  }
  return sum / double(outs.size());
}

LayerRecord& layer_record(std::map<std::string, LayerRecord>& records, int block, const Linear& l) {
  LayerRecord& r = records[l.name()];
  r.name = linear_full_name(block, l.name());
  r.type = l.spec.type;
  r.block = block;
  r.out_features = l.spec.out_features;
  r.in_features = l.spec.in_features;
  return r;
}

void commit_quantized(BlockWork& w, Linear& l, const QuantizedWeight& q, double method_loss, double seconds,
                      const std::string& note) {
  at::Tensor W = l.weight.to(at::kFloat);
  at::Tensor deq = q.dequantize().to(W.device());
  LayerRecord& r = layer_record(w.records, w.block.index(), l);
  r.quantized = true;
  r.bits = q.spec.element_bits();
  r.group_size = q.spec.group_size;
  r.format = format_name(q.spec.format);
  r.weight_rel_error = ((W - deq).norm() / W.norm().clamp_min(1e-30)).item<double>();
  r.storage_bytes = q.storage_bytes(2);
  // A NaN or Inf loss or error means the quantized weights are garbage: never recorded as a result.
  if (!std::isfinite(method_loss) || !std::isfinite(r.weight_rel_error))
    throw Error("layer " + linear_full_name(w.block.index(), l.name()) + ": quantization gave a non-finite " +
                (std::isfinite(method_loss) ? "weight error" : "loss") + " (loss " + std::to_string(method_loss) +
                ", weight error " + std::to_string(r.weight_rel_error) + ")");
  r.method_loss = method_loss >= 0 ? method_loss : kNotMeasured;
  r.seconds += seconds;
  if (!note.empty()) r.note = r.note.empty() ? note : r.note + "; " + note;
  QuantizedWeight cpu = q;
  for (at::Tensor* t : {&cpu.codes, &cpu.scales, &cpu.values, &cpu.zeros, &cpu.g_idx, &cpu.kept_columns,
                        &cpu.kept_values, &cpu.col_scale})
    *t = to_host_result(*t);  // asynchronous from CUDA: quantize_model synchronizes before returning
  w.quantized[l.name()] = cpu;
  l.weight = deq.to(l.weight.scalar_type());
  w.block.mark_modified();
}

}  // namespace ptq
