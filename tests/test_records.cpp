// Result records and experiments: sha256, provenance, the results directory (atomic writes,
// listing with problems), experiment spec JSON and run ids, the fp-vs-quantized output comparison
// (hand-made logits and a real model), sweep expansion, and run_experiment records.
#include <dirent.h>
#include <unistd.h>

#include <ATen/core/grad_mode.h>

#include <cmath>
#include <regex>

#include "core/runtime/errors.h"
#include "core/records/json_util.h"
#include "core/model/model.h"
#include "core/records/provenance.h"
#include "core/records/result_store.h"
#include "core/records/sha256.h"
#include "core/text/tokenizer.h"
#include "eval/experiment/experiment.h"
#include "eval/experiment/json_fields.h"
#include "eval/metrics/output_compare.h"
#include "eval/metrics/perplexity.h"
#include "eval/experiment/sweep.h"
#include "eval/experiment/sweep_runner.h"
#include "tests/check.h"
#include "tests/fixture_paths.h"
#include "tests/ppl_by_hand.h"

using namespace ptq;

namespace {

using test::corpus;
using test::tiny;

std::string temp_dir() { return test::temp_dir("records"); }

using test::dir_entries;

void remove_tree(const std::string& dir) {
  for (const auto& e : dir_entries(dir)) ::unlink(join_path(dir, e).c_str());
  ::rmdir(dir.c_str());
}


json minimal_record(const std::string& run_id) {
  return {{"schema", kResultSchemaName}, {"schema_version", kResultSchemaVersion}, {"run_id", run_id},
          {"status", "complete"}, {"metrics", {{"ppl", 12.5}}}};
}

ExperimentSpec gptq_spec() {
  ExperimentSpec s;
  s.model_dir = tiny();
  s.method = "gptq";
  s.plan.spec.bits = 3;
  s.plan.spec.group_size = 128;
  s.calib.files = {corpus("austen-valid.txt")};
  s.calib.nsamples = 16;
  s.calib.seqlen = 128;
  s.eval_text = corpus("austen-test.txt");
  s.eval_seqlen = 128;
  s.eval_max_windows = 4;
  return s;
}

}  // namespace

TEST_CASE("sha256 of known strings (FIPS 180-4 examples)") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // One million 'a', fed in uneven pieces: crosses many block boundaries.
  Sha256 h;
  std::string chunk(997, 'a');
  size_t left = 1000000;
  while (left > 0) {
    size_t k = std::min(left, chunk.size());
    h.update(chunk.data(), k);
    left -= k;
  }
  CHECK(h.hex_digest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  CHECK(sha256_file(tiny() + "/config.json") == "cf6fb5116ae8dc1cb53fc7fc129dd2abd929a23ac8d5299cd1c6bafee2baac6a");
  CHECK_THROWS_WITH(sha256_file("/nonexistent/config.json"), "/nonexistent/config.json");
}

TEST_CASE("model provenance of austen-tiny") {
  json p = model_provenance(tiny());
  CHECK(p["path"].get<std::string>()[0] == '/');
  CHECK(p["name"] == "austen-tiny");
  CHECK(p["architecture"] == "LlamaForCausalLM");
  CHECK(p["model_type"] == "llama");
  // By its config: tied embedding 8192x128, 4 blocks of q,o 128x128, k,v 64x128, 3 MLP 384x128
  // and 2 norms of 128, a final norm of 128.
  CHECK(p["parameters"] == 8192 * 128 + 4 * (2 * 128 * 128 + 2 * 64 * 128 + 3 * 384 * 128 + 2 * 128) + 128);
  CHECK(p["layers"] == 4);
  CHECK(p["config_sha256"] == "cf6fb5116ae8dc1cb53fc7fc129dd2abd929a23ac8d5299cd1c6bafee2baac6a");
  const std::string idx = p["index_sha256"];
  CHECK(std::regex_match(idx, std::regex("[0-9a-f]{64}")));
  // The same tensors under another folder name: same index hash, other name.
  json other = model_provenance(std::string(PTQ_SOURCE_DIR) + "/resources/demo-model");
  CHECK(other["index_sha256"] == idx);
  CHECK(other["name"] == "demo-model");
  // A different checkpoint has a different index.
  CHECK(model_provenance(test::shared_dir() + "/parity/llama")["index_sha256"] != idx);
  CHECK_THROWS_WITH(model_provenance("/nonexistent-model"), "/nonexistent-model");
}

