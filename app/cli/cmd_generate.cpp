// ptq generate --model DIR [--quantized ARTIFACTS | --spec RUN.json] --prompt TEXT | --prompts FILE
//   [--max-new-tokens N] [--temperature T] [--top-k K] [--top-p P] [--repetition-penalty R]
//   [--seed S] [--stop STR ...] [--ignore-eos] [--batch B] [--json] [--device D] [--dtype T] [--residency R]
// Continuations of the full-precision model and, with --quantized or --spec, of the quantized one
// (its KV-cache quantization included), side by side; --json prints record["samples"]'s shape
// (eval/generation/samples.h) plus "timing" (seconds and generated tokens per second of each side, prefill
// included; bench/gpu_generate.sh reads it). --ignore-eos: always max_new_tokens;
// --warmup: one untimed 2-token generation first (CUDA kernels and allocator). --prompts FILE: one prompt per non-empty line. --model may be left
// out with --quantized (the artifacts' base_model) or --spec (the spec's model).
#include <ATen/core/grad_mode.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/cli/args.h"
#include "app/cli/cancel_signals.h"
#include "app/cli/commands.h"
#include "app/cli/progress_line.h"
#include "core/records/json_util.h"
#include "core/runtime/device.h"
#include "core/runtime/errors.h"
#include "eval/experiment/json_fields.h"
#include "eval/generation/samples.h"
#include "eval/generation/spec_model.h"
#include "quant/pipeline/quantized_export.h"

namespace ptq::cli {

namespace {

std::vector<std::string> read_prompts(const Args& a) {
  if (a.has("prompt") == a.has("prompts")) throw Error("give exactly one of --prompt TEXT and --prompts FILE");
  if (a.has("prompt")) return {a.get("prompt", "")};
  const std::string path = a.get("prompts", "");
  std::istringstream in(read_text_file(path));
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) out.push_back(line);
  }
  if (out.empty()) throw Error("prompts file '" + path + "' holds no prompt (one per non-empty line)");
  return out;
}

SamplingParams sampling_from(const Args& a) {
  SamplingParams p;
  p.max_new_tokens = int(a.get_int("max-new-tokens", 32, 1, kMaxNewTokensLimit));
  p.temperature = a.get_double("temperature", 0.0, 0.0, 100.0);
  p.top_k = a.get_int("top-k", 0, 0, int64_t(1) << 31);
  p.top_p = a.get_double("top-p", 1.0, 0.0, 1.0);
  p.repetition_penalty = a.get_double("repetition-penalty", 1.0, 0.0, 100.0);
  p.seed = uint64_t(a.get_int("seed", 0, 0, int64_t(1) << 62));
  p.stop = a.all("stop");
  p.stop_at_eos = !a.flag("ignore-eos");
  p.validate();
  return p;
}

// The quantized side: the artifacts, or the spec's model; null when neither is given.
std::unique_ptr<Model> load_quantized(const Args& a, const LoadOptions& lo, Feedback& fb) {
  if (a.has("quantized")) {
    const std::string q = a.get("quantized", "");
    if (!has_quantized_artifacts(q)) throw Error("'" + q + "' holds no quantized artifacts (artifacts.json)");
    return load_quantized_model(q, lo, &fb);
  }
  if (!a.has("spec")) return nullptr;
  const std::string path = a.get("spec", "");
  ExperimentSpec spec;
  try {
    spec = ExperimentSpec::from_json(read_json_file(path));
  } catch (const Error& e) {
    throw Error("'" + path + "': " + e.what());
  }
  spec.resolve_paths(parent_dir(path));
  return load_spec_model(spec, &fb);
}

std::string base_model(const Args& a) {
  std::string base = a.get("model", "");
  if (!base.empty()) return base;
  if (a.has("quantized"))
    base = read_json_file(join_path(a.get("quantized", ""), "artifacts.json")).value("base_model", std::string());
  if (a.has("spec")) {
    ExperimentSpec s = ExperimentSpec::from_json(read_json_file(a.get("spec", "")));
    s.resolve_paths(parent_dir(a.get("spec", "")));
    base = s.model_dir;
  }
  if (base.empty()) throw Error("give --model DIR (or --quantized / --spec naming the base model)");
  return base;
}

