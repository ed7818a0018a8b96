// Checkpoint reading: sharded and single files, and every kind of bad input named clearly.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>

#include "core/io/checkpoint.h"
#include "core/runtime/device.h"
#include "core/runtime/errors.h"
#include "core/records/json_util.h"
#include "core/model/model.h"
#include "core/io/safetensors.h"
#include "core/text/tokenizer.h"
#include "eval/metrics/perplexity.h"
#include "tests/check.h"

using namespace ptq;

namespace {

std::string tmpdir(const std::string& tag) {
  std::string d = "/tmp/ptq-test-" + std::to_string(::getpid()) + "-" + tag;
  ::mkdir(d.c_str(), 0755);
  return d;
}

std::string llama() { return test::shared_dir() + "/parity/llama"; }

// Writes a safetensors file from a raw header and data section.
void write_raw(const std::string& path, const std::string& header, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) f.put(char((n >> (8 * i)) & 0xff));
  f << header << data;
}

// A copy of the llama parity checkpoint with `edit` applied to its tensor list and config.
std::string variant(const std::string& tag, const std::function<void(std::vector<std::pair<std::string, at::Tensor>>&)>& edit,
                    const std::function<void(json&)>& edit_config = {}) {
  std::string d = tmpdir(tag);
  SafetensorsFile src(llama() + "/model.safetensors");
  std::vector<std::pair<std::string, at::Tensor>> ts;
  for (const auto& kv : src.tensors()) ts.emplace_back(kv.first, src.load(kv.first));
  edit(ts);
  save_safetensors(d + "/model.safetensors", ts);
  json cfg = read_json_file(llama() + "/config.json");
  if (edit_config) edit_config(cfg);
  write_json_atomic(d + "/config.json", cfg);
  return d;
}

}  // namespace

TEST_CASE("header length past the end of the file") {
  std::string p = tmpdir("hdr") + "/model.safetensors";
  write_raw(p, "{}", "");
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  f.put(char(0xff));  // header length 255 in a 10-byte file
  f.close();
  CHECK_THROWS_WITH(SafetensorsFile{p}, "runs past the end of the file");
}

TEST_CASE("file shorter than the header length field") {
  std::string p = tmpdir("short") + "/model.safetensors";
  std::ofstream(p) << "abc";
  CHECK_THROWS_WITH(SafetensorsFile{p}, "shorter than the 8-byte header");
}

TEST_CASE("truncated data section") {
  std::string d = tmpdir("trunc");
  std::string src = read_text_file(llama() + "/model.safetensors");
  write_file_atomic(d + "/model.safetensors", src.substr(0, src.size() / 2));
  CHECK_THROWS_WITH(SafetensorsFile{d + "/model.safetensors"}, "file truncated");
}

