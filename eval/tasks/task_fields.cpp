#include "eval/tasks/task_fields.h"

#include <algorithm>
#include <cctype>

#include "core/records/json_util.h"
#include "core/runtime/errors.h"

namespace ptq::task_fields {

const nlohmann::json& field(const nlohmann::json& j, const char* key) {
  if (!j.contains(key)) throw Error("missing field \"" + std::string(key) + "\"");
  return j.at(key);
}

std::string text_field(const nlohmann::json& j, const char* key) {
  const auto& v = field(j, key);
  if (!v.is_string()) throw Error("field \"" + std::string(key) + "\" must be a string");
  return v.get<std::string>();
}

std::vector<std::string> text_list(const nlohmann::json& v, const char* key) {
  if (!v.is_array() || v.empty()) throw Error("field \"" + std::string(key) + "\" must be a non-empty list of strings");
  std::vector<std::string> out;
  for (const auto& e : v) {
    if (!e.is_string()) throw Error("field \"" + std::string(key) + "\" must be a non-empty list of strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

int index_field(const nlohmann::json& v, const std::string& key) {
  if (v.is_number_integer()) {
    // Read wide, then range-check: 4294967296 must not wrap to 0.
    const bool fits = v.is_number_unsigned() ? v.get<uint64_t>() <= uint64_t(1) << 30
                                             : v.get<int64_t>() >= -(int64_t(1) << 30) && v.get<int64_t>() <= int64_t(1) << 30;
    if (!fits) throw Error("field \"" + key + "\" = " + v.dump() + " is not a valid choice index");
    return int(v.get<int64_t>());
  }
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (!s.empty() && s.size() < 9 && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); })) return std::stoi(s);
  }
  throw Error("field \"" + key + "\" must be an integer index");
}

const char* first_key(const nlohmann::json& j, std::initializer_list<const char*> keys) {
  for (const char* k : keys)
    if (j.contains(k)) return k;
  return nullptr;
}

std::string replace_all(const std::string& s, const std::string& from, const std::string& to) {
  std::string out;
  size_t pos = 0;
  for (size_t p; (p = s.find(from, pos)) != std::string::npos; pos = p + from.size()) out += s.substr(pos, p - pos) + to;
  return out + s.substr(pos);
}

std::string strip(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\n\r\f\v"), e = s.find_last_not_of(" \t\n\r\f\v");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

void for_each_jsonl_object(const std::string& path, const std::function<void(const nlohmann::json&, int)>& visit) {
  const std::string text = read_text_file(path);
  size_t pos = 0;
  for (int line = 1; pos < text.size(); ++line) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    const std::string s = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (s.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = "'" + path + "' line " + std::to_string(line);
    try {
      visit(parse_json(s, where), line);
    } catch (const Error& e) {
      const std::string msg = e.what();
      throw Error(msg.find(where) != std::string::npos ? msg : where + ": " + msg);
    }
  }
}

nlohmann::json first_jsonl_object(const std::string& path) {
  const std::string text = read_text_file(path);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    const std::string s = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (s.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j = nlohmann::json::parse(s, nullptr, false);
    return j.is_discarded() ? nlohmann::json() : j;
  }
  return nullptr;
}

}  // namespace ptq::task_fields
