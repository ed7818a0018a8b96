// Issue 11, hostile input at run time: integers that would wrap, overrides that match nothing,
// records that would be marked complete with a NaN in them, the stale-temporary cleanup that must
// never touch a user's file, and the whole-sweep validation before any run starts.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>

#include "core/records/json_util.h"
#include "core/records/result_store.h"
#include "core/runtime/errors.h"
#include "eval/experiment/experiment.h"
#include "eval/experiment/json_fields.h"
#include "eval/experiment/sweep.h"
#include "eval/experiment/sweep_validation.h"
#include "quant/pipeline/quant_plan.h"
#include "tests/check.h"
#include "tests/fixture_paths.h"

using namespace ptq;

namespace {

using test::corpus;
using test::tiny;

std::string temp_dir() { return test::temp_dir("guards"); }

using test::dir_entries;

void remove_tree(const std::string& dir) {
  for (const auto& e : dir_entries(dir)) ::unlink(join_path(dir, e).c_str());
  ::rmdir(dir.c_str());
}

json record_with_ppl(double ppl) {
  return {{"schema", kResultSchemaName}, {"schema_version", kResultSchemaVersion}, {"run_id", "r"},
          {"status", "complete"}, {"spec", {{"eval", {{"text", "t.txt"}}}}}, {"metrics", {{"ppl", ppl}}}};
}

}  // namespace

TEST_CASE("stale-temporary cleanup never deletes a user's file (issue 11)") {
  std::string dir = temp_dir();
  // Files a user may keep there, named like the old temporaries (<name>.tmp<PID>-<N>) of a pid
  // that is not running, or like this program's but not quite (no suffix, a directory, a link).
  const std::vector<std::string> keep = {"notes.tmp999999999-1", "backup.json.tmp999999998-draft",
                                         ".ptq-tmp-999999999-1-x.json", ".ptq-tmp-999999999--x.json.partial",
                                         "my.ptq-tmp-999999999-1-x.json.partial"};
  for (const auto& n : keep) write_file_atomic(join_path(dir, n), "user data");
  ::mkdir(atomic_temp_path(dir + "/sub", 999999999, 2).c_str(), 0755);
  CHECK(::symlink("/nonexistent", atomic_temp_path(dir + "/ln", 999999999, 3).c_str()) == 0);
  const std::string ours = atomic_temp_path(dir + "/run.json", 999999999, 4);
  write_file_atomic(ours, "{");
  CHECK(ours == dir + "/.ptq-tmp-999999999-4-run.json.partial");
  long pid = 0;
  CHECK(parse_atomic_temp_name(".ptq-tmp-999999999-4-run.json.partial", &pid) && pid == 999999999);
  CHECK(remove_stale_temp_files(dir) == 1);
  CHECK(!file_exists(ours));
  for (const auto& n : keep) CHECK_MSG(read_text_file(join_path(dir, n)) == "user data", n);
  CHECK(is_directory(atomic_temp_path(dir + "/sub", 999999999, 2)));
  ::rmdir(atomic_temp_path(dir + "/sub", 999999999, 2).c_str());
  remove_tree(dir);
}

TEST_CASE("integers in specs are range-checked, never wrapped") {
  // 4294967300 = 2^32 + 4: read as an int it is 4, a valid bit width with 4's run id.
  CHECK(!json_integer_in(json::parse("4294967300"), 2, 8));
  CHECK(!json_integer_in(json::parse("18446744073709551615"), 0, std::numeric_limits<int64_t>::max()));
  CHECK(!json_integer_in(json::parse("1e300"), 0, std::numeric_limits<int64_t>::max()));
  CHECK(!json_integer_in(json::parse("4.5"), 2, 8));
  CHECK(!json_integer_in(json::parse("\"4\""), 2, 8));
  CHECK(*json_integer_in(json::parse("4.0"), 2, 8) == 4);
  CHECK(*json_integer_in(json::parse("-1"), -1, 8) == -1);
  const json base = {{"model", tiny()}, {"method", "rtn"}};
  auto with = [&](const json& extra) {
    json j = base;
    j.update(extra);
    return j;
  };
  CHECK_THROWS_WITH(ExperimentSpec::from_json(with({{"bits", 4294967300}})), "'bits' must be an integer in 2..8, got 4294967300");
  CHECK_THROWS_WITH(ExperimentSpec::from_json(with({{"group", json::parse("18446744073709551615")}})), "'group' must be an integer in -1..");
  CHECK_THROWS_WITH(ExperimentSpec::from_json(with({{"seed", -3}})), "'seed' must be an integer in 0..");
  CHECK_THROWS_WITH(ExperimentSpec::from_json(with({{"eval", {{"text", "t"}, {"batch", 0}}}})), "'batch' must be an integer in 1..65536, got 0");
  CHECK_THROWS_WITH(ExperimentSpec::from_json(with({{"overrides", {{{"pattern", "*.q_proj"}, {"bits", 4294967304}}}}})),
                    "'bits' must be an integer in 2..8");
  CHECK_THROWS_WITH(ExperimentSpec::from_json(with({{"overrides", {{{"pattern", "layers.[1"}, {"bits", 8}}}}})), "no closing ']'");
  const json sweep = {{"models", {tiny()}}, {"methods", {"rtn"}}};
  json b = sweep;
  b["bits"] = {4, 4294967300};
  CHECK_THROWS_WITH(SweepSpec::from_json(b), "'bits' must hold integers in 2..8, got 4294967300");
  json c = sweep;
  c["calibration"] = {{"files", {"x.txt"}}, {"nsamples", 1000000000}};
  CHECK_THROWS_WITH(SweepSpec::from_json(c), "'nsamples' must be an integer in 1..16777216, got 1000000000");
}

