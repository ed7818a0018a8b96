// Accuracy tasks: log-likelihood scoring against Model::forward, acc / acc_norm arithmetic, the
// lm-eval formats, the bundled task files, the deterministic last-word task and LAMBADA files.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>
#include <cstdlib>
#include <regex>

#include "core/runtime/errors.h"
#include "core/records/json_util.h"
#include "core/model/model.h"
#include "core/text/tokenizer.h"
#include "eval/tasks/lambada.h"
#include "eval/tasks/lastword.h"
#include "eval/tasks/mc_tasks.h"
#include "eval/tasks/tasks.h"
#include "tests/check.h"

using namespace ptq;

namespace {

std::string shared(const std::string& rel) { return test::shared_dir() + "/" + rel; }
std::string resource(const std::string& rel) { return std::string(PTQ_SOURCE_DIR) + "/resources/" + rel; }

// log p(continuation | context) straight from one unbatched forward pass.
double direct_logprob(Model& m, const LoglikRequest& r, int64_t max_len) {
  std::vector<int64_t> ids = r.context;
  ids.insert(ids.end(), r.continuation.begin(), r.continuation.end() - 1);
  if (int64_t(ids.size()) > max_len) ids.erase(ids.begin(), ids.end() - max_len);
  at::Tensor lp = m.forward(at::tensor(ids, at::kLong).unsqueeze(0))[0].log_softmax(-1);
  const int64_t L = int64_t(ids.size()), n = int64_t(r.continuation.size());
  double s = 0;
  for (int64_t j = 0; j < n; ++j) s += lp[L - n + j][r.continuation[size_t(j)]].item<double>();
  return s;
}

std::string temp_file(const std::string& name, const std::string& content) {
  static std::string dir = [] {
    char tmpl[] = "/tmp/ptq-test-tasks-XXXXXX";
    return std::string(mkdtemp(tmpl));
  }();
  std::string p = dir + "/" + name;
  write_file_atomic(p, content);
  return p;
}

}  // namespace

TEST_CASE("encode_pair splits encode(context + continuation) as lm-eval") {
  Tokenizer tok = Tokenizer::from_file(shared("parity/llama/tokenizer.json"));
  LoglikRequest r = encode_pair(tok, "It is a truth universally", " acknowledged");
  CHECK(r.context == tok.encode("It is a truth universally"));
  std::vector<int64_t> whole = tok.encode("It is a truth universally acknowledged");
  CHECK(r.context.size() + r.continuation.size() == whole.size());
  CHECK(std::equal(r.continuation.begin(), r.continuation.end(), whole.begin() + int64_t(r.context.size())));
  // Trailing context whitespace moves to the continuation.
  LoglikRequest t = encode_pair(tok, "Hello ", "world");
  CHECK(t.context == tok.encode("Hello"));
  CHECK(t.continuation == encode_pair(tok, "Hello", " world").continuation);
  CHECK_THROWS_WITH(encode_pair(tok, "", " world"), "empty context");
  CHECK_THROWS_WITH(encode_pair(tok, "Hello", ""), "has no tokens");
}

TEST_CASE("batched log-likelihoods equal log_softmax of Model::forward") {
  at::NoGradGuard ng;
  auto model = Model::load(shared("parity/llama"));
  Tokenizer tok = Tokenizer::from_file(shared("parity/llama/tokenizer.json"));
  std::vector<LoglikRequest> reqs = {encode_pair(tok, "It is a truth universally acknowledged", " that a single man"),
                                     encode_pair(tok, "Hello", " world"),
                                     encode_pair(tok, "The quick brown fox jumps over the lazy", " dog."),
                                     encode_pair(tok, "And God said, Let there be", " light")};
  // Longer than max_position_embeddings (512): keeps the last 512 input tokens.
  LoglikRequest long_req;
  for (int i = 0; i < 600; ++i) long_req.context.push_back((i * 37) % 8192);
  long_req.continuation = {5, 17, 230};
  reqs.push_back(long_req);
  // The greedy continuation of "Hello", and a different token.
  at::Tensor logits = model->forward(at::tensor(reqs[1].context, at::kLong).unsqueeze(0));
  const int64_t best = logits[0][-1].argmax().item<int64_t>();
  reqs.push_back({reqs[1].context, {best}});
  reqs.push_back({reqs[1].context, {(best + 1) % 8192}});
  auto res = loglikelihoods(*model, reqs);
  CHECK(res.size() == reqs.size());
  for (size_t i = 0; i < reqs.size(); ++i) {
    const double d = direct_logprob(*model, reqs[i], 512);
    CHECK(d < 0);
    CHECK_NEAR(res[i].logprob, d, 1e-4);
  }
  CHECK(res[5].greedy);
  CHECK(!res[6].greedy);
  CHECK(res[5].logprob > res[6].logprob);
}

