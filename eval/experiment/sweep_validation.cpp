#include "eval/experiment/sweep_validation.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>

#include "core/io/checkpoint.h"
#include "core/model/model_layout.h"
#include "core/records/json_util.h"
#include "quant/strategy_registry.h"
#include "core/runtime/checked_math.h"
#include "core/runtime/device.h"
#include "core/runtime/errors.h"
#include "core/text/tokenizer.h"
#include "eval/tasks/tasks.h"
#include "quant/pipeline/quant_plan.h"

namespace ptq {

namespace {

std::string gib(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GiB", double(bytes) / double(int64_t(1) << 30));
  return buf;
}

struct ModelFacts {
  std::string error;  // "" when the folder opened
  ModelConfig cfg;
  std::string tokenizer_path;
  std::shared_ptr<const Tokenizer> tok;
  std::string tok_error;
};

struct TextFacts {
  std::string error;
  int64_t tokens = 0;
};

// Reads each model, device, text and task file once for all runs.
class Facts {
 public:
  const ModelFacts& model(const std::string& dir) {
    auto it = models_.find(dir);
    if (it != models_.end()) return it->second;
    ModelFacts m;
    try {
      auto ck = Checkpoint::open(dir);
      m.cfg = ck->config();
      m.tokenizer_path = ck->tokenizer_path();
    } catch (const std::exception& e) {
      m.error = e.what();
    }
    try {
      if (m.error.empty() && !m.tokenizer_path.empty())
        m.tok = std::make_shared<Tokenizer>(Tokenizer::from_file(m.tokenizer_path));
    } catch (const std::exception& e) {
      m.tok_error = e.what();
    }
    return models_.emplace(dir, std::move(m)).first->second;
  }

  std::string device(const std::string& d) {
    auto it = devices_.find(d);
    if (it != devices_.end()) return it->second;
    std::string err;
    try {
      parse_device(d);
    } catch (const std::exception& e) {
      err = e.what();
    }
    return devices_.emplace(d, err).first->second;
  }

  const TextFacts& text(const ModelFacts& m, const std::string& file) {
    const auto key = std::make_pair(m.tokenizer_path, file);
    auto it = texts_.find(key);
    if (it != texts_.end()) return it->second;
    TextFacts t;
    try {
      const std::string s = read_text_file(file);
      if (s.empty()) throw Error("'" + file + "' is empty");
      t.tokens = int64_t(m.tok->encode(s).size());
    } catch (const std::exception& e) {
      t.error = e.what();
    }
    return texts_.emplace(key, std::move(t)).first->second;
  }

  std::string task(const std::string& file) {
    auto it = tasks_.find(file);
    if (it != tasks_.end()) return it->second;
    std::string err;
    try {
      TaskOptions o;  // any task file: multiple choice, generation, LAMBADA
      o.task_files = {file};
      check_task_files(o);
    } catch (const std::exception& e) {
      err = "task file '" + file + "': " + e.what();
    }
    return tasks_.emplace(file, err).first->second;
  }