TEST_CASE("runtime provenance and timestamps") {
  json r = runtime_provenance("cpu");
  CHECK(r["device"] == "cpu");
  CHECK(!r["git_commit"].get<std::string>().empty());
  CHECK(!r["libtorch"].get<std::string>().empty());
  CHECK(!r["host"].get<std::string>().empty());
  CHECK(r.contains("cuda"));
  CHECK(std::regex_match(utc_now_iso8601(), std::regex("20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z")));
  CHECK_THROWS_WITH(runtime_provenance("tpu"), "tpu");
}

TEST_CASE("write_record is atomic and record_complete checks the schema") {
  std::string dir = temp_dir() + "/nested/results";
  ensure_results_dir(dir);
  CHECK(is_directory(dir));
  std::string path = write_record(dir, minimal_record("run-a"));
  CHECK(path == dir + "/run-a.json");
  CHECK(read_json_file(path)["metrics"]["ppl"] == 12.5);
  write_record(dir, minimal_record("run-a"));  // replace: still one file, no temporaries
  CHECK(dir_entries(dir) == std::vector<std::string>{"run-a.json"});
  {
    AtomicFile f(join_path(dir, "run-b.json"));
    f.write("{", 1);
  }  // never committed
  CHECK(dir_entries(dir) == std::vector<std::string>{"run-a.json"});
  CHECK(record_complete(dir, "run-a"));
  CHECK(!record_complete(dir, "run-b"));
  json running = minimal_record("run-c");
  running["status"] = "running";
  write_record(dir, running);
  CHECK(!record_complete(dir, "run-c"));
  // Temporaries of a killed writer go; those of a live process (this one) stay.
  const std::string dead = atomic_temp_path(dir + "/run-d.json", 999999999, 17);
  write_file_atomic(dead, "{");
  const std::string live = atomic_temp_path(dir + "/run-e.json", ::getppid(), 3);
  write_file_atomic(live, "{");
  CHECK(remove_stale_temp_files(dir) == 1);
  CHECK(file_exists(live) && !file_exists(dead));
  ::unlink(live.c_str());
  CHECK_THROWS_WITH(write_record(dir, json{{"schema", kResultSchemaName}}), "run_id");
  CHECK_THROWS_WITH(write_record(dir, minimal_record("../escape")), "safe file name");
  remove_tree(dir);
}

TEST_CASE("ensure_results_dir names a directory it cannot create") {
  std::string dir = temp_dir();
  write_file_atomic(dir + "/plain-file", "x");
  CHECK_THROWS_WITH(ensure_results_dir(dir + "/plain-file/results"), dir + "/plain-file/results");
  CHECK_THROWS_WITH(ensure_results_dir(dir + "/plain-file"), "not a directory");
  CHECK_THROWS_WITH(ensure_results_dir("/proc/ptq-results"), "/proc/ptq-results");
  remove_tree(dir);
}

TEST_CASE("list_records skips garbage, foreign and newer files and reports them") {
  std::string dir = temp_dir();
  write_record(dir, minimal_record("good-2"));
  write_record(dir, minimal_record("good-1"));
  write_file_atomic(dir + "/garbage.json", "{\"schema\": \"ptq-workbench.result\", ");
  write_json_atomic(dir + "/foreign.json", json{{"hello", 1}});
  json newer = minimal_record("newer");
  newer["schema_version"] = kResultSchemaVersion + 1;
  write_json_atomic(dir + "/newer.json", newer);
  write_file_atomic(dir + "/notes.txt", "not a record, not even .json");
  std::vector<std::string> problems;
  auto recs = list_records(dir, &problems);
  CHECK(recs.size() == 2);
  CHECK(recs[0].path == dir + "/good-1.json" && recs[1].path == dir + "/good-2.json");
  CHECK(recs[1].record["run_id"] == "good-2");
  CHECK(problems.size() == 3);
  std::string all;
  for (const auto& p : problems) all += p + "\n";
  CHECK_MSG(all.find("garbage.json: malformed JSON") != std::string::npos, all);
  CHECK_MSG(all.find("foreign.json: not a ptq-workbench.result record") != std::string::npos, all);
  CHECK_MSG(all.find("newer.json: schema_version 2 is newer") != std::string::npos, all);
  CHECK(list_records(dir).size() == 2);  // problems optional
  CHECK_THROWS_WITH(list_records(dir + "/missing"), dir + "/missing");
  remove_tree(dir);
}

