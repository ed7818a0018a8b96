#include "core/model/block_split.h"

#include <algorithm>

#include "core/runtime/device_names.h"
#include "core/runtime/errors.h"

namespace ptq {

std::vector<int> split_blocks(const std::vector<int64_t>& block_bytes, int64_t first_extra, int n) {
  const int blocks = int(block_bytes.size());
  if (n < 1) throw Error("a split needs at least one device, got " + std::to_string(n));
  if (n > blocks)
    throw Error("cannot split " + std::to_string(blocks) + " block" + (blocks == 1 ? "" : "s") + " across " +
                std::to_string(n) + " devices: at most one device per block");
  int64_t total = first_extra;
  for (int64_t b : block_bytes) total += b;
  // Device k's run starts at the first block whose bytes' middle lies in its share
  // [k·total/n, (k+1)·total/n); the starts are then kept strictly increasing and leave every later
  // device a block (tiny blocks beside a large first_extra would otherwise leave a device empty).
  std::vector<int> start(size_t(n), 0);
  int64_t before = first_extra;
  int k = 1;
  for (int i = 0; i < blocks && k < n; ++i) {
    const double mid = double(before) + 0.5 * double(block_bytes[size_t(i)]);  // doubles: exact far past 7B
    while (k < n && mid * n >= double(k) * double(total)) start[size_t(k++)] = i;
    before += block_bytes[size_t(i)];
  }
  for (; k < n; ++k) start[size_t(k)] = blocks;  // shares past the last block's middle
  for (int d = 1; d < n; ++d)
    start[size_t(d)] = std::min(std::max(start[size_t(d)], start[size_t(d - 1)] + 1), blocks - (n - d));
  std::vector<int> out(size_t(blocks), 0);
  for (int d = 0; d < n; ++d)
    for (int i = start[size_t(d)]; i < (d + 1 < n ? start[size_t(d + 1)] : blocks); ++i) out[size_t(i)] = d;
  return out;
}

std::vector<std::string> parse_split_devices(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    const std::string item = list.substr(start, comma - start);
    if (item.empty()) throw Error("--split-devices '" + list + "' has an empty entry (expected e.g. cuda:0,cuda:1)");
    const std::string d = canonical_device(item);
    if (d == "auto") throw Error("--split-devices takes explicit devices, not 'auto' (e.g. cuda:0,cuda:1)");
    out.push_back(d);
    start = comma + 1;
  }
  if (out.size() < 2) throw Error("--split-devices '" + list + "' names one device; a split needs at least two");
  return out;
}

}  // namespace ptq
