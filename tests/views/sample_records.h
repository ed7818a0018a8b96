#pragma once
// Hand-made result records (docs/results-schema.md) for the view and export tests: small enough
// to check every number the views derive from them by hand.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sample {

using nlohmann::json;

// A quantized run with per-layer errors for blocks 0-1 and layer types q, down:
// weight_rel_error = 0.1 * (block + 1) for q, 0.2 * (block + 1) + 0.05 for down.
inline json quantRecord(const std::string& method, int bits, double totalBytes, double ppl, double bpw) {
  json layers = json::array();
  for (int b = 0; b < 2; ++b) {
    layers.push_back({{"name", "layers." + std::to_string(b) + ".self_attn.q_proj"}, {"type", "q"}, {"block", b},
                      {"weight_rel_error", 0.1 * (b + 1)}, {"out_cosine", 0.99 - 0.01 * b}, {"out_rel_mse", 0.001 * (b + 1)}});
    layers.push_back({{"name", "layers." + std::to_string(b) + ".mlp.down_proj"}, {"type", "down"}, {"block", b},
                      {"weight_rel_error", 0.2 * (b + 1) + 0.05}, {"out_cosine", 0.95 - 0.02 * b}, {"out_rel_mse", 0.01 * (b + 1)}});
  }
  return {{"schema", "ptq-workbench.result"},
          {"schema_version", 1},
          {"run_id", "austen-tiny." + method + ".w" + std::to_string(bits) + "g128"},
          {"label", ""},
          {"method", method},
          {"provenance", {{"model", {{"name", "austen-tiny"}}}, {"dtype", "float32"}}},
          {"quant", {{"bits", bits}, {"group", 128}, {"format", "int"}, {"sym", false}}},
          {"metrics",
           {{"ppl", ppl},
            {"eval", {{"text", "austen-test.txt"}, {"seqlen", 512}}},
            {"size", {{"total_bytes", totalBytes}, {"bits_per_weight", bpw}}},
            {"compare", {{"kl_mean", 0.05 * (5 - bits)}, {"top1_agreement", 0.80 + 0.03 * bits}}},
            {"tasks", {{"lambada", {{"acc", 0.1 * bits}, {"n", 100}}}}}}},
          {"layers", layers}};
}

inline json fpRecord(double totalBytes, double ppl) {
  return {{"schema", "ptq-workbench.result"},
          {"schema_version", 1},
          {"run_id", "austen-tiny.fp"},
          {"method", "fp"},
          {"quant", nullptr},
          {"provenance", {{"model", {{"name", "austen-tiny"}}}, {"dtype", "float32"}}},
          {"metrics",
           {{"ppl", ppl},
            {"eval", {{"text", "austen-test.txt"}, {"seqlen", 512}}},
            {"size", {{"total_bytes", totalBytes}, {"bits_per_weight", 16.0}}},
            {"tasks", {{"lambada", {{"acc", 0.5}, {"n", 100}}}}}}}};
}

// Kurtosis over blocks 0-1, types q and down: weight = 3 + block + (down ? 1 : 0),
// activation = 10 * (weight); transformed halves the activation kurtosis.
inline json kurtosisAnalysis(double activationScale) {
  json layers = json::array();
  for (int b = 0; b < 2; ++b)
    for (std::string t : {"q", "down"}) {
      double w = 3 + b + (t == "down" ? 1 : 0);
      layers.push_back({{"name", "layers." + std::to_string(b) + "." + t}, {"type", t}, {"block", b}, {"weight", w},
                        {"weight_channel_mean", w - 0.5}, {"activation", 10 * w * activationScale}});
    }
  return {{"definition", "pearson"}, {"calib_tokens", 4096}, {"layers", layers}};
}

inline json withKurtosis(json r) {
  r["analyses"]["kurtosis"] = {{"fp", kurtosisAnalysis(1.0)}, {"transformed", kurtosisAnalysis(0.5)}};
  return r;
}

// calib counts {5, 0, 3, 2}, test counts {1, 4, 3, 2} over a 4-token vocabulary.
inline json withTokenKl(json r) {
  r["analyses"]["token_kl"] = {{"tokenizer", "tok.json"}, {"calib", "/data/austen-valid.txt"}, {"test", "/data/austen-test.txt"},
                               {"smoothing", 1e-6}, {"vocab_size", 4}, {"calib_tokens", 10}, {"test_tokens", 10},
                               {"kl", 0.41}, {"kl_calib_test", 0.38}, {"js", 0.09},
                               {"top", json::array()},
                               {"calib_counts", {5, 0, 3, 2}}, {"test_counts", {1, 4, 3, 2}}};
  return r;
}

