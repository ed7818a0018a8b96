#pragma once
// A causal LM as a sequence of blocks (attention decoder blocks, or Mamba blocks) with embeddings,
// final norm and head.
// Weights live in the checkpoint (memory-mapped), in CPU memory, or on the compute device;
// in streaming mode only the block being run is on the device, so models larger than GPU
// memory can still be calibrated and evaluated block by block (as LLMC does).
#include <ATen/ATen.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/io/checkpoint.h"
#include "core/model/block_split.h"
#include "core/model/block.h"
#include "core/model/decoder_block.h"
#include "core/runtime/feedback.h"
#include "core/model/rope.h"

namespace ptq {

enum class Residency {
  Auto,      // resident when the whole model fits comfortably in device memory, else streaming
  Resident,  // every block on the compute device
  Stream,    // one block on the device at a time
};
Residency parse_residency(const std::string& s);
std::string residency_name(Residency r);

struct LoadOptions {
  std::string device = "cpu";  // cpu | cuda | cuda:N | auto
  std::string dtype = "float32";
  Residency residency = Residency::Auto;
  // Evaluation of a model larger than one device (a pipeline over blocks): two or more devices
  // of one kind (core/model/block_split.h); the blocks split into contiguous runs balanced by
  // bytes, embedding, final norm and head on the first device, the hidden state handed from one
  // device to the next. Resident only; `device` is then ignored. Quantization refuses a split model.
  std::vector<std::string> split_devices;
};

// The blocks' context on each device of a split model: the rope tables and masks built on the
// model's device, copied once per device and forward (the home device's is the context itself).
class DeviceContexts {
 public:
  DeviceContexts(const BlockContext& base, at::Device home);
  const BlockContext& on(at::Device d);

 private:
  struct Moved {
    RopeTables rope, local;
    BlockContext ctx;
  };
  const BlockContext& base_;
  at::Device home_;
  std::map<std::string, std::unique_ptr<Moved>> moved_;
};

// Throws ptq::Error naming the tensor and the checkpoint when a floating tensor holds NaN or Inf.
void check_finite_weight(const at::Tensor& t, const std::string& name, const std::string& dir);
// The parts: the count as a 0-dim long tensor on t's device (no sync), and the refusal.
at::Tensor nonfinite_count(const at::Tensor& t);
void refuse_nonfinite(const at::Tensor& t, const std::string& name, const std::string& dir, int64_t n);

class Model {
 public:
  static std::unique_ptr<Model> load(const std::string& dir, const LoadOptions& opts = {}, Feedback* fb = nullptr);

  const ModelConfig& config() const { return ck_->config(); }
  const Checkpoint& checkpoint() const { return *ck_; }
  at::Device device() const { return device_; }
  at::ScalarType dtype() const { return dtype_; }
  bool streaming() const { return streaming_; }
  // Split across devices (LoadOptions::split_devices): block i's weights live on block_device(i).
  bool split() const { return !block_devices_.empty(); }
  at::Device block_device(int i) const { return split() ? block_devices_.at(size_t(i)) : device_; }
  // The model's device, then each further device a split model's blocks use, once each.
  std::vector<at::Device> devices() const;
  int num_blocks() const { return int(blocks_.size()); }

  // Block i with its weights on the compute device (loaded from CPU memory or the checkpoint).
  Block& acquire(int i);
  // Done with block i: when streaming its weights leave the device; a modified block keeps its
  // weights in CPU memory, an unmodified one is re-read from the checkpoint next time. The copy
  // back of a modified block runs in the background (model_streaming.cpp).
  void release(int i);
  // Streaming only (else nothing): starts loading block i's weights in the background, so that
  // acquire(i) finds them on the device. Holds one more block in device memory until then; only
  // one block is prefetched at a time (a prefetch of another block drops the first).
  void prefetch(int i);
  // Waits for every background copy, rethrowing the first failure (a quantized block that did not
  // reach host memory must not be lost silently). The destructor waits too, without rethrowing.
  void finish_transfers();
  ~Model();
  struct Transfers;  // model_streaming.cpp
  // Direct access without loading (weights may be absent while streaming).
  Block& block(int i) { return *blocks_.at(size_t(i)); }

  // Shared tensors, always on the compute device; mutable so transforms (rotation) can fold into them.
  at::Tensor& embed_weight() { return embed_; }
  at::Tensor& norm_weight() { return norm_; }
  at::Tensor& head_weight() { return tied_ ? embed_ : head_; }
  // Unties the head from the embedding (a transform that changes one but not the other needs this).
  void untie_head();

