#pragma once
// Reading lm-eval-harness task files: typed fields of one JSON object (errors name the field) and
// the objects of a JSONL file (errors name the file and the line). Shared by the multiple-choice
// (mc_tasks.h) and generation (generation_task.h) readers.
#include <nlohmann/json.hpp>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

namespace ptq::task_fields {

// j[key]; throws ptq::Error "missing field \"key\"".
const nlohmann::json& field(const nlohmann::json& j, const char* key);
// j[key] as a string; throws when missing or not a string.
std::string text_field(const nlohmann::json& j, const char* key);
// v as a non-empty list of strings (`key` names it in the error).
std::vector<std::string> text_list(const nlohmann::json& v, const char* key);
// An index given as an integer or a string of digits ("2"), within ±2^30 (never wrapped).
int index_field(const nlohmann::json& v, const std::string& key);
// The first of `keys` that j has, or nullptr.
const char* first_key(const nlohmann::json& j, std::initializer_list<const char*> keys);
// Python's str.replace: every non-overlapping occurrence, left to right, in one pass.
std::string replace_all(const std::string& s, const std::string& from, const std::string& to);
// Python's str.strip() for ASCII whitespace.
std::string strip(const std::string& s);

// Calls visit(object, line) for each non-blank line of the JSONL file at `path` (1-based line
// numbers). A ptq::Error from parsing or from `visit` is rethrown as "'path' line N: message".
void for_each_jsonl_object(const std::string& path, const std::function<void(const nlohmann::json&, int)>& visit);

// The first non-blank line of a JSONL file as a JSON value (null when it is not JSON or the file
// has no such line); for telling task formats apart before reading the whole file.
nlohmann::json first_jsonl_object(const std::string& path);

}  // namespace ptq::task_fields
