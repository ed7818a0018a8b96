#include "app/cli/args.h"

#include <cctype>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "core/model/block_split.h"
#include "core/runtime/errors.h"

namespace ptq::cli {

Args::Args(const std::vector<std::string>& argv, const std::set<std::string>& valued,
           const std::set<std::string>& flags, const std::set<std::string>& repeated) {
  auto allowed = [&] {
    std::string s;
    for (const auto& v : valued) s += " --" + v;
    for (const auto& f : flags) s += " --" + f;
    return s;
  };
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.rfind("--", 0) != 0) {
      positional_.push_back(a);
      continue;
    }
    std::string key = a.substr(2), value;
    bool inline_value = false;
    auto eq = key.find('=');
    if (eq != std::string::npos) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
      inline_value = true;
    }
    if (flags.count(key)) {
      if (inline_value) throw Error("option --" + key + " takes no value");
      flags_.insert(key);
    } else if (valued.count(key)) {
      if (!inline_value) {
        if (i + 1 >= argv.size()) throw Error("option --" + key + " needs a value");
        value = argv[++i];
      }
      if (values_.count(key) && !repeated.count(key)) throw Error("option --" + key + " given twice");
      values_.emplace(key, value);
    } else {
      throw Error("unknown option --" + key + " (this command takes:" + allowed() + ")");
    }
  }
}

bool Args::has(const std::string& key) const { return values_.count(key) > 0; }

std::string Args::get(const std::string& key, const std::string& def) const {
  auto it = values_.find(key);
  return it == values_.end() ? def : it->second;
}

std::string Args::required(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) throw Error("missing required option --" + key);
  return it->second;
}

int64_t Args::get_int(const std::string& key, int64_t def, int64_t lo, int64_t hi) const {
  if (!has(key)) return def;
  const std::string v = get(key, "");
  const std::string range = " in " + std::to_string(lo) + ".." + std::to_string(hi);
  int64_t r = 0;
  size_t pos = 0;
  try {
    r = std::stoll(v, &pos);
  } catch (const std::out_of_range&) {
    throw Error("option --" + key + " expects an integer" + range + ", got '" + v + "' (out of range)");
  } catch (...) {
    pos = 0;
  }
  if (pos == 0 || pos != v.size() || std::isspace(static_cast<unsigned char>(v[0])))
    throw Error("option --" + key + " expects an integer" + range + ", got '" + v + "'");
  if (r < lo || r > hi) throw Error("option --" + key + " must be" + range + ", got " + v);
  return r;
}

double Args::get_double(const std::string& key, double def, double lo, double hi) const {
  if (!has(key)) return def;
  const std::string v = get(key, "");
  double r = 0;
  size_t pos = 0;
  try {
    r = std::stod(v, &pos);
  } catch (...) {
    pos = 0;
  }
  std::ostringstream range;
  range << " in [" << lo << ", " << hi << "]";
  if (pos == 0 || pos != v.size() || std::isspace(static_cast<unsigned char>(v[0])) || !std::isfinite(r))
    throw Error("option --" + key + " expects a finite number" + range.str() + ", got '" + v + "'");
  if (r < lo || r > hi) throw Error("option --" + key + " must be" + range.str() + ", got " + v);
  return r;
}

std::vector<std::string> Args::all(const std::string& key) const {
  std::vector<std::string> v;
  auto range = values_.equal_range(key);
  for (auto it = range.first; it != range.second; ++it) v.push_back(it->second);
  return v;
}

LoadOptions load_options(const Args& a) {
  LoadOptions lo;
  lo.device = a.get("device", "cpu");
  lo.dtype = a.get("dtype", "float32");
  lo.residency = parse_residency(a.get("residency", "auto"));
  if (a.has("split-devices")) {
    if (a.has("device")) throw Error("give --device D or --split-devices D1,D2,..., not both");
    lo.split_devices = parse_split_devices(a.get("split-devices", ""));
  }
  return lo;
}

Tokenizer model_tokenizer(const Model& model, const std::string& dir, const std::string& purpose) {
  const std::string path = model.checkpoint().tokenizer_path();
  if (path.empty()) throw Error("no tokenizer.json in '" + dir + "'" + purpose);
  Tokenizer tok = Tokenizer::from_file(path);
  tok.check_fits_model(model.config().vocab_size, "'" + dir + "'");
  return tok;
}

}  // namespace ptq::cli
