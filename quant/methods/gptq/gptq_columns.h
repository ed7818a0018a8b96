#pragma once
// GPTQ's inner loop over the columns of one lazy-batch block (gptq.py fasterquant, `for i in
// range(count)`), on static buffers so that on CUDA the whole block can be captured once as a CUDA
// graph and replayed for every later block: the loop issues ~13 tiny kernels per column, and eager
// dispatch of those (not the arithmetic) dominated GPTQ's time on an H100. The graph runs the very
// same kernels, so results are bitwise identical to the eager loop.
#include <ATen/ATen.h>

#include <memory>
#include <string>

#include "quant/formats/quantizer.h"

namespace ptq {

// Buffers of one block: inputs W1 [rows,count] (updated in place), Hinv1 [count,count], per-column
// quantization parameters S1 (and Z1 for Int) [rows,count]; outputs Q1 (dequantized), C1 (codes,
// uint8) and Err1 ((w-q)/d) [rows,count].
struct ColumnBlock {
  at::Tensor W1, Hinv1, S1, Z1, Q1, C1, Err1;
};

// Which implementation ran a GPTQ call's column blocks. On CUDA with Int formats every block runs
// in one kernel (quant/kernels/gptq_columns.cu, when built; PTQ_NO_COLUMN_KERNEL turns it off).
// Otherwise, on CUDA, the first full block runs eagerly while the graph is captured and every later
// full block replays it; a last partial block and every block of a CPU, codebook-format or
// PTQ_NO_CUDA_GRAPH run are eager. All three give bitwise the same results.
struct ColumnLoop {
  int64_t kernel_blocks = 0;  // blocks computed by the column kernel
  int64_t graph_blocks = 0;   // blocks computed by replaying the captured graph
  int64_t eager_blocks = 0;   // blocks computed by the eager loop (the capture block included)
  std::string graph_error;    // why a capture attempt failed ("" when none failed or none was tried)
  std::string kernel_error;   // why the kernel could not launch ("" when it never failed)
  // "cuda_kernel" when at least one block ran in the kernel, else "cuda_graph" when at least one
  // block replayed the graph, else "eager".
  std::string path() const { return kernel_blocks > 0 ? "cuda_kernel" : graph_blocks > 0 ? "cuda_graph" : "eager"; }
};

class ColumnRunner {
 public:
  ColumnRunner(const QuantSpec& s, int64_t rows, int64_t blocksize, at::Device dev);
  ~ColumnRunner();
  // The static buffers: fill W1, Hinv1, S1, Z1 (the first `count` columns), then run(count).
  ColumnBlock& block() { return b_; }
  void run(int64_t count);
  const ColumnLoop& loop() const { return loop_; }

 private:
  void eager(int64_t count);
  bool run_kernel(int64_t count);
  QuantSpec spec_;
  ColumnBlock b_;
  int64_t blocksize_;
  double maxq_;  // the largest Int code, 2^bits - 1
  struct Graph;
  std::unique_ptr<Graph> graph_;  // CUDA only
  bool try_graph_ = false;
  bool use_kernel_ = false;
  ColumnLoop loop_;
};

}  // namespace ptq
