#pragma once
// Calibration samplers that reproduce the reference implementations' windows exactly.
//
// "gptq" (IST-DASLab/gptq datautils.py get_wikitext2 / get_ptb, also used by OmniQuant, QuaRot and
// OWQ): the whole calibration text is tokenized (here: the files joined with "\n", without special
// tokens, as encode() does; a tokenizer whose post-processor prepends BOS gives the reference one
// token more), then `random.seed(seed)` and per sample
// `i = random.randint(0, ntokens - seqlen - 1)`, window [i, i + seqlen).
//
// "llm-awq" (mit-han-lab/llm-awq awq/utils/calib_data.py get_calib_dataset): the reference walks
// the (shuffled, seed 42) pile-val documents; each is stripped, encoded, skipped when longer than
// 512 tokens (a constant of the reference, not the block size) or empty; the first `n_samples`
// kept are concatenated and split into floor(total / block_size) blocks of block_size tokens (the
// tail dropped). Here the documents are the calibration text's paragraphs (runs of lines separated
// by blank lines) in file order: a text file has no data-set shuffle, and the seed is not used.
// nsamples = the reference's n_samples (documents), seqlen = its block_size; the number of windows
// is what the split gives (llm-awq's entry.py: n_samples 128, block_size 512).
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include "quant/pipeline/calib_spec.h"

namespace ptq {

class Tokenizer;

// The window starts of the "gptq" sampler for a text of `ntokens` tokens. Throws ptq::Error when
// ntokens <= seqlen (the reference's randint would fail).
std::vector<int64_t> gptq_reference_offsets(int64_t ntokens, int64_t nsamples, int64_t seqlen, uint64_t seed);

// [nsamples, seqlen] windows of `ids` at gptq_reference_offsets.
at::Tensor gptq_reference_windows(const std::vector<int64_t>& ids, const CalibSpec& s, const std::string& what);

// The paragraphs of `text` as llm-awq's documents: split at blank lines, each stripped of
// leading and trailing whitespace (Python str.strip's ASCII set); empty ones kept (the sampler
// drops them after encoding, as the reference).
std::vector<std::string> text_paragraphs(const std::string& text);

// [n_split, seqlen] windows of the "llm-awq" sampler. Throws ptq::Error when no block results.
at::Tensor llm_awq_windows(const Tokenizer& tok, const std::string& text, const CalibSpec& s, const std::string& what);

}  // namespace ptq
