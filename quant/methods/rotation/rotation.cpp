// QuaRot / QuIP#-style rotation of a whole model (Ashkboos et al., 2024; reference:
// spcl/QuaRot fake_quant/rotation_utils.py), as a function-preserving weight transform:
//
//  1. RMSNorm weights are folded into the linears that read the normed stream
//     (input_layernorm -> q, k, v; post_attention_layernorm -> gate, up or the Mixtral router and
//     every expert's w1, w3; the final norm -> lm_head, untied from the embedding first), and the
//     norms become ones (QuaRot fuse_layer_norms). DeepSeek-V3: q_a_proj (or q_proj) and
//     kv_a_proj_with_mqa read the stream; q_b_proj and kv_b_proj read the latent after
//     q_a_layernorm / kv_a_layernorm and are not touched (those norms are off the stream). RMSNorm without a weight commutes with any
//     orthogonal Q: rms(xQ) = rms(x).
//  2. The residual stream is rotated by an orthogonal Q (random Hadamard, or random orthogonal):
//     E' = E·Q; every linear reading the stream (q, k, v, gate, up, router, w1, w3, lm_head):
//     W' = W·Q; every linear writing it (o_proj, down_proj, w2): W' = Qᵀ·W, b' = Qᵀ·b
//     (rotate_embeddings / rotate_attention_inputs / ... / rotate_head).
//  3. Head-wise Hadamard on the value path (rotate_ov_proj): each value head is multiplied by
//     H_d (v_proj rows, v bias) and o_proj's input by the same block-diagonal I ⊗ H_d, which
//     cancels offline (attention mixes tokens, not features, and repeat_kv copies whole heads).
//     QuaRot puts a full Hadamard on o_proj plus an online one across heads instead; this exact
//     offline form needs no run-time op.
//  4. Online Hadamard on the down_proj (and every expert's w2) input: W' = W·H and
//     Linear::input_transform = x -> x·H, so x·H·(W·H)ᵀ = x·Wᵀ
//     (apply_exact_had_to_linear(down_proj, output=False) plus the online matmul_hadU).
//     The transform is a member of the Linear and survives streaming release/acquire.
//  Steps 3 and 4 (and a Hadamard stream rotation) need a Hadamard matrix of that size (hadamard.h:
//  QuaRot's sizes, e.g. 11008 = 172·64, plus Paley constructions, e.g. 18944 = 148·128). Where
//  none exists the step does not run (the stream rotation becomes random orthogonal), and
//  plan_rotation / rotation_record (rotation.h) say so: the record carries what ran.
//
// All weight math is in float64 on the model's device and cast back to the compute dtype.
// Unlike the QuaRot snapshot, the embedding's mean is not subtracted: that is only equivalent
// for LayerNorm models (OPT), not for RMSNorm.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/runtime/errors.h"
#include "core/model/model.h"
#include "quant/pipeline/block_stage.h"
#include "quant/methods/rotation/hadamard.h"
#include "quant/methods/rotation/rotation.h"