TEST_CASE("experiment spec JSON round trip") {
  ExperimentSpec s = gptq_spec();
  s.params = {{"gptq.percdamp", 0.05}};
  s.plan.overrides.push_back(parse_override("*.down_proj=bits:8"));
  s.analyses = {"compare", "kurtosis"};
  s.label = "calib=valid";
  json j = s.to_json();
  CHECK(j["bits"] == 3 && j["group"] == 128 && j["format"] == "int" && j["sym"] == false);
  CHECK(j["calibration"]["nsamples"] == 16 && j["eval"]["max_windows"] == 4);
  CHECK(j["overrides"][0]["pattern"] == "*.down_proj" && j["overrides"][0]["bits"] == 8);
  ExperimentSpec back = ExperimentSpec::from_json(j);
  CHECK(back.to_json() == j);
  CHECK(back.run_id() == s.run_id());
  // Overrides may also be written as the CLI's strings.
  j["overrides"] = json::array({"*.down_proj=bits:8"});
  CHECK(ExperimentSpec::from_json(j).run_id() == s.run_id());
  // fp specs leave the quantization keys out.
  json fp = ExperimentSpec::from_json(json{{"model", tiny()}, {"method", "fp"}}).to_json();
  CHECK(!fp.contains("bits") && fp["calibration"].is_null() && fp["eval"].is_null());
}

TEST_CASE("experiment spec errors name the key and the allowed values") {
  json good = gptq_spec().to_json();
  auto with = [&](const std::string& k, const json& v) {
    json j = good;
    j[k] = v;
    return j;
  };
  CHECK_THROWS_WITH(ExperimentSpec::from_json(with("bitz", 3)), "unknown key 'bitz'");
  CHECK_THROWS_WITH(ExperimentSpec::from_json(with("bitz", 3)), "allowed: model, method, bits");
  CHECK_THROWS_WITH(ExperimentSpec::from_json(with("method", "gptqq")), "unknown method 'gptqq'");
  CHECK_THROWS_WITH(ExperimentSpec::from_json(with("method", "gptqq")), "or fp");
  CHECK_THROWS_WITH(ExperimentSpec::from_json(with("format", "int3")), "'format' has unknown value 'int3' (allowed: int, nf4");
  CHECK_THROWS_WITH(ExperimentSpec::from_json(with("bits", "3")), "'bits' must be an integer");
  CHECK_THROWS_WITH(ExperimentSpec::from_json(with("bits", 9)), "'bits' must be an integer in 2..8, got 9");
  CHECK_THROWS_WITH(ExperimentSpec::from_json(with("group", 0)), "'group'");
  CHECK_THROWS_WITH(ExperimentSpec::from_json(with("analyses", json::array({"perplexity"}))),
                    "'analyses' has unknown value 'perplexity' (allowed: size, compare");
  CHECK_THROWS_WITH(ExperimentSpec::from_json(with("params", json{{"gptq.percdamp", "x"}})), "percdamp");
  CHECK_THROWS_WITH(ExperimentSpec::from_json(with("params", json{{"gptq.nonsense", 1}})), "nonsense");
  CHECK_THROWS_WITH(ExperimentSpec::from_json(with("residency", "gpu")), "'residency' has unknown value 'gpu'");
  CHECK_THROWS_WITH(ExperimentSpec::from_json(with("device", "tpu")), "'device' has unknown value 'tpu'");
  CHECK_THROWS_WITH(ExperimentSpec::from_json(with("dtype", "int8")), "unknown dtype 'int8'");
  CHECK_THROWS_WITH(ExperimentSpec::from_json(with("calibration", nullptr)), "'calibration' is required");
  json bad_cal = good;
  bad_cal["calibration"]["nsample"] = 4;
  CHECK_THROWS_WITH(ExperimentSpec::from_json(bad_cal), "'calibration': unknown key 'nsample'");
  json fp_cmp = {{"model", tiny()}, {"method", "fp"}, {"analyses", {"compare"}}, {"eval", {{"text", "t.txt"}}}};
  CHECK_THROWS_WITH(ExperimentSpec::from_json(fp_cmp), "'compare'");
  CHECK_THROWS_WITH(ExperimentSpec::from_json(json{{"method", "rtn"}}), "'model' is required");
  CHECK_THROWS_WITH(ExperimentSpec::from_json(json::array()), "must be a JSON object");
}

