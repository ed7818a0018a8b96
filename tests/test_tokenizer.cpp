// ptq::Tokenizer against <shared>/tokenizers/reference-encodings.json (Hugging Face tokenizers,
// add_special_tokens=False), decode round trips, vocabulary look-ups and the errors raised for
// bad files.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <unistd.h>
#include <string>
#include <vector>

#include "core/runtime/errors.h"
#include "core/text/tokenizer.h"
#include "tests/check.h"

namespace {

// Collects every failed expectation of a case, so that one run reports all mismatching entries;
// done() fails the case when any failed.
struct Expectations {
  std::vector<std::string> failures;
  void check(bool ok, const std::string& what) {
    if (!ok) failures.push_back(what);
  }
  void done() const {
    if (failures.empty()) return;
    std::string all = std::to_string(failures.size()) + " failed:";
    for (const auto& f : failures) all += "\n      " + f;
    throw ptq::test::Failure{all};
  }
};

std::string shorten(const std::string& text, size_t max = 60) {
  std::string out;
  for (char ch : text.substr(0, max)) {
    if (ch == '\n') out += "\\n";
    else if (ch == '\t') out += "\\t";
    else if (ch == '\r') out += "\\r";
    else out += ch;
  }
  return "\"" + out + (text.size() > max ? "...\"" : "\"");
}

std::string ids_str(const std::vector<int64_t>& ids, size_t from, size_t count) {
  std::string out = "[";
  for (size_t k = from; k < ids.size() && k < from + count; ++k) out += (k > from ? "," : "") + std::to_string(ids[k]);
  return out + "]";
}

std::string describe_diff(const std::vector<int64_t>& want, const std::vector<int64_t>& got) {
  size_t k = 0;
  while (k < want.size() && k < got.size() && want[k] == got[k]) ++k;
  const size_t from = k > 3 ? k - 3 : 0;
  return "first difference at " + std::to_string(k) + " (expected " + std::to_string(want.size()) + " ids, got " +
         std::to_string(got.size()) + "): expected " + ids_str(want, from, 10) + " got " + ids_str(got, from, 10);
}

// Runs fn, expecting a ptq::Error whose message contains every string in `needles`.
void expect_error(Expectations& ex, const std::string& what, const std::vector<std::string>& needles,
                  const std::function<void()>& fn) {
  try {
    fn();
    ex.check(false, what + ": no ptq::Error thrown");
  } catch (const ptq::Error& e) {
    const std::string msg = e.what();
    bool ok = true;
    for (const std::string& n : needles) ok = ok && msg.find(n) != std::string::npos;
    ex.check(ok, what + ": message \"" + msg + "\" lacks an expected part");
  } catch (const std::exception& e) {
    ex.check(false, what + ": wrong exception type: " + e.what());
  }
}

std::string tokenizers() { return ptq::test::shared_dir() + "/tokenizers/"; }

// Files written for one case, removed when it ends.
struct TempFiles {
  std::vector<std::string> paths;
  std::string write(const std::string& name, const std::string& content) {
    const auto path = std::filesystem::temp_directory_path() /
                      ("ptq_test_tokenizer_" + std::to_string(::getpid()) + "_" + name);
    std::ofstream(path, std::ios::binary) << content;
    paths.push_back(path.string());
    return path.string();
  }
  ~TempFiles() {
    for (const std::string& p : paths) {
      std::error_code ec;
      std::filesystem::remove(p, ec);
    }
  }
};

struct Reference {
  const char* key;
  const char* file;
  int64_t vocab_size;
  bool lossless;  // decode(encode(text)) == text for any text
};

// Every entry of reference-encodings.json for one tokenizer: encode equals the reference ids,
// and decoding the ids gives the text back where the tokenizer is lossless for it.
void check_reference_entries(Expectations& ex, const ptq::Tokenizer& tok, const Reference& c) {
  const nlohmann::json refs = nlohmann::json::parse(std::ifstream(tokenizers() + "reference-encodings.json"));
  CHECK_MSG(refs.contains(c.key), std::string(c.key) + " missing from reference-encodings.json");
  int entries = 0;
  for (const auto& entry : refs[c.key]) {
    const std::string text = entry.at("text").get<std::string>();
    const std::vector<int64_t> want = entry.at("ids").get<std::vector<int64_t>>();
    const std::string label = std::string(c.key) + " " + shorten(text);
    ++entries;
    std::vector<int64_t> got;
    try {
      got = tok.encode(text);
    } catch (const std::exception& e) {
      ex.check(false, label + ": encode threw: " + e.what());
      continue;
    }
    ex.check(got == want, label + ": encode mismatch, " + describe_diff(want, got));
    // Decoding the reference ids: exact for byte-level tokenizers; for the sentencepiece-style
    // one only where the text holds no literal U+2581 (the normalizer turns spaces into it).
    if (c.lossless || text.find("\xE2\x96\x81") == std::string::npos) {
      const std::string back = tok.decode(want);
      ex.check(back == text, label + ": decode(ids) gave " + shorten(back));
    }
  }
  std::printf("      %s: %d reference entries checked\n", c.key, entries);
  CHECK(entries > 0);
}

// Vocabulary look-ups, range and UTF-8 errors, and round trips on texts outside the reference file.
void check_vocabulary(Expectations& ex, const ptq::Tokenizer& tok, const Reference& c) {
  bool consistent = true;
  for (int64_t id = 0; id < tok.vocab_size() && consistent; ++id) {
    const auto back = tok.token_to_id(tok.id_to_token(id));
    consistent = back && *back == id;
    if (!consistent) std::cout << "  id " << id << " -> " << shorten(tok.id_to_token(id)) << "\n";
  }
  ex.check(consistent, std::string(c.key) + ": token_to_id(id_to_token(id)) == id for every id");
  ex.check(!tok.token_to_id("this token does not exist"), std::string(c.key) + ": unknown token has no id");
  expect_error(ex, std::string(c.key) + ": id_to_token out of range", {std::to_string(tok.vocab_size() + 5)},
               [&] { tok.id_to_token(tok.vocab_size() + 5); });
  expect_error(ex, std::string(c.key) + ": invalid UTF-8 input", {"UTF-8", c.file}, [&] { tok.encode("ab\xC3"); });
  const std::string extra[] = {"Tabs\tand\r\nCRLF\u00a0\u3000end  ", "mixed 123abc ABC'S 'Ll",
                               "\xF0\x9F\x98\x80\xF0\x9F\x98\x80!", "  multiple   spaces   ", "\n\n\n"};
  if (c.lossless)
    for (const std::string& text : extra)
      ex.check(tok.decode(tok.encode(text)) == text, std::string(c.key) + " " + shorten(text) + ": round trip");
}

void check_tokenizer(const Reference& c) {
  const auto t0 = std::chrono::steady_clock::now();
  const ptq::Tokenizer tok = ptq::Tokenizer::from_file(tokenizers() + c.file);
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("      %s: loaded in %.2f s, vocab_size %lld\n", c.key, load_s, static_cast<long long>(tok.vocab_size()));
  Expectations ex;
  ex.check(tok.vocab_size() == c.vocab_size, std::string(c.key) + ": vocab_size " + std::to_string(tok.vocab_size()));
  check_reference_entries(ex, tok, c);
  check_vocabulary(ex, tok, c);
  ex.done();
}

}  // namespace

