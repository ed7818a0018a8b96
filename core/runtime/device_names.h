#pragma once
// The names of devices, dtypes and residencies as specs spell them, checked and made canonical
// without LibTorch (the spec parsers and the GUI's job queue use them; core/runtime/device.h maps
// them onto at::Device / at::ScalarType).
#include <string>
#include <vector>

namespace ptq {

// "cpu", "auto", "cuda" -> "cuda:0", "cuda:N" -> "cuda:N". Throws ptq::Error naming the value and
// the allowed ones. Whether the device exists is decided when the run starts.
std::string canonical_device(const std::string& device);
// "float32" | "bfloat16" | "float16" (also fp32/float, bf16, fp16/half). Throws ptq::Error.
std::string canonical_dtype(const std::string& dtype);
// auto | resident | stream.
const std::vector<std::string>& residency_names();

}  // namespace ptq