TEST_CASE("acc and acc_norm arithmetic, ties to the first choice") {
  auto item = [](std::vector<int64_t> bytes, int gold) {
    McItem it;
    it.contexts.assign(bytes.size(), "c");
    it.continuations.assign(bytes.size(), " x");
    it.norm_bytes = bytes;
    it.gold = gold;
    return it;
  };
  std::vector<McItem> items = {item({1, 10}, 1), item({1, 100}, 1), item({5, 5}, 1), item({4, 4, 4}, 2)};
  std::vector<std::vector<double>> lls = {{-5, -3}, {-2, -4}, {-1, -1}, {-9, -8, -7}};
  // acc: right, wrong (-2 > -4), wrong (tie -> 0), right. norm: right (-0.3), right (-0.04 > -2), wrong, right.
  TaskScore s = score_choices(items, lls, true);
  CHECK(s.n == 4);
  CHECK_NEAR(s.acc, 0.5, 1e-15);
  CHECK_NEAR(s.acc_norm, 0.75, 1e-15);
  CHECK(s.to_json()["acc_norm"] == 0.75);
  CHECK(!score_choices(items, lls, false).to_json().contains("acc_norm"));
  CHECK_THROWS_WITH(score_choices(items, {{-1, -2}}, true), "one list of log-likelihoods per item");
}