TEST_CASE("run_id is readable, file-name safe, stable and distinct") {
  ExperimentSpec s = gptq_spec();
  const std::string id = s.run_id();
  // The sampler (gptq's reference sampler, the method's default) is part of the name.
  CHECK_MSG(std::regex_match(id, std::regex(R"(austen-tiny\.gptq\.w3g128\.int\.asym\.c-austen-valid-n16x128-s0-gptq\.[0-9a-f]{8})")), id);
  CHECK(gptq_spec().run_id() == id);
  auto differs = [&](const std::function<void(ExperimentSpec&)>& change) {
    ExperimentSpec t = gptq_spec();
    change(t);
    return t.run_id() != id;
  };
  CHECK(differs([](ExperimentSpec& t) { t.plan.spec.bits = 4; }));
  CHECK(differs([](ExperimentSpec& t) { t.plan.spec.symmetric = true; }));
  CHECK(differs([](ExperimentSpec& t) { t.params = {{"gptq.percdamp", 0.1}}; }));
  CHECK(differs([](ExperimentSpec& t) { t.calib.seed = 1; }));
  CHECK(differs([](ExperimentSpec& t) { t.eval_seqlen = 256; }));
  CHECK(differs([](ExperimentSpec& t) { t.analyses = {"kurtosis"}; }));
  CHECK(differs([](ExperimentSpec& t) { t.dtype = "bfloat16"; }));
  CHECK(differs([](ExperimentSpec& t) { t.seed = 7; }));
  CHECK(!differs([](ExperimentSpec& t) { t.label = "another label"; }));
  CHECK(!differs([](ExperimentSpec& t) { t.residency = "stream"; }));
  CHECK(!differs([](ExperimentSpec& t) { t.eval_batch = 8; }));
  ExperimentSpec fp;
  fp.model_dir = "/models/My Model:v2/";
  CHECK_MSG(std::regex_match(fp.run_id(), std::regex(R"(My-Model-v2\.fp\.[0-9a-f]{8})")), fp.run_id());
  ExperimentSpec awq = gptq_spec();
  awq.method = "awq+gptq";
  awq.plan.spec.group_size = -1;
  awq.plan.spec.format = WeightFormat::NF4;
  CHECK_MSG(awq.run_id().rfind("austen-tiny.awq+gptq.w4gch.nf4.c-", 0) == 0, awq.run_id());
}

// Issue 10: the GUI and `ptq sweep` wrote different run ids for the same runs, because the id
// hashed the spec's JSON as written (analyses in their order, the no-op "size", defaults left out
// or spelled out). The id is now the canonical form of the settings that change the results.
TEST_CASE("run identity is canonical: sets sorted, no-op size, defaults and aliases resolved") {
  const std::string id = gptq_spec().run_id();
  auto same = [&](const std::function<void(json&)>& change) {
    json j = gptq_spec().to_json();
    change(j);
    return ExperimentSpec::from_json(j).run_id() == id;
  };
  CHECK(gptq_spec().analyses.empty());
  ExperimentSpec a = gptq_spec(), b = gptq_spec();
  a.analyses = {"kurtosis", "compare"};
  b.analyses = {"compare", "size", "kurtosis", "compare"};
  CHECK(a.run_id() == b.run_id());
  CHECK(a.identity_json()["analyses"] == json::array({"compare", "kurtosis"}));
  CHECK(same([](json& j) { j["analyses"] = {"size"}; }));
  CHECK(same([](json& j) { j["params"] = {{"gptq.percdamp", 0.01}, {"blocksize", 128}}; }));  // the defaults
  CHECK(same([](json& j) { j["dtype"] = "fp32"; }));
  CHECK(same([](json& j) { j["calibration"]["batch"] = 2; }));
  CHECK(!same([](json& j) { j["params"] = {{"gptq.percdamp", 0.02}}; }));
  ExperimentSpec t1 = gptq_spec(), t2 = gptq_spec();
  t1.task_files = {"/t/b.jsonl", "/t/a.jsonl"};
  t2.task_files = {"/t/a.jsonl", "/t/b.jsonl"};
  CHECK(t1.run_id() == t2.run_id() && t1.run_id() != id);
  ExperimentSpec c1 = gptq_spec(), c2 = gptq_spec();
  c1.device = "cuda";
  c2.device = "cuda:0";
  CHECK(c1.run_id() == c2.run_id() && c1.run_id() != id);
  // Codebook formats have no bits or sym of their own: a sym flag left on changes nothing.
  ExperimentSpec n1 = gptq_spec(), n2 = gptq_spec();
  n1.plan.spec.format = n2.plan.spec.format = WeightFormat::NF4;
  n1.plan.spec.bits = 4;
  n2.plan.spec.symmetric = true;
  CHECK(n1.run_id() == n2.run_id());
}

