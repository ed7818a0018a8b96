#include "quant/pipeline/output_error.h"

#include <string>

#include "core/model/fused_ops.h"
#include "core/runtime/errors.h"

#ifdef PTQ_WITH_CUDA_KERNELS
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "quant/kernels/output_error_kernel.h"
#endif

namespace ptq {
namespace {

at::Tensor eager_sums(const at::Tensor& q, const at::Tensor& y) {
  const at::ScalarType f = at::kFloat;
  const at::Tensor err = at::norm(q - y, 2, f).pow(2), ref = at::norm(y, 2, f).pow(2);
  const at::Tensor dot = at::sum(q * y, {1}, false, f);
  const at::Tensor nq = at::norm(q, 2, {1}, false, f), ny = at::norm(y, 2, {1}, false, f);
  const at::Tensor cos = (dot / (nq * ny).clamp_min(1e-8)).sum();
  return at::stack({err, ref, cos}).to(at::kDouble);
}

#ifdef PTQ_WITH_CUDA_KERNELS
at::Tensor kernel_sums(const at::Tensor& q, const at::Tensor& y) {
  kernels::ElemType t;
  if (!fused_kernels_allowed() || !kernel_elem_type(q.scalar_type(), &t) || !q.is_cuda() || q.dim() != 2 || !q.is_contiguous() || !y.is_contiguous() || y.sizes() != q.sizes() ||
      y.scalar_type() != q.scalar_type() || y.device() != q.device() || q.numel() == 0)
    return {};
  c10::cuda::CUDAGuard guard(q.device());
  at::Tensor rows = at::empty({q.size(0), 3}, q.options().dtype(at::kFloat));
  kernels::OutputErrorArgs a{q.data_ptr(), y.data_ptr(), rows.data_ptr<float>(), q.size(0), q.size(1)};
  if (const char* why = kernels::output_error_rows(a, t, c10::cuda::getCurrentCUDAStream(q.device().index()).stream()))
    throw Error(std::string("output error CUDA kernel failed: ") + why + " (PTQ_NO_FUSED_OPS=1 runs without it)");
  return rows.sum(0, false, at::kDouble);
}
#endif

}  // namespace

at::Tensor output_error_sums(const at::Tensor& q, const at::Tensor& y) {
#ifdef PTQ_WITH_CUDA_KERNELS
  if (at::Tensor s = kernel_sums(q, y); s.defined()) return s;
#endif
  return eager_sums(q, y);
}

}  // namespace ptq
