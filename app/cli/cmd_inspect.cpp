#include <iostream>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "core/checkpoint.h"
#include "core/errors.h"
#include "core/model_layout.h"

namespace ptq::cli {

int cmd_inspect(const std::vector<std::string>& argv) {
  Args a(argv, {"model"}, {});
  std::string dir = a.has("model") ? a.get("model", "") : "";
  if (dir.empty()) {
    if (a.positional().size() != 1) throw Error("usage: ptq inspect DIR");
    dir = a.positional()[0];
  }
  auto ck = Checkpoint::open(dir);
  const ModelConfig& c = ck->config();
  json layers = json::array();
  for (int l = 0; l < c.num_layers; ++l)
    for (const auto& s : block_linears(c))
      layers.push_back({{"name", linear_full_name(l, s.name)},
                        {"type", s.type},
                        {"shape", {s.out_features, s.in_features}},
                        {"bias", s.bias}});
  json out = {{"model", dir},
              {"architecture", c.architecture},
              {"model_type", c.model_type},
              {"hidden_size", c.hidden_size},
              {"intermediate_size", c.intermediate_size},
              {"num_layers", c.num_layers},
              {"num_heads", c.num_heads},
              {"num_kv_heads", c.num_kv_heads},
              {"head_dim", c.head_dim},
              {"vocab_size", c.vocab_size},
              {"num_experts", c.num_experts},
              {"experts_per_token", c.experts_per_token},
              {"tie_word_embeddings", c.tie_word_embeddings},
              {"rope_theta", c.rope_theta},
              {"rope_scaling", c.rope_scaling.type},
              {"parameters", parameter_count(c)},
              {"dtype", c.dtype},
              {"stored_dtype", ck->stored_dtype()},
              {"size_on_disk", ck->size_on_disk()},
              {"tokenizer", ck->tokenizer_path()},
              {"linear_layers", layers}};
  std::cout << out.dump(1) << std::endl;
  return 0;
}

}  // namespace ptq::cli