// The sweep runner's one loop (used by `ptq sweep` and the GUI's job worker), with a stand-in
// runner: complete records are skipped, a record that is not the spec's is a failure and is not
// written, a cancel stops with nothing half written.
TEST_CASE("run_sweep skips complete records and refuses a record of another run") {
  const std::string dir = temp_dir();
  std::vector<ExperimentSpec> runs(2, gptq_spec());
  runs[1].plan.spec.bits = 4;
  int calls = 0;
  RecordRunner ok = [&](const ExperimentSpec& s, Feedback&) {
    ++calls;
    return minimal_record(s.run_id());
  };
  Feedback fb;
  SweepSummary first = run_sweep(runs, dir, ok, SweepOptions{}, fb);
  CHECK_MSG(first.done == 2 && first.failed.empty(), first.to_json().dump());
  SweepSummary again = run_sweep(runs, dir, ok, SweepOptions{}, fb);
  CHECK(again.done == 0 && again.skipped.size() == 2 && calls == 2);
  const std::string other = temp_dir();
  RecordRunner anonymous = [&](const ExperimentSpec& s, Feedback& f) {
    json r = ok(s, f);
    r["run_id"] = "";
    return r;
  };
  SweepSummary bad = run_sweep(runs, other, anonymous, SweepOptions{}, fb);
  CHECK(bad.done == 0 && bad.failed.size() == 2);
  CHECK_MSG(bad.failed[0].second.find("run_id ''") != std::string::npos, bad.failed[0].second);
  CHECK(list_records(other).empty() && !file_exists(join_path(other, ".json")));
  Feedback cancelled;
  cancelled.cancel();
  CHECK_THROWS_WITH(run_sweep(runs, other, ok, SweepOptions{}, cancelled), "");
  SweepOptions keep_going;
  keep_going.rethrow_cancel = false;
  CHECK(run_sweep(runs, other, ok, keep_going, cancelled).cancelled);
}

