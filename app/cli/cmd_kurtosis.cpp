#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <iostream>

#include "app/cli/args.h"
#include "app/cli/cancel_signals.h"
#include "eval/experiment/spec_limits.h"
#include "app/cli/commands.h"
#include "app/cli/progress_line.h"
#include "core/runtime/errors.h"
#include "core/records/json_util.h"
#include "core/model/model.h"
#include "core/text/tokenizer.h"
#include "eval/experiment/experiment.h"
#include "eval/metrics/kurtosis.h"
#include "quant/pipeline/block_stage.h"
#include "quant/pipeline/calibration.h"
#include "quant/pipeline/pipeline.h"

namespace ptq::cli {

// ptq kurtosis --model DIR --calib FILE [--calib FILE ...] [--nsamples N --calib-seqlen L --seed S
//   --sampling random|awq --batch B --device D --dtype T --residency R] [--quantized RECORD.json]
// prints {"fp": KURTOSIS, "calibration": {...}, "model": DIR}; with --quantized, a result record
// whose method has a transform (awq, rotate, compositions), also "transformed": the kurtosis after
// that run's transforms (re-run from the record's spec, same seed, on the same calibration windows,
// without quantizing).
int cmd_kurtosis(const std::vector<std::string>& argv) {
  Args a(argv,
         {"model", "calib", "nsamples", "calib-seqlen", "seed", "sampling", "batch", "device", "dtype", "residency",
          "quantized"},
         {}, {"calib"});
  at::NoGradGuard no_grad;
  const std::string dir = a.required("model");
  CalibSpec calib;
  calib.files = a.all("calib");
  if (calib.files.empty()) throw Error("missing required option --calib (calibration text)");
  calib.nsamples = a.get_int("nsamples", 128, 1, limits::kMaxNsamples);
  calib.seqlen = a.get_int("calib-seqlen", 2048, 2, limits::kMaxSeqlen);
  calib.seed = uint64_t(a.get_int("seed", 0, 0, limits::kMaxSeed));
  calib.sampling = a.get("sampling", "random");
  const int64_t batch = a.get_int("batch", 8, 1, limits::kMaxBatch);
  Feedback fb;
  ProgressLine line(fb);
  CancelOnSignal on_signal(fb);  // SIGINT / SIGTERM: stop between units of work, exit 130 / 143
  const LoadOptions lo = load_options(a);
  auto model = Model::load(dir, lo, &fb);
  const Tokenizer tok = model_tokenizer(*model, dir, " to tokenize the calibration text");
  const at::Tensor windows = calibration_windows(tok, calib);
  json out = {{"fp", measure_kurtosis(*model, windows, batch, &fb)},
              {"calibration", calib.to_json()},
              {"model", dir}};
  if (a.has("quantized")) {
    const json record = read_json_file(a.get("quantized", ""));
    if (!record.contains("spec")) throw Error("'" + a.get("quantized", "") + "' is not a result record (no \"spec\")");
    const ExperimentSpec spec = ExperimentSpec::from_json(record.at("spec"));
    QuantRequest req;
    req.method = spec.method;
    req.plan = spec.plan;
    req.params = spec.params;
    req.calib = calib;  // the same windows as the full-precision measurement
    req.calib_batch = batch;
    req.seed = spec.seed;
    req.transform_only = true;
    KurtosisTable transformed;
    req.after_transform = [&](BlockWork& w) {
      KurtosisObserver obs;
      w.run(&obs);
      add_block_kurtosis(transformed, w.block, &obs);
    };
    transformed.calib_tokens = calib.nsamples * calib.seqlen;
    quantize_model(*model, &tok, req, &fb);
    out["transformed"] = transformed.to_json();
    out["method"] = spec.method;
  }
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace ptq::cli