TEST_CASE("lm-eval formats: generic, piqa, arc, hellaswag, winogrande, boolq") {
  std::string fmt;
  McItem g = parse_mc_item(json::parse(R"({"query": "Q", "choices": ["a", "bb"], "label": "1"})"), &fmt);
  CHECK(fmt == "generic" && g.gold == 1 && g.contexts[0] == "Q" && g.continuations[1] == " bb" && g.norm_bytes[1] == 2);
  McItem p = parse_mc_item(json::parse(R"({"goal": "Boil water", "sol1": "Use a pot.", "sol2": "Use a sieve.", "label": 0})"), &fmt);
  CHECK(fmt == "piqa" && p.contexts[1] == "Question: Boil water\nAnswer:" && p.continuations[0] == " Use a pot.");
  McItem a = parse_mc_item(json::parse(R"({"question": "Which?", "choices": {"text": ["x", "y", "z"], "label": ["A", "B", "C"]}, "answerKey": "C"})"), &fmt);
  CHECK(fmt == "arc" && a.gold == 2 && a.contexts[0] == "Question: Which?\nAnswer:");
  McItem h = parse_mc_item(json::parse(R"({"activity_label": "Baking", "ctx_a": "She mixes flour.", "ctx_b": "then SHE", "endings": ["bakes it [title] well.", "eats  it."], "label": "1"})"), &fmt);
  CHECK(fmt == "hellaswag" && h.gold == 1);
  CHECK(h.contexts[0] == "Baking: She mixes flour. Then she");
  CHECK(h.continuations[0] == " bakes it. well.");
  CHECK(h.continuations[1] == " eats it.");
  // re.sub("\\[.*?\\]", "", ...): up to the first "]", never across a newline (Python's "."), and a
  // bracketed span of 100 000 characters (std::regex overflowed the stack on it: fuzz_task_files).
  json hj = json::parse(R"({"activity_label": "A", "ctx": "c", "endings": ["x [a] b [c\nd] e", "p [q [r] s] t"], "label": 0})");
  hj["endings"].push_back("w [" + std::string(100000, 'y') + "] z");
  McItem hl = parse_mc_item(hj, &fmt);
  CHECK(hl.continuations[0] == " x b [c\nd] e");
  CHECK(hl.continuations[1] == " p s] t");
  CHECK(hl.continuations[2] == " w z");
  McItem w = parse_mc_item(json::parse(R"({"sentence": "Anne gave Mary a book because _ was kind.", "option1": "Anne", "option2": "Mary", "answer": "1"})"), &fmt);
  CHECK(fmt == "winogrande" && w.gold == 0);
  CHECK(w.contexts[1] == "Anne gave Mary a book because Mary" && w.continuations[0] == " was kind.");
  McItem b = parse_mc_item(json::parse(R"({"passage": "Bath is a city.", "question": "is bath a city", "answer": true})"), &fmt);
  CHECK(fmt == "boolq" && b.gold == 1 && b.continuations[1] == " yes");
  CHECK(b.contexts[0] == "Bath is a city.\nQuestion: is bath a city?\nAnswer:");
  CHECK_THROWS_WITH(parse_mc_item(json::parse(R"({"context": "Q", "choices": ["a"], "gold": 3})"), &fmt), "outside the 1 choices");
  CHECK_THROWS_WITH(parse_mc_item(json::parse(R"({"context": "Q", "gold": 0})"), &fmt), "missing field \"choices\"");
  CHECK_THROWS_WITH(parse_mc_item(json::parse(R"({"text": "Q"})"), &fmt), "unknown task format");
  CHECK_THROWS_WITH(parse_mc_item(json::parse(R"({"question": "Q", "choices": {"text": ["x"], "label": ["A"]}, "answerKey": "B"})"), &fmt), "answerKey 'B'");
}

TEST_CASE("gold indices that do not fit an int are errors, never wrapped (issue 11)") {
  std::string fmt;
  // 4294967296 = 2^32 read as an int is 0, a valid index: it must be refused instead.
  CHECK_THROWS_WITH(parse_mc_item(json::parse(R"({"context": "Q", "choices": ["a", "b"], "gold": 4294967296})"), &fmt),
                    "4294967296 is not a valid choice index");
  CHECK_THROWS_WITH(parse_mc_item(json::parse(R"({"goal": "g", "sol1": "a", "sol2": "b", "label": 4294967297})"), &fmt),
                    "not a valid choice index");
  CHECK_THROWS_WITH(parse_mc_item(json::parse(R"({"context": "Q", "choices": ["a", "b"], "gold": 18446744073709551615})"), &fmt),
                    "not a valid choice index");
  CHECK_THROWS_WITH(parse_mc_item(json::parse(R"({"context": "Q", "choices": ["a", "b"], "gold": -4294967295})"), &fmt),
                    "not a valid choice index");
  CHECK(parse_mc_item(json::parse(R"({"context": "Q", "choices": ["a", "b"], "gold": 1})"), &fmt).gold == 1);
}

TEST_CASE("task files: bundled ones load, bad lines are named") {
  McTask c = load_mc_task(resource("tasks/austen-cloze.jsonl"));
  CHECK(c.name == "austen-cloze" && c.format == "generic" && c.items.size() == 40 && c.has_norm);
  McTask p = load_mc_task(resource("tasks/austen-piqa.jsonl"));
  CHECK(p.name == "austen-piqa" && p.format == "piqa" && p.items.size() == 20);
  const std::string ok = R"({"context": "Q", "choices": ["a", "b"], "gold": 0})";
  CHECK_THROWS_WITH(load_mc_task(temp_file("bad.jsonl", ok + "\n\n{oops\n")), "line 3");
  CHECK_THROWS_WITH(load_mc_task(temp_file("mixed.jsonl", ok + "\n" + R"({"goal": "g", "sol1": "a", "sol2": "b", "label": 0})")),
                    "a piqa item in a generic file");
  CHECK_THROWS_WITH(load_mc_task(temp_file("empty.jsonl", "\n")), "has no items");
  CHECK_THROWS_WITH(load_mc_task("/nonexistent/t.jsonl"), "cannot open");
  McTask wg = load_mc_task(temp_file("wg.jsonl", R"({"sentence": "A _ b", "option1": "x", "option2": "y", "answer": "2"})"));
  CHECK(!wg.has_norm);
}

