#include <iostream>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "core/runtime/errors.h"
#include "core/records/json_util.h"
#include "core/text/tokenizer.h"

namespace ptq::cli {

int cmd_tokenize(const std::vector<std::string>& argv) {
  Args a(argv, {"tokenizer", "text", "file"}, {"decode"});
  Tokenizer tok = Tokenizer::from_file(a.required("tokenizer"));
  if (a.has("text") == a.has("file")) throw Error("give exactly one of --text S or --file F");
  std::string text = a.has("text") ? a.get("text", "") : read_text_file(a.get("file", ""));
  std::vector<int64_t> ids = tok.encode(text);
  json out = {{"ids", ids}};
  if (a.flag("decode")) {
    std::vector<std::string> pieces;
    for (auto id : ids) pieces.push_back(tok.id_to_token(id));
    out["tokens"] = pieces;
  }
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace ptq::cli
