#include <iostream>

#include "app/cli/args.h"
#include "app/cli/cancel_signals.h"
#include "eval/experiment/spec_limits.h"
#include "app/cli/commands.h"
#include "app/cli/progress_line.h"
#include "core/runtime/errors.h"
#include "core/records/json_util.h"
#include "core/io/checkpoint.h"
#include "core/model/model.h"
#include "core/text/tokenizer.h"
#include "eval/metrics/output_compare.h"
#include "eval/metrics/perplexity.h"
#include "quant/pipeline/quantized_export.h"

#include <ATen/core/grad_mode.h>

namespace ptq::cli {

namespace {

// A GPTQ / AWQ / compressed-tensors folder (config.json with quantization_config), not artifacts.
bool is_hf_quantized_folder(const std::string& dir) {
  const std::string cfg = join_path(dir, "config.json");
  if (!file_exists(cfg)) return false;
  const json j = read_json_file(cfg);
  return j.is_object() && j.contains("quantization_config") && !j["quantization_config"].is_null();
}

// Relative Frobenius error ||W_q - W|| / ||W|| of every quantized module's weight against the base.
json weight_errors(const std::string& base, const std::string& qdir) {
  auto b = Checkpoint::open(base), q = Checkpoint::open(qdir);
  json per = json::object();
  double sum = 0;
  int n = 0;
  for (const auto& name : q->tensor_names()) {
    if (!q->is_quantized(name)) continue;
    if (!b->has(name)) throw Error("the base model '" + base + "' has no tensor '" + name + "' (another model?)");
    const at::Tensor w = b->load(name).to(at::kFloat), wq = q->load(name);
    if (w.sizes() != wq.sizes()) throw Error("tensor '" + name + "' differs in shape between '" + base + "' and '" + qdir + "'");
    const double e = (wq - w).norm().item<double>() / std::max(w.norm().item<double>(), 1e-30);
    per[name] = e;
    sum += e, ++n;
  }
  return {{"relative_frobenius", per}, {"mean", n ? sum / n : 0.0}, {"layers", n}};
}

}  // namespace

// ptq compare [--model DIR] --quantized ARTIFACTS|HF_QUANTIZED_DIR --text FILE: full-precision vs
// quantized outputs (eval/output_compare.h). --model defaults to the base model the artifacts name;
// a GPTQ / AWQ / compressed-tensors folder needs --model BASE and adds each layer's weight error.
int cmd_compare(const std::vector<std::string>& argv) {
  Args a(argv, {"model", "quantized", "text", "seqlen", "max-windows", "batch", "device", "dtype", "residency", "split-devices"}, {});
  at::NoGradGuard no_grad;
  const std::string qdir = a.required("quantized");
  const std::string text = a.required("text");
  const bool hf = !has_quantized_artifacts(qdir) && is_hf_quantized_folder(qdir);
  if (!hf && !has_quantized_artifacts(qdir))
    throw Error("'" + qdir + "' holds no quantized artifacts (artifacts.json) and no quantized checkpoint " +
                "(config.json with quantization_config)");
  if (hf && !a.has("model")) throw Error("--quantized '" + qdir + "' is a quantized checkpoint: give its base with --model DIR");
  std::string base = a.get("model", "");
  if (base.empty()) base = read_json_file(join_path(qdir, "artifacts.json")).value("base_model", std::string());
  if (base.empty()) throw Error("'" + qdir + "/artifacts.json' names no base_model; give --model DIR");
  const LoadOptions lo = load_options(a);
  const int64_t seqlen = a.get_int("seqlen", 2048, 2, limits::kMaxSeqlen),
                batch = a.get_int("batch", 4, 1, limits::kMaxBatch);
  Feedback fb;
  ProgressLine line(fb);
  CancelOnSignal on_signal(fb);  // SIGINT / SIGTERM: stop between units of work, exit 130 / 143

  at::Tensor windows;
  FpReference ref;
  {
    auto fp = Model::load(base, lo, &fb);
    const std::string tok_path = fp->checkpoint().tokenizer_path();
    if (tok_path.empty()) throw Error("no tokenizer.json in '" + base + "' to tokenize --text");
    std::string t = read_text_file(text);
    if (t.empty()) throw Error("text '" + text + "' is empty");
    const Tokenizer tok = Tokenizer::from_file(tok_path);
    tok.check_fits_model(fp->config().vocab_size, "'" + base + "'");
    windows = make_windows(tok.encode(t), seqlen, a.get_int("max-windows", 0, 0, limits::kMaxWindows));
    fb.set_stage_range(0.0, 0.5);
    ref = capture_reference(*fp, windows, batch, &fb);
  }  // the full-precision model is gone before the quantized one loads
  auto q = hf ? Model::load(qdir, lo, &fb) : load_quantized_model(qdir, lo, &fb);
  fb.set_stage_range(0.5, 1.0);
  json out = compare_with_reference(*q, ref, windows, batch, &fb);
  if (hf) {
    out["quantization"] = q->checkpoint().quantization();
    out["weights"] = weight_errors(base, qdir);
  }
  out["model"] = base;
  out["quantized"] = qdir;
  out["text"] = text;
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace ptq::cli