namespace ptq {

namespace {

constexpr double kPi = 3.14159265358979323846;

bool param_bool(const nlohmann::json& p, const char* key, bool dflt) {
  if (!p.is_object() || !p.contains(key) || p.at(key).is_null()) return dflt;
  if (!p.at(key).is_boolean()) throw Error(std::string("rotate: parameter '") + key + "' must be true or false");
  return p.at(key).get<bool>();
}

std::string param_string(const nlohmann::json& p, const char* key, const std::string& dflt) {
  if (!p.is_object() || !p.contains(key) || p.at(key).is_null()) return dflt;
  if (!p.at(key).is_string()) throw Error(std::string("rotate: parameter '") + key + "' must be a string");
  return p.at(key).get<std::string>();
}

// The same splitmix64 stream hadamard.cpp uses, so the orthogonal fallback below reproduces
// random_hadamard's fallback for unsupported sizes (in float64 rather than float32).
struct SplitMix64 {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }
};

// Haar-random orthogonal matrix, float64 CPU: Q of the QR of a seeded Gaussian, columns
// sign-fixed by sign(diag R) (QuaRot random_orthogonal_matrix).
at::Tensor random_orthogonal64(int64_t n, uint64_t seed) {
  SplitMix64 rng{seed};
  std::vector<double> g(size_t(n * n));
  for (int64_t i = 0; i < n * n; i += 2) {
    const double r = std::sqrt(-2.0 * std::log(rng.uniform())), t = 2.0 * kPi * rng.uniform();
    g[size_t(i)] = r * std::cos(t);
    if (i + 1 < n * n) g[size_t(i + 1)] = r * std::sin(t);
  }
  const at::Tensor a = at::tensor(g, at::TensorOptions().dtype(at::kDouble)).view({n, n});
  auto qr = at::linalg_qr(a, "reduced");
  at::Tensor d = at::sign(std::get<1>(qr).diagonal());
  d = at::where(d == 0, at::ones_like(d), d);
  return std::get<0>(qr) * d.unsqueeze(0);
}

// The residual-stream rotation in float64 (CPU), as planned ("hadamard" only for a supported
// size). random_hadamard's entries are ±1/√n up to float32 rounding; rebuilding them in float64
// keeps Q orthonormal to 1e-16. The orthogonal one is what random_hadamard falls back to.
at::Tensor stream_rotation(int64_t n, const RotationPlan& plan, uint64_t seed) {
  if (plan.rotation == "hadamard") return random_hadamard(n, seed).to(at::kDouble).sign() / std::sqrt(double(n));
  return random_orthogonal64(n, seed);
}

// (W · diag(g)) · Q for a [rows, n] weight, in float64, in row chunks so a large embedding or
// head does not need a full float64 copy on the device. g may be undefined (no norm to fold).
at::Tensor fold_rotate_rows(const at::Tensor& w, const at::Tensor& g, const at::Tensor& q) {
  const int64_t rows = w.size(0), n = w.size(1);
  const int64_t chunk = std::max<int64_t>(1, (int64_t(1) << 22) / std::max<int64_t>(1, n));
  at::Tensor gd = g.defined() ? g.to(at::kDouble).unsqueeze(0) : at::Tensor();
  at::Tensor out = at::empty_like(w);
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    const int64_t len = std::min(chunk, rows - r0);
    at::Tensor part = w.narrow(0, r0, len).to(at::kDouble);
    if (gd.defined()) part = part * gd;
    out.narrow(0, r0, len).copy_(at::matmul(part, q));
  }
  return out;
}

// x · (I ⊗ H_d) on the last dimension of x (whose size is a multiple of d).
at::Tensor headwise_hadamard(const at::Tensor& x, int64_t d) {
  auto sizes = x.sizes().vec();
  std::vector<int64_t> split(sizes.begin(), sizes.end() - 1);
  split.push_back(sizes.back() / d);
  split.push_back(d);
  return fast_hadamard_transform(x.reshape(split)).reshape(sizes);
}

struct Plan {
  at::Tensor q;        // [H, H] float64 on the model's device
  bool headwise = false;
  int64_t head_dim = 0;
  bool online = false;  // online Hadamard on down_proj / w2 inputs
};

std::string size_reason(const char* what, const char* name, int64_t n) {
  return std::string(what) + ": " + name + " " + std::to_string(n) + " has no Hadamard matrix (not K·2^m for a known K)";
}

void rotate_block(DecoderBlock& b, const Plan& p) {
  const at::Tensor g_in = b.input_norm.to(at::kDouble), g_post = b.post_norm.to(at::kDouble);
  for (Linear& l : b.linears()) {
    const std::string& t = l.spec.type;
    const at::ScalarType dt = l.weight.scalar_type();
    at::Tensor w = l.weight.to(at::kDouble);
    at::Tensor bias = l.bias.defined() ? l.bias.to(at::kDouble) : at::Tensor();
    if (t == "q_b" || t == "kv_b") continue;  // DeepSeek: read the latent (after q_a / kv_a_layernorm), not the stream
    if (t == "q" || t == "k" || t == "v" || t == "q_a" || t == "kv_a") {
      w = at::matmul(w * g_in.unsqueeze(0), p.q);
      if (t == "v" && p.headwise) {  // each value head · H_d: rows of W, entries of b
        w = headwise_hadamard(w.t(), p.head_dim).t();
        if (bias.defined()) bias = headwise_hadamard(bias, p.head_dim);
      }
    } else if (t == "gate" || t == "up" || t == "router") {
      w = at::matmul(w * g_post.unsqueeze(0), p.q);
    } else if (t == "o" || t == "down") {
      w = at::matmul(p.q.t(), w);
      if (bias.defined()) bias = at::matmul(p.q.t(), bias);
      if (t == "o" && p.headwise) w = headwise_hadamard(w, p.head_dim);
      if (t == "down" && p.online) {
        w = fast_hadamard_transform(w);  // W·H
        auto prev = l.input_transform;   // compose with an earlier transform, if any
        if (prev)
          l.input_transform = [prev](const at::Tensor& x) { return fast_hadamard_transform(prev(x)); };
        else
          l.input_transform = [](const at::Tensor& x) { return fast_hadamard_transform(x); };
      }
    } else {
      throw Error("rotate: block " + std::to_string(b.index()) + " has a layer of unknown type '" + t +
                  "' (" + l.name() + ")");
    }
    l.weight = w.to(dt).contiguous();
    if (bias.defined()) l.bias = bias.to(l.bias.scalar_type()).contiguous();
  }
  b.input_norm = at::ones_like(b.input_norm);
  b.post_norm = at::ones_like(b.post_norm);
}

}  // namespace

