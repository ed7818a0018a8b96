#include "quant/methods/gptq/gptq_columns.h"

#include <cmath>
#include <cstdlib>
#include <exception>

#ifdef PTQ_WITH_CUDA_KERNELS
#include "quant/kernels/gptq_columns_kernel.h"
#endif
#ifdef PTQ_WITH_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace ptq {

struct ColumnRunner::Graph {
#ifdef PTQ_WITH_CUDA
  at::cuda::CUDAGraph graph;
  bool captured = false;
#endif
};

ColumnRunner::ColumnRunner(const QuantSpec& s, int64_t rows, int64_t blocksize, at::Device dev)
    : spec_(s), blocksize_(blocksize), maxq_(std::ldexp(1.0, s.bits) - 1.0) {
  const auto f = at::TensorOptions().dtype(at::kFloat).device(dev);
  b_.W1 = at::zeros({rows, blocksize}, f);
  b_.Hinv1 = at::zeros({blocksize, blocksize}, f);
  b_.S1 = at::ones({rows, blocksize}, f);
  if (s.format == WeightFormat::Int) b_.Z1 = at::zeros({rows, blocksize}, f);
  b_.Q1 = at::zeros({rows, blocksize}, f);
  b_.C1 = at::zeros({rows, blocksize}, f.dtype(at::kByte));
  b_.Err1 = at::zeros({rows, blocksize}, f);
#ifdef PTQ_WITH_CUDA
  // Codebook formats build their grid from host memory, which a capture cannot do.
  try_graph_ = dev.is_cuda() && s.format == WeightFormat::Int && !std::getenv("PTQ_NO_CUDA_GRAPH");
  if (try_graph_) graph_ = std::make_unique<Graph>();
#endif
#ifdef PTQ_WITH_CUDA_KERNELS
  use_kernel_ = dev.is_cuda() && s.format == WeightFormat::Int && blocksize <= kernels::kMaxGptqKernelColumns &&
                !std::getenv("PTQ_NO_COLUMN_KERNEL");
#endif
}

ColumnRunner::~ColumnRunner() = default;

void ColumnRunner::eager(int64_t count) {
  const bool is_int = spec_.format == WeightFormat::Int;
  for (int64_t i = 0; i < count; ++i) {
    const at::Tensor w = b_.W1.select(1, i);
    const at::Tensor d = b_.Hinv1[i][i];
    const at::Tensor scale = b_.S1.select(1, i);
    at::Tensor c, q;
    if (is_int) {  // quantize_dequantize's Int arithmetic, op for op
      const at::Tensor zero = b_.Z1.select(1, i);
      c = at::clamp(at::round(w / scale) + zero, 0.0, maxq_);
      q = scale * (c - zero);
    } else {
      quantize_dequantize(w.unsqueeze(1), QuantParams{scale.unsqueeze(1), at::Tensor()}, spec_, &c, &q);
      c = c.squeeze(1);
      q = q.squeeze(1);
    }
    b_.Q1.select(1, i).copy_(q);
    b_.C1.select(1, i).copy_(c);
    const at::Tensor err1 = (w - q) / d;
    b_.W1.slice(1, i).sub_(err1.unsqueeze(1).matmul(b_.Hinv1.select(0, i).slice(0, i).unsqueeze(0)));
    b_.Err1.select(1, i).copy_(err1);
  }
}

// One kernel for the whole block (quant/kernels/gptq_columns.cu): the eager loop's arithmetic.
bool ColumnRunner::run_kernel(int64_t count) {
#ifdef PTQ_WITH_CUDA_KERNELS
  if (!use_kernel_) return false;
  const at::Device dev = b_.W1.device();
  c10::cuda::CUDAGuard guard(dev);
  kernels::GptqColumnArgs a{b_.W1.data_ptr<float>(), b_.Hinv1.data_ptr<float>(), b_.S1.data_ptr<float>(),
                            b_.Z1.defined() ? b_.Z1.data_ptr<float>() : nullptr, b_.Q1.data_ptr<float>(),
                            b_.C1.data_ptr<uint8_t>(), b_.Err1.data_ptr<float>(), b_.W1.size(0),
                            int(blocksize_), int(count), float(maxq_)};
  if (const char* why = kernels::gptq_int_columns(a, c10::cuda::getCurrentCUDAStream(dev.index()).stream())) {
    use_kernel_ = false;  // stay on the graph or eager loop, and say why in the loop record
    loop_.kernel_error = why;
    return false;
  }
  ++loop_.kernel_blocks;
  return true;
#else
  (void)count;
  return false;
#endif
}

void ColumnRunner::run(int64_t count) {
  if (run_kernel(count)) return;
#ifdef PTQ_WITH_CUDA
  if (try_graph_ && count == blocksize_) {
    if (graph_->captured) {
      graph_->graph.replay();
      ++loop_.graph_blocks;
      return;
    }
    // Capture on a side stream after one eager pass on it (which computes this block and sets up
    // cuBLAS for the stream); later full blocks replay the graph.
    const at::Device dev = b_.W1.device();
    auto side = c10::cuda::getStreamFromPool(false, dev.index());
    auto main = c10::cuda::getCurrentCUDAStream(dev.index());
    main.synchronize();
    {
      c10::cuda::CUDAStreamGuard guard(side);
      eager(count);
      ++loop_.eager_blocks;
      side.synchronize();
      ColumnBlock saved{b_.W1.clone(), {}, {}, {}, b_.Q1.clone(), b_.C1.clone(), b_.Err1.clone()};
      try {
        graph_->graph.capture_begin();
        eager(count);  // recorded, not executed
        graph_->graph.capture_end();
        graph_->captured = true;
      } catch (const std::exception& e) {
        try_graph_ = false;  // capture not possible here: stay eager, and say why in the loop record
        loop_.graph_error = e.what();
      } catch (...) {
        try_graph_ = false;
        loop_.graph_error = "unknown exception during CUDA graph capture";
      }
      b_.W1.copy_(saved.W1);
      b_.Q1.copy_(saved.Q1);
      b_.C1.copy_(saved.C1);
      b_.Err1.copy_(saved.Err1);
      side.synchronize();
    }
    return;
  }
#endif
  eager(count);
  ++loop_.eager_blocks;
}

}  // namespace ptq