TEST_CASE("last-word passages are deterministic and end on a sentence-final word") {
  const std::string text = read_text_file(shared("corpus/austen-test.txt"));
  LastwordOptions o;
  o.n = 60;
  auto a = make_lastword_items(text, o), b = make_lastword_items(text, o);
  CHECK(a.size() == 60);
  for (size_t i = 0; i < a.size(); ++i) CHECK(a[i].context == b[i].context && a[i].target == b[i].target);
  o.seed = 1;
  auto c = make_lastword_items(text, o);
  int same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += a[i].context == c[i].context;
  CHECK(same < 20);
  for (const auto& it : a) {
    CHECK(it.target.size() >= 3 && std::regex_match(it.target, std::regex("[A-Za-z]+")));
    const std::string words = std::regex_replace(it.context, std::regex("\\s+"), " ");
    CHECK(std::count(words.begin(), words.end(), ' ') + 1 >= 50);
    CHECK(text.find(it.context + " " + it.target) != std::string::npos);
  }
  CHECK_THROWS_WITH(make_lastword_items("Too short.", o), "no last-word passage");
  CHECK(make_lastword_items(text, {100000, 50, 0}).size() > 1000);  // every target when n exceeds them
}

TEST_CASE("last-word accuracy is greedy decoding of the whole word (austen-tiny)") {
  at::NoGradGuard ng;
  auto model = Model::load(shared("models/austen-tiny"));
  Tokenizer tok = Tokenizer::from_file(shared("models/austen-tiny/tokenizer.json"));
  LastwordOptions o;
  o.n = 20;
  auto items = make_lastword_items(read_text_file(shared("corpus/austen-test.txt")), o);
  // Three the model knows from its King James training text.
  items.push_back({"In the beginning God created the heaven and the", "earth"});
  items.push_back({"And the LORD spake unto", "Moses"});
  items.push_back({"I am the LORD thy", "God"});
  std::vector<LoglikRequest> reqs;
  for (const auto& it : items) reqs.push_back(encode_pair(tok, it.context, " " + it.target));
  auto res = loglikelihoods(*model, reqs);
  int right = 0;
  for (size_t i = 0; i < reqs.size(); ++i) {
    std::vector<int64_t> ids = reqs[i].context;  // decode greedily, token by token
    bool match = true;
    for (int64_t want : reqs[i].continuation) {
      int64_t got = model->forward(at::tensor(ids, at::kLong).unsqueeze(0))[0][-1].argmax().item<int64_t>();
      if (got != want) {
        match = false;
        break;
      }
      ids.push_back(got);
    }
    CHECK_MSG(match == res[i].greedy, items[i].target);
    right += match;
  }
  CHECK(res[20].greedy && res[21].greedy && res[22].greedy);
  json j = run_lastword(*model, tok, items);
  CHECK(j["n"] == 23);
  CHECK_NEAR(j["acc"].get<double>(), right / 23.0, 1e-12);
}