TEST_CASE("austen-bpe8k matches the Hugging Face encodings") {
  check_tokenizer({"austen-bpe8k", "austen-bpe8k.tokenizer.json", 8192, true});
}
TEST_CASE("llama3 matches the Hugging Face encodings") {
  check_tokenizer({"llama3", "llama3.tokenizer.json", 128256, true});
}
TEST_CASE("llama2 (sentencepiece-style, byte fallback) matches the Hugging Face encodings") {
  check_tokenizer({"llama2", "llama2.tokenizer.json", 32000, false});
}
TEST_CASE("gpt2 matches the Hugging Face encodings") { check_tokenizer({"gpt2", "gpt2.tokenizer.json", 50257, true}); }

TEST_CASE("special tokens, byte fallback and decode details") {
  const std::string dir = tokenizers();
  const auto austen = ptq::Tokenizer::from_file(dir + "austen-bpe8k.tokenizer.json");
  CHECK(austen.token_to_id("<|endoftext|>") == std::optional<int64_t>(0));
  CHECK(austen.token_to_id("<|pad|>") == std::optional<int64_t>(1));
  CHECK(austen.encode("a<|pad|><|endoftext|>a") == (std::vector<int64_t>{66, 1, 0, 66}));  // split out
  const auto llama3 = ptq::Tokenizer::from_file(dir + "llama3.tokenizer.json");
  CHECK(llama3.token_to_id("<|begin_of_text|>") == std::optional<int64_t>(128000));
  CHECK(llama3.encode("<|begin_of_text|>Hello world") == (std::vector<int64_t>{128000, 9906, 1917}));
  CHECK(llama3.decode({128000, 9906, 1917}) == "<|begin_of_text|>Hello world");  // keeps special tokens
  const auto llama2 = ptq::Tokenizer::from_file(dir + "llama2.tokenizer.json");
  CHECK(llama2.token_to_id("<0x0A>") == std::optional<int64_t>(13));
  CHECK(llama2.encode("Hello world") == (std::vector<int64_t>{22557, 1526}));
  CHECK(llama2.encode("<s>Hello world").front() == 1);  // <s> split out of the raw text
  CHECK(llama2.decode({22557, 1526}) == "Hello world");  // the prepended space is stripped
  CHECK(llama2.decode({13, 13}) == "\n\n");              // byte fallback
  CHECK(llama2.decode({229}) == "\xEF\xBF\xBD");         // a lone invalid byte decodes to U+FFFD
  CHECK(llama2.decode({}).empty());
}

