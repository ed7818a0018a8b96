#include "core/model/fused_ops.h"

#include <ATen/core/grad_mode.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/runtime/env_switch.h"
#include "core/runtime/errors.h"

#ifdef PTQ_WITH_CUDA_KERNELS
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace ptq {

bool fused_kernels_allowed() {
  static const bool off = env_switch_set("PTQ_NO_FUSED_OPS");
  return !off;
}

bool kernel_elem_type(at::ScalarType s, kernels::ElemType* t) {
  switch (s) {
    case at::kFloat: *t = kernels::ElemType::Float32; return true;
    case at::kBFloat16: *t = kernels::ElemType::BFloat16; return true;
    case at::kHalf: *t = kernels::ElemType::Float16; return true;
    default: return false;
  }
}

#ifdef PTQ_WITH_CUDA_KERNELS
namespace {

bool wants_grad(const at::Tensor& a, const at::Tensor& b) {
  return at::GradMode::is_enabled() && (a.requires_grad() || b.requires_grad());
}

void* stream_of(const at::Tensor& x) { return c10::cuda::getCurrentCUDAStream(x.device().index()).stream(); }

void check_launch(const char* why) {
  if (why) throw Error(std::string("fused CUDA kernel failed: ") + why + " (PTQ_NO_FUSED_OPS=1 runs without it)");
}

}  // namespace

at::Tensor fused_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  kernels::ElemType t;
  if (!fused_kernels_allowed() || !x.is_cuda() || x.dim() != 4 || !kernel_elem_type(x.scalar_type(), &t) || wants_grad(x, cos))
    return {};
  const int64_t T = x.size(2), D = x.size(3);
  for (const at::Tensor* c : {&cos, &sin})
    if (c->scalar_type() != x.scalar_type() || c->device() != x.device() || !c->is_contiguous() || c->dim() != 2 ||
        c->size(0) != T || c->size(1) != D)
      return {};
  if (D % 2 != 0 || x.numel() == 0) return {};
  c10::cuda::CUDAGuard guard(x.device());
  // In x's layout: q and k stay transposed views of [B, T, H, D] like v, the strides the attention gets
  // from the unfused operations.
  at::Tensor out = at::empty_like(x);
  kernels::RopeArgs a{x.data_ptr(), cos.data_ptr(), sin.data_ptr(), out.data_ptr(), x.size(0), x.size(1), T, D,
                      x.stride(0), x.stride(1), x.stride(2), x.stride(3), out.stride(0), out.stride(1), out.stride(2),
                      out.stride(3)};
  check_launch(kernels::rope(a, t, stream_of(x)));
  return out;
}

static bool fused_rms_norm_applies(const at::Tensor& x, const at::Tensor& weight) {
  kernels::ElemType t;
  if (!fused_kernels_allowed() || !x.is_cuda() || x.dim() < 1 || !x.is_contiguous() || !kernel_elem_type(x.scalar_type(), &t) ||
      wants_grad(x, weight))
    return false;
  return weight.scalar_type() == x.scalar_type() && weight.device() == x.device() && weight.is_contiguous() &&
         weight.dim() == 1 && weight.size(0) == x.size(-1) && x.numel() > 0;
}

at::Tensor fused_rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  if (!fused_rms_norm_applies(x, weight)) return {};
  kernels::ElemType t;
  kernel_elem_type(x.scalar_type(), &t);
  const int64_t cols = x.size(-1);
  c10::cuda::CUDAGuard guard(x.device());
  at::Tensor out = at::empty_like(x);
  kernels::RmsNormArgs a{x.data_ptr(), weight.data_ptr(), out.data_ptr(), x.numel() / cols, cols, float(eps)};
  check_launch(kernels::rms_norm(a, t, stream_of(x)));
  return out;
}

std::pair<at::Tensor, at::Tensor> fused_add_rms_norm(const at::Tensor& x, const at::Tensor& residual,
                                                     const at::Tensor& weight, double eps) {
  if (!residual.is_contiguous() || !residual.sizes().equals(x.sizes()) || residual.scalar_type() != x.scalar_type() ||
      residual.device() != x.device() || wants_grad(residual, x) || !fused_rms_norm_applies(x, weight))
    return {};
  kernels::ElemType t;
  kernel_elem_type(x.scalar_type(), &t);
  c10::cuda::CUDAGuard guard(x.device());
  at::Tensor sum = at::empty_like(x), out = at::empty_like(x);
  const int64_t cols = x.size(-1);
  kernels::RmsNormArgs a{x.data_ptr(), weight.data_ptr(), out.data_ptr(), x.numel() / cols, cols, float(eps),
                         residual.data_ptr(), sum.data_ptr()};
  check_launch(kernels::rms_norm(a, t, stream_of(x)));
  return {sum, out};
}

at::Tensor fused_silu_mul(const at::Tensor& gate, const at::Tensor& up) {
  kernels::ElemType t;
  auto aligned = [](const at::Tensor& x) { return reinterpret_cast<uintptr_t>(x.data_ptr()) % 16 == 0; };
  if (!fused_kernels_allowed() || !gate.is_cuda() || !gate.is_contiguous() || !up.is_contiguous() ||
      !kernel_elem_type(gate.scalar_type(), &t) || up.scalar_type() != gate.scalar_type() || up.device() != gate.device() ||
      !gate.sizes().equals(up.sizes()) || gate.numel() == 0 || wants_grad(gate, up) || !aligned(gate) || !aligned(up))
    return {};
  c10::cuda::CUDAGuard guard(gate.device());
  at::Tensor out = at::empty_like(gate, at::MemoryFormat::Contiguous);
  kernels::SiluMulArgs a{gate.data_ptr(), up.data_ptr(), out.data_ptr(), gate.numel()};
  check_launch(kernels::silu_mul(a, t, stream_of(gate)));
  return out;
}

#else

at::Tensor fused_silu_mul(const at::Tensor&, const at::Tensor&) { return {}; }
std::pair<at::Tensor, at::Tensor> fused_add_rms_norm(const at::Tensor&, const at::Tensor&, const at::Tensor&, double) {
  return {};
}
at::Tensor fused_rope(const at::Tensor&, const at::Tensor&, const at::Tensor&) { return {}; }
at::Tensor fused_rms_norm(const at::Tensor&, const at::Tensor&, double) { return {}; }

#endif

}  // namespace ptq
