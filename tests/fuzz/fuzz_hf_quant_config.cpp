// The input is a Hugging Face config.json (its "quantization_config" object, or the input itself
// when it has none): accepted or refused with a ptq::Error. An accepted config names a supported
// method, bits and group (what the importer then relies on), and every module lookup either finds
// one of its schemes or none, never throwing anything but a ptq::Error (a bad "re:" target).
#include <cstddef>
#include <cstdint>

#include "core/io/hf_quant_config.h"
#include "core/records/json_util.h"
#include "core/runtime/errors.h"

namespace {

bool scheme_ok(const ptq::HfWeightScheme& s) {
  const bool bits = s.is_float ? s.bits == 8 : (s.bits == 2 || s.bits == 3 || s.bits == 4 || s.bits == 8);
  return bits && (s.group_size == -1 || s.group_size > 0) && (!s.tensor_scale || s.group_size == -1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* text = reinterpret_cast<const char*>(data);
  try {
    const nlohmann::json j = ptq::parse_json(text, text + size, "fuzz config");
    const nlohmann::json& qc = j.is_object() && j.contains("quantization_config") ? j["quantization_config"] : j;
    const ptq::HfQuantConfig c = ptq::parse_hf_quant_config(qc, "fuzz config");
    if (c.raw != qc) __builtin_trap();
    if (c.method == ptq::HfQuantMethod::CompressedTensors) {
      if (c.groups.empty()) __builtin_trap();
      for (const auto& g : c.groups)
        if (!scheme_ok(g.weights)) __builtin_trap();
    } else if (!scheme_ok(c.weights) || c.weights.is_float) {
      __builtin_trap();
    }
    for (const char* m : {"model.layers.0.self_attn.q_proj", "model.layers.1.mlp.down_proj", "lm_head"}) {
      try {
        const ptq::HfWeightScheme* s = ptq::hf_scheme_for(c, m);
        if (s && !scheme_ok(*s)) __builtin_trap();
      } catch (const ptq::Error&) {  // a target that is not a valid regular expression
      }
    }
  } catch (const ptq::Error&) {
  }
  return 0;
}