  at::Tensor embed(const at::Tensor& ids) const;         // [B,T] ids -> [B,T,H] hidden
  at::Tensor final_norm(const at::Tensor& h) const;      // model.norm
  at::Tensor head(const at::Tensor& normed) const;       // logits in the compute dtype
  // Whether generation would keep a KV cache (false for Mamba: a fixed-size state instead).
  bool has_kv_cache() const { return config().has_kv_cache(); }
  const RopeTables& rope(int64_t seq_len);               // cached per length
  const RopeTables& local_rope(int64_t seq_len);         // sliding layers' (Gemma3's local base)
  // Mask of the layers layer_types does not mark sliding (all layers when there are no
  // layer_types); undefined for plain causal attention.
  at::Tensor attention_mask(int64_t seq_len) const;
  at::Tensor sliding_attention_mask(int64_t seq_len) const;  // layers marked sliding_attention
  BlockContext context(int64_t seq_len, LinearObserver* obs = nullptr);
  // Attention reads K / V through this quantized cache from now on (null: full precision).
  // The caller checks kv_cache_refusal (core/model/transform_support.h) first.
  // A split model refuses one (its static scales would live on one device).
  void set_kv_cache(std::shared_ptr<const KvCacheQuantizer> kv);
  const KvCacheQuantizer* kv_cache() const { return kv_cache_.get(); }

  // Runs the whole model on ids [B,T] (block by block); logits as float32 [B,T,V].
  // hidden_states, if given, receives what transformers' output_hidden_states gives: the embedding
  // output, every block's output but the last, and the final norm's (Mamba: every block's output,
  // then the final norm's).
  at::Tensor forward(const at::Tensor& ids, LinearObserver* obs = nullptr,
                     std::vector<at::Tensor>* hidden_states = nullptr);

  // Incremental decoding: runs ids [B, T_new] after what `state` holds (empty state: a prompt) and
  // returns float32 logits [B, T_new, V] of the new positions, extending the state. `real`
  // [B, T_new] (bool or 0/1; undefined = all real) marks left padding: padded slots are never
  // attended to, and each row's positions count its real tokens only (as transformers' generate
  // derives position_ids from the attention mask). Streaming: every block is acquired per call.
  // last_only: logits of the last position only, [B, 1, V] (a prompt's prefill needs no more).
  at::Tensor forward_cached(const at::Tensor& ids, DecodeState& state, const at::Tensor& real = at::Tensor(),
                            bool last_only = false);

  // Bytes of all weights in the compute dtype.
  int64_t weight_bytes() const;

 private:
  Model();
  void load_block(int i);
  void start_transfers();
  // Streaming (model_streaming.cpp): block i's weights read from home_ or the checkpoint onto the
  // device, on the calling thread (the transfer worker when streaming).
  std::vector<at::Tensor> read_block(int i, bool* from_home = nullptr);
  void install_prefetched(int i);
  void place_blocks(const std::vector<std::string>& devices);

  std::shared_ptr<Checkpoint> ck_;
  at::Device device_{at::kCPU};
  at::ScalarType dtype_ = at::kFloat;
  bool streaming_ = false;
  bool tied_ = false;
  at::Tensor embed_, norm_, head_;
  std::vector<std::unique_ptr<Block>> blocks_;
  // CPU copies of streamed blocks that were modified (quantized, transformed). Written by the
  // transfer worker under home_mu_.
  std::map<int, std::vector<at::Tensor>> home_;
  std::mutex home_mu_;

  std::map<int64_t, RopeTables> rope_cache_, local_rope_cache_;
  at::Tensor window_mask(int64_t seq_len) const;
  // forward_cached's context (model_decode.cpp): per-row rope tables and [B, 1, T_new, S] masks.
  BlockContext decode_context(DecodeState& st, const at::Tensor& positions, int64_t t_new);
  RopeTables rows_of(const RopeTables& table, const at::Tensor& positions) const;
  at::Tensor decode_mask(const DecodeState& st, int64_t t_new, int64_t window) const;
  RopeTables decode_rope_, decode_local_rope_;
  std::string dir_;
  std::shared_ptr<const KvCacheQuantizer> kv_cache_;
  std::vector<at::Device> block_devices_;  // empty unless split
  std::vector<char> checked_;  // blocks whose checkpoint tensors were checked for NaN / Inf
  // Streaming's background copies: the worker, the copy stream, the prefetched block, pending
  // write-backs. Last, so it is destroyed (its worker drained) before everything it uses.
  std::unique_ptr<Transfers> transfers_;
};

}  // namespace ptq
