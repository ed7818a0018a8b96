// The input is a tokenizer.json: it loads or is refused with a ptq::Error; a loaded tokenizer
// encodes a few fixed texts (and a slice of the input) to ids it can decode and look up.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/runtime/errors.h"
#include "core/text/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const ptq::Tokenizer tok = ptq::Tokenizer::from_json_text(text, "fuzz tokenizer");
    const std::string samples[] = {"Hello world", "  a-b\tc\n\n", "ab abb [X] <0x41>", "\xC3\xA9\xE2\x96\x81z",
                                   text.substr(0, 64)};
    for (const std::string& s : samples) {
      try {
        for (int64_t id : tok.encode(s))
          if (id < 0 || id > tok.max_token_id()) __builtin_trap();
        tok.decode(tok.encode(s));
      } catch (const ptq::Error&) {  // input that is not UTF-8
      }
    }
    for (int64_t id = 0; id <= tok.max_token_id() && id < 64; ++id) {
      try {
        tok.token_to_id(tok.id_to_token(id));
      } catch (const ptq::Error&) {  // an id that names no token
      }
    }
  } catch (const ptq::Error&) {
  }
  return 0;
}