TEST_CASE("sweep spec expansion: fp once per model, calibration only where needed") {
  std::string dir = temp_dir();
  json j = {{"models", {tiny()}},
            {"methods", {"fp", "rtn", "gptq"}},
            {"bits", {3, 4}},
            {"groups", 64},
            {"calibration", {{"name", "valid"}, {"files", {"texts/valid.txt"}}, {"nsamples", 8}, {"seqlen", 64}}},
            {"eval", {{"text", "texts/test.txt"}, {"seqlen", 128}, {"max_windows", 2}}},
            {"analyses", {"compare"}}};
  SweepSpec s = SweepSpec::from_json(j, dir);
  auto runs = s.expand();
  CHECK(runs.size() == 5);
  CHECK(runs[0].method == "fp" && runs[0].calib.files.empty() && runs[0].analyses.empty());
  CHECK(runs[1].method == "rtn" && runs[1].calib.files.empty() && runs[1].plan.spec.bits == 3);
  CHECK(runs[2].method == "rtn" && runs[2].plan.spec.bits == 4);
  CHECK(runs[3].method == "gptq" && runs[3].calib.files == std::vector<std::string>{dir + "/texts/valid.txt"});
  CHECK(runs[3].label == "calib=valid" && runs[3].calib.nsamples == 8 && runs[3].plan.spec.group_size == 64);
  CHECK(runs[4].analyses == std::vector<std::string>{"compare"});
  CHECK(runs[0].eval_text == dir + "/texts/test.txt");
  std::set<std::string> ids;
  for (const auto& r : runs) ids.insert(r.run_id());
  CHECK(ids.size() == 5);
  // Kurtosis asks the fp baseline for the calibration text; nf4 ignores bits (one run per group).
  j["analyses"] = {"kurtosis"};
  j["formats"] = {"int", "nf4"};
  runs = SweepSpec::from_json(j, dir).expand();
  CHECK(runs.size() == 1 + 3 + 3);
  CHECK(runs[0].method == "fp" && runs[0].calib.files.size() == 1 && runs[0].label == "calib=valid");
  CHECK(resolve_path("texts/a.txt", "/x/y") == "/x/y/texts/a.txt");
  CHECK(resolve_path("./a.txt", "/x/y/.") == "/x/y/a.txt");
  CHECK(resolve_path("/abs/a.txt", "/x") == "/abs/a.txt" && resolve_path("", "/x").empty());
  CHECK(resolve_path("a.txt", ".")[0] == '/');
  CHECK(parent_dir("d/sweep.json") == "d" && parent_dir("sweep.json") == "." && parent_dir("/s.json") == "/");
  // Spec files resolve relative paths against their folder.
  write_json_atomic(dir + "/sweep.json", j);
  CHECK(SweepSpec::load(dir + "/sweep.json").models[0] == tiny());
  CHECK(SweepSpec::load(dir + "/sweep.json").eval_text == dir + "/texts/test.txt");
  remove_tree(dir);
}

TEST_CASE("sweep spec errors name the key and the allowed values") {
  json j = {{"models", {tiny()}}, {"methods", {"fp", "rtn"}}};
  CHECK(SweepSpec::from_json(j).expand().size() == 2);
  auto with = [&](const std::string& k, const json& v) {
    json x = j;
    x[k] = v;
    return x;
  };
  CHECK_THROWS_WITH(SweepSpec::from_json(with("method", "rtn")), "unknown key 'method' (allowed: models, methods, bits");
  CHECK_THROWS_WITH(SweepSpec::from_json(with("methods", {"fp", "qptq"})), "unknown method 'qptq' (allowed: fp, rtn, gptq");
  CHECK_THROWS_WITH(SweepSpec::from_json(with("formats", {"int4"})), "unknown format 'int4' (allowed: int, nf4");
  CHECK_THROWS_WITH(SweepSpec::from_json(with("bits", {3, 12})), "'bits' must hold integers in 2..8");
  CHECK_THROWS_WITH(SweepSpec::from_json(with("methods", {"gptq"})), "'calibration' is required");
  CHECK_THROWS_WITH(SweepSpec::from_json(with("analyses", {"compare"})), "'compare' needs an eval text");
  CHECK_THROWS_WITH(SweepSpec::from_json(with("calibration", {{"files", "a.txt"}, {"samples", 3}})),
                    "'calibration[0]': unknown key 'samples'");
  CHECK_THROWS_WITH(SweepSpec::load("/nonexistent/sweep.json"), "/nonexistent/sweep.json");
  // Parameters go to the methods that have them; one that fits no method is an error.
  json p = j;
  p["methods"] = {"fp", "rtn", "gptq"};
  p["calibration"] = {{"files", "valid.txt"}};
  p["params"] = {{"gptq.percdamp", 0.05}, {"blocksize", 64}};
  auto runs = SweepSpec::from_json(p, "/x").expand();
  CHECK(runs.size() == 3 && runs[1].params.empty());
  CHECK(runs[2].params == json({{"gptq.percdamp", 0.05}, {"blocksize", 64}}));
  p["params"] = {{"awq.grid", 10}};
  CHECK_THROWS_WITH(SweepSpec::from_json(p, "/x"), "'params' key 'awq.grid' applies to none of the methods");
  p["params"] = {{"gptq.percdampp", 0.05}};
  CHECK_THROWS_WITH(SweepSpec::from_json(p, "/x"), "percdampp");
}

