#include <iostream>

#include "app/cli/args.h"
#include "eval/experiment/spec_limits.h"
#include "app/cli/commands.h"
#include "eval/metrics/token_kl.h"

namespace ptq::cli {

// ptq token-kl --tokenizer FILE --calib FILE --test FILE [--smoothing E] [--top N]
int cmd_token_kl(const std::vector<std::string>& argv) {
  Args a(argv, {"tokenizer", "calib", "test", "smoothing", "top"}, {});
  TokenKlOptions o;
  o.smoothing = a.get_double("smoothing", o.smoothing, 0.0, 1.0);
  o.top = a.get_int("top", o.top, 0, limits::kMaxWindows);
  std::cout << token_kl_files(a.required("tokenizer"), a.required("calib"), a.required("test"), o).dump() << std::endl;
  return 0;
}

}  // namespace ptq::cli
