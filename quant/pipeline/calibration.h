#pragma once
// Calibration data: `nsamples` windows of `seqlen` tokens from text files, drawn with a seed.
// "random": GPTQ's sampling (uniform random window starts over the tokenized text);
// "awq": AWQ's (paragraphs of at most seqlen tokens, shuffled, concatenated, cut into windows);
// "gptq" and "llm-awq": the reference implementations' samplers, exactly
// (quant/pipeline/reference_samplers.h); "llm-awq" gives as many windows as its split yields.
#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "quant/pipeline/calib_spec.h"

namespace ptq {

class Tokenizer;

// [nsamples, seqlen] int64 token windows. Throws ptq::Error when the text is too short.
at::Tensor calibration_windows(const Tokenizer& tok, const CalibSpec& spec);

}  // namespace ptq
