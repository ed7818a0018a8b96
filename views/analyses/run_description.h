#pragma once
// What a chart's tooltip says about the run behind a point (issue 15): model, method, bits, group,
// activation and format settings, and the calibration it drew, one line each.
#include <QString>

#include "views/records/record_fields.h"

namespace ptq::views {

// "calibration: austen-valid.txt, 128 × 512 tokens, seed 0" (sampling when not random); "none".
QString calibrationText(const Record& r);
// Lines: model, method and settings (quantTag), bits and group, calibration.
QString runDescription(const Record& r);

}  // namespace ptq::views