// analyses.outliers of block 0's down input (4 channels): fp {1, 10, 2, 3}, after the transform {3, 5, 2, 3}.
inline json withOutliers(json r) {
  auto stage = [](const std::vector<double>& v) {
    return json{{"inputs", {{{"layer", "layers.0.mlp.down_proj"}, {"readers", {"layers.0.mlp.down_proj"}}, {"type", "down"},
                             {"block", 0}, {"channels", v.size()}, {"absmax", v}}}}};
  };
  r["analyses"]["outliers"] = {{"calib_tokens", 256}, {"fp", stage({1, 10, 2, 3})}, {"transformed", stage({3, 5, 2, 3})}};
  return r;
}

// analyses.quant_grid of down_proj: 4 weight bins over [-1, 1] with counts {1, 2, 3, 4}, the 2-bit
// grid {-1, -0.5, 0, 0.5} of row 2, group 1, code counts {1, 4, 3, 2}.
inline json withQuantGrid(json r) {
  r["analyses"]["quant_grid"] = {
      {"bins", 4},
      {"layers", {{{"name", "layers.0.mlp.down_proj"}, {"type", "down"}, {"block", 0},
                   {"weights", {{"lo", -1.0}, {"hi", 1.0}, {"counts", {1, 2, 3, 4}}}},
                   {"activations", nullptr},
                   {"grid", {{"row", 2}, {"group", 1}, {"groups", 3}, {"format", "int"}, {"bits", 2},
                             {"levels", {-1.0, -0.5, 0.0, 0.5}}, {"code_counts", {1, 4, 3, 2}}}}}}}};
  return r;
}

// fp, rtn w3, gptq w3, gptq w4, awq w4; gptq w3 carries kurtosis and token_kl analyses, awq w4
// outliers and quant_grid.
// A samples block (issue 17's record contract) of one prompt: the run departs from full precision
// at token 1.
inline json withSamples(json r) {
  auto cont = [](const std::vector<std::string>& tokens, const std::vector<double>& probs) {
    std::string text;
    for (const auto& t : tokens) text += t;
    return json{{"text", text}, {"tokens", tokens}, {"ids", json::array({5, 6, 7})}, {"probs", probs}};
  };
  r["samples"] = {{"max_new_tokens", 3},
                  {"sampling", {{"greedy", true}}},
                  {"prompts", json::array({{{"prompt", "It is a truth universally"},
                                            {"fp", cont({" acknowledged", ",", " that"}, {0.9, 0.8, 0.7})},
                                            {"quantized", cont({" acknowledged", " by", " all"}, {0.8, 0.3, 0.5})},
                                            {"first_divergence", 1}}})}};
  return r;
}

// analyses.column_error (float16 little-endian base64, exact in float16): layers.0.self_attn.q_proj
// has 8 columns, growing 0.0625 · (1 + j/8) when `growing` (GPTQ-like), else flat 0.0625 (RTN-like);
// the growing record also has layers.1.mlp.down_proj = {0.125, 0.25} and act_order when `actOrder`.
inline json withColumnError(json r, bool growing, bool actOrder = false) {
  json layers = {{"layers.0.self_attn.q_proj", {{"columns", 8}, {"values", growing ? "ACyALAAtgC0ALoAuAC+ALw==" : "ACwALAAsACwALAAsACwALA=="}}}};
  if (growing) layers["layers.1.mlp.down_proj"] = {{"columns", 2}, {"values", "ADAANA=="}};
  r["analyses"]["column_error"] = {{"encoding", "float16 little-endian, base64"}, {"act_order", actOrder}, {"layers", layers}};
  return r;
}

// analyses.divergence over one window of 9 tokens: token 0 is context only (null); the KLs of
// the 8 predicted tokens sum to 2.97 (mean 0.37125), the worst is " universally" (1.2), then
// "that" (0.8) and " truth" (0.5).
inline json withDivergence(json r) {
  r["analyses"]["divergence"] = {
      {"text", "/t/austen-test.txt"}, {"seqlen", 9}, {"windows", 1}, {"tokens", 8}, {"requested", 512},
      {"kl_mean", 0.37125}, {"kl_max", 1.2},
      {"ids", {10, 11, 12, 13, 14, 15, 16, 17, 18}},
      {"pieces", {"It", " is", " a", " truth", " universally", " acknowledged", ",", "\n", "that"}},
      {"kl", {nullptr, 0.1, 0.02, 0.5, 1.2, 0.05, 0.0, 0.3, 0.8}},
      {"dp", {nullptr, -0.1, 0.01, -0.3, -0.6, 0.02, 0.0, -0.1, -0.4}}};
  return r;
}

inline std::vector<json> demoSet() {
  return {fpRecord(4e6, 90), withSamples(quantRecord("rtn", 3, 1e6, 120, 3.2)), withTokenKl(withKurtosis(quantRecord("gptq", 3, 1e6, 100, 3.2))),
          withDivergence(withColumnError(quantRecord("gptq", 4, 1.3e6, 95, 4.2), true)),
          withQuantGrid(withOutliers(withColumnError(quantRecord("awq", 4, 1.3e6, 97, 4.2), false)))};
}

}  // namespace sample
