#include <iostream>

#include "app/cli/args.h"
#include "eval/experiment/spec_limits.h"
#include "app/cli/commands.h"
#include "core/runtime/errors.h"
#include "core/records/json_util.h"
#include "eval/metrics/model_size.h"

namespace ptq::cli {

namespace {

// The checkpoint a record was made from: its spec, its provenance, or `ptq quantize`'s "model".
std::string record_model_dir(const json& rec, const std::string& path) {
  for (const json* v : {rec.contains("spec") ? &rec["spec"] : nullptr,
                        rec.contains("provenance") && rec["provenance"].contains("model") ? &rec["provenance"]["model"] : nullptr}) {
    if (!v || !v->is_object()) continue;
    for (const char* k : {"model", "path"})
      if (v->contains(k) && (*v)[k].is_string()) return (*v)[k].get<std::string>();
  }
  if (rec.contains("model") && rec["model"].is_string()) return rec["model"].get<std::string>();
  throw Error("result '" + path + "' does not name its model; give --model DIR");
}

}  // namespace

// ptq size --model DIR [--bits B --group G --format F --sym --override PATTERN=...]   size a plan gives
// ptq size --model DIR                                                                  the fp16 baseline
// ptq size --result RESULT.json [--model DIR]                                           size of a recorded run
//   (its metrics.size when it has one, else recomputed from its layer rows and config.json)
int cmd_size(const std::vector<std::string>& argv) {
  Args a(argv, {"model", "result", "bits", "group", "format", "override"}, {"sym"}, {"override"});
  json out = {{"quant", nullptr}};
  std::vector<LayerRecord> layers;
  json recorded_size;
  std::string dir = a.get("model", "");
  const bool planned = a.has("bits") || a.has("group") || a.has("format") || a.has("override") || a.flag("sym");
  if (a.has("result")) {
    if (planned) throw Error("--bits/--group/--format/--sym/--override describe a plan; --result sizes a recorded run");
    const std::string path = a.get("result", "");
    const json rec = read_json_file(path);
    if (!rec.is_object() || !rec.contains("layers") || !rec["layers"].is_array())
      throw Error("result '" + path + "' has no \"layers\" list");
    try {
      for (const auto& l : rec["layers"]) layers.push_back(LayerRecord::from_json(l));
    } catch (const json::exception& e) {
      throw Error("result '" + path + "' has a malformed layer record: " + e.what());
    }
    if (dir.empty()) dir = record_model_dir(rec, path);
    if (rec.contains("metrics") && rec["metrics"].is_object() && rec["metrics"].contains("size"))
      recorded_size = rec["metrics"]["size"];
    out["result"] = path;
  } else if (dir.empty()) {
    throw Error("missing required option --model (or --result RESULT.json)");
  }
  const ModelConfig cfg = ModelConfig::load(join_path(dir, "config.json"));
  if (planned) {
    QuantPlan plan;
    plan.spec.bits = int(a.get_int("bits", 4, limits::kMinBits, limits::kMaxBits));
    plan.spec.group_size = a.get_int("group", 128, -1, limits::kMaxGroup);
    plan.spec.symmetric = a.flag("sym");
    plan.spec.format = parse_format(a.get("format", "int"));
    for (const auto& o : a.all("override")) plan.overrides.push_back(parse_override(o));
    layers = planned_layers(cfg, plan);
    out["quant"] = plan.to_json();
  }
  out["model"] = dir;
  // A record's own size was taken from the tensors its model had (a rotated model's untied head
  // included); layer rows alone cannot tell, so the recomputation is for records without one.
  if (recorded_size.is_object())
    out["size"] = recorded_size;
  else
    out["size"] = model_size(cfg, layers);
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace ptq::cli
