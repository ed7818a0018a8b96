#include "core/model/block.h"

#include "core/runtime/errors.h"

namespace ptq {

at::Tensor Linear::forward(const at::Tensor& x, LinearObserver* obs, int block) const {
  at::Tensor in = input_transform ? input_transform(x) : x;
  if (input_quantizer) in = input_quantizer(in);
  at::Tensor out = at::linear(in, weight, bias.defined() ? c10::optional<at::Tensor>(bias) : c10::nullopt);
  if (output_quantizer) out = output_quantizer(out);
  if (obs) {
    const int64_t n_in = in.size(-1), n_out = out.size(-1);
    obs->on_linear(block, *this, in.reshape({-1, n_in}), out.reshape({-1, n_out}));
  }
  return out;
}

Block::Block(const ModelConfig& c, int index) : cfg_(&c), index_(index) {
  for (auto& s : block_linears(c, index)) linears_.push_back(Linear{s, {}, {}, {}, {}, {}});
}

Linear* Block::find(const std::string& name) {
  for (auto& l : linears_)
    if (l.spec.name == name) return &l;
  return nullptr;
}

Linear& Block::linear(const std::string& name) {
  Linear* l = find(name);
  if (!l) throw Error("block " + std::to_string(index_) + " has no linear layer '" + name + "'");
  return *l;
}

const Linear& Block::linear(const std::string& name) const { return const_cast<Block*>(this)->linear(name); }

bool Block::in_first_half(const Linear&) const { return false; }

at::Tensor Block::first_half(const at::Tensor&, const BlockContext&) const {
  throw Error("a " + kind() + " block has no halves");
}

at::Tensor Block::second_half(const at::Tensor&, const BlockContext&) const {
  throw Error("a " + kind() + " block has no halves");
}

int64_t Block::bytes() const {
  int64_t n = 0;
  for (auto& kv : const_cast<Block*>(this)->tensors())
    if (kv.second->defined()) n += kv.second->numel() * kv.second->element_size();
  return n;
}

void Block::unload() {
  for (auto& kv : tensors()) *kv.second = at::Tensor();
}

at::Tensor Block::run(const std::string& name, const at::Tensor& x, const BlockContext& ctx) const {
  return linear(name).forward(x, ctx.observer, index_);
}

}  // namespace ptq
