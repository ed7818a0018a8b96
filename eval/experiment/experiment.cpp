// run_experiment: one spec in, one complete result record out (docs/results-schema.md).
#include "eval/experiment/experiment.h"

#include <ATen/core/grad_mode.h>

#include <chrono>

#include "core/runtime/device.h"
#include "core/runtime/errors.h"
#include "core/records/json_util.h"
#include "core/model/model.h"
#include "core/records/provenance.h"
#include "core/records/result_store.h"
#include "core/text/tokenizer.h"
#include "eval/metrics/kurtosis.h"
#include "eval/tasks/mc_tasks.h"
#include "eval/metrics/model_size.h"
#include "eval/metrics/output_compare.h"
#include "eval/metrics/perplexity.h"
#include "eval/tasks/tasks.h"
#include "eval/metrics/token_kl.h"
#include "quant/pipeline/block_stage.h"
#include "quant/pipeline/pipeline.h"
#include "quant/strategy_registry.h"

namespace ptq {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

bool wants(const ExperimentSpec& s, const std::string& analysis) {
  for (const auto& a : s.analyses)
    if (a == analysis) return true;
  return false;
}

// Token ids of a text file; an empty or non-UTF-8 file is an error naming it.
std::vector<int64_t> tokenize_file(const Tokenizer& tok, const std::string& path, const std::string& what) {
  std::string text = read_text_file(path);
  if (text.empty()) throw Error(what + " '" + path + "' is empty");
  try {
    return tok.encode(text);
  } catch (const Error& e) {
    throw Error(what + " '" + path + "': " + e.what());
  }
}

// Feedback ranges of the phases that will run, in order, so one bar covers the whole job.
class Phases {
 public:
  Phases(Feedback* fb, std::vector<std::pair<std::string, double>> weights) : fb_(fb), w_(std::move(weights)) {
    for (auto& p : w_) total_ += p.second;
  }
  void enter(const std::string& name) {
    if (!fb_) return;
    double lo = 0;
    for (auto& p : w_) {
      if (p.first == name) {
        fb_->set_stage_range(lo / total_, (lo + p.second) / total_);
        return;
      }
      lo += p.second;
    }
  }

 private:
  Feedback* fb_;
  std::vector<std::pair<std::string, double>> w_;
  double total_ = 0;
};

QuantRequest quant_request(const ExperimentSpec& s) {
  QuantRequest r;
  r.method = s.method;
  r.plan = s.plan;
  r.params = s.params;
  r.calib = s.calib;
  r.calib_batch = s.calib_batch;
  r.seed = s.seed;
  return r;
}

}  // namespace