// generate() with its wall time (synchronized: the last step's ids are read on the CPU).
std::vector<Continuation> timed_generate(Model& m, const Tokenizer& tok, const std::vector<std::string>& prompts,
                                         const SamplingParams& p, const GenerateOptions& go, bool warmup, Feedback& fb,
                                         json& t) {
  if (warmup) {
    SamplingParams w = p;
    w.max_new_tokens = 2;
    generate(m, tok, prompts, w, go, &fb);
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<Continuation> c = generate(m, tok, prompts, p, go, &fb);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  int64_t n = 0;
  for (const auto& x : c) n += int64_t(x.ids.size());
  t = {{"seconds", s}, {"new_tokens", n}, {"tokens_per_second", double(n) / s}};
  return c;
}

void print_text(const json& samples, bool quantized) {
  int i = 0;
  for (const auto& p : samples["prompts"]) {
    std::cout << "prompt " << ++i << ": " << p["prompt"].get<std::string>() << "\n";
    std::cout << "  fp:        " << p["fp"]["text"].get<std::string>() << "\n";
    if (!quantized) continue;
    std::cout << "  quantized: " << p["quantized"]["text"].get<std::string>() << "\n";
    const auto& d = p["first_divergence"];
    std::cout << "  first divergence: " << (d.is_null() ? std::string("none") : "token " + std::to_string(d.get<int>()))
              << "\n";
  }
  std::cout.flush();
}

}  // namespace

int cmd_generate(const std::vector<std::string>& argv) {
  Args a(argv,
         {"model", "quantized", "spec", "prompt", "prompts", "max-new-tokens", "temperature", "top-k", "top-p",
          "repetition-penalty", "seed", "stop", "batch", "device", "dtype", "residency", "split-devices"},
         {"json", "ignore-eos", "warmup"}, {"stop"});
  at::NoGradGuard no_grad;
  if (a.has("quantized") && a.has("spec")) throw Error("give at most one of --quantized ARTIFACTS and --spec RUN.json");
  const std::vector<std::string> prompts = read_prompts(a);
  const SamplingParams p = sampling_from(a);
  GenerateOptions go;
  go.batch_size = int(a.get_int("batch", 8, 1, 256));
  const LoadOptions lo = load_options(a);
  const std::string base = base_model(a);
  Feedback fb;
  ProgressLine line(fb);
  CancelOnSignal on_signal(fb);  // SIGINT / SIGTERM: stop between decoding steps, exit 130 / 143
  std::vector<Continuation> fp;
  json timing = json::object();
  {
    auto model = Model::load(base, lo, &fb);
    const Tokenizer tok = model_tokenizer(*model, base);
    fp = timed_generate(*model, tok, prompts, p, go, a.flag("warmup"), fb, timing["fp"]);
    timing["device"] = device_description(model->device());
    timing["dtype"] = dtype_name(model->dtype());
    timing["residency"] = model->streaming() ? "stream" : "resident";
  }  // the full-precision model is gone before the quantized one loads
  std::vector<Continuation> q = fp;
  auto qm = load_quantized(a, lo, fb);
  if (qm) q = timed_generate(*qm, Tokenizer::from_file(qm->checkpoint().tokenizer_path()), prompts, p, go,
                                  a.flag("warmup"), fb, timing["quantized"]);
  json out = samples_json(fp, q, p);
  timing["batch"] = go.batch_size;
  out["timing"] = timing;
  if (!qm)
    for (auto& e : out["prompts"]) e["quantized"] = nullptr, e["first_divergence"] = nullptr;
  out["model"] = base;
  if (a.has("quantized")) out["quantized"] = a.get("quantized", "");
  if (a.has("spec")) out["spec"] = a.get("spec", "");
  if (a.flag("json"))
    std::cout << out.dump() << std::endl;
  else
    print_text(out, qm != nullptr);
  return 0;
}

}  // namespace ptq::cli