TEST_CASE("run_experiment: fp and rtn records with size and comparison") {
  ExperimentSpec fp;
  fp.model_dir = tiny();
  fp.eval_text = corpus("austen-test.txt");
  fp.eval_seqlen = 128;
  fp.eval_max_windows = 3;
  fp.label = "baseline";
  json r = run_experiment(fp);
  CHECK(r["schema"] == kResultSchemaName && r["schema_version"] == kResultSchemaVersion);
  CHECK(r["status"] == "complete" && r["run_id"] == fp.run_id() && r["label"] == "baseline");
  CHECK(r["method"] == "fp" && r["quant"].is_null() && r["layers"].empty());
  CHECK(ExperimentSpec::from_json(r["spec"]).run_id() == fp.run_id());
  CHECK(r["provenance"]["model"]["name"] == "austen-tiny" && r["provenance"]["dtype"] == "float32");
  const json& m = r["metrics"];
  CHECK(m["eval"]["windows"] == 3 && m["eval"]["tokens"] == 384);
  const double ppl_fp = m["ppl"];
  {
    at::NoGradGuard ng;
    auto model = Model::load(tiny());
    auto ids = Tokenizer::from_file(tiny() + "/tokenizer.json").encode(read_text_file(corpus("austen-test.txt")));
    CHECK_REL(ppl_fp, ppl_by_hand(*model, ids, 128, 3), 1e-5);  // as in test_output_compare
  }
  CHECK(m["size"]["total_bytes"] == m["size"]["fp16_bytes"]);
  CHECK(m["seconds"]["total"].get<double>() >= m["seconds"]["load"].get<double>());
  CHECK(r["created_at"].get<std::string>() <= r["finished_at"].get<std::string>());

  ExperimentSpec rtn = fp;
  rtn.method = "rtn";
  rtn.plan.spec.bits = 3;
  rtn.analyses = {"compare"};
  json q = run_experiment(rtn);
  const json& c = q["metrics"]["compare"];
  CHECK(q["layers"].size() == 4 * 7 && q["quant"]["bits"] == 3);
  CHECK(c["tokens"] == 3 * 127);
  CHECK_NEAR(c["ppl_fp"].get<double>(), ppl_fp, 1e-4 * ppl_fp);
  CHECK(q["metrics"]["ppl"].get<double>() == c["ppl_q"].get<double>());  // the record's PPL is the comparison's
  CHECK(c["ppl_q"].get<double>() > ppl_fp);
  CHECK(c["kl_mean"].get<double>() > 1e-3 && c["kl_mean"].get<double>() < 2.0);
  CHECK(c["kl_stderr"].get<double>() > 0 && c["kl_stderr"].get<double>() < c["kl_mean"].get<double>());
  CHECK(c["top1_agreement"].get<double>() > 0.3 && c["top1_agreement"].get<double>() < 1.0);
  CHECK(c["kl_percentiles"]["99"].get<double>() >= c["kl_percentiles"]["50"].get<double>());
  CHECK(c["dp_mean"].get<double>() < 0);  // 3-bit RTN loses probability on the correct token
  CHECK(q["metrics"]["size"]["compression_vs_fp16"].get<double>() > 1.0);
  CHECK(q["metrics"]["size"]["total_bytes"].get<int64_t>() < m["size"]["total_bytes"].get<int64_t>());

  ExperimentSpec missing = fp;
  missing.eval_text = "/nonexistent/eval.txt";
  CHECK_THROWS_WITH(run_experiment(missing), "/nonexistent/eval.txt");
  std::string dir = temp_dir();
  write_file_atomic(dir + "/empty.txt", "");
  write_file_atomic(dir + "/latin1.txt", std::string("caf\xe9 au lait ", 13));
  missing.eval_text = dir + "/empty.txt";
  CHECK_THROWS_WITH(run_experiment(missing), "empty");
  missing.eval_text = dir + "/latin1.txt";
  CHECK_THROWS_WITH(run_experiment(missing), "not valid UTF-8");
  remove_tree(dir);
}

TEST_MAIN()
