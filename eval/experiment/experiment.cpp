// run_experiment: one spec in, one complete result record out (docs/results-schema.md). A short
// driver over the analysis catalog (eval/analyses/analysis_catalog.h): load, then every enabled
// analysis' steps stage by stage around the quantization, then the record.
#include "eval/experiment/experiment.h"

#include <ATen/core/grad_mode.h>

#include <chrono>

#include "core/model/model.h"
#include "core/records/json_util.h"
#include "core/records/provenance.h"
#include "core/records/result_store.h"
#include "core/runtime/device.h"
#include "core/runtime/errors.h"
#include "core/text/tokenizer.h"
#include "eval/analyses/analysis_steps.h"
#include "eval/metrics/perplexity.h"
#include "quant/kvcache/kv_cache_quantizer.h"
#include "quant/pipeline/block_stage.h"
#include "quant/pipeline/pipeline.h"
#include "quant/strategy_registry.h"

namespace ptq {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct EnabledAnalysis {
  const AnalysisInfo* info;
  std::unique_ptr<AnalysisSteps> steps;
};

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

// QuIP's incoherence μ of every layer it processed, before and after (null for other methods).
nlohmann::json incoherence_analysis(const QuantResult& q) {
  nlohmann::json layers = nlohmann::json::object();
  for (const auto& l : q.layers)
    if (measured(l.incoherence_before))
      layers[l.name] = {{"before", l.incoherence_before}, {"after", measured_json(l.incoherence_after)}};
  if (layers.empty()) return nullptr;
  return {{"definition", "mu = max|W_ij|·sqrt(m·n)/||W||_F of the weight (Chee et al., 2023); after: of the processed "
                         "U·W·diag(s)·V^T that was rounded"},
          {"storage", "U and V are regenerated from params.quip.seed and each layer's name: not stored"},
          {"layers", layers}};
}

// One run: the shared state, the enabled analyses, the progress bar and the clock of every phase.
class Driver {
 public:
  Driver(const ExperimentSpec& spec, Feedback* fb, const std::string& run_device)
      : spec_(spec), fb_(fb), run_{spec, fb}, run_device_(run_device.empty() ? spec.device : run_device) {
    run_.quantized = spec.method != "fp";
    if (run_.quantized)
      for (const auto* st : parse_method(spec.method))  // a block or model transform (QuIP's acts inside each layer)
        run_.transforms |= st->kind == StageKind::ModelTransform || st->kind == StageKind::BlockTransform;
    for (const auto& a : analysis_catalog())
      if (analysis_enabled(a, spec)) enabled_.push_back({&a, make_analysis_steps(a.id)});
    total_progress_ = 1 + (run_.quantized ? 6 : 0);
    for (const auto& e : enabled_)
      for (const auto& s : e.info->steps) total_progress_ += s.progress;
  }

  void load();
  void run_stage(AnalysisStage stage);
  void quantize();
  void install_kv_cache();
  nlohmann::json record(const std::string& created_at, Clock::time_point t_start);
  Model& model() { return *model_; }
  const QuantResult& quant_result() const { return qr_; }

 private:
  void enter(double weight) {
    if (fb_ && total_progress_ > 0) fb_->set_stage_range(done_ / total_progress_, (done_ + weight) / total_progress_);
    done_ += weight;
  }
  void note_peak() { peak_ = std::max(peak_, peak_memory_bytes(device_)); }
  bool needs(unsigned need) const {
    for (const auto& e : enabled_)
      if (e.info->needs & need) return true;
    return false;
  }
  void add_seconds(const std::string& key, double s) {
    if (!key.empty()) seconds_[key] = seconds_.value(key, 0.0) + s;
  }

