#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <chrono>
#include <iostream>

#include "app/cli/args.h"
#include "app/cli/cancel_signals.h"
#include "eval/experiment/spec_limits.h"
#include "app/cli/commands.h"
#include "app/cli/progress_line.h"
#include "core/records/build_info.h"
#include "core/runtime/device.h"
#include "core/runtime/errors.h"
#include "core/runtime/omp_wait.h"
#include "core/records/build_info.h"
#include "core/records/json_util.h"
#include "core/model/model.h"
#include "core/text/tokenizer.h"
#include "eval/metrics/perplexity.h"

namespace ptq::cli {

int cmd_ppl(const std::vector<std::string>& argv) {
  Args a(argv, {"model", "text", "seqlen", "device", "dtype", "batch", "max-windows", "residency", "tokenizer", "warmup", "split-devices"}, {});
  at::NoGradGuard no_grad;
  const std::string dir = a.required("model");
  const std::string text_path = a.required("text");
  Feedback fb;
  ProgressLine line(fb);
  CancelOnSignal on_signal(fb);  // SIGINT / SIGTERM: stop between windows, exit 130 / 143
  auto t0 = std::chrono::steady_clock::now();
  const LoadOptions lo = load_options(a);
  auto model = Model::load(dir, lo, &fb);
  double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::string tok_path = a.get("tokenizer", model->checkpoint().tokenizer_path());
  if (tok_path.empty()) throw Error("no tokenizer.json in '" + dir + "' (give one with --tokenizer FILE)");
  auto t1 = std::chrono::steady_clock::now();
  Tokenizer tok = Tokenizer::from_file(tok_path);
  tok.check_fits_model(model->config().vocab_size, "'" + dir + "'");
  std::vector<int64_t> ids = tok.encode(read_text_file(text_path));
  double tok_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();

  PplOptions po;
  po.seqlen = a.get_int("seqlen", 2048, 2, limits::kMaxSeqlen);
  po.batch = a.get_int("batch", 1, 1, limits::kMaxBatch);
  po.max_windows = a.get_int("max-windows", 0, 0, limits::kMaxWindows);
  po.warmup = a.get_int("warmup", 0, 0, limits::kMaxWarmup);
  PplResult r = perplexity(*model, ids, po, &fb);
  json out = {{"ppl", r.ppl},
              {"mean_nll", r.mean_nll},
              {"tokens", r.tokens},
              {"windows", r.windows},
              {"seqlen", po.seqlen},
              {"batch", po.batch},
              {"seconds", r.seconds},
              {"tokens_per_second", double(r.tokens) / r.seconds},
              {"load_seconds", load_s},
              {"tokenize_seconds", tok_s},
              {"peak_gpu_bytes", r.peak_gpu_bytes},
              {"model", dir},
              {"text", text_path},
              {"device", device_description(model->device())},
              {"dtype", dtype_name(model->dtype())},
              {"residency", model->streaming() ? "stream" : "resident"},
              {"torch", torch_version()},
              {"omp_wait_policy", omp_wait_policy_name()},
              {"cuda", cuda_version()},
              {"commit", build_git_commit()},
              {"git_dirty", build_git_dirty()}};
  if (model->split()) {  // which blocks ran where
    std::vector<std::string> where;
    for (int i = 0; i < model->num_blocks(); ++i) where.push_back(model->block_device(i).str());
    out["split_devices"] = lo.split_devices;
    out["block_devices"] = where;
  }
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace ptq::cli
