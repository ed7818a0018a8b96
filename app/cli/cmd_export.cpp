#include <climits>
#include <iostream>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/progress_line.h"
#include "core/records/json_util.h"
#include "core/runtime/errors.h"
#include "quant/export/hf_export.h"
#include "quant/pipeline/quantized_export.h"

#include <ATen/core/grad_mode.h>

namespace ptq::cli {

// ptq export --quantized ARTIFACTS [--model BASE] --export DIR --export-format F [--force]:
// a completed run's saved artifacts (ptq quantize --out) as a GPTQ / AWQ / compressed-tensors
// folder (quant/export/hf_export.h). --model replaces the base checkpoint the artifacts name.
int cmd_export(const std::vector<std::string>& argv) {
  Args a(argv, {"quantized", "model", "export", "export-format", "export-shard-bytes", "dtype", "device", "residency"},
         {"force"});
  at::NoGradGuard no_grad;
  const std::string qdir = a.required("quantized");
  if (!has_quantized_artifacts(qdir)) throw Error("'" + qdir + "' holds no quantized artifacts (artifacts.json)");
  HfExportOptions exp;
  exp.dir = a.required("export");
  exp.format = parse_hf_export_format(a.required("export-format"));
  exp.force = a.flag("force");
  exp.max_shard_bytes = uint64_t(a.get_int("export-shard-bytes", 5000000000LL, 1, INT64_MAX));
  check_export_target(exp.dir, exp.force);
  const LoadOptions lo = load_options(a);
  Feedback fb;
  ProgressLine line(fb);
  QuantizedArtifactsInfo info;
  HfExportInput in;
  auto m = load_quantized_model(qdir, lo, &fb, a.get("model", ""), &in.quantized, &info);
  in.model = m.get();
  in.method = info.method;
  in.act = info.act;
  in.act_scales = info.act_scales;
  in.kv_bits = info.kv.enabled() ? info.kv.bits : 0;  // a quantized KV cache cannot be exported: refused
  json out = export_hf_checkpoint(in, exp);
  out["quantized"] = qdir;
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace ptq::cli
