#pragma once
// Evaluation of one model across several devices (a pipeline over blocks, LoadOptions::
// split_devices): which device each block's weights live on. Torch-free arithmetic.
#include <cstdint>
#include <string>
#include <vector>

namespace ptq {

// Contiguous runs of blocks, one run per device, in order, balancing bytes: device 0 also holds
// `first_extra` bytes (embedding, final norm, head), so it takes fewer blocks when they are large.
// Block i goes to the device whose share [k·total/n, (k+1)·total/n) holds the middle of its bytes,
// counted after first_extra. Every device gets at least one block when there are as many blocks as
// devices. Returns the device index of each block. Throws ptq::Error when n < 1 or n > blocks.
std::vector<int> split_blocks(const std::vector<int64_t>& block_bytes, int64_t first_extra, int n);

// The device names of `--split-devices` ("cuda:0,cuda:1"): canonical, at least two, none "auto".
// The CPU may be one ("cuda:0,cpu": the blocks that do not fit the GPU run on the CPU, as
// accelerate's device_map does; "cpu,cpu" exercises a split on a machine without a GPU). A device
// may repeat. Throws ptq::Error naming the bad entry.
std::vector<std::string> parse_split_devices(const std::string& list);

}  // namespace ptq
