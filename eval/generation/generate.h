#pragma once
// Autoregressive generation with the decode cache (Model::forward_cached): prompts batched with
// left padding, SamplingParams' processors and stops, per-token records (the text of each token
// and the model's probability of it).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/model/model.h"
#include "core/runtime/feedback.h"
#include "core/text/tokenizer.h"
#include "eval/generation/sampling.h"

namespace ptq {

struct Continuation {
  std::string prompt;
  std::string text;                 // decoded continuation, EOS left out, cut before the first stop string
  std::vector<int64_t> ids;         // generated ids (the stop-completing token and EOS included)
  std::vector<std::string> tokens;  // decode({id}) of each generated id
  std::vector<double> probs;        // softmax(raw logits)[id] at each step: the model's own probability
  std::string finish;               // "eos" | "stop" | "length"
};

struct GenerateOptions {
  int batch_size = 8;               // prompts per left-padded batch
  std::vector<int64_t> eos_ids;     // empty: model_eos_ids(model)
};

// eos_token_id of generation_config.json, else of config.json (an int or a list); may be empty.
std::vector<int64_t> model_eos_ids(const Model& m);

// Throws ptq::Error before any work for an empty prompt, a prompt longer than the context
// (max_position_embeddings; not for Mamba, which has none), a prompt plus max_new_tokens beyond
// it, or parameters out of range (SamplingParams::validate). Cancellable between steps.
std::vector<Continuation> generate(Model& model, const Tokenizer& tok, const std::vector<std::string>& prompts,
                                   const SamplingParams& params, const GenerateOptions& opts = {},
                                   Feedback* fb = nullptr);

// Greedy continuations, text only, stop strings removed (the generation tasks' entry point).
using GenerateFn = std::function<std::vector<std::string>(const std::vector<std::string>& prompts, int max_new_tokens,
                                                          const std::vector<std::string>& stop)>;
GenerateFn make_greedy_generate_fn(Model& model, const Tokenizer& tok);

}  // namespace ptq
