#include "quant/kvcache/kv_cache_spec.h"

#include <algorithm>

#include "core/runtime/errors.h"

namespace ptq {

namespace {

bool known(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

std::string words(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& w : v) s += (s.empty() ? "" : ", ") + w;
  return s;
}

// Elements of K (or V) per token over all layers.
double elements_per_token(const ModelConfig& c) { return double(c.num_layers) * double(c.num_kv_heads) * double(c.head_dim); }

}  // namespace

double quantized_bytes(const KvCacheSpec& s, const ModelConfig& c, bool keys);

const std::vector<std::string>& kv_formats() {
  static const std::vector<std::string> f = {"int", "fp8_e4m3", "fp8_e5m2"};
  return f;
}

const std::vector<std::string>& kv_granularities() {
  static const std::vector<std::string> g = {"token", "group", "channel"};
  return g;
}

void KvCacheSpec::validate() const {
  if (!enabled()) return;
  if (!known(kv_formats(), format)) throw Error("'kv_format' has unknown value '" + format + "' (allowed: " + words(kv_formats()) + ")");
  if (format == "int" && (bits < 2 || bits > 8))
    throw Error("'kv_bits' must be in 2..8 for the int format, got " + std::to_string(bits));
  if (format != "int" && bits != 8) throw Error("'kv_bits' must be 8 for " + format + ", got " + std::to_string(bits));
  if (!known(kv_granularities(), granularity))
    throw Error("'kv_granularity' has unknown value '" + granularity + "' (allowed: " + words(kv_granularities()) + ")");
  if (group < 0) throw Error("'kv_group' must be 0 or positive, got " + std::to_string(group));
  if (residual < 0) throw Error("'kv_residual' must be 0 or positive, got " + std::to_string(residual));
  if (granularity == "token" && group != 0)
    throw Error("'kv_group' = " + std::to_string(group) + " needs 'kv_granularity' group (channels) or channel (tokens)");
  if (granularity != "token" && group == 0)
    throw Error("'kv_granularity' " + granularity + " needs 'kv_group' (" +
                (granularity == "group" ? std::string("channels per group") : std::string("tokens per key group; KIVI uses 32 or 128")) + ")");
  if (granularity == "channel" && residual % group != 0)
    throw Error("'kv_residual' = " + std::to_string(residual) + " must be a multiple of 'kv_group' = " + std::to_string(group) +
                " with per-channel keys (KIVI quantizes its key buffer in whole groups)");
}

void KvCacheSpec::validate_for(const ModelConfig& c) const {
  if (!enabled()) return;
  validate();
  if (c.architecture == "MambaForCausalLM" || c.architecture == "DeepseekV3ForCausalLM")
    throw Error("KV-cache quantization cannot run on " + c.architecture + ": " +
                (c.architecture == "MambaForCausalLM" ? "a Mamba model has no KV cache"
                                                      : "multi-head latent attention caches a compressed latent, not per-head K and V"));
  if (granularity == "group" && c.head_dim % group != 0)
    throw Error("'kv_group' = " + std::to_string(group) + " does not divide head_dim " + std::to_string(c.head_dim));
}

std::string KvCacheSpec::label() const {
  if (!enabled()) return "";
  std::string s = "kv" + std::to_string(bits);
  if (format != "int") s += "-" + format;
  if (granularity == "channel") s += "-ch" + std::to_string(group);
  if (granularity == "group") s += "-g" + std::to_string(group);
  if (residual > 0) s += "-r" + std::to_string(residual);
  return s;
}

nlohmann::json KvCacheSpec::to_json() const {
  if (!enabled()) return nullptr;
  return {{"bits", bits}, {"format", format}, {"granularity", granularity}, {"group", group}, {"residual", residual}};
}

double fp16_kv_bytes_per_token(const ModelConfig& c) { return 2.0 * elements_per_token(c) * 2.0; }

// Quantized bytes per token of K (keys) or V over all layers: codes plus per-group parameters.
double quantized_bytes(const KvCacheSpec& s, const ModelConfig& c, bool keys) {
  const double n = elements_per_token(c);
  const double per_group = s.format == "int" ? 4.0 : 2.0;  // fp16 scale (+ fp16 min)
  double groups = s.granularity == "group" ? n / double(s.group) : n / double(c.head_dim);
  if (keys && s.granularity == "channel") groups = n / double(s.group);  // one per channel per `group` tokens
  return n * s.bits / 8.0 + groups * per_group;
}

double KvCacheSpec::bytes_per_token(const ModelConfig& c) const {
  if (!enabled()) return fp16_kv_bytes_per_token(c);
  return quantized_bytes(*this, c, true) + quantized_bytes(*this, c, false);
}

double KvCacheSpec::bytes_at_context(const ModelConfig& c, int64_t L) const {
  if (!enabled()) return fp16_kv_bytes_per_token(c) * double(L);
  const double fp = fp16_kv_bytes_per_token(c) / 2.0;  // K or V alone
  int64_t v_fp = std::min(L, residual), k_fp = v_fp;
  if (granularity == "channel") k_fp = L % (residual > 0 ? residual : group);
  return double(L - k_fp) * quantized_bytes(*this, c, true) + double(L - v_fp) * quantized_bytes(*this, c, false) +
         double(k_fp + v_fp) * fp;
}

}  // namespace ptq
