#include <torch/torch.h>

#include <iostream>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/progress_line.h"
#include "core/errors.h"
#include "core/json_util.h"
#include "core/model.h"
#include "core/tokenizer.h"
#include "eval/kurtosis.h"
#include "quant/calibration.h"

namespace ptq::cli {

// ptq kurtosis --model DIR --calib FILE [--calib FILE ...] [--nsamples N --calib-seqlen L --seed S
//   --sampling random|awq --batch B --device D --dtype T --residency R]
// prints {"fp": KURTOSIS, "calibration": {...}, "model": DIR}.
int cmd_kurtosis(const std::vector<std::string>& argv) {
  Args a(argv,
         {"model", "calib", "nsamples", "calib-seqlen", "seed", "sampling", "batch", "device", "dtype", "residency"},
         {}, {"calib"});
  torch::NoGradGuard no_grad;
  const std::string dir = a.required("model");
  CalibSpec calib;
  calib.files = a.all("calib");
  if (calib.files.empty()) throw Error("missing required option --calib (calibration text)");
  calib.nsamples = a.get_int("nsamples", 128);
  calib.seqlen = a.get_int("calib-seqlen", 2048);
  calib.seed = uint64_t(a.get_int("seed", 0));
  calib.sampling = a.get("sampling", "random");
  const int64_t batch = a.get_int("batch", 8);
  // The transformed kurtosis of a recorded run (`--quantized RESULT.json`, output key
  // "transformed") goes here: re-run the record's transforms with a QuantRequest::after_transform
  // hook that calls add_block_kurtosis (eval/kurtosis.h).
  Feedback fb;
  ProgressLine line(fb);
  LoadOptions lo;
  lo.device = a.get("device", "cpu");
  lo.dtype = a.get("dtype", "float32");
  lo.residency = parse_residency(a.get("residency", "auto"));
  auto model = Model::load(dir, lo, &fb);
  const std::string tok_path = model->checkpoint().tokenizer_path();
  if (tok_path.empty()) throw Error("no tokenizer.json in '" + dir + "' to tokenize the calibration text");
  const Tokenizer tok = Tokenizer::from_file(tok_path);
  const at::Tensor windows = calibration_windows(tok, calib);
  json out = {{"fp", measure_kurtosis(*model, windows, batch, &fb)},
              {"calibration", calib.to_json()},
              {"model", dir}};
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace ptq::cli