TEST_CASE("overrides: whole numbers, valid globs, and each must match a layer") {
  CHECK_THROWS_WITH(parse_override("*.down_proj=bits:8junk"), "'bits:8junk' needs a whole number");
  CHECK_THROWS_WITH(parse_override("*.down_proj=group:64k"), "'group:64k' needs a whole number");
  CHECK_THROWS_WITH(parse_override("*.down_proj=bits:"), "needs a whole number");
  CHECK_THROWS_WITH(parse_override("*.down_proj=group:0"), "group must be -1 (per channel) or positive");
  CHECK_THROWS_WITH(parse_override("layers.[0.mlp=skip"), "has no closing ']'");
  CHECK_THROWS_WITH(parse_override("layers.0]=skip"), "closes no set");
  CHECK_THROWS_WITH(parse_override("layers.0\\=skip"), "ends in a backslash");
  CHECK(*parse_override("layers.[01].*=bits:8,group:-1").group_size == -1);
  QuantPlan plan;
  plan.overrides = {parse_override("layers.1.*=bits:8"), parse_override("*.down_prj=skip"), parse_override("layers.7.*=skip")};
  const std::vector<std::string> names = {"layers.0.mlp.down_proj", "layers.1.mlp.down_proj"};
  CHECK_THROWS_WITH(check_overrides_match(plan, names), "override pattern '*.down_prj', 'layers.7.*' matches no linear layer");
  plan.overrides.resize(1);
  check_overrides_match(plan, names);  // matches: no error
}

TEST_CASE("a record with a NaN is never written as complete; a null PPL is not complete") {
  const std::string dir = temp_dir();
  CHECK_THROWS_WITH(write_record(dir, record_with_ppl(std::nan(""))), "has a NaN or Inf at metrics.ppl");
  json inf = record_with_ppl(3.0);
  inf["metrics"]["compare"] = {{"kl", {1.0, INFINITY}}};
  CHECK_THROWS_WITH(write_record(dir, inf), "metrics.compare.kl[1]");
  CHECK(dir_entries(dir).empty());
  write_record(dir, record_with_ppl(12.5));
  CHECK(record_complete(dir, "r"));
  // What older versions wrote for a NaN PPL: "ppl": null in a record marked complete.
  json old = record_with_ppl(1.0);
  old["metrics"]["ppl"] = nullptr;
  write_json_atomic(join_path(dir, "r.json"), old);
  CHECK(!record_complete(dir, "r"));
  remove_tree(dir);
}

TEST_CASE("whole-run validation names every problem before any run starts") {
  ExperimentSpec ok;
  ok.model_dir = tiny();
  ok.method = "gptq";
  ok.plan.spec.group_size = 64;
  ok.calib.files = {corpus("austen-valid.txt")};
  ok.calib.nsamples = 4;
  ok.calib.seqlen = 128;
  ok.eval_text = corpus("austen-test.txt");
  ok.eval_seqlen = 128;
  CHECK(run_problems({ok}).empty());
  ExperimentSpec bad_group = ok, no_model = ok, short_text = ok, too_many = ok;
  bad_group.plan.spec.group_size = 48;  // austen-tiny: hidden 128, MLP 384
  bad_group.plan.overrides = {parse_override("*.mlp.*=group:100")};
  no_model.model_dir = "/nonexistent/model";
  short_text.eval_seqlen = 1000000;
  too_many.calib.sampling = "awq";
  too_many.calib.nsamples = 1000000;
  const auto problems = run_problems({ok, bad_group, no_model, short_text, too_many});
  std::string all;
  for (const auto& p : problems) all += p.problem + "\n";
  CHECK_MSG(problems.size() == 5, all);
  CHECK_MSG(all.find("group_size 48 does not divide in_features 128 (and") != std::string::npos, all);
  CHECK_MSG(all.find("/nonexistent/model") != std::string::npos, all);
  CHECK_MSG(all.find("fewer than one window of eval seqlen 1000000") != std::string::npos, all);
  CHECK_MSG(all.find("needs 128000000 tokens") != std::string::npos, all);
  CHECK_MSG(all.find("for the calibration activations on cpu") != std::string::npos, all);  // 2 x 1e6 x 128 x 128 x 4 B
  // A quantizer with its own grouping (StrategyInfo::own_grouping: BiLLM) is not checked
  // against the plan's group; any other is.
  ExperimentSpec own = bad_group;
  own.method = "billm";
  const auto own_problems = run_problems({own});
  CHECK_MSG(own_problems.empty(), own_problems.empty() ? std::string() : own_problems[0].problem);
  CHECK_THROWS_WITH(check_runs({ok, no_model}), "1 problem before any run started:");
  // The estimate's arithmetic: 2 copies x 1e6 samples x 2048 tokens x 128 wide x 4 bytes, plus one
  // batch (8) of 4 heads' 2048 x 2048 float32 attention scores; and no wrap for absurd counts.
  ExperimentSpec huge = ok;
  huge.calib.nsamples = 1000000;
  huge.calib.seqlen = 2048;
  ModelConfig cfg;
  cfg.hidden_size = 128;
  cfg.num_heads = 4;
  CHECK(calibration_activation_bytes(huge, cfg) == int64_t(2) * 1000000 * 2048 * 128 * 4 + int64_t(8) * 4 * 2048 * 2048 * 4);
  huge.calib.seqlen = int64_t(1) << 40;
  CHECK(calibration_activation_bytes(huge, cfg) == -1);
}

TEST_MAIN()
