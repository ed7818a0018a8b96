#include <iostream>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "core/runtime/errors.h"
#include "core/model/model_summary.h"

namespace ptq::cli {

int cmd_inspect(const std::vector<std::string>& argv) {
  Args a(argv, {"model"}, {});
  std::string dir = a.get("model", "");
  if (dir.empty()) {
    if (a.positional().size() != 1) throw Error("usage: ptq inspect DIR");
    dir = a.positional()[0];
  }
  std::cout << summarize_checkpoint(dir).to_json().dump(1) << std::endl;
  return 0;
}

}  // namespace ptq::cli
