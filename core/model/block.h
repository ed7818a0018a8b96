#pragma once
// What the model, the pipeline and the analyses need of one block of a causal LM, whatever its
// kind (DecoderBlock: attention + MLP or experts; MambaBlock: RMSNorm + Mamba mixer): a forward
// pass, linear layers addressable by name and observable (quant/ and eval/ capture a layer's
// inputs and outputs through a LinearObserver and replace weights by assigning Linear::weight),
// and every tensor with its checkpoint key, for loading and block-wise streaming.
#include <ATen/ATen.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/io/model_config.h"
#include "core/model/decode_state.h"
#include "core/model/kv_cache.h"
#include "core/model/model_layout.h"
#include "core/model/rope.h"
#include "core/model/selective_scan.h"

namespace ptq {

struct Linear {
  LinearSpec spec;      // name inside the block, shapes, layer type
  at::Tensor weight;    // [out, in] in the compute dtype
  at::Tensor bias;      // [out] or undefined
  // Optional online transform of the input before the matmul (e.g. a Hadamard rotation of
  // down_proj inputs); observers see the transformed input, the one the weight multiplies.
  std::function<at::Tensor(const at::Tensor&)> input_transform;
  // Optional fake quantization of the input (after input_transform, so it sees what the weight
  // multiplies) and of the output (q/k/v for attention); unset = full precision. Installed by
  // quant/pipeline/act_install.h; observers see the quantized input.
  std::function<at::Tensor(const at::Tensor&)> input_quantizer, output_quantizer;

  const std::string& name() const { return spec.name; }
  at::Tensor forward(const at::Tensor& x, class LinearObserver* obs, int block) const;
};

class LinearObserver {
 public:
  virtual ~LinearObserver() = default;
  // `input` is [tokens, in] and `output` [tokens, out] for the tokens this layer saw
  // (all tokens of the batch, or the tokens routed to an expert).
  virtual void on_linear(int block, const Linear& layer, const at::Tensor& input, const at::Tensor& output) = 0;
};

struct BlockContext {
  const RopeTables* rope = nullptr;
  at::Tensor mask;                    // additive [T, T] mask, or undefined for plain causal attention
  LinearObserver* observer = nullptr;
  // Layers that layer_types marks sliding_attention (Gemma): their own rope (Gemma3's local base;
  // null = rope) and mask (undefined = plain causal, when the sequence fits in the window).
  const RopeTables* local_rope = nullptr;
  at::Tensor sliding_mask;
  // Mamba: steps per chunk of the selective scan (selective_scan.h; memory O(B·D·N·chunk²)).
  int64_t scan_chunk = kDefaultScanChunk;
  // Set: attention reads K and V from this quantized cache (core/model/kv_cache.h).
  const KvCacheQuantizer* kv_cache = nullptr;
  // Incremental decoding (Model::forward_cached): this block's cache, read and extended in place;
  // then rope / local_rope hold per-row tables [B, 1, T_new, D] at the tokens' absolute positions,
  // mask / sliding_mask are additive [B, 1, T_new, S] over every slot (padding, causality and the
  // window), and token_mask [B, T_new] (1 real, 0 left padding) zeroes Mamba's padded inputs.
  BlockCache* cache = nullptr;
  at::Tensor token_mask;
};

class Block {
 public:
  Block(const ModelConfig& c, int index);
  virtual ~Block() = default;
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

  virtual std::string kind() const = 0;  // "decoder" | "mamba"
  // h: [B, T, hidden] -> [B, T, hidden]
  virtual at::Tensor forward(const at::Tensor& h, const BlockContext& ctx) const = 0;
  // Every tensor of the block, in a fixed order, with its checkpoint key.
  virtual std::vector<std::pair<std::string, at::Tensor*>> tensors() = 0;
  virtual bool loaded() const = 0;
  // Blocks whose forward is second_half(first_half(h)), the same operations in the same order: a
  // decoder block's attention residual, then its feed-forward residual. A quantizer that captures one
  // layer group at a time resumes from the first half's output once every layer in it is final.
  virtual bool has_halves() const { return false; }
  virtual bool in_first_half(const Linear& l) const;
  virtual at::Tensor first_half(const at::Tensor& h, const BlockContext& ctx) const;
  virtual at::Tensor second_half(const at::Tensor& r, const BlockContext& ctx) const;

  int index() const { return index_; }
  Linear& linear(const std::string& name);
  const Linear& linear(const std::string& name) const;
  Linear* find(const std::string& name);
  std::vector<Linear>& linears() { return linears_; }
  const std::vector<Linear>& linears() const { return linears_; }

  int64_t bytes() const;  // of the tensors as they are now
  void unload();          // drops the tensors (frees their memory)
  // Set by whoever changes weights, so a streamed block keeps the change when it leaves the device.
  void mark_modified() { modified_ = true; }
  bool modified() const { return modified_; }

 protected:
  at::Tensor run(const std::string& name, const at::Tensor& x, const BlockContext& ctx) const;

  const ModelConfig* cfg_;
  int index_;
  std::vector<Linear> linears_;  // from block_linears(config, index)
  bool modified_ = false;
};

}  // namespace ptq