TEST_CASE("offsets outside the data, overlapping tensors, unknown dtype, bad JSON, byte count") {
  std::string d = tmpdir("raw");
  write_raw(d + "/a.safetensors", R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", std::string(4, '\0'));
  CHECK_THROWS_WITH(SafetensorsFile{d + "/a.safetensors"}, "ends at byte 8");
  write_raw(d + "/b.safetensors",
            R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
            std::string(12, '\0'));
  CHECK_THROWS_WITH(SafetensorsFile{d + "/b.safetensors"}, "overlap");
  write_raw(d + "/c.safetensors", R"({"x":{"dtype":"F7","shape":[2],"data_offsets":[0,8]}})", std::string(8, '\0'));
  CHECK_THROWS_WITH(SafetensorsFile{d + "/c.safetensors"}, "unknown dtype 'F7'");
  write_raw(d + "/e.safetensors", R"({"x":{"dtype":"F32","shape":[2],)", std::string(8, '\0'));
  CHECK_THROWS_WITH(SafetensorsFile{d + "/e.safetensors"}, "malformed JSON");
  write_raw(d + "/f.safetensors", R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", std::string(8, '\0'));
  CHECK_THROWS_WITH(SafetensorsFile{d + "/f.safetensors"}, "need 12");
  write_raw(d + "/g.safetensors", R"({"x":{"dtype":"I16","shape":[2],"data_offsets":[0,4]}})", std::string("\x01\x00\xff\xff", 4));
  SafetensorsFile g(d + "/g.safetensors");
  at::Tensor x = g.load("x");
  CHECK(x.scalar_type() == at::kShort && x[0].item<int64_t>() == 1 && x[1].item<int64_t>() == -1);
}

TEST_CASE("missing tensor is named") {
  std::string d = variant("missing", [](auto& ts) {
    ts.erase(std::remove_if(ts.begin(), ts.end(), [](auto& kv) { return kv.first == "model.layers.1.mlp.up_proj.weight"; }),
             ts.end());
  });
  CHECK_THROWS_WITH(Checkpoint::open(d), "model.layers.1.mlp.up_proj.weight' is missing");
}

TEST_CASE("shape disagreeing with config.json is named") {
  std::string d = variant("shape", [](auto&) {}, [](json& c) { c["intermediate_size"] = 96; });
  CHECK_THROWS_WITH(Checkpoint::open(d), "config.json implies");
}

TEST_CASE("unknown architecture names the supported ones") {
  std::string d = variant("arch", [](auto&) {}, [](json& c) { c["architectures"] = {"GPTNeoXForCausalLM"}; });
  CHECK_THROWS_WITH(Checkpoint::open(d), "supported architectures: LlamaForCausalLM, MistralForCausalLM");
}

TEST_CASE("malformed config.json, missing folder, missing weights") {
  std::string d = tmpdir("badcfg");
  std::ofstream(d + "/config.json") << "{\"architectures\": [\"LlamaForCausalLM\",";
  CHECK_THROWS_WITH(Checkpoint::open(d), "malformed JSON");
  CHECK_THROWS_WITH(Checkpoint::open("/nonexistent/model"), "does not exist");
  std::string e = tmpdir("noweights");
  write_file_atomic(e + "/config.json", read_text_file(llama() + "/config.json"));
  CHECK_THROWS_WITH(Checkpoint::open(e), "expected model.safetensors or model.safetensors.index.json");
}

TEST_CASE("sharded checkpoint gives the same logits as the single file") {
  at::NoGradGuard ng;
  std::string d = tmpdir("sharded");
  SafetensorsFile src(llama() + "/model.safetensors");
  std::vector<std::pair<std::string, at::Tensor>> a, b;
  json map = json::object();
  int i = 0;
  for (const auto& kv : src.tensors()) {
    bool first = (i++ % 2 == 0);
    (first ? a : b).emplace_back(kv.first, src.load(kv.first));
    map[kv.first] = first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  save_safetensors(d + "/model-00001-of-00002.safetensors", a);
  save_safetensors(d + "/model-00002-of-00002.safetensors", b);
  write_json_atomic(d + "/model.safetensors.index.json", {{"metadata", json::object()}, {"weight_map", map}});
  write_file_atomic(d + "/config.json", read_text_file(llama() + "/config.json"));
  at::Tensor ids = at::randint(0, 8192, {1, 10}, at::kLong);
  auto m1 = Model::load(llama());
  auto m2 = Model::load(d);
  CHECK((m1->forward(ids) - m2->forward(ids)).abs().max().item<double>() == 0.0);
  ::unlink((d + "/model-00002-of-00002.safetensors").c_str());
  CHECK_THROWS_WITH(Checkpoint::open(d), "model-00002-of-00002.safetensors");
}

TEST_CASE("text shorter than one window; bad device and dtype") {
  CHECK_THROWS_WITH(make_windows(std::vector<int64_t>(100, 1), 512), "fewer than one window of 512");
  CHECK_THROWS_WITH(parse_dtype("int3"), "choose float32, bfloat16 or float16");
  CHECK_THROWS_WITH(parse_device("tpu"), "unknown device");
}

// ---------------------------------------------------------------- hostile inputs (issue 11)

namespace {

std::string nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// config.json of the llama (or mixtral) parity model with one edit, parsed as Checkpoint::open would.
ModelConfig config_with(const std::function<void(json&)>& edit, const std::string& base = "llama") {
  json cfg = read_json_file(test::shared_dir() + "/parity/" + base + "/config.json");
  edit(cfg);
  return ModelConfig::from_json(cfg, "test config.json");
}

// A folder holding the llama parity config.json and `shards` written as raw safetensors copies.
std::string sharded_dir(const std::string& tag, const json& weight_map) {
  std::string d = tmpdir(tag);
  write_file_atomic(d + "/config.json", read_text_file(llama() + "/config.json"));
  write_json_atomic(d + "/model.safetensors.index.json", {{"weight_map", weight_map}});
  return d;
}

}  // namespace

TEST_CASE("JSON nesting is bounded for every input, with the depth and the file named") {
  CHECK(json_depth(parse_json(nested(kMaxJsonDepth), "x")) == kMaxJsonDepth);
  CHECK_THROWS_WITH(parse_json(nested(kMaxJsonDepth + 1), "'deep.json'"), "'deep.json': nested deeper than 128 levels");
  std::string d = tmpdir("deepcfg");
  write_file_atomic(d + "/config.json", "{\"architectures\": [\"LlamaForCausalLM\"], \"x\": " + nested(130000) + "}");
  write_file_atomic(d + "/model.safetensors", read_text_file(llama() + "/model.safetensors"));
  CHECK_THROWS_WITH(Checkpoint::open(d), "config.json': nested deeper than 128");
  // A document built in memory is measured before from_json copies it (the copy recurses).
  json deep = read_json_file(llama() + "/config.json"), *at = &deep["extra"];
  for (int i = 0; i < 200; ++i) at = &((*at)["k"] = json::object());
  CHECK_THROWS_WITH(ModelConfig::from_json(deep, "built"), "built: nested 202 levels deep");
  std::string h = "{\"x\":" + nested(50000) + "}";
  write_raw(d + "/deep.safetensors", h, "");
  CHECK_THROWS_WITH(SafetensorsFile{d + "/deep.safetensors"}, "nested deeper than 128");
}

TEST_CASE("config.json: every size and divisor validated with the key named") {
  auto set = [](const char* key, json v) { return [=](json& c) { c[key] = v; }; };
  const std::pair<std::function<void(json&)>, const char*> bad[] = {
      {set("num_key_value_heads", 0), "'num_key_value_heads' is 0"},
      {set("num_key_value_heads", 3), "not a multiple of num_key_value_heads (3)"},
      {set("num_key_value_heads", 2.5), "'num_key_value_heads' is 2.5"},
      {set("num_key_value_heads", "2"), "'num_key_value_heads' is \"2\""},
      {set("num_attention_heads", 0), "'num_attention_heads' is 0"},
      {set("hidden_size", 0), "'hidden_size' is 0"},
      {set("hidden_size", uint64_t(1) << 63), "'hidden_size' is 9223372036854775808"},
      {set("intermediate_size", -128), "'intermediate_size' is -128"},
      {set("head_dim", 0), "'head_dim' is 0"},
      {set("head_dim", 15), "'head_dim' (15) must be even"},
      {set("vocab_size", 0), "'vocab_size' is 0"},
      {set("num_hidden_layers", 1000000000000), "'num_hidden_layers' is 1000000000000, expected an integer from 1 to 4096"},
      {set("max_position_embeddings", 0), "'max_position_embeddings' is 0"},
      {set("max_position_embeddings", -4), "'max_position_embeddings' is -4"},
      {set("rope_theta", 0), "'rope_theta' is 0"},
      {set("rope_theta", -10000.0), "'rope_theta' is -10000.0"},
      {set("rms_norm_eps", -1e-6), "'rms_norm_eps' is -1e-06"},
      {set("rope_scaling", "linear"), "'rope_scaling' is \"linear\", expected an object or null"},
      {set("rope_scaling", 2), "'rope_scaling' is 2"},
      {set("rope_scaling", json{{"rope_type", "linear"}, {"factor", 0}}), "'rope_scaling.factor' is 0"},
      {set("rope_scaling", json{{"rope_type", "llama3"}, {"factor", -8}}), "'rope_scaling.factor' is -8"},
      {set("rope_scaling", json{{"rope_type", "llama3"}, {"factor", 8}, {"low_freq_factor", 4}, {"high_freq_factor", 4}}),
       "high_freq_factor (4.000000) must be greater than rope_scaling.low_freq_factor"},
      {set("rope_parameters", "default"), "'rope_parameters' is \"default\""},
      {set("tie_word_embeddings", 1), "'tie_word_embeddings' is 1, expected true or false"},
  };
  for (const auto& [edit, msg] : bad) CHECK_THROWS_WITH(config_with(edit), msg);
  CHECK(config_with([](json& c) { c.erase("head_dim"); }).head_dim == 16);
  CHECK_THROWS_WITH(config_with([](json& c) { c.erase("head_dim"); c["hidden_size"] = 3; }), "no 'head_dim'");
  CHECK_THROWS_WITH(config_with(set("num_local_experts", 10000000000), "mixtral"), "'num_local_experts' is 10000000000");
  CHECK_THROWS_WITH(config_with(set("num_experts_per_tok", 0), "mixtral"), "'num_experts_per_tok' is 0");
  CHECK_THROWS_WITH(config_with(set("num_experts_per_tok", 5), "mixtral"), "'num_experts_per_tok' is 5, expected an integer from 1 to 4");
  CHECK(config_with([](json&) {}, "mixtral").num_experts == 4);
}

TEST_CASE("config.json layer and expert counts are checked against the tensors present") {
  std::string d = variant("layers4096", [](auto&) {}, [](json& c) { c["num_hidden_layers"] = 4096; });
  CHECK_THROWS_WITH(Checkpoint::open(d), "tensor 'model.layers.2.input_layernorm.weight' is missing from the checkpoint in '" + d +
                                           "' (config.json declares num_hidden_layers 4096, which need 36867 tensors; the checkpoint holds 21)");
}

TEST_CASE("safetensors: duplicate names, hidden overlap, float shape, count overflow, gaps") {
  std::string d = tmpdir("st11");
  auto refused = [&](const std::string& header, size_t data, const std::string& msg) {
    write_raw(d + "/x.safetensors", header, std::string(data, '\0'));
    CHECK_THROWS_WITH(SafetensorsFile{d + "/x.safetensors"}, msg);
  };
  refused(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"x":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", 16,
          "key \"x\" appears twice");
  // Sorted by begin, z (empty) sits between x and y, so comparing neighbours alone misses x/y.
  refused(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"z":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},)"
          R"("y":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12, "overlap");
  refused(R"({"x":{"dtype":"F32","shape":[64.5],"data_offsets":[0,256]}})", 256, "shape entry 64.5");
  refused(R"({"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8, "shape entry -2");
  refused(R"({"x":{"dtype":"U8","shape":[6148914691236517206, 3],"data_offsets":[0,2]}})", 8, "overflows 64 bits");
  refused(R"({"x":{"dtype":"F32","shape":[4611686018427387905],"data_offsets":[0,4]}})", 8, "byte count overflows");
  refused(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8, "bytes 0 to 4 of the data section belong to no tensor");
  refused(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 8, "cover 4 bytes but the data section has 8");
  refused(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0.0,4]}})", 4, "data_offsets [begin, end]");
  refused(R"({"__metadata__":{"format":1},"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4, "'format' is not a string");
  write_raw(d + "/ok.safetensors",
            R"({"z":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
            std::string(4, '\0'));
  CHECK(SafetensorsFile(d + "/ok.safetensors").tensors().size() == 2);  // a zero-size tensor at the end is fine
}

