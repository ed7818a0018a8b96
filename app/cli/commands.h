#pragma once
// The `ptq` subcommands. Each takes its arguments (after the subcommand name), prints one JSON
// object on stdout and returns the exit code; failures throw ptq::Error.
#include <functional>
#include <string>
#include <vector>

namespace ptq::cli {

using Command = std::function<int(const std::vector<std::string>&)>;

struct CommandEntry {
  const char* name;
  const char* summary;
  Command run;
};

const std::vector<CommandEntry>& commands();

int cmd_ppl(const std::vector<std::string>& args);
int cmd_tokenize(const std::vector<std::string>& args);
int cmd_inspect(const std::vector<std::string>& args);
int cmd_make_checkpoint(const std::vector<std::string>& args);
int cmd_quantize(const std::vector<std::string>& args);
int cmd_strategies(const std::vector<std::string>& args);
int cmd_kurtosis(const std::vector<std::string>& args);
int cmd_token_kl(const std::vector<std::string>& args);
int cmd_size(const std::vector<std::string>& args);
int cmd_eval_tasks(const std::vector<std::string>& args);
int cmd_run(const std::vector<std::string>& args);
int cmd_sweep(const std::vector<std::string>& args);
int cmd_compare(const std::vector<std::string>& args);
int cmd_generate(const std::vector<std::string>& args);
int cmd_export(const std::vector<std::string>& args);

}  // namespace ptq::cli
