// `ptq`: the headless command-line tool. Every subcommand prints one JSON object on stdout;
// errors go to stderr as one line naming the problem, with exit code 2 (1 for internal failures).
#include <exception>
#include <iostream>

#include "app/cli/cancel_signals.h"
#include "app/cli/commands.h"
#include "core/runtime/device.h"
#include "core/runtime/host_allocator.h"
#include "core/runtime/kernel_profile.h"
#include "core/runtime/omp_wait.h"
#include "core/runtime/errors.h"

namespace ptq::cli {

const std::vector<CommandEntry>& commands() {
  static const std::vector<CommandEntry> c = {
      {"ppl", "perplexity of a model on a text file", cmd_ppl},
      {"tokenize", "token ids of a text with a tokenizer.json", cmd_tokenize},
      {"inspect", "architecture, shapes, sizes and linear layers of a checkpoint", cmd_inspect},
      {"make-checkpoint", "random-weight checkpoint with the shape of a real model", cmd_make_checkpoint},
      {"quantize", "quantize a model (rtn, gptq, awq, rotate, omniquant, compositions) and evaluate it", cmd_quantize},
      {"strategies", "the strategy registry with parameter schemas, as JSON", cmd_strategies},
      {"kurtosis", "kurtosis of every linear layer's weights and input activations on calibration text", cmd_kurtosis},
      {"token-kl", "KL and JS divergence between the token distributions of two texts", cmd_token_kl},
      {"size", "exact stored size of a model under a quantization plan, or of a recorded run", cmd_size},
      {"eval-tasks", "multiple-choice (lm-eval JSONL) and last-word accuracy tasks", cmd_eval_tasks},
      {"run", "one experiment from a JSON spec; prints (and with --results writes) its result record", cmd_run},
      {"sweep", "a sweep of experiments from a JSON spec into a results folder (--resume)", cmd_sweep},
      {"compare", "full-precision vs quantized outputs: per-token KL, top-1 agreement, delta-p", cmd_compare},
      {"generate", "continuations of prompts, full precision and quantized side by side (KV cache, sampling)",
       cmd_generate},
      {"export", "a saved quantized run as a GPTQ / AWQ / compressed-tensors checkpoint folder", cmd_export},
  };
  return c;
}

}  // namespace ptq::cli

static void usage() {
  std::cerr << "usage: ptq <command> [options]\n\ncommands:\n";
  for (const auto& c : ptq::cli::commands()) std::cerr << "  " << c.name << "\t" << c.summary << "\n";
}

int main(int argc, char** argv) {
  ptq::reexec_with_passive_omp_wait(argv);  // returns at once in the re-executed process
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    usage();
    return argc < 2 ? 2 : 0;
  }
  ptq::configure_host_allocator();
  try {
    ptq::configure_threads();
  } catch (const ptq::Error& e) {
    std::cerr << "ptq: error: " << e.what() << std::endl;
    return 2;
  }
  std::string name = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  for (const auto& c : ptq::cli::commands()) {
    if (name != c.name) continue;
    ptq::KernelProfile kernel_profile;  // PTQ_KERNEL_PROFILE=FILE: the command's top CUDA kernels (bench/)
    try {
      return c.run(args);
    } catch (const ptq::Cancelled&) {
      const std::string sig = ptq::cli::cancel_signal_name();
      std::cerr << "ptq " << name << ": cancelled" << (sig.empty() ? "" : " by " + sig) << std::endl;
      return ptq::cli::cancel_exit_code();
    } catch (const ptq::Error& e) {
      std::cerr << "ptq " << name << ": error: " << e.what() << std::endl;
      return 2;
    } catch (const std::exception& e) {
      if (ptq::is_out_of_memory(e)) {
        std::cerr << "ptq " << name << ": error: the device ran out of memory (try --residency stream, a smaller "
                  << "--batch or --seqlen): " << std::string(e.what()).substr(0, 300) << std::endl;
        return 2;
      }
      std::cerr << "ptq " << name << ": internal error: " << e.what() << std::endl;
      return 1;
    }
  }
  std::cerr << "ptq: unknown command '" << name << "'\n";
  usage();
  return 2;
}
