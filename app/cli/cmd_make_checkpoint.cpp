#include <iostream>

#include "app/cli/args.h"
#include "app/cli/cancel_signals.h"
#include "eval/experiment/spec_limits.h"
#include "app/cli/commands.h"
#include "app/cli/progress_line.h"
#include "core/records/json_util.h"
#include "core/io/make_checkpoint.h"
#include "core/model/model_layout.h"

namespace ptq::cli {

int cmd_make_checkpoint(const std::vector<std::string>& argv) {
  Args a(argv, {"like", "out", "dtype", "layers", "seed", "tokenizer", "shard-gb"}, {});
  MakeCheckpointOptions o;
  o.like = a.required("like");
  o.out_dir = a.required("out");
  o.dtype = a.get("dtype", "bfloat16");
  o.layers = a.get_int("layers", 0, 1, limits::kMaxLayers);
  o.seed = uint64_t(a.get_int("seed", 0, 0, limits::kMaxSeed));
  o.tokenizer = a.get("tokenizer", "");
  o.shard_bytes = int64_t(a.get_double("shard-gb", 4.0, 1e-6, 1e6) * double(int64_t(1) << 30));
  Feedback fb;
  ProgressLine line(fb);
  CancelOnSignal on_signal(fb);  // SIGINT / SIGTERM: stop between units of work, exit 130 / 143
  ModelConfig c = make_checkpoint(o, &fb);
  std::cout << json{{"out", o.out_dir},
                    {"like", o.like},
                    {"architecture", c.architecture},
                    {"parameters", parameter_count(c)},
                    {"dtype", c.dtype}}
                   .dump()
            << std::endl;
  return 0;
}

}  // namespace ptq::cli
