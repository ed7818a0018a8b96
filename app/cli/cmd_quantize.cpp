#include <torch/torch.h>

#include <sys/stat.h>

#include <iostream>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/progress_line.h"
#include "core/device.h"
#include "core/errors.h"
#include "core/json_util.h"
#include "core/model.h"
#include "core/safetensors.h"
#include "core/tokenizer.h"
#include "eval/perplexity.h"
#include "quant/pipeline.h"
#include "quant/quantized_export.h"
#include "quant/strategy_registry.h"

namespace ptq::cli {


int cmd_quantize(const std::vector<std::string>& argv) {
  Args a(argv,
         {"model", "method", "bits", "group", "format", "clip-ratio", "calib", "nsamples", "calib-seqlen", "seed",
          "sampling", "calib-batch", "eval-text", "eval-seqlen", "eval-max-windows", "device", "dtype", "residency",
          "out", "param", "override"},
         {"sym"}, {"param", "override", "calib"});
  torch::NoGradGuard no_grad;
  Feedback fb;
  ProgressLine line(fb);
  QuantRequest req;
  req.method = a.get("method", "rtn");
  req.plan.spec.bits = int(a.get_int("bits", 4));
  req.plan.spec.group_size = a.get_int("group", 128);
  req.plan.spec.symmetric = a.flag("sym");
  req.plan.spec.format = parse_format(a.get("format", "int"));
  req.plan.spec.clip_ratio = a.get_double("clip-ratio", 1.0);
  if (req.plan.spec.format == WeightFormat::Int && (req.plan.spec.bits < 2 || req.plan.spec.bits > 8))
    throw Error("--bits must be in 2..8, got " + std::to_string(req.plan.spec.bits));
  for (const auto& o : a.all("override")) req.plan.overrides.push_back(parse_override(o));
  for (const auto& p : a.all("param")) parse_param_assignment(p, req.params);
  req.calib.files = a.all("calib");
  req.calib.nsamples = a.get_int("nsamples", 128);
  req.calib.seqlen = a.get_int("calib-seqlen", 2048);
  req.calib.seed = uint64_t(a.get_int("seed", 0));
  req.calib.sampling = a.get("sampling", "random");
  req.calib_batch = a.get_int("calib-batch", 8);
  req.seed = req.calib.seed;
  const std::string out_dir = a.get("out", "");
  if (!out_dir.empty()) {
    ::mkdir(out_dir.c_str(), 0755);
    if (!is_directory(out_dir)) throw Error("cannot create output folder '" + out_dir + "'");
  }

  LoadOptions lo;
  lo.device = a.get("device", "cpu");
  lo.dtype = a.get("dtype", "float32");
  lo.residency = parse_residency(a.get("residency", "auto"));
  const std::string dir = a.required("model");
  auto model = Model::load(dir, lo, &fb);
  std::string tok_path = model->checkpoint().tokenizer_path();
  std::unique_ptr<Tokenizer> tok;
  if (!tok_path.empty()) tok = std::make_unique<Tokenizer>(Tokenizer::from_file(tok_path));
  const std::string eval_text = a.get("eval-text", "");
  std::vector<int64_t> eval_ids;
  if (!eval_text.empty()) {  // read and tokenize before the long work, so a bad path fails fast
    if (!tok) throw Error("no tokenizer.json in '" + dir + "' to tokenize --eval-text");
    eval_ids = tok->encode(read_text_file(eval_text));
    make_windows(eval_ids, a.get_int("eval-seqlen", 2048));
  }

  fb.set_stage_range(0.0, eval_text.empty() ? 1.0 : 0.8);
  QuantResult r = quantize_model(*model, tok.get(), req, &fb);
  json out = r.to_json();
  out["model"] = dir;
  out["device"] = device_description(model->device());
  out["dtype"] = dtype_name(model->dtype());
  out["torch"] = torch_version();
  out["cuda"] = cuda_version();
  out["commit"] = PTQ_GIT_COMMIT;
  double seconds = r.seconds;
  if (!eval_text.empty()) {
    fb.set_stage_range(0.8, 1.0);
    PplOptions po;
    po.seqlen = a.get_int("eval-seqlen", 2048);
    po.max_windows = a.get_int("eval-max-windows", 0);
    po.batch = 4;
    PplResult p = perplexity(*model, eval_ids, po, &fb);
    out["ppl"] = p.ppl;
    out["eval"] = {{"text", eval_text}, {"seqlen", po.seqlen}, {"windows", p.windows}, {"tokens", p.tokens},
                   {"seconds", p.seconds}};
    seconds += p.seconds;
  }
  out["seconds"] = seconds;
  if (!out_dir.empty()) {
    save_quantized_artifacts(*model, r, out_dir);
    write_json_atomic(join_path(out_dir, "result.json"), out);
  }
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace ptq::cli
