#pragma once
// Command-line options for the `ptq` subcommands: --key value, --flag, repeated keys and
// positionals. Unknown options are errors that list the ones the command takes.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/model/model.h"
#include "core/text/tokenizer.h"

namespace ptq::cli {

class Args {
 public:
  // `valued` options take a value, `flags` do not; `repeated` valued options may appear many times.
  Args(const std::vector<std::string>& argv, const std::set<std::string>& valued, const std::set<std::string>& flags,
       const std::set<std::string>& repeated = {});

  bool has(const std::string& key) const;
  bool flag(const std::string& key) const { return flags_.count(key) > 0; }
  std::string get(const std::string& key, const std::string& def) const;
  std::string required(const std::string& key) const;
  // The value as an integer in [lo, hi] (def when absent); anything else (not a number, trailing
  // characters, out of range, too large for 64 bits) is an error naming the option and the range.
  int64_t get_int(const std::string& key, int64_t def, int64_t lo, int64_t hi) const;
  // A finite number in [lo, hi] (def when absent).
  double get_double(const std::string& key, double def, double lo, double hi) const;
  std::vector<std::string> all(const std::string& key) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::multimap<std::string, std::string> values_;
  std::set<std::string> flags_;
  std::vector<std::string> positional_;
};

// --device (default cpu), --dtype (default float32), --residency (default auto) as model load options;
// --split-devices D1,D2,... (instead of --device) splits the blocks across devices for evaluation.
LoadOptions load_options(const Args& a);

// The tokenizer.json of a loaded model's checkpoint (folder `dir`), checked against the model's
// vocabulary. Without one it is an error: "no tokenizer.json in 'DIR'" followed by `purpose`
// (" to tokenize the calibration text").
Tokenizer model_tokenizer(const Model& model, const std::string& dir, const std::string& purpose = "");

}  // namespace ptq::cli