 private:
  std::map<std::string, ModelFacts> models_;
  std::map<std::string, std::string> devices_, tasks_;
  std::map<std::pair<std::string, std::string>, TextFacts> texts_;
};

using Problems = std::vector<std::string>;

std::string quoted_list(const std::vector<std::string>& files) {
  std::string s;
  for (const auto& f : files) s += (s.empty() ? "'" : ", '") + f + "'";
  return s;
}

// Group sizes and bits against every linear layer, and overrides that match none.
void check_plan(const ExperimentSpec& s, const ModelConfig& cfg, Problems* out) {
  // A quantizer with its own grouping (StrategyInfo::own_grouping, BiLLM's column blocks): the
  // run's bits and group do not apply to it.
  const auto stages = s.method == "fp" ? std::vector<const StrategyInfo*>{} : parse_method(s.method);
  const bool own_groups = !stages.empty() && stages.back()->own_grouping;
  std::vector<std::string> names;
  std::string first;
  int failing = 0;
  for (int i = 0; i < cfg.num_layers; ++i)
    for (const auto& l : block_linears(cfg, i)) {
      const std::string name = linear_full_name(i, l.name);
      names.push_back(name);
      const auto spec = s.plan.spec_for(name, l.type);
      if (!spec || own_groups) continue;
      try {
        spec->validate(l.in_features);
      } catch (const Error& e) {
        if (failing++ == 0) first = "layer " + name + " (input width " + std::to_string(l.in_features) + "): " + e.what();
      }
    }
  if (failing)
    out->push_back(first + (failing > 1 ? " (and " + std::to_string(failing - 1) + " more layers)" : std::string()));
  try {
    check_overrides_match(s.plan, names);
  } catch (const Error& e) {
    out->push_back(e.what());
  }
}

void check_texts(const ExperimentSpec& s, const ModelFacts& m, Facts& facts, Problems* out) {
  const bool texts = !s.eval_text.empty() || !s.calib.files.empty();
  if (!texts) return;
  if (!m.tok) {
    out->push_back(m.tok_error.empty() ? "no tokenizer.json in '" + s.model_dir + "' to tokenize the eval and calibration texts"
                                       : "tokenizer of '" + s.model_dir + "': " + m.tok_error);
    return;
  }
  if (!s.eval_text.empty()) {
    const TextFacts& t = facts.text(m, s.eval_text);
    if (!t.error.empty())
      out->push_back("eval text: " + t.error);
    else if (t.tokens < s.eval_seqlen)
      out->push_back("eval text '" + s.eval_text + "' has " + std::to_string(t.tokens) +
                     " tokens, fewer than one window of eval seqlen " + std::to_string(s.eval_seqlen));
  }
  if (s.calib.files.empty()) return;
  int64_t tokens = 0;
  bool ok = true;
  for (const auto& f : s.calib.files) {
    const TextFacts& t = facts.text(m, f);
    if (!t.error.empty()) out->push_back("calibration text: " + t.error);
    ok = ok && t.error.empty();
    tokens += t.tokens;
  }
  if (!ok) return;
  const std::string files = quoted_list(s.calib.files);
  if (s.calib.sampling == "awq") {
    const auto need = checked_product({s.calib.nsamples, s.calib.seqlen});
    if (!need || *need > tokens)
      out->push_back("calibration nsamples " + std::to_string(s.calib.nsamples) + " x seqlen " + std::to_string(s.calib.seqlen) +
                     " needs " + (need ? std::to_string(*need) : std::string("more than 2^63")) + " tokens; " + files +
                     " has " + std::to_string(tokens) + " (at most " + std::to_string(tokens / s.calib.seqlen) +
                     " samples of this seqlen)");
  } else if (s.calib.sampling == "llm-awq") {
    if (tokens < s.calib.seqlen)
      out->push_back("calibration text " + files + " has " + std::to_string(tokens) +
                     " tokens, fewer than one llm-awq block of seqlen " + std::to_string(s.calib.seqlen));
  } else if (tokens <= s.calib.seqlen) {
    out->push_back("calibration text " + files + " has " + std::to_string(tokens) +
                   " tokens, too few for windows of seqlen " + std::to_string(s.calib.seqlen));
  }
}

void check_memory(const ExperimentSpec& s, const ModelFacts& m, Problems* out) {
  if (s.calib.files.empty()) return;
  const at::Device dev = parse_device(s.device);
  const int64_t avail = available_memory(dev);
  const int64_t act = calibration_activation_bytes(s, m.cfg);
  const std::string asked = "calibration nsamples " + std::to_string(s.calib.nsamples) + " x seqlen " +
                            std::to_string(s.calib.seqlen) + " x hidden " + std::to_string(m.cfg.hidden_size);
  if (act < 0) {
    out->push_back(asked + ": the activations' size overflows 64 bits");
    return;
  }
  if (avail < 0 || act <= avail) return;
  const int64_t per_sample = calibration_activation_bytes([&] {
    ExperimentSpec one = s;
    one.calib.nsamples = 1;
    return one;
  }(), m.cfg);
  out->push_back(asked + " needs about " + gib(act) + " for the calibration activations on " + s.device + ", " +
                 gib(avail) + " is available (at most about " +
                 std::to_string(per_sample > 0 ? avail / per_sample : 0) + " samples of this seqlen)");
}

Problems problems_of(const ExperimentSpec& s, Facts& facts) {
  Problems out;
  try {
    s.validate();
  } catch (const Error& e) {
    out.push_back(e.what());
    return out;
  }
  const std::string dev_error = facts.device(s.device);
  if (!dev_error.empty()) out.push_back(dev_error);
  bool tasks_ok = true;
  for (const auto& t : s.task_files) {
    const std::string e = facts.task(t);
    if (!e.empty()) out.push_back(e), tasks_ok = false;
  }
  if (tasks_ok && !s.fewshot.empty()) {  // the few-shot files against their tasks
    try {
      TaskOptions o;
      o.task_files = s.task_files;
      o.num_fewshot = s.fewshot.num;
      o.fewshot_files = s.fewshot.files;
      check_task_files(o);
    } catch (const Error& e) {
      out.push_back(std::string("few-shot: ") + e.what());
    }
  }
  const ModelFacts& m = facts.model(s.model_dir);
  if (!m.error.empty()) {
    out.push_back("model '" + s.model_dir + "': " + m.error);
    return out;
  }
  if (s.method != "fp") check_plan(s, m.cfg, &out);
  check_texts(s, m, facts, &out);
  if (dev_error.empty()) check_memory(s, m, &out);
  return out;
}

}  // namespace

int64_t calibration_activation_bytes(const ExperimentSpec& s, const ModelConfig& cfg) {
  // Mamba's residual stream (the blocks' inputs and outputs) stays float32 with residual_in_fp32.
  const int64_t elem = cfg.residual_in_fp32 ? 4 : int64_t(c10::elementSize(parse_dtype(s.dtype)));
  // llm-awq sampling: nsamples documents of at most 512 tokens, so at most nsamples * 512 tokens of windows.
  const int64_t per_sample = s.calib.sampling == "llm-awq" ? std::max<int64_t>(s.calib.seqlen, 512) : s.calib.seqlen;
  const auto acts = checked_product({2, s.calib.nsamples, per_sample, cfg.hidden_size, elem});
  const auto scores = checked_product({std::min(s.calib_batch, s.calib.nsamples), std::max<int64_t>(cfg.num_heads, 1),
                                       s.calib.seqlen, s.calib.seqlen, 4});
  if (!acts || !scores) return -1;
  const auto total = checked_sum({*acts, *scores});
  return total ? *total : -1;
}

std::vector<RunProblem> run_problems(const std::vector<ExperimentSpec>& runs) {
  Facts facts;
  std::vector<RunProblem> out;
  std::map<std::string, size_t> index;
  for (const auto& r : runs) {
    const std::string id = r.run_id();
    for (const auto& p : problems_of(r, facts)) {
      auto it = index.find(p);
      if (it == index.end()) {
        index.emplace(p, out.size());
        out.push_back({p, {id}});
      } else {
        out[it->second].run_ids.push_back(id);
      }
    }
  }
  return out;
}

void check_runs(const std::vector<ExperimentSpec>& runs) {
  const auto problems = run_problems(runs);
  if (problems.empty()) return;
  std::string msg = std::to_string(problems.size()) + (problems.size() == 1 ? " problem" : " problems") +
                    " before any run started:";
  for (const auto& p : problems) {
    msg += "\n  - " + p.problem;
    if (runs.size() > 1) {
      msg += " [" + std::to_string(p.run_ids.size()) + " of " + std::to_string(runs.size()) + " runs: " + p.run_ids[0];
      if (p.run_ids.size() > 1) msg += ", ...";
      msg += "]";
    }
  }
  throw Error(msg);
}

}  // namespace ptq
