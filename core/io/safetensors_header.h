#pragma once
// The safetensors header, parsed and validated without LibTorch (the fuzz harnesses link only this).
// Format: u64 little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets}},
// then the data; offsets are relative to the end of the header.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ptq {

struct TensorInfo {
  std::string name;
  std::string dtype;  // safetensors spelling: F32, F16, BF16, I8, ...
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte offsets in the data section
  int64_t numel() const;        // fits: parse_safetensors_header checked the product
};

// The largest header the safetensors reference reads (its MAX_HEADER_SIZE).
constexpr uint64_t kMaxSafetensorsHeader = 100'000'000;

// Bytes per element of a safetensors dtype; throws ptq::Error for unknown names.
size_t safetensors_dtype_size(const std::string& dtype);
// F16, BF16, F32, F64: the dtypes a model's float parameters may be stored in.
bool is_float_safetensors_dtype(const std::string& dtype);

struct SafetensorsHeader {
  uint64_t data_start = 0;  // 8 + header length
  std::map<std::string, TensorInfo> tensors;
  std::map<std::string, std::string> metadata;
};

// Validates as the safetensors reference (Metadata::validate) does: the header length fits the
// file and kMaxSafetensorsHeader; the JSON is an object (bounded depth, no duplicate names) whose
// __metadata__ maps strings to strings; every tensor has a known dtype, a shape of non-negative
// integers whose byte count does not overflow, and data_offsets that, sorted, are contiguous from
// 0 and cover the data section exactly. `bytes` holds at least the first 8 + N bytes of the file
// (all of them is fine); `file_size` is the whole file's size. Throws ptq::Error naming `path`.
SafetensorsHeader parse_safetensors_header(const uint8_t* bytes, uint64_t available, uint64_t file_size,
                                           const std::string& path);
// The header length N from the first 8 bytes (little endian).
uint64_t safetensors_header_length(const uint8_t* first8);

}  // namespace ptq
