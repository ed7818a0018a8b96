#pragma once
// How far a calibration text's token distribution is from a test text's (LLMC, Figure 2):
// unigram histograms of token ids under one tokenizer, compared by KL divergence both ways and
// Jensen–Shannon divergence, in nats.
//
// Smoothing (additive, so every id has mass and the KL stays finite): with counts c_i over N tokens
// and V vocabulary entries, p_i = (c_i + eps) / (N + eps·V). The default eps = 1e-6 pseudo-counts
// keeps observed frequencies essentially unchanged; an id that occurs in one text and never in the
// other then contributes about p·ln(p·N/eps) to the KL, so the KL mostly measures the test mass on
// ids the calibration text lacks. The top list reports raw relative frequencies c_i / N.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/text/tokenizer.h"

namespace ptq {

struct TokenKlOptions {
  double smoothing = 1e-6;  // eps, pseudo-count added to every id (must be > 0)
  int64_t top = 20;         // ids listed in "top"
};

// counts[id] for ids in [0, vocab_size); throws ptq::Error for an id outside it.
std::vector<int64_t> token_counts(const std::vector<int64_t>& ids, int64_t vocab_size);
// p_i = (c_i + eps) / (N + eps·V).
std::vector<double> smoothed_distribution(const std::vector<int64_t>& counts, double eps);
// Σ p_i ln(p_i / q_i), nats (terms with p_i = 0 contribute 0).
double kl_divergence(const std::vector<double>& p, const std::vector<double>& q);
// ½ KL(p‖m) + ½ KL(q‖m), m = (p+q)/2; at most ln 2.
double js_divergence(const std::vector<double>& p, const std::vector<double>& q);

// The token-KL object of docs/results-schema.md from two texts (UTF-8); "tokenizer", "calib" and
// "test" are left for the caller to name. Throws ptq::Error when a text has no tokens
// (`calib_name` / `test_name` name it) or options are invalid.
nlohmann::json token_kl(const Tokenizer& tok, const std::string& calib_text, const std::string& test_text,
                        const TokenKlOptions& o = {}, const std::string& calib_name = "calibration text",
                        const std::string& test_name = "test text");
// The same object from token ids (e.g. the calibration windows a run drew: repeated tokens count
// as often as they were drawn). Throws ptq::Error when either list is empty or an id is outside
// the vocabulary.
nlohmann::json token_kl_ids(const Tokenizer& tok, const std::vector<int64_t>& calib_ids,
                            const std::vector<int64_t>& test_ids, const TokenKlOptions& o = {},
                            const std::string& calib_name = "calibration tokens",
                            const std::string& test_name = "test tokens");
// Reads the tokenizer and both files; the object names them.
nlohmann::json token_kl_files(const std::string& tokenizer_path, const std::string& calib_path,
                              const std::string& test_path, const TokenKlOptions& o = {});

}  // namespace ptq
