#pragma once
// Kurtosis of weights and input activations of every linear layer (the outlier measure LLMC
// reports). Definition (Pearson, as LLMC): mean(((x - mean) / s)^4) with s the unbiased standard
// deviation; a Gaussian scores about 3, heavy-tailed (outlier) data much more.
//
// Output: the KURTOSIS object of docs/results-schema.md ("definition", "calib_tokens", "layers",
// "by_type"). Layer types: q, k, v, o, gate, up, down; Mixtral experts expert_gate, expert_up,
// expert_down; the MoE router "router".
//
// Use in a pipeline hook (kurtosis of the transformed model, block by block):
//   KurtosisTable t;
//   req.after_transform = [&](BlockWork& w) {
//     KurtosisObserver obs;
//     w.run(&obs);
//     add_block_kurtosis(t, w.block, &obs);
//   };
//   ... quantize_model(...); t.calib_tokens = calib windows' numel; t.to_json();
#include <ATen/ATen.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/model/decoder_block.h"
#include "core/runtime/feedback.h"

namespace ptq {

class Model;

extern const char* const kKurtosisDefinition;

// Pearson kurtosis of all elements of x (computed in float64, two passes); NaN when x has fewer
// than 2 elements or zero variance.
double pearson_kurtosis(const at::Tensor& x);
// Mean over rows of w [rows, cols] of each row's Pearson kurtosis; rows with zero variance are
// left out; NaN when every row is constant.
double row_kurtosis_mean(const at::Tensor& w);
// Pearson kurtosis from central sums: n elements, m2 = Σ(x-mean)², m4 = Σ(x-mean)⁴.
double kurtosis_from_central(double n, double m2, double m4);

// Streaming moments: float64 power sums of (x - shift), the shift being the mean of the first
// batch, so batches can be added one at a time (on any device) without catastrophic cancellation.
class MomentAccumulator {
 public:
  void add(const at::Tensor& x);  // all elements of x
  int64_t count() const { return n_; }
  double mean() const;
  double variance() const;   // unbiased
  double kurtosis() const;   // Pearson; NaN with fewer than 2 elements or zero variance

 private:
  bool has_shift_ = false;
  double shift_ = 0;
  int64_t n_ = 0;
  double s1_ = 0, s2_ = 0, s3_ = 0, s4_ = 0;
};

// Accumulates each observed linear layer's input activations, keyed by full layer name
// ("layers.0.self_attn.q_proj"). Experts see the tokens routed to them.
class KurtosisObserver : public LinearObserver {
 public:
  void on_linear(int block, const Linear& layer, const at::Tensor& input, const at::Tensor& output) override;
  const MomentAccumulator* find(const std::string& full_name) const;
  // Per input channel max |x| over every observed token (float32 [in]); null when none seen.
  const at::Tensor* channel_absmax(const std::string& full_name) const;

 private:
  std::map<std::string, MomentAccumulator> acc_;
  std::map<std::string, at::Tensor> absmax_;
};

// The outlier channels of a layer's input (what smoothing moves into the weights): the largest
// per-channel max|x| with their channel indexes, and the median and maximum over channels.
struct ChannelAbsmax {
  std::vector<std::pair<int64_t, double>> top;  // (channel, max|x|), largest first
  double median = 0, max = 0;
  bool measured = false;
};
ChannelAbsmax summarize_channel_absmax(const at::Tensor& absmax, int64_t top_k = 8);

struct LayerKurtosis {
  std::string name;  // full name
  std::string type;  // grouping type (kurtosis_type)
  int block = 0;
  double weight = 0;               // whole weight tensor
  double weight_channel_mean = 0;  // mean over output channels of each row's kurtosis
  double activation = 0;           // input activations (NaN when the layer saw no tokens)
  ChannelAbsmax channels;          // per-channel max|x| of the input (not measured without tokens)
};

// "q".."down", "expert_gate"/"expert_up"/"expert_down" for MoE experts, "router".
std::string kurtosis_type(const LinearSpec& s);

struct KurtosisTable {
  int64_t calib_tokens = 0;
  std::vector<LayerKurtosis> layers;
  // The KURTOSIS object; by_type averages each field over the layers of a type where it is
  // defined (NaN values become null and are left out of the means).
  nlohmann::json to_json() const;
};

// Appends a row for every linear of `block` (its weights must be loaded): weight kurtosis from the
// block, activation kurtosis from `obs` (NaN when obs is null or saw no tokens for the layer).
void add_block_kurtosis(KurtosisTable& t, const Block& block, const KurtosisObserver* obs);

// Full-precision kurtosis on calibration windows [N, T] (ids): the windows run through the model
// block by block (layer-major when streaming) with a KurtosisObserver, then every block's weights
// are measured. Returns the KURTOSIS object.
nlohmann::json measure_kurtosis(Model& model, const at::Tensor& windows, int64_t batch, Feedback* fb = nullptr);

}  // namespace ptq