TEST_CASE("bad tokenizer files: every message names the file") {
  Expectations ex;
  TempFiles tmp;
  auto expect_load_error = [&](const std::string& what, const std::string& path, std::vector<std::string> needles) {
    needles.push_back(path);
    expect_error(ex, what, needles, [&] { ptq::Tokenizer::from_file(path); });
  };
  expect_load_error("missing file", tokenizers() + "no-such-tokenizer.json", {});
  expect_load_error("malformed JSON", tmp.write("bad.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0,,}"),
                    {"JSON"});
  expect_load_error("JSON that is not an object", tmp.write("array.json", "[1, 2, 3]"), {});
  expect_load_error("missing model", tmp.write("nomodel.json", "{\"version\": \"1.0\"}"), {});
  expect_load_error("unsupported model type",
                    tmp.write("wordpiece.json", R"({"model": {"type": "WordPiece", "vocab": {"a": 0}, "unk_token": "a"}})"),
                    {"WordPiece"});
  const std::string model = R"("model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]})";
  expect_load_error("unsupported pre_tokenizer",
                    tmp.write("pre.json", "{\"pre_tokenizer\": {\"type\": \"Whitespace\"}, " + model + "}"), {"Whitespace"});
  expect_load_error("unsupported normalizer",
                    tmp.write("norm.json", "{\"normalizer\": {\"type\": \"NFKC\"}, " + model + "}"), {"NFKC"});
  expect_load_error("unsupported decoder",
                    tmp.write("dec.json", "{\"decoder\": {\"type\": \"WordPiece\"}, " + model + "}"), {"WordPiece"});
  expect_load_error("unsupported Split regex",
                    tmp.write("regex.json", "{\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"\\\\d+\"}, "
                                            "\"behavior\": \"Isolated\", \"invert\": false}, " + model + "}"),
                    {"Split"});
  expect_load_error("merge outside the vocabulary",
                    tmp.write("merge.json", R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": [["a", "b"]]}})"),
                    {});
  ex.done();
}

// Pair-form and string-form merges, a String Split, added tokens with lstrip/rstrip, and an
// unknown-character run fused into one <unk>.
TEST_CASE("a small hand-made tokenizer") {
  TempFiles tmp;
  const auto t = ptq::Tokenizer::from_file(tmp.write("small.json", R"({
    "added_tokens": [{"id": 5, "content": "[X]", "single_word": false, "lstrip": true, "rstrip": true,
                      "normalized": false, "special": true}],
    "normalizer": null,
    "pre_tokenizer": {"type": "Split", "pattern": {"String": "-"}, "behavior": "Removed", "invert": false},
    "decoder": null,
    "model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": true,
              "vocab": {"<unk>": 0, "a": 1, "b": 2, "ab": 3, "abb": 4},
              "merges": [["a", "b"], "ab b"]}})"));
  CHECK(t.encode("abb-ab") == (std::vector<int64_t>{4, 3}));        // merges and a removed '-' split
  CHECK(t.encode("ab  [X]  a") == (std::vector<int64_t>{3, 5, 1}));  // lstrip/rstrip added token
  CHECK(t.encode("zzab") == (std::vector<int64_t>{0, 3}));          // fused <unk>
  CHECK(t.vocab_size() == 6);                                       // counts the added token
  CHECK(t.decode({3, 5, 1}) == "ab [X] a");                         // no decoder joins with spaces
}

TEST_CASE("hostile tokenizer.json files: empty vocabulary, ids that would wrap, deep Sequences (issue 11)") {
  TempFiles tmp;
  const std::string empty_vocab = tmp.write("empty_vocab.json", R"({"model": {"type": "BPE", "vocab": {}, "merges": []}})");
  CHECK_THROWS_WITH(ptq::Tokenizer::from_file(empty_vocab), "vocab is empty");
  const std::string wrapped_id =
      tmp.write("wrapped_id.json", R"({"model": {"type": "BPE", "vocab": {"a": 4294967296}, "merges": []}})");
  CHECK_THROWS_WITH(ptq::Tokenizer::from_file(wrapped_id), "id 4294967296 of token 'a'");
  const std::string abc = R"("model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2}, "merges": []})";
  for (const char* section : {"normalizer", "pre_tokenizer", "decoder"}) {
    const std::string list = std::string(section) == "normalizer" ? "normalizers"
                             : std::string(section) == "decoder"  ? "decoders"
                                                                  : "pretokenizers";
    std::string deep = "null";
    for (int k = 0; k < 30000; ++k) deep = "{\"type\": \"Sequence\", \"" + list + "\": [" + deep + "]}";
    const std::string f = tmp.write(std::string("deep_") + section + ".json", "{\"" + std::string(section) + "\": " + deep + ", " + abc + "}");
    CHECK_THROWS_WITH(ptq::Tokenizer::from_file(f), "nested deeper than 128");
  }
  // Nested Sequences within the bound are flattened in document order: a->b runs before b->c.
  std::string seq = R"({"type": "Replace", "pattern": {"String": "a"}, "content": "b"})";
  for (int k = 0; k < 60; ++k)
    seq = R"({"type": "Sequence", "normalizers": [)" + seq + R"(, {"type": "Replace", "pattern": {"String": "b"}, "content": "c"}]})";
  const std::string nested_ok = tmp.write("nested_ok.json", "{\"normalizer\": " + seq + ", " + abc + "}");
  CHECK(ptq::Tokenizer::from_file(nested_ok).encode("ab") == (std::vector<int64_t>{2, 2}));
}
