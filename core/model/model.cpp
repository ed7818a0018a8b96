#include "core/model/model.h"

#include <algorithm>

#include <cmath>
#include <cstdlib>
#include <limits>

#include "core/model/mamba_block.h"
#include "core/model/selective_scan.h"
#include "core/runtime/device.h"
#include "core/runtime/errors.h"

namespace ptq {

Residency parse_residency(const std::string& s) {
  if (s == "auto") return Residency::Auto;
  if (s == "resident") return Residency::Resident;
  if (s == "stream") return Residency::Stream;
  throw Error("unknown residency '" + s + "' (choose auto, resident or stream)");
}

std::string residency_name(Residency r) {
  switch (r) {
    case Residency::Auto: return "auto";
    case Residency::Resident: return "resident";
    case Residency::Stream: return "stream";
  }
  return "auto";
}

// NaN or Inf in a weight make every result NaN (a "ppl": null that looks like a number was
// measured): refused when the tensor is first loaded. One reduction per chunk, accumulated on
// the device, one sync per tensor; chunks bound the temporary mask to 16 M bytes.
at::Tensor nonfinite_count(const at::Tensor& t) {
  at::Tensor bad = at::zeros({}, t.options().dtype(at::kLong));
  if (!at::isFloatingType(t.scalar_type()) || t.numel() == 0) return bad;
  const at::Tensor flat = t.reshape({-1});
  const int64_t chunk = int64_t(1) << 24;
  for (int64_t i = 0; i < flat.numel(); i += chunk)
    bad += at::logical_not(at::isfinite(flat.slice(0, i, std::min(flat.numel(), i + chunk)))).sum();
  return bad;
}

void check_finite_weight(const at::Tensor& t, const std::string& name, const std::string& dir) {
  refuse_nonfinite(t, name, dir, nonfinite_count(t).item<int64_t>());
}

void refuse_nonfinite(const at::Tensor& t, const std::string& name, const std::string& dir, int64_t n) {
  if (n > 0)
    throw Error("tensor '" + name + "' in '" + dir + "' has " + std::to_string(n) + " NaN or Inf value" +
                (n == 1 ? "" : "s") + " (of " + std::to_string(t.numel()) + ") in " + dtype_name(t.scalar_type()) +
                "; a model with non-finite weights gives no meaningful result");
}

std::unique_ptr<Model> Model::load(const std::string& dir, const LoadOptions& opts, Feedback* fb) {
  std::unique_ptr<Model> m(new Model());
  m->device_ = parse_device(opts.split_devices.empty() ? opts.device : opts.split_devices.front());
  m->dtype_ = parse_dtype(opts.dtype);
  m->ck_ = Checkpoint::open(dir);
  const ModelConfig& c = m->ck_->config();
  m->tied_ = c.tie_word_embeddings;
  for (int i = 0; i < c.num_layers; ++i) {
    if (c.is_mamba())
      m->blocks_.push_back(std::make_unique<MambaBlock>(c, i));
    else
      m->blocks_.push_back(std::make_unique<DecoderBlock>(c, i));
  }

  auto to_dev = [&](const std::string& key) {
    at::Tensor t = m->ck_->load(key).to(m->device_, m->dtype_);
    check_finite_weight(t, key, dir);
    return t;
  };
  m->dir_ = dir;
  m->checked_.assign(size_t(c.num_layers), false);
  m->embed_ = to_dev(embedding_key(c));
  m->norm_ = to_dev(final_norm_key(c));
  if (!m->tied_) m->head_ = to_dev("lm_head.weight");

  Residency r = opts.residency;
  if (!opts.split_devices.empty()) {
    if (r == Residency::Stream)
      throw Error("a model split across devices is resident: --residency stream and --split-devices exclude each other");
    r = Residency::Resident;
    m->place_blocks(opts.split_devices);
  }
  if (r == Residency::Auto) {
    if (!m->device_.is_cuda()) {
      r = Residency::Resident;
    } else {
      int64_t need = m->weight_bytes();
      int64_t free_b = free_device_memory(m->device_);
      r = need < int64_t(0.6 * double(free_b)) ? Residency::Resident : Residency::Stream;
    }
  }
  m->streaming_ = (r == Residency::Stream);
  if (m->streaming_) m->start_transfers();
  if (!m->streaming_) {
    for (int i = 0; i < c.num_layers; ++i) {
      check_cancel(fb);
      m->load_block(i);
      report(fb, "load", i + 1, c.num_layers);
    }
  }
  return m;
}

int64_t Model::weight_bytes() const {
  int64_t n = 0;
  for (const auto& t : expected_tensors(config())) {
    int64_t k = 1;
    for (auto d : t.shape) k *= d;
    n += k;
  }
  return n * int64_t(c10::elementSize(dtype_));
}

void Model::place_blocks(const std::vector<std::string>& devices) {
  if (devices.size() < 2) throw Error("a split needs at least two devices, got " + std::to_string(devices.size()));
  std::vector<int64_t> bytes;
  for (const auto& b : blocks_) {
    int64_t n = 0;
    for (const auto& t : b->tensors()) n += ck_->info(t.first).numel();
    bytes.push_back(n * int64_t(c10::elementSize(dtype_)));
  }
  int64_t shared = embed_.numel() + norm_.numel() + (tied_ ? 0 : head_.numel());
  const std::vector<int> where = split_blocks(bytes, shared * int64_t(c10::elementSize(dtype_)), int(devices.size()));
  for (int d : where) block_devices_.push_back(parse_device(devices.at(size_t(d))));
}

std::vector<at::Device> Model::devices() const {
  std::vector<at::Device> out{device_};
  for (const at::Device& d : block_devices_)
    if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(d);
  return out;
}

void Model::set_kv_cache(std::shared_ptr<const KvCacheQuantizer> kv) {
  if (kv && split())
    throw Error("a model split across devices evaluates a full-precision KV cache; quantize the KV cache on one device");
  kv_cache_ = std::move(kv);
}

void Model::untie_head() {
  if (!tied_) return;
  head_ = embed_.clone();
  tied_ = false;
}

at::Tensor Model::embed(const at::Tensor& ids) const {
  at::Tensor h = at::embedding(embed_, ids.to(device_, at::kLong));
  if (config().embed_scale)  // Gemma: × sqrt(hidden), the factor rounded to the model dtype first
    h = h * at::scalar_tensor(std::sqrt(double(config().hidden_size)), h.options());
  return h;
}

at::Tensor Model::final_norm(const at::Tensor& h) const {
  const ModelConfig& c = config();
  return c.norm_plus_one ? rms_norm_plus_one(h, norm_, c.rms_norm_eps) : rms_norm(h, norm_, c.rms_norm_eps);
}

at::Tensor Model::head(const at::Tensor& normed) const {
  const at::Tensor& w = tied_ ? embed_ : head_;
  // Mamba's float32 residual stream reaches the head in float32: lm_head(h.to(lm_head.weight.dtype)).
  at::Tensor logits = at::linear(normed.to(w.scalar_type()), w);
  const double cap = config().final_softcap;
  if (cap > 0) logits = at::tanh(logits / cap) * cap;  // Gemma2's final logit soft-capping
  return logits;
}

const RopeTables& Model::rope(int64_t seq_len) {
  auto it = rope_cache_.find(seq_len);
  if (it == rope_cache_.end()) it = rope_cache_.emplace(seq_len, make_rope_tables(config(), seq_len, device_, dtype_)).first;
  return it->second;
}

const RopeTables& Model::local_rope(int64_t seq_len) {
  auto it = local_rope_cache_.find(seq_len);
  if (it == local_rope_cache_.end())
    it = local_rope_cache_.emplace(seq_len, make_local_rope_tables(config(), seq_len, device_, dtype_)).first;
  return it->second;
}

at::Tensor Model::attention_mask(int64_t T) const {
  return config().layer_types.empty() ? window_mask(T) : at::Tensor();
}

at::Tensor Model::sliding_attention_mask(int64_t T) const {
  return config().layer_types.empty() ? at::Tensor() : window_mask(T);
}

at::Tensor Model::window_mask(int64_t T) const {
  const int64_t w = config().sliding_window;
  if (w <= 0 || T <= w) return at::Tensor();
  auto opts = at::TensorOptions().dtype(at::kLong).device(device_);
  at::Tensor i = at::arange(T, opts).unsqueeze(1), j = at::arange(T, opts).unsqueeze(0);
  at::Tensor allowed = (j <= i).logical_and((i - j) < w);
  at::Tensor neg = at::full({T, T}, -std::numeric_limits<float>::infinity(), at::TensorOptions().dtype(dtype_).device(device_));
  return at::where(allowed, at::zeros_like(neg), neg);
}

BlockContext Model::context(int64_t seq_len, LinearObserver* obs) {
  BlockContext ctx;
  ctx.observer = obs;
  if (config().is_mamba()) {  // no positions, no attention; PTQ_SCAN_CHUNK sets the scan's chunk size
    const char* chunk = std::getenv("PTQ_SCAN_CHUNK");
    if (chunk) {
      char* end = nullptr;
      const long long v = std::strtoll(chunk, &end, 10);
      if (end == chunk || *end != '\0' || v < 1 || v > 4096)
        throw Error(std::string("PTQ_SCAN_CHUNK is '") + chunk + "', expected an integer from 1 to 4096");
      ctx.scan_chunk = v;
    }
    return ctx;
  }
  ctx.rope = &rope(seq_len);
  ctx.mask = attention_mask(seq_len);
  if (config().rope_local_theta > 0) ctx.local_rope = &local_rope(seq_len);
  ctx.sliding_mask = sliding_attention_mask(seq_len);
  ctx.kv_cache = kv_cache_.get();
  return ctx;
}

DeviceContexts::DeviceContexts(const BlockContext& base, at::Device home) : base_(base), home_(home) {}

const BlockContext& DeviceContexts::on(at::Device d) {
  if (d == home_) return base_;
  auto& slot = moved_[d.str()];
  if (!slot) {
    slot = std::make_unique<Moved>();
    auto move = [&](const at::Tensor& t) { return t.defined() ? t.to(d) : t; };
    slot->ctx = base_;
    if (base_.rope) slot->rope = {move(base_.rope->cos), move(base_.rope->sin)}, slot->ctx.rope = &slot->rope;
    if (base_.local_rope)
      slot->local = {move(base_.local_rope->cos), move(base_.local_rope->sin)}, slot->ctx.local_rope = &slot->local;
    slot->ctx.mask = move(base_.mask);
    slot->ctx.sliding_mask = move(base_.sliding_mask);
    slot->ctx.token_mask = move(base_.token_mask);
  }
  return slot->ctx;
}

at::Tensor Model::forward(const at::Tensor& ids, LinearObserver* obs, std::vector<at::Tensor>* hidden_states) {
  // transformers' convention per family: Llama & co. give the embedding output and every block's
  // output but the last (replaced by the final norm's); MambaModel gives every block's output, then
  // the final norm's, and no embedding output.
  const bool mamba = config().is_mamba();
  at::Tensor h = embed(ids);
  if (hidden_states && !mamba) hidden_states->push_back(h);
  BlockContext ctx = context(ids.size(1), obs);
  DeviceContexts on_device(ctx, device_);
  for (int i = 0; i < num_blocks(); ++i) {
    const at::Device d = block_device(i);
    Block& b = acquire(i);
    prefetch(i + 1);  // streaming: the next block comes in while this one runs
    h = b.forward(h.to(d), on_device.on(d));  // .to: a no-op unless split
    release(i);
    if (hidden_states && (mamba || i + 1 < num_blocks())) hidden_states->push_back(h);
  }
  h = final_norm(h.to(device_));
  if (hidden_states) hidden_states->push_back(h);
  return head(h).to(at::kFloat);
}

}  // namespace ptq
