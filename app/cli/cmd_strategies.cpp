#include <iostream>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "quant/strategy_registry.h"

namespace ptq::cli {

int cmd_strategies(const std::vector<std::string>& argv) {
  Args a(argv, {}, {});
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : strategy_registry()) out.push_back(s.to_json());
  std::cout << out.dump(1) << std::endl;
  return 0;
}

}  // namespace ptq::cli
