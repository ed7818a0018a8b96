#include "quant/pipeline/calib_spec.h"

namespace ptq {

nlohmann::json CalibSpec::to_json() const {
  return {{"files", files}, {"nsamples", nsamples}, {"seqlen", seqlen}, {"seed", seed}, {"sampling", sampling}};
}

}  // namespace ptq