TEST_CASE("bundled tasks on austen-tiny through evaluate_tasks") {
  at::NoGradGuard ng;
  auto model = Model::load(shared("models/austen-tiny"));
  Tokenizer tok = Tokenizer::from_file(shared("models/austen-tiny/tokenizer.json"));
  TaskOptions o;
  o.task_files = {resource("tasks/austen-cloze.jsonl"), resource("tasks/austen-piqa.jsonl")};
  o.lastword_text = shared("corpus/austen-test.txt");
  o.lastword.n = 20;
  json t = evaluate_tasks(*model, tok, o);
  CHECK(t["austen-cloze"]["n"] == 40 && t["austen-piqa"]["n"] == 20 && t["lastword:austen-test"]["n"] == 20);
  CHECK(t["austen-piqa"].contains("acc_norm") && !t["lastword:austen-test"].contains("acc_norm") && !t.contains("lambada"));
  CHECK(t["austen-cloze"]["acc"].get<double>() > 0.5);  // chance is 0.25
  o.limit = 5;
  o.lastword_text = "";
  json l = evaluate_tasks(*model, tok, o);
  CHECK(l["austen-cloze"]["n"] == 5 && !l.contains("lastword:austen-test"));
  o.task_files.push_back(resource("tasks/austen-cloze.jsonl"));
  CHECK_THROWS_WITH(evaluate_tasks(*model, tok, o), "two task files are named 'austen-cloze'");
}


TEST_CASE("LAMBADA files: the target is the word after the last space, JSONL or one passage per line") {
  const std::string jsonl = temp_file("lambada.jsonl", "{\"text\": \"the heaven and the earth\"}\n\n{\"text\": \"spake unto  Moses\"}\n");
  const std::string txt = temp_file("lambada.txt", "the heaven and the earth  \nspake unto  Moses\n");
  for (const auto& f : {jsonl, txt}) {
    auto items = load_lambada(f);
    CHECK(items.size() == 2);
    CHECK(items[0].context == "the heaven and the" && items[0].target == "earth");
    CHECK(items[1].context == "spake unto " && items[1].target == "Moses");  // rsplit(" ", 1): the context keeps the extra space
  }
  CHECK(is_lambada_file(jsonl) && !is_lambada_file(txt) && !is_lambada_file(resource("tasks/austen-piqa.jsonl")));
  CHECK_THROWS_WITH(load_lambada(temp_file("one.txt", "ok fine\nalone\n")), "line 2: the passage has no last word");
  CHECK_THROWS_WITH(load_lambada(temp_file("bad.jsonl", "{\"text\": \"a b\"}\n{\"txt\": \"a b\"}\n")), "line 2");
  CHECK_THROWS_WITH(load_lambada(temp_file("empty.txt", "\n\n")), "has no passages");
}

TEST_CASE("LAMBADA on austen-tiny: greedy accuracy and target perplexity as lm-eval, recorded as \"lambada\"") {
  at::NoGradGuard ng;
  auto model = Model::load(shared("models/austen-tiny"));
  Tokenizer tok = Tokenizer::from_file(shared("models/austen-tiny/tokenizer.json"));
  const std::string f = temp_file("kjv.jsonl", "{\"text\": \"In the beginning God created the heaven and the earth\"}\n"
                                               "{\"text\": \"And the LORD spake unto Moses\"}\n"
                                               "{\"text\": \"It is a truth universally acknowledged\"}\n");
  auto items = load_lambada(f);
  json j = run_lambada(*model, tok, items);
  CHECK(j["n"] == 3);
  double sum = 0;
  for (const auto& it : items) sum += direct_logprob(*model, encode_pair(tok, it.context, " " + it.target), 2048);
  // Each batched log-probability is within 1e-4 of the unbatched one (the bound of "batched
  // log-likelihoods"), so is their mean, and exp(-mean) within a relative 1e-4.
  CHECK_NEAR(j["ppl"].get<double>(), std::exp(-sum / 3), 1e-4 * std::exp(-sum / 3));
  CHECK(j["acc"].get<double>() >= 2.0 / 3);  // the two King James passages (see the last-word case)
  TaskOptions o;
  o.task_files = {f, resource("tasks/austen-piqa.jsonl")};
  o.limit = 4;
  json t = evaluate_tasks(*model, tok, o);
  CHECK(t["lambada"] == j && t["austen-piqa"]["n"] == 4);
  o.lambada_file = f;
  CHECK_THROWS_WITH(evaluate_tasks(*model, tok, o), "two LAMBADA files");
}

TEST_MAIN()