TEST_CASE("integer norm weights are refused, not run") {
  std::string d = variant("intnorm", [](auto& ts) {
    for (auto& kv : ts)
      if (kv.first == "model.layers.0.input_layernorm.weight") kv.second = kv.second.to(at::kInt);
  });
  CHECK_THROWS_WITH(Checkpoint::open(d), "'model.layers.0.input_layernorm.weight' is stored as I32");
}

TEST_CASE("sharded index: tensor in two shards, non-string entries, paths leaving the folder") {
  SafetensorsFile src(llama() + "/model.safetensors");
  std::vector<std::pair<std::string, at::Tensor>> all;
  for (const auto& kv : src.tensors()) all.emplace_back(kv.first, src.load(kv.first));
  json map = json::object();
  for (const auto& kv : all) map[kv.first] = "a.safetensors";
  std::string d = sharded_dir("idx-two", map);
  save_safetensors(d + "/a.safetensors", all);
  save_safetensors(d + "/b.safetensors", {all[0]});
  CHECK(Checkpoint::open(d)->has(all[0].first));
  map[all[1].first] = "b.safetensors";  // b holds all[0] too: the same tensor in two files
  write_json_atomic(d + "/model.safetensors.index.json", {{"weight_map", map}});
  CHECK_THROWS_WITH(Checkpoint::open(d), "is stored in two shards");
  write_file_atomic(d + "/model.safetensors.index.json",
                    "{\"weight_map\": {\"" + all[0].first + "\": \"a.safetensors\", \"" + all[0].first + "\": \"b.safetensors\"}}");
  CHECK_THROWS_WITH(Checkpoint::open(d), "appears twice");
  const std::pair<json, const char*> bad[] = {{json(7), "is number, expected the shard file name as a string"},
                                              {json("../../etc/passwd"), "leaves the model folder"},
                                              {json("sub/../../x.safetensors"), "leaves the model folder"},
                                              {json("/etc/passwd"), "is an absolute path"},
                                              {json(""), "is empty"}};
  for (const auto& [value, msg] : bad) {
    map[all[1].first] = value;
    write_json_atomic(d + "/model.safetensors.index.json", {{"weight_map", map}});
    CHECK_THROWS_WITH(Checkpoint::open(d), msg);
  }
  std::string outside = tmpdir("idx-outside");
  save_safetensors(outside + "/c.safetensors", {all[1]});
  ::unlink((d + "/link.safetensors").c_str());
  CHECK(::symlink((outside + "/c.safetensors").c_str(), (d + "/link.safetensors").c_str()) == 0);
  map[all[1].first] = "link.safetensors";
  write_json_atomic(d + "/model.safetensors.index.json", {{"weight_map", map}});
  CHECK_THROWS_WITH(Checkpoint::open(d), "outside the model folder");
}

