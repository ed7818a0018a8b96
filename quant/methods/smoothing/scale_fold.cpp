#include "quant/methods/smoothing/scale_fold.h"

namespace ptq {

namespace {

bool reads_attention_norm(const LinearSpec& s) { return s.type == "q" || s.type == "k" || s.type == "v" || s.type == "qkv"; }
bool reads_mlp_norm(const LinearSpec& s) {
  return s.type == "gate" || s.type == "up" || s.type == "gate_up" || s.type == "router";
}

std::string join_types(const std::vector<Linear*>& ls) {
  std::string s;
  for (const Linear* l : ls) {
    const std::string t = l->spec.expert >= 0 ? "experts" : l->spec.type;
    if (s.find(t) != std::string::npos) continue;
    s += (s.empty() ? "" : ",") + t;
  }
  return s;
}

// The first layer of the group that sees every token (not an expert): its input statistic.
std::string all_token_reader(const std::vector<Linear*>& ls) {
  for (const Linear* l : ls)
    if (l->spec.expert < 0) return l->name();
  return ls.empty() ? std::string() : ls[0]->name();
}

// The prefix of a down projection ("mlp.", "mlp.experts.3.", "block_sparse_moe.experts.3.").
std::string prefix_of(const std::string& name) {
  auto dot = name.rfind('.');
  return dot == std::string::npos ? std::string() : name.substr(0, dot + 1);
}

}  // namespace

std::vector<ScaleGroup> norm_scale_groups(DecoderBlock& b, const ModelConfig& c) {
  ScaleGroup attn{"input_layernorm -> ", &b.input_norm, c.norm_plus_one, nullptr, {}, ""};
  const char* mlp_norm = c.sandwich_norms ? "pre_feedforward_layernorm -> " : "post_attention_layernorm -> ";
  ScaleGroup mlp{mlp_norm, c.sandwich_norms ? &b.pre_ff_norm : &b.post_norm, c.norm_plus_one, nullptr, {}, ""};
  for (auto& l : b.linears()) {
    if (reads_attention_norm(l.spec)) attn.layers.push_back(&l);
    if (reads_mlp_norm(l.spec)) mlp.layers.push_back(&l);
  }
  std::vector<ScaleGroup> g;
  for (ScaleGroup* s : {&attn, &mlp}) {
    if (s->layers.empty()) continue;
    s->name += join_types(s->layers);
    s->x_from = all_token_reader(s->layers);
    g.push_back(*s);
  }
  return g;
}

std::vector<ScaleGroup> linear_scale_groups(DecoderBlock& b, const ModelConfig& c, std::vector<SkippedGroup>& skipped) {
  std::vector<ScaleGroup> g;
  Linear* o = b.find("self_attn.o_proj");
  Linear* v = b.find("self_attn.v_proj");
  if (o && v && v->spec.out_features == o->spec.out_features && v->spec.in_features == o->spec.in_features)
    g.push_back({"v_proj -> o_proj", nullptr, false, v, {o}, o->name()});
  else if (o)
    skipped.push_back({"v_proj -> o_proj", {o},
                       c.fused_qkv ? "v is a slice of the fused qkv_proj"
                                   : "GQA: v_proj has " + std::to_string(c.num_kv_heads) + " heads, o_proj reads " +
                                         std::to_string(c.num_heads) + " (llm-awq PR #67 scales v -> o only when shapes match)"});
  for (auto& l : b.linears()) {
    if (l.spec.type != "down") continue;
    const std::string p = prefix_of(l.name());
    Linear* up = b.find(p + "up_proj");
    if (!up) up = b.find(p + "w3");
    if (up)
      g.push_back({p + "up -> down", nullptr, false, up, {&l}, l.name()});
    else
      skipped.push_back({p + "up -> down", {&l}, "up is a slice of the fused gate_up_proj"});
  }
  return g;
}

bool foldable(const ScaleGroup& g) {
  for (const Linear* l : g.layers)
    if (l->input_transform) return false;
  return true;
}

void apply_scale(const ScaleGroup& g, const at::Tensor& s) {
  for (Linear* l : g.layers) {
    at::Tensor sd = s.to(l->weight.device());
    l->weight = (l->weight.to(at::kFloat) * sd.view({1, -1})).to(l->weight.scalar_type());
  }
  if (g.norm) {
    at::Tensor& n = *g.norm;
    at::Tensor sd = s.to(n.device());
    at::Tensor f = n.to(at::kFloat);
    n = (g.norm_plus_one ? (f + 1.0) / sd - 1.0 : f / sd).to(n.scalar_type());
  }
  if (g.prev) {
    Linear& p = *g.prev;
    at::Tensor sd = s.to(p.weight.device());
    p.weight = (p.weight.to(at::kFloat) / sd.view({-1, 1})).to(p.weight.scalar_type());
    if (p.bias.defined()) p.bias = (p.bias.to(at::kFloat) / sd.to(p.bias.device())).to(p.bias.scalar_type());
  }
}

// apply_scale and the quantizers assign new tensors (never write in place), so references suffice.
GroupSnapshot snapshot(const ScaleGroup& g) {
  GroupSnapshot s;
  for (const Linear* l : g.layers) s.layer_weights.push_back(l->weight);
  if (g.norm) s.norm = *g.norm;
  if (g.prev) s.prev_weight = g.prev->weight, s.prev_bias = g.prev->bias;
  return s;
}

void restore(const ScaleGroup& g, const GroupSnapshot& s) {
  for (size_t i = 0; i < g.layers.size(); ++i) g.layers[i]->weight = s.layer_weights[i];
  if (g.norm) *g.norm = s.norm;
  if (g.prev) g.prev->weight = s.prev_weight, g.prev->bias = s.prev_bias;
}

}  // namespace ptq
