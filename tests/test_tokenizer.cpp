// test_tokenizer <shared dir>
// Checks ptq::Tokenizer against <shared>/tokenizers/reference-encodings.json (Hugging Face
// tokenizers, add_special_tokens=False), decode round trips, vocabulary look-ups and the errors
// raised for bad files. Prints "N passed, M failed"; exits non-zero on any failure.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/runtime/errors.h"
#include "core/text/tokenizer.h"

namespace {

int g_passed = 0;
int g_failed = 0;

void check(bool ok, const std::string& what) {
  if (ok) {
    ++g_passed;
  } else {
    ++g_failed;
    std::cout << "FAIL: " << what << "\n";
  }
}

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
void expect_error(const std::string& what, const std::vector<std::string>& needles, const std::function<void()>& fn) {
  try {
    fn();
    check(false, what + ": no ptq::Error thrown");
  } catch (const ptq::Error& e) {
    const std::string msg = e.what();
    bool ok = true;
    for (const std::string& n : needles) ok = ok && msg.find(n) != std::string::npos;
    check(ok, what + ": message \"" + msg + "\" lacks an expected part");
  } catch (const std::exception& e) {
    check(false, what + ": wrong exception type: " + e.what());
  }
}

std::vector<std::string> g_temp_files;

std::string write_temp(const std::string& name, const std::string& content) {
  const auto path = std::filesystem::temp_directory_path() / ("ptq_test_tokenizer_" + name);
  std::ofstream(path, std::ios::binary) << content;
  g_temp_files.push_back(path.string());
  return path.string();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: test_tokenizer <shared dir>\n";
    return 2;
  }
  const std::string dir = std::string(argv[1]) + "/tokenizers/";
  nlohmann::json refs;
  try {
    std::ifstream in(dir + "reference-encodings.json");
    refs = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    std::cerr << "cannot read " << dir << "reference-encodings.json: " << e.what() << "\n";
    return 2;
  }

