#include "eval/metrics/perplexity.h"

#include <chrono>
#include <cmath>

#include "core/runtime/device.h"
#include "core/runtime/errors.h"

namespace ptq {

at::Tensor make_windows(const std::vector<int64_t>& tokens, int64_t seqlen, int64_t max_windows) {
  if (seqlen < 2) throw Error("seqlen must be at least 2, got " + std::to_string(seqlen));
  int64_t n = int64_t(tokens.size()) / seqlen;
  if (n == 0)
    throw Error("the text has " + std::to_string(tokens.size()) + " tokens, fewer than one window of " +
                std::to_string(seqlen));
  if (max_windows > 0 && n > max_windows) n = max_windows;
  at::Tensor t = at::empty({n, seqlen}, at::kLong);
  std::memcpy(t.data_ptr<int64_t>(), tokens.data(), sizeof(int64_t) * size_t(n * seqlen));
  return t;
}

void run_windows(Model& model, const at::Tensor& windows, int64_t batch, Feedback* fb,
                 const std::function<void(int64_t, const at::Tensor&)>& sink, LinearObserver* obs) {
  const int64_t N = windows.size(0), T = windows.size(1);
  if (batch < 1) batch = 1;
  const int nb = model.num_blocks();
  BlockContext ctx = model.context(T, obs);
  DeviceContexts on_device(ctx, model.device());  // a split model's blocks on their devices
  // Streaming: every window's hidden state stays on the device while a block visits it once.
  // Resident: one batch at a time through all blocks, which needs the least activation memory.
  const int64_t group = model.streaming() ? N : batch;
  const int64_t total_steps = ((N + batch - 1) / batch) * nb;
  int64_t steps = 0;
  for (int64_t g0 = 0; g0 < N; g0 += group) {
    const int64_t g1 = std::min(N, g0 + group);
    std::vector<at::Tensor> hs;
    for (int64_t b0 = g0; b0 < g1; b0 += batch) hs.push_back(model.embed(windows.slice(0, b0, std::min(g1, b0 + batch))));
    for (int i = 0; i < nb; ++i) {
      Block& blk = model.acquire(i);
      model.prefetch(i + 1);  // streaming: the next block's weights come in while this one runs
      const at::Device d = model.block_device(i);
      const BlockContext& c = on_device.on(d);
      for (auto& h : hs) {
        check_cancel(fb);
        h = blk.forward(h.to(d), c);
        report(fb, "forward", ++steps, total_steps);
      }
      model.release(i);
    }
    int64_t row = g0;
    for (auto& h : hs) {
      sink(row, model.final_norm(h.to(model.device())));
      row += h.size(0);
      h = at::Tensor();
    }
  }
}

PplResult perplexity(Model& model, const std::vector<int64_t>& tokens, const PplOptions& o, Feedback* fb) {
  at::Tensor windows = make_windows(tokens, o.seqlen, o.max_windows);
  PplResult r;
  r.windows = windows.size(0);
  r.tokens = windows.numel();
  r.window_nll.assign(size_t(r.windows), 0.0);
  at::Tensor dev_windows = windows.to(model.device());
  for (int64_t w = 0; w < o.warmup; ++w) model.forward(dev_windows.slice(0, 0, 1));
  for (const at::Device& d : model.devices()) synchronize(d), reset_peak_memory(d);
  auto t0 = std::chrono::steady_clock::now();
  run_windows(model, dev_windows, o.batch, fb, [&](int64_t row, const at::Tensor& normed) {
    // One window at a time keeps the float32 logits to [T, vocab].
    for (int64_t b = 0; b < normed.size(0); ++b) {
      at::Tensor logits = model.head(normed[b].narrow(0, 0, o.seqlen - 1)).to(at::kFloat);
      at::Tensor target = dev_windows[row + b].narrow(0, 1, o.seqlen - 1);
      at::Tensor nll = at::cross_entropy_loss(logits, target);
      const double v = nll.item<double>();
      // NaN / Inf logits (weights that overflow the dtype, a broken quantization): an error, not "ppl": null.
      if (!std::isfinite(v))
        throw Error("perplexity: the loss of window " + std::to_string(row + b) + " is " + std::to_string(v) +
                    " (the model's outputs are not finite in " + dtype_name(model.dtype()) + ")");
      r.window_nll[size_t(row + b)] = v;
    }
  });
  for (const at::Device& d : model.devices()) synchronize(d);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double sum = 0;
  for (double v : r.window_nll) sum += v;
  r.mean_nll = sum / double(r.windows);
  r.ppl = std::exp(r.mean_nll);
  if (!std::isfinite(r.ppl))
    throw Error("perplexity overflows: mean NLL " + std::to_string(r.mean_nll) + " gives exp() = " + std::to_string(r.ppl));
  r.peak_gpu_bytes = 0;  // a split model's: the sum over its devices
  for (const at::Device& d : model.devices()) r.peak_gpu_bytes += peak_memory_bytes(d);
  return r;
}

}  // namespace ptq
