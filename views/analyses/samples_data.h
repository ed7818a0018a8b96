#pragma once
// The samples of result records (record["samples"], written by the experiment's generation step):
// per prompt the full-precision continuation and each run's quantized one, token by token with the
// probability of the chosen token and the first generated index where they differ. Record shape:
//   "samples": {"max_new_tokens": N, "sampling": {"greedy": true, ...},
//               "prompts": [{"prompt": str,
//                            "fp": {"text": str, "tokens": [str], "ids": [int], "probs": [float]},
//                            "quantized": {same keys}, "first_divergence": int | null}]}
// Prompts are matched across records by their text; the full-precision column is the first
// record's fp continuation of that prompt.
#include <QString>
#include <QStringList>
#include <nlohmann/json.hpp>
#include <vector>

#include "views/export/table_export.h"

namespace ptq::views {

struct SampleText {
  QString text;
  QStringList tokens;          // decoded text of each generated token
  std::vector<double> probs;   // p(chosen token), one per token (NaN where the record has none)
  bool empty() const { return tokens.isEmpty(); }
  double meanProb() const;     // NaN without probabilities
};

struct RunSample {
  int run = -1;             // index into SamplesData::runs
  SampleText text;
  int firstDivergence = -1;  // -1: identical to full precision
};

struct SamplePrompt {
  QString prompt;
  SampleText fp;
  std::vector<RunSample> runs;  // the runs that have this prompt, in run order
  const RunSample* of(int run) const;
};

struct SamplesData {
  QStringList runs;                  // label of each record with samples (recordLabel)
  std::vector<SamplePrompt> prompts;  // in order of first appearance
  int maxNewTokens = 0;              // of the first record
  bool empty() const { return prompts.empty(); }
};

// Reads the samples of every record that has a well-formed samples block (others are skipped;
// a prompt entry without "prompt" or with tokens and probs of different lengths is skipped).
SamplesData collectSamples(const std::vector<nlohmann::json>& records);

// One row per prompt and column (full precision, then each run in `shownRuns`): prompt, run,
// continuation, tokens, first divergence (empty for fp and identical runs), diverging token, mean
// and min p(chosen). What CSV / LaTeX export write.
TextTable samplesTable(const SamplesData& d, const std::vector<int>& shownRuns);

}  // namespace ptq::views