  struct Case {
    const char* key;
    const char* file;
    int64_t vocab_size;
    bool lossless;  // decode(encode(text)) == text for any text
  };
  const Case cases[] = {{"austen-bpe8k", "austen-bpe8k.tokenizer.json", 8192, true},
                        {"llama3", "llama3.tokenizer.json", 128256, true},
                        {"llama2", "llama2.tokenizer.json", 32000, false},
                        {"gpt2", "gpt2.tokenizer.json", 50257, true}};
  for (const Case& c : cases) {
    const auto t0 = std::chrono::steady_clock::now();
    std::optional<ptq::Tokenizer> loaded;
    try {
      loaded = ptq::Tokenizer::from_file(dir + c.file);
    } catch (const std::exception& e) {
      check(false, std::string(c.key) + ": load failed: " + e.what());
      continue;
    }
    const ptq::Tokenizer& tok = *loaded;
    const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%s: loaded in %.2f s, vocab_size %lld\n", c.key, load_s, static_cast<long long>(tok.vocab_size()));
    check(tok.vocab_size() == c.vocab_size, std::string(c.key) + ": vocab_size " + std::to_string(tok.vocab_size()));
    if (!refs.contains(c.key)) {
      check(false, std::string(c.key) + ": missing from reference-encodings.json");
      continue;
    }
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
        check(false, label + ": encode threw: " + e.what());
        continue;
      }
      check(got == want, label + ": encode mismatch, " + describe_diff(want, got));
      // Decoding the reference ids: exact for byte-level tokenizers; for the sentencepiece-style
      // one only where the text holds no literal U+2581 (the normalizer turns spaces into it).
      if (c.lossless || text.find("\xE2\x96\x81") == std::string::npos) {
        const std::string back = tok.decode(want);
        check(back == text, label + ": decode(ids) gave " + shorten(back));
      }
    }
    std::printf("%s: %d reference entries checked\n", c.key, entries);

    // Vocabulary look-ups agree with each other for every id.
    bool consistent = true;
    for (int64_t id = 0; id < tok.vocab_size() && consistent; ++id) {
      const auto back = tok.token_to_id(tok.id_to_token(id));
      consistent = back && *back == id;
      if (!consistent) std::cout << "  id " << id << " -> " << shorten(tok.id_to_token(id)) << "\n";
    }
    check(consistent, std::string(c.key) + ": token_to_id(id_to_token(id)) == id for every id");
    check(!tok.token_to_id("this token does not exist"), std::string(c.key) + ": unknown token has no id");
    expect_error(std::string(c.key) + ": id_to_token out of range", {std::to_string(tok.vocab_size() + 5)},
                 [&] { tok.id_to_token(tok.vocab_size() + 5); });
    expect_error(std::string(c.key) + ": invalid UTF-8 input", {"UTF-8", c.file}, [&] { tok.encode("ab\xC3"); });

    // Round trips on texts that are not in the reference file.
    const std::string extra[] = {"Tabs\tand\r\nCRLF\u00a0\u3000end  ", "mixed 123abc ABC'S 'Ll", "\xF0\x9F\x98\x80\xF0\x9F\x98\x80!",
                                 "  multiple   spaces   ", "\n\n\n"};
    if (c.lossless)
      for (const std::string& text : extra)
        check(tok.decode(tok.encode(text)) == text, std::string(c.key) + " " + shorten(text) + ": round trip");
  }

  // Specific behaviours.
  {
    const auto austen = ptq::Tokenizer::from_file(dir + "austen-bpe8k.tokenizer.json");
    check(austen.token_to_id("<|endoftext|>") == std::optional<int64_t>(0), "austen: <|endoftext|> is 0");
    check(austen.token_to_id("<|pad|>") == std::optional<int64_t>(1), "austen: <|pad|> is 1");
    const auto ids = austen.encode("a<|pad|><|endoftext|>a");
    check(ids == std::vector<int64_t>{66, 1, 0, 66}, "austen: adjacent special tokens are split out");
    const auto llama3 = ptq::Tokenizer::from_file(dir + "llama3.tokenizer.json");
    check(llama3.token_to_id("<|begin_of_text|>") == std::optional<int64_t>(128000), "llama3: <|begin_of_text|> is 128000");
    check(llama3.encode("<|begin_of_text|>Hello world") == std::vector<int64_t>{128000, 9906, 1917},
          "llama3: special token in text");
    check(llama3.decode({128000, 9906, 1917}) == "<|begin_of_text|>Hello world", "llama3: decode keeps special tokens");
    const auto llama2 = ptq::Tokenizer::from_file(dir + "llama2.tokenizer.json");
    check(llama2.token_to_id("<0x0A>") == std::optional<int64_t>(13), "llama2: <0x0A> is 13");
    check(llama2.encode("Hello world") == std::vector<int64_t>{22557, 1526}, "llama2: Hello world");
    check(llama2.encode("<s>Hello world").front() == 1, "llama2: <s> split out of the raw text");
    check(llama2.decode({22557, 1526}) == "Hello world", "llama2: decode strips the prepended space");
    check(llama2.decode({13, 13}) == "\n\n", "llama2: byte fallback decode");
    check(llama2.decode({229}) == "\xEF\xBF\xBD", "llama2: lone invalid byte decodes to U+FFFD");
    check(llama2.decode({}) == "", "llama2: empty decode");
  }

  // Error reporting: every message names the file.
  const std::string missing = dir + "no-such-tokenizer.json";
  expect_error("missing file", {missing}, [&] { ptq::Tokenizer::from_file(missing); });
  const std::string bad_json = write_temp("bad.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0,,}");
  expect_error("malformed JSON", {bad_json, "JSON"}, [&] { ptq::Tokenizer::from_file(bad_json); });
  const std::string not_object = write_temp("array.json", "[1, 2, 3]");
  expect_error("JSON that is not an object", {not_object}, [&] { ptq::Tokenizer::from_file(not_object); });
  const std::string no_model = write_temp("nomodel.json", "{\"version\": \"1.0\"}");
  expect_error("missing model", {no_model}, [&] { ptq::Tokenizer::from_file(no_model); });
  const std::string wordpiece =
      write_temp("wordpiece.json", R"({"model": {"type": "WordPiece", "vocab": {"a": 0}, "unk_token": "a"}})");
  expect_error("unsupported model type", {wordpiece, "WordPiece"}, [&] { ptq::Tokenizer::from_file(wordpiece); });
  const std::string minimal_model = R"("model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]})";
  const std::string bad_pre =
      write_temp("pre.json", "{\"pre_tokenizer\": {\"type\": \"Whitespace\"}, " + minimal_model + "}");
  expect_error("unsupported pre_tokenizer", {bad_pre, "Whitespace"}, [&] { ptq::Tokenizer::from_file(bad_pre); });
  const std::string bad_norm = write_temp("norm.json", "{\"normalizer\": {\"type\": \"NFKC\"}, " + minimal_model + "}");
  expect_error("unsupported normalizer", {bad_norm, "NFKC"}, [&] { ptq::Tokenizer::from_file(bad_norm); });
  const std::string bad_dec = write_temp("dec.json", "{\"decoder\": {\"type\": \"WordPiece\"}, " + minimal_model + "}");
  expect_error("unsupported decoder", {bad_dec, "WordPiece"}, [&] { ptq::Tokenizer::from_file(bad_dec); });
  const std::string bad_regex = write_temp(
      "regex.json", "{\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"\\\\d+\"}, "
                    "\"behavior\": \"Isolated\", \"invert\": false}, " + minimal_model + "}");
  expect_error("unsupported Split regex", {bad_regex, "Split"}, [&] { ptq::Tokenizer::from_file(bad_regex); });
  const std::string bad_merge = write_temp(
      "merge.json", R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": [["a", "b"]]}})");
  expect_error("merge outside the vocabulary", {bad_merge}, [&] { ptq::Tokenizer::from_file(bad_merge); });

  // A small hand-made tokenizer: pair-form and string-form merges, a String Split, added tokens
  // with lstrip/rstrip, and an unknown-character run fused into one <unk>.
  const std::string small = write_temp("small.json", R"({
    "added_tokens": [{"id": 5, "content": "[X]", "single_word": false, "lstrip": true, "rstrip": true,
                      "normalized": false, "special": true}],
    "normalizer": null,
    "pre_tokenizer": {"type": "Split", "pattern": {"String": "-"}, "behavior": "Removed", "invert": false},
    "decoder": null,
    "model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": true,
              "vocab": {"<unk>": 0, "a": 1, "b": 2, "ab": 3, "abb": 4},
              "merges": [["a", "b"], "ab b"]}})");
  try {
    const auto t = ptq::Tokenizer::from_file(small);
    check(t.encode("abb-ab") == std::vector<int64_t>{4, 3}, "small: merges and a removed '-' split");
    check(t.encode("ab  [X]  a") == std::vector<int64_t>{3, 5, 1}, "small: lstrip/rstrip added token");
    check(t.encode("zzab") == std::vector<int64_t>{0, 3}, "small: fused <unk>");
    check(t.vocab_size() == 6, "small: vocab_size counts the added token");
    check(t.decode({3, 5, 1}) == "ab [X] a", "small: no decoder joins with spaces");
  } catch (const std::exception& e) {
    check(false, std::string("small tokenizer: ") + e.what());
  }


  // Hostile tokenizer.json files (issue 11).
  const std::string empty_vocab =
      write_temp("empty_vocab.json", R"({"model": {"type": "BPE", "vocab": {}, "merges": []}})");
  expect_error("empty vocabulary", {empty_vocab, "vocab is empty"}, [&] { ptq::Tokenizer::from_file(empty_vocab); });
  const std::string wrapped_id =
      write_temp("wrapped_id.json", R"({"model": {"type": "BPE", "vocab": {"a": 4294967296}, "merges": []}})");
  expect_error("id that would wrap to 0", {wrapped_id, "id 4294967296 of token 'a'"},
               [&] { ptq::Tokenizer::from_file(wrapped_id); });
  const std::string abc = R"("model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2}, "merges": []})";
  for (const char* section : {"normalizer", "pre_tokenizer", "decoder"}) {
    const std::string list = std::string(section) == "normalizer" ? "normalizers"
                             : std::string(section) == "decoder"  ? "decoders"
                                                                  : "pretokenizers";
    std::string deep = "null";
    for (int k = 0; k < 30000; ++k) deep = "{\"type\": \"Sequence\", \"" + list + "\": [" + deep + "]}";
    const std::string f = write_temp(std::string("deep_") + section + ".json", "{\"" + std::string(section) + "\": " + deep + ", " + abc + "}");
    expect_error(std::string("30000 nested ") + section + " Sequences", {f, "nested deeper than 128"},
                 [&] { ptq::Tokenizer::from_file(f); });
  }
  // Nested Sequences within the bound are flattened in document order: a->b runs before b->c.
  std::string seq = R"({"type": "Replace", "pattern": {"String": "a"}, "content": "b"})";
  for (int k = 0; k < 60; ++k)
    seq = R"({"type": "Sequence", "normalizers": [)" + seq + R"(, {"type": "Replace", "pattern": {"String": "b"}, "content": "c"}]})";
  const std::string nested_ok = write_temp("nested_ok.json", "{\"normalizer\": " + seq + ", " + abc + "}");
  try {
    check(ptq::Tokenizer::from_file(nested_ok).encode("ab") == std::vector<int64_t>{2, 2}, "nested normalizer Sequences in order");
  } catch (const std::exception& e) {
    check(false, std::string("nested normalizer Sequences: ") + e.what());
  }

  for (const std::string& path : g_temp_files) {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
  std::printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
