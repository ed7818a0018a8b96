#pragma once
// Hugging Face `tokenizer.json` tokenizer (BPE models), pure C++17.
//
// Supported components (anything else raises ptq::Error naming the component and the file):
//   normalizer:    Sequence, Prepend, Replace (String pattern), Strip
//   pre_tokenizer: Sequence, ByteLevel (add_prefix_space, use_regex), Split (String pattern, or
//                  the GPT-2 / Llama-3 / Qwen-2 regexes recognised by their exact pattern text;
//                  every behavior, invert)
//   model:         BPE (merges as "a b" strings or ["a","b"] pairs, ignore_merges, byte_fallback,
//                  unk_token, fuse_unk, continuing_subword_prefix, end_of_word_suffix)
//   decoder:       Sequence, ByteLevel, Replace (String pattern), ByteFallback, Fuse, Strip
//   added_tokens:  split out of the raw text (normalized=false) or of the normalized text
//                  (normalized=true), leftmost-longest, honouring lstrip/rstrip/single_word.
// post_processor, truncation and padding are ignored: encode() behaves like Hugging Face's
// `encode(text, add_special_tokens=False)` and decode() like `decode(ids)` (special tokens kept).
//
// A Tokenizer is cheap to copy (shared immutable state) and its const methods are thread-safe.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ptq {

class Tokenizer {
 public:
  // Loads and validates a tokenizer.json. Throws ptq::Error (message names the file) when the
  // file is missing or unreadable, is not valid JSON, or uses an unsupported component.
  static Tokenizer from_file(const std::string& tokenizer_json_path);
  // The same from the text of a tokenizer.json; `name` stands for the file in messages.
  static Tokenizer from_json_text(const std::string& text, const std::string& name);

  // Token ids of `text` (UTF-8), without special tokens added. Throws ptq::Error when the text
  // is not valid UTF-8.
  std::vector<int64_t> encode(const std::string& text) const;

  // Text of `ids` through the tokenizer's decoder; ids outside the vocabulary are skipped
  // (as Hugging Face does). skip_special_tokens: added tokens marked "special" are left out
  // before the decoder runs, as tokenizers' decode(ids, skip_special_tokens=True) does
  // (tokenizer/mod.rs, decode: `!skip_special_tokens || !added_vocabulary.is_special_token`).
  std::string decode(const std::vector<int64_t>& ids, bool skip_special_tokens = false) const;

  // Whether `id` is an added token marked "special" (false for any other id).
  bool is_special(int64_t id) const;

  // Number of entries, added tokens included (Hugging Face get_vocab_size(true)).
  int64_t vocab_size() const;

  // The largest id encode() can produce (model vocabulary and added tokens).
  int64_t max_token_id() const;

  // Throws ptq::Error unless every id of this tokenizer indexes a model embedding table of
  // `model_vocab_size` rows (config.json vocab_size); `model` names the model in the message.
  void check_fits_model(int64_t model_vocab_size, const std::string& model) const;

  // Raw vocabulary string of `id` (added tokens: their content). Throws ptq::Error for an id
  // that names no token.
  std::string id_to_token(int64_t id) const;

  // Id of a raw vocabulary string or added token content.
  std::optional<int64_t> token_to_id(const std::string& token) const;

  struct Impl;

 private:
  explicit Tokenizer(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

}  // namespace ptq