nlohmann::json run_experiment(const ExperimentSpec& spec, Feedback* fb, const ExperimentHooks* hooks) {
  spec.validate();
  at::NoGradGuard no_grad;
  const auto t_start = Clock::now();
  const std::string created_at = utc_now_iso8601();
  const bool fp = spec.method == "fp";
  const bool compare = wants(spec, "compare"), kurtosis = wants(spec, "kurtosis");
  const bool lambada = wants(spec, "lambada"), tokkl = wants(spec, "token_kl");
  const bool tasks = lambada || !spec.task_files.empty();
  bool transforms = false;  // a model or block transform runs before the quantizer (AWQ, rotation)
  if (!fp)
    for (const auto* st : parse_method(spec.method)) transforms |= st->kind != StageKind::Quantizer;
  nlohmann::json seconds = nlohmann::json::object();
  Phases phases(fb, {{"load", 1}, {"reference", compare ? 2 : 0}, {"kurtosis", kurtosis ? 1 : 0},
                     {"quantize", fp ? 0 : 6}, {"eval", 2}, {"tasks", tasks ? 2 : 0}});

  nlohmann::json record = {{"schema", kResultSchemaName}, {"schema_version", kResultSchemaVersion},
                           {"run_id", spec.run_id()}, {"label", spec.label}, {"status", "complete"},
                           {"created_at", created_at}};
  nlohmann::json provenance = runtime_provenance(spec.device);
  provenance["model"] = model_provenance(spec.model_dir);

  // Load, and read every text before the long work so a bad path fails fast.
  phases.enter("load");
  auto t0 = Clock::now();
  const at::Device device = parse_device(spec.device);
  int64_t peak = 0;
  auto note_peak = [&] { peak = std::max(peak, peak_memory_bytes(device)); };
  LoadOptions lo;
  lo.device = spec.device;
  lo.dtype = spec.dtype;
  lo.residency = parse_residency(spec.residency);
  auto model = Model::load(spec.model_dir, lo, fb);
  // After loading: CUDA's allocator exists only once something was allocated (LibTorch 2.x throws
  // before), and the peak then starts at the resident weights.
  reset_peak_memory(device);
  provenance["dtype"] = dtype_name(model->dtype());
  std::unique_ptr<Tokenizer> tok;
  const std::string tok_path = model->checkpoint().tokenizer_path();
  if (!tok_path.empty()) tok = std::make_unique<Tokenizer>(Tokenizer::from_file(tok_path));
  if (tok) tok->check_fits_model(model->config().vocab_size, "'" + spec.model_dir + "'");
  if (!tok && (!spec.eval_text.empty() || !spec.calib.files.empty()))
    throw Error("no tokenizer.json in '" + spec.model_dir + "' to tokenize the eval and calibration texts");
  std::vector<int64_t> eval_ids;
  at::Tensor eval_windows;
  if (!spec.eval_text.empty()) {
    eval_ids = tokenize_file(*tok, spec.eval_text, "eval text");
    eval_windows = make_windows(eval_ids, spec.eval_seqlen, spec.eval_max_windows);
  }
  for (const auto& f : spec.task_files) load_mc_task(f);  // fails now on a bad file, not after quantizing
  if (lambada) {
    try {
      make_lambada_items(read_text_file(spec.eval_text));
    } catch (const Error& e) {
      throw Error("last-word task from '" + spec.eval_text + "': " + e.what());
    }
  }
  at::Tensor calib_windows;
  std::string calib_text;
  if (!spec.calib.files.empty() && (kurtosis || tokkl)) {
    calib_windows = calibration_windows(*tok, spec.calib);
    for (const auto& f : spec.calib.files) calib_text += read_text_file(f) + "\n";
  }
  seconds["load"] = since(t0);

  nlohmann::json metrics = nlohmann::json::object();
  nlohmann::json analyses = nlohmann::json::object();

  FpReference reference;
  if (compare) {
    phases.enter("reference");
    t0 = Clock::now();
    note_peak();
    reference = capture_reference(*model, eval_windows, spec.eval_batch, fb);
    seconds["compare_reference"] = since(t0);
  }

  KurtosisTable transformed;
  if (kurtosis) {
    phases.enter("kurtosis");
    t0 = Clock::now();
    note_peak();
    // On the calibration windows, or on the eval windows when the run has no calibration text.
    analyses["kurtosis"]["fp"] =
        measure_kurtosis(*model, calib_windows.defined() ? calib_windows : eval_windows, spec.calib_batch, fb);
    seconds["kurtosis"] = since(t0);
  }

  QuantResult qr;
  if (!fp) {
    phases.enter("quantize");
    t0 = Clock::now();
    note_peak();
    QuantRequest req = quant_request(spec);
    if (kurtosis && transforms) {
      req.after_transform = [&](BlockWork& w) {
        KurtosisObserver obs;
        w.run(&obs);
        add_block_kurtosis(transformed, w.block, &obs);
      };
      transformed.calib_tokens = spec.calib.files.empty() ? 0 : spec.calib.nsamples * spec.calib.seqlen;
    }
    qr = quantize_model(*model, tok.get(), req, fb);
    note_peak();
    seconds["quantize"] = since(t0);
    if (kurtosis && transforms) analyses["kurtosis"]["transformed"] = transformed.to_json();
  }

  if (eval_windows.defined()) {
    phases.enter("eval");
    t0 = Clock::now();
    note_peak();
    if (compare) {
      nlohmann::json c = compare_with_reference(*model, reference, eval_windows, spec.eval_batch, fb);
      reference = FpReference();
      metrics["ppl"] = c["ppl_q"];
      metrics["compare"] = c;
    } else {
      PplOptions po;
      po.seqlen = spec.eval_seqlen;
      po.max_windows = spec.eval_max_windows;
      po.batch = spec.eval_batch;
      PplResult p = perplexity(*model, eval_ids, po, fb);
      metrics["ppl"] = p.ppl;
    }
    note_peak();
    metrics["eval"] = {{"text", spec.eval_text}, {"seqlen", spec.eval_seqlen}, {"windows", eval_windows.size(0)},
                       {"tokens", eval_windows.numel()}};
    seconds["eval"] = since(t0);
  }

  metrics["size"] = model_size(model->config(), qr.layers);

  if (tasks) {
    phases.enter("tasks");
    t0 = Clock::now();
    note_peak();
    TaskOptions to;
    to.task_files = spec.task_files;
    if (lambada) to.lambada_text = spec.eval_text;
    metrics["tasks"] = evaluate_tasks(*model, *tok, to, fb);
    note_peak();
    seconds["tasks"] = since(t0);
  }

  if (tokkl) {
    std::string calib_names;
    for (const auto& f : spec.calib.files) calib_names += (calib_names.empty() ? "" : ", ") + f;
    nlohmann::json k = token_kl(*tok, calib_text, read_text_file(spec.eval_text), {}, calib_names, spec.eval_text);
    k["tokenizer"] = model->checkpoint().tokenizer_path();
    k["calib"] = calib_names;
    k["test"] = spec.eval_text;
    analyses["token_kl"] = k;
  }

  if (hooks && hooks->on_quantized && !fp) hooks->on_quantized(*model, qr);

  note_peak();
  seconds["total"] = since(t_start);
  metrics["seconds"] = seconds;
  metrics["peak_gpu_bytes"] = peak;

  record["finished_at"] = utc_now_iso8601();
  record["spec"] = spec.to_json();
  record["provenance"] = provenance;
  record["method"] = spec.method;
  if (fp) {
    record["quant"] = nullptr;
    record["params"] = nullptr;
  } else {
    nlohmann::json q = spec.plan.to_json();
    q["bits"] = spec.plan.spec.element_bits();
    record["quant"] = q;
    record["params"] = qr.params;
  }
  if (!spec.calib.files.empty()) {
    nlohmann::json c = spec.calib.to_json();
    c["tokens"] = spec.calib.nsamples * spec.calib.seqlen;
    record["calibration"] = c;
  } else {
    record["calibration"] = nullptr;
  }
  record["seed"] = spec.seed;
  record["metrics"] = metrics;
  nlohmann::json layers = nlohmann::json::array(), blocks = nlohmann::json::array();
  for (const auto& l : qr.layers) layers.push_back(l.to_json());
  for (const auto& b : qr.blocks) blocks.push_back(b.to_json());
  record["layers"] = layers;
  record["blocks"] = blocks;
  record["analyses"] = analyses;
  return record;
}

}  // namespace ptq
