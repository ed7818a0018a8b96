// Model::forward_cached: incremental decoding over a DecodeState (core/model/decode_state.h).
// Positions and masks follow transformers' generate with left padding: a row's position_ids are
// the running count of its real tokens minus one (attention_mask.cumsum(-1) - 1), padded slots are
// never attended to, and the causal and sliding-window conditions compare cache slots (as
// transformers' masking_utils compares cache positions), which for a row's contiguous real tokens
// is the same as comparing positions.
#include <limits>

#include "core/model/model.h"
#include "core/runtime/errors.h"

namespace ptq {

namespace {

// Rope tables are built for a length rounded up, so a decode of n steps builds a few, not n.
constexpr int64_t kRopeLengthStep = 256;

}  // namespace

RopeTables Model::rows_of(const RopeTables& table, const at::Tensor& positions) const {
  const int64_t B = positions.size(0), T = positions.size(1);
  at::Tensor flat = positions.reshape({-1});
  auto pick = [&](const at::Tensor& t) {
    return t.index_select(0, flat).reshape({B, T, t.size(-1)}).unsqueeze(1);  // [B, 1, T, D]
  };
  return {pick(table.cos), pick(table.sin)};
}

at::Tensor Model::decode_mask(const DecodeState& st, int64_t t_new, int64_t window) const {
  const int64_t S = st.length();
  auto opts = at::TensorOptions().dtype(at::kLong).device(device_);
  at::Tensor q = at::arange(S - t_new, S, opts).unsqueeze(1), k = at::arange(S, opts).unsqueeze(0);  // slots
  at::Tensor allowed = (k <= q).unsqueeze(0).logical_and(st.real.unsqueeze(1));  // [B, T_new, S]
  if (window > 0) allowed = allowed.logical_and(((q - k) < window).unsqueeze(0));
  // A padded query attends to itself only, so no row of the softmax is empty (its output is never
  // read by a real token, but a NaN there would reach real rows through 0·NaN in later layers).
  allowed = allowed.logical_or((k == q).unsqueeze(0));
  at::Tensor zero = at::zeros({}, at::TensorOptions().dtype(dtype_).device(device_));
  at::Tensor neg = at::full({}, -std::numeric_limits<float>::infinity(), zero.options());
  return at::where(allowed, zero, neg).unsqueeze(1);  // [B, 1, T_new, S]
}

BlockContext Model::decode_context(DecodeState& st, const at::Tensor& positions, int64_t t_new) {
  const ModelConfig& c = config();
  if (c.is_mamba()) return context(t_new);  // the scan's chunk size; no positions, no masks
  BlockContext ctx;
  const int64_t need = positions.max().item<int64_t>() + 1;
  const int64_t len = ((need + kRopeLengthStep - 1) / kRopeLengthStep) * kRopeLengthStep;
  decode_rope_ = rows_of(rope(len), positions);
  ctx.rope = &decode_rope_;
  if (c.rope_local_theta > 0) {
    decode_local_rope_ = rows_of(local_rope(len), positions);
    ctx.local_rope = &decode_local_rope_;
  }
  // As attention_mask / sliding_attention_mask: without layer_types the window applies to every
  // layer, with them only to the sliding_attention layers.
  const int64_t w = c.sliding_window;
  ctx.mask = decode_mask(st, t_new, c.layer_types.empty() ? w : 0);
  if (!c.layer_types.empty()) ctx.sliding_mask = decode_mask(st, t_new, w);
  ctx.kv_cache = kv_cache_.get();
  return ctx;
}

at::Tensor Model::forward_cached(const at::Tensor& ids_in, DecodeState& st, const at::Tensor& real_in, bool last_only) {
  if (ids_in.dim() != 2 || ids_in.size(1) == 0)
    throw Error("forward_cached: ids must be [batch, tokens] with at least one token");
  const int64_t B = ids_in.size(0), T = ids_in.size(1);
  if (st.length() > 0 && st.batch() != B)
    throw Error("forward_cached: batch of " + std::to_string(B) + " rows, but the decode state holds " +
                std::to_string(st.batch()));
  at::Tensor ids = ids_in.to(device_, at::kLong);
  at::Tensor real = real_in.defined() ? real_in.to(device_).to(at::kBool)
                                      : at::ones({B, T}, at::TensorOptions().dtype(at::kBool).device(device_));
  if (real.sizes() != ids.sizes()) throw Error("forward_cached: the padding mask must have the shape of ids");
  at::Tensor counts = real.to(at::kLong).cumsum(1);  // real tokens up to and including each slot
  at::Tensor start = st.length() > 0 ? st.next_position : at::zeros({B}, counts.options());
  at::Tensor positions = (start.unsqueeze(1) + counts - 1).clamp_min(0);
  st.next_position = start + counts.select(1, T - 1);
  st.real = st.length() > 0 ? at::cat({st.real, real}, 1) : real;
  if (st.blocks.empty()) st.blocks.resize(size_t(num_blocks()));

  BlockContext ctx = decode_context(st, positions, T);
  ctx.token_mask = real;
  at::Tensor h = embed(ids);
  DeviceContexts on_device(ctx, device_);
  for (int i = 0; i < num_blocks(); ++i) {
    const at::Device d = block_device(i);
    BlockContext c = on_device.on(d);  // a copy: the cache pointer is per block
    c.cache = &st.blocks[size_t(i)];
    Block& b = acquire(i);
    prefetch(i + 1);  // streaming: the next block comes in while this one runs
    h = b.forward(h.to(d), c);  // a split model's cache of block i lives on its device
    release(i);
  }
  h = h.to(device_);
  if (last_only) h = h.narrow(1, T - 1, 1);
  return head(final_norm(h)).to(at::kFloat);
}

}  // namespace ptq
