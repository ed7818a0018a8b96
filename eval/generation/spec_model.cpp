#include "eval/generation/spec_model.h"

#include "core/runtime/errors.h"
#include "core/text/tokenizer.h"
#include "quant/kvcache/kv_cache_quantizer.h"
#include "quant/pipeline/pipeline.h"

namespace ptq {

std::unique_ptr<Model> load_spec_model(const ExperimentSpec& spec, Feedback* fb) {
  spec.validate();
  LoadOptions lo;
  lo.device = spec.device;
  lo.dtype = spec.dtype;
  lo.residency = parse_residency(spec.residency);
  auto model = Model::load(spec.model_dir, lo, fb);
  spec.kv.validate_for(model->config());
  if (spec.method != "fp") {
    const std::string tok_path = model->checkpoint().tokenizer_path();
    std::unique_ptr<Tokenizer> tok;
    if (!tok_path.empty()) tok = std::make_unique<Tokenizer>(Tokenizer::from_file(tok_path));
    QuantRequest req;
    req.method = spec.method;
    req.plan = spec.plan;
    req.params = spec.params;
    req.calib = spec.calib;
    req.calib_batch = spec.calib_batch;
    req.seed = spec.seed;
    quantize_model(*model, tok.get(), req, fb);
  }
  model->set_kv_cache(make_kv_cache_quantizer(spec.kv, model->config()));
  return model;
}

}  // namespace ptq