  const ExperimentSpec& spec_;
  Feedback* fb_;
  ExperimentRun run_;
  const std::string run_device_;  // the spec's device, or where the device pool placed the run
  std::vector<EnabledAnalysis> enabled_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<Tokenizer> tok_;
  QuantResult qr_;
  nlohmann::json seconds_ = nlohmann::json::object();
  nlohmann::json provenance_;
  at::Device device_{at::kCPU};
  int64_t peak_ = 0;
  double total_progress_ = 0, done_ = 0;
};

// The model, its tokenizer and every text an analysis needs, read before the long work so a bad
// path fails fast; then the analyses' own checks (task files, the last-word passages).
void Driver::load() {
  enter(1);
  const auto t0 = Clock::now();
  provenance_ = runtime_provenance(run_device_);
  provenance_["model"] = model_provenance(spec_.model_dir);
  device_ = parse_device(run_device_);
  LoadOptions lo;
  lo.device = run_device_;
  lo.dtype = spec_.dtype;
  lo.residency = parse_residency(spec_.residency);
  model_ = Model::load(spec_.model_dir, lo, fb_);
  // After loading: CUDA's allocator exists only once something was allocated (LibTorch 2.x throws
  // before), and the peak then starts at the resident weights.
  reset_peak_memory(device_);
  spec_.kv.validate_for(model_->config());  // a KV setting on a model without a KV cache fails before any work
  provenance_["dtype"] = dtype_name(model_->dtype());
  const std::string tok_path = model_->checkpoint().tokenizer_path();
  if (!tok_path.empty()) tok_ = std::make_unique<Tokenizer>(Tokenizer::from_file(tok_path));
  if (tok_) tok_->check_fits_model(model_->config().vocab_size, "'" + spec_.model_dir + "'");
  if (!tok_ && (!spec_.eval_text.empty() || !spec_.calib.files.empty()))
    throw Error("no tokenizer.json in '" + spec_.model_dir + "' to tokenize the eval and calibration texts");
  run_.model = model_.get();
  run_.tok = tok_.get();
  if (!spec_.eval_text.empty()) {
    run_.eval_ids = tokenize_file(*tok_, spec_.eval_text, "eval text");
    run_.eval_windows = make_windows(run_.eval_ids, spec_.eval_seqlen, spec_.eval_max_windows);
  }
  if (!spec_.calib.files.empty() && needs(kNeedsCalibration | kNeedsCalibOrEvalText))
    run_.calib_windows = calibration_windows(*tok_, spec_.calib);
  run_stage(AnalysisStage::Load);
  seconds_["load"] = since(t0);
}

void Driver::run_stage(AnalysisStage stage) {
  for (auto& e : enabled_)
    for (const auto& step : e.info->steps) {
      if (step.stage != stage) continue;
      enter(step.progress);
      const auto t0 = Clock::now();
      note_peak();
      e.steps->run(stage, run_);
      note_peak();
      add_seconds(step.seconds, since(t0));
    }
}

void Driver::quantize() {
  if (!run_.quantized) return;
  enter(6);
  const auto t0 = Clock::now();
  note_peak();
  QuantRequest req;
  req.method = spec_.method;
  req.plan = spec_.plan;
  req.params = spec_.params;
  req.calib = spec_.calib;
  req.calib_batch = spec_.calib_batch;
  req.seed = spec_.seed;
  std::vector<AnalysisSteps*> observers;
  for (auto& e : enabled_)
    if (e.info->runs_in(AnalysisStage::DuringQuantization)) {
      e.steps->prepare_quantization(run_, req);
      if (run_.transforms || e.steps->observes_every_block()) observers.push_back(e.steps.get());
    }
  if (!observers.empty())
    req.after_transform = [&](BlockWork& w) {
      for (auto* o : observers) o->on_transformed_block(run_, w);
    };
  qr_ = quantize_model(*model_, tok_.get(), req, fb_);
  run_.quant = &qr_;
  note_peak();
  seconds_["quantize"] = since(t0);
  for (auto& e : enabled_)
    if (e.info->runs_in(AnalysisStage::DuringQuantization)) e.steps->run(AnalysisStage::DuringQuantization, run_);
}

// From here on attention reads K / V through the quantized cache (after the weights are quantized:
// calibration sees a full-precision cache, as KIVI is applied at inference).
void Driver::install_kv_cache() { model_->set_kv_cache(make_kv_cache_quantizer(spec_.kv, model_->config())); }

nlohmann::json Driver::record(const std::string& created_at, Clock::time_point t_start) {
  note_peak();
  seconds_["total"] = since(t_start);
  run_.metrics["seconds"] = seconds_;
  run_.metrics["peak_gpu_bytes"] = peak_;
  nlohmann::json r = {{"schema", kResultSchemaName}, {"schema_version", kResultSchemaVersion},
                      {"run_id", spec_.run_id()}, {"label", spec_.label}, {"status", "complete"},
                      {"created_at", created_at}, {"finished_at", utc_now_iso8601()}, {"spec", spec_.to_json()},
                      {"provenance", provenance_}, {"method", spec_.method}, {"quant", nullptr}, {"params", nullptr},
                      {"calibration", nullptr}, {"seed", spec_.seed}, {"metrics", run_.metrics},
                      {"kv_cache", spec_.kv.to_json()}};
  if (run_.quantized) {
    nlohmann::json q = spec_.plan.to_json();
    q["bits"] = spec_.plan.spec.element_bits();
    r["quant"] = q;
    r["params"] = qr_.params;
    if (!qr_.activations.is_null()) r["activations"] = qr_.activations;
  }
  if (!spec_.calib.files.empty()) {
    nlohmann::json c = spec_.calib.to_json();
    c["tokens"] = spec_.calib.nsamples * spec_.calib.seqlen;
    r["calibration"] = c;
  }
  nlohmann::json layers = nlohmann::json::array(), blocks = nlohmann::json::array();
  for (const auto& l : qr_.layers) layers.push_back(l.to_json());
  for (const auto& b : qr_.blocks) blocks.push_back(b.to_json());
  r["layers"] = layers;
  r["blocks"] = blocks;
  r["analyses"] = run_.analyses;
  if (!run_.samples.is_null()) r["samples"] = run_.samples;
  const nlohmann::json mu = incoherence_analysis(qr_);
  if (!mu.is_null()) r["analyses"]["incoherence"] = mu;
  return r;
}

}  // namespace

nlohmann::json run_experiment(const ExperimentSpec& spec, Feedback* fb, const ExperimentHooks* hooks) {
  spec.validate();
  at::NoGradGuard no_grad;
  const auto t_start = Clock::now();
  const std::string created_at = utc_now_iso8601();
  Driver d(spec, fb, hooks ? hooks->device : std::string());
  d.load();
  d.run_stage(AnalysisStage::BeforeQuantization);
  d.quantize();
  d.install_kv_cache();
  d.run_stage(AnalysisStage::AfterQuantization);
  if (hooks && hooks->on_quantized && spec.method != "fp") hooks->on_quantized(d.model(), d.quant_result());
  return d.record(created_at, t_start);
}

}  // namespace ptq