TEST_CASE("sharded index: Hugging Face hub cache links into ../../blobs are accepted") {
  std::string repo = tmpdir("hub-models--x--y");
  ::mkdir((repo + "/blobs").c_str(), 0755);
  ::mkdir((repo + "/snapshots").c_str(), 0755);
  std::string snap = repo + "/snapshots/abc";
  ::mkdir(snap.c_str(), 0755);
  write_file_atomic(repo + "/blobs/0123", read_text_file(llama() + "/model.safetensors"));
  json map = json::object();
  SafetensorsFile src(llama() + "/model.safetensors");
  for (const auto& kv : src.tensors()) map[kv.first] = "model-1.safetensors";
  write_json_atomic(snap + "/model.safetensors.index.json", {{"weight_map", map}});
  write_file_atomic(snap + "/config.json", read_text_file(llama() + "/config.json"));
  ::unlink((snap + "/model-1.safetensors").c_str());
  CHECK(::symlink("../../blobs/0123", (snap + "/model-1.safetensors").c_str()) == 0);
  CHECK(Checkpoint::open(snap)->has("model.norm.weight"));
}

TEST_CASE("a FIFO as weights, shard, config.json or tokenizer.json is refused without blocking") {
  ::alarm(30);  // before the fix open() blocked for ever: fail by SIGALRM instead of hanging
  std::string d = tmpdir("fifo");
  write_file_atomic(d + "/config.json", read_text_file(llama() + "/config.json"));
  ::unlink((d + "/model.safetensors").c_str());
  CHECK(::mkfifo((d + "/model.safetensors").c_str(), 0644) == 0);
  CHECK_THROWS_WITH(Checkpoint::open(d), "is not a regular file");
  CHECK_THROWS_WITH(SafetensorsFile{d + "/model.safetensors"}, "is not a regular file");
  CHECK_THROWS_WITH(Tokenizer::from_file(d + "/model.safetensors"), "is not a regular file");
  ::unlink((d + "/config.json").c_str());
  CHECK(::mkfifo((d + "/config.json").c_str(), 0644) == 0);
  CHECK_THROWS_WITH(Checkpoint::open(d), "config.json' is not a regular file");
  std::string s = sharded_dir("fifo-shard", {{"model.norm.weight", "a.safetensors"}});
  ::unlink((s + "/a.safetensors").c_str());
  CHECK(::mkfifo((s + "/a.safetensors").c_str(), 0644) == 0);
  CHECK_THROWS_WITH(Checkpoint::open(s), "shard '" + s + "/a.safetensors' is not a regular file");
  ::alarm(0);
}

TEST_CASE("a safetensors file truncated while open gives an error naming it, not SIGBUS") {
  std::string p = tmpdir("sigbus") + "/model.safetensors";
  write_file_atomic(p, read_text_file(llama() + "/model.safetensors"));
  SafetensorsFile f(p);
  std::string last;  // the tensor stored last, beyond the cut
  for (const auto& kv : f.tensors())
    if (last.empty() || kv.second.end > f.info(last).end) last = kv.first;
  CHECK(f.load(last).numel() > 0);
  CHECK(::truncate(p.c_str(), off_t(f.file_size() / 2)) == 0);
  CHECK_THROWS_WITH(f.load(last), "safetensors file '" + p + "' changed while it was open");
}

TEST_CASE("a tokenizer with ids beyond the model's vocab_size is refused where they meet") {
  Tokenizer tok = Tokenizer::from_file(llama() + "/tokenizer.json");
  CHECK(tok.max_token_id() == 8191);
  tok.check_fits_model(8192, "llama");
  CHECK_THROWS_WITH(tok.check_fits_model(4096, "'small'"), "has ids up to 8191 but the model 'small' has vocab_size 4096");
}
