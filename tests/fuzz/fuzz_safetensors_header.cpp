// The input is a whole safetensors file: its header must be accepted or refused with a ptq::Error.
#include <cstddef>
#include <cstdint>

#include "core/io/safetensors_header.h"
#include "core/runtime/errors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    ptq::SafetensorsHeader h = ptq::parse_safetensors_header(data, size, size, "fuzz.safetensors");
    // What the loader relies on: each tensor lies inside the data section and its element count
    // times the dtype size is its byte span.
    for (const auto& kv : h.tensors) {
      const ptq::TensorInfo& t = kv.second;
      if (t.end > size - h.data_start || t.begin > t.end) __builtin_trap();
      if (uint64_t(t.numel()) * ptq::safetensors_dtype_size(t.dtype) != t.end - t.begin) __builtin_trap();
    }
  } catch (const ptq::Error&) {
  }
  return 0;
}