RotationPlan plan_rotation(const ModelConfig& c, const nlohmann::json& params) {
  RotationPlan r;
  const std::string mode = param_string(params, "rotation", "hadamard");
  if (mode != "hadamard" && mode != "orthogonal")
    throw Error("rotate: unknown rotation '" + mode + "' (choose hadamard or orthogonal)");
  r.rotation = mode;
  if (mode == "hadamard" && !hadamard_supported(c.hidden_size)) {
    r.rotation = "orthogonal";
    r.not_run.push_back(size_reason("rotation hadamard (random orthogonal ran instead)", "hidden_size", c.hidden_size));
  }
  if (r.rotation == "hadamard") r.rotation_order = hadamard_base_order(c.hidden_size);
  if (param_bool(params, "headwise_hadamard", true) && c.mla) {
    r.not_run.push_back("headwise_hadamard: DeepSeek's values are per-head rows of kv_b_proj interleaved with k_nope "
                        "(no separate v_proj to rotate)");
  } else if (param_bool(params, "headwise_hadamard", true)) {
    r.headwise = c.head_dim > 0 && hadamard_supported(c.head_dim);
    if (r.headwise) r.headwise_order = hadamard_base_order(c.head_dim);
    else r.not_run.push_back(size_reason("headwise_hadamard", "head_dim", c.head_dim));
  }
  if (param_bool(params, "online_hadamard", true)) {
    r.online = hadamard_supported(c.intermediate_size);
    if (r.online) r.online_order = hadamard_base_order(c.intermediate_size);
    else r.not_run.push_back(size_reason("online_hadamard", "intermediate_size", c.intermediate_size));
  }
  return r;
}

nlohmann::json rotation_record(const ModelConfig& c, const nlohmann::json& params) {
  const RotationPlan r = plan_rotation(c, params);
  nlohmann::json j = params.is_object() ? params : nlohmann::json::object();
  auto order = [](bool ran, int64_t K) { return ran ? nlohmann::json(K) : nlohmann::json(nullptr); };
  j["rotation"] = r.rotation;
  j["rotation_K"] = order(r.rotation == "hadamard", r.rotation_order);
  j["headwise_hadamard"] = r.headwise;
  j["headwise_hadamard_K"] = order(r.headwise, r.headwise_order);
  j["online_hadamard"] = r.online;
  j["online_hadamard_K"] = order(r.online, r.online_order);
  j["not_run"] = r.not_run;
  return j;
}

void rotate_model(Model& m, const nlohmann::json& params, uint64_t seed, Feedback* fb) {
  at::NoGradGuard no_grad;
  const ModelConfig& c = m.config();
  const RotationPlan plan = plan_rotation(c, params);
  Plan p;
  p.q = stream_rotation(c.hidden_size, plan, seed).to(m.device());
  p.head_dim = c.head_dim;
  p.headwise = plan.headwise;
  p.online = plan.online;

  check_cancel(fb);
  // Head: untie (the embedding must not get the final norm), fold the final norm, rotate.
  m.untie_head();
  m.head_weight() = fold_rotate_rows(m.head_weight(), m.norm_weight(), p.q);
  m.norm_weight() = at::ones_like(m.norm_weight());
  m.embed_weight() = fold_rotate_rows(m.embed_weight(), at::Tensor(), p.q);

  const int n = m.num_blocks();
  for (int i = 0; i < n; ++i) {
    check_cancel(fb);
    DecoderBlock& b = as_decoder(m.acquire(i));
    rotate_block(b, p);
    b.mark_modified();
    m.release(i);
    report(fb, "rotate", i + 1, n);
  }
}

}  // namespace ptq
