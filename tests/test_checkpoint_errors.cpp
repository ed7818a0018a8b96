// Checkpoint reading: sharded and single files, and every kind of bad input named clearly.
#include <ATen/ATen.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "core/io/checkpoint.h"
#include "core/runtime/device.h"
#include "core/runtime/errors.h"
#include "core/records/json_util.h"
#include "core/model/model.h"
#include "core/io/safetensors.h"
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
  CHECK_THROWS_WITH(SafetensorsFile{d + "/e.safetensors"}, "not valid JSON");
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

TEST_MAIN()
