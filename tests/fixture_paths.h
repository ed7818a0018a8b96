#pragma once
// Paths the engine tests share: the austen-tiny model, corpus files, a fresh temporary folder, and
// a folder's entries (sorted).
#include <dirent.h>
#include <stdlib.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/check.h"

namespace ptq::test {

inline std::string tiny() { return shared_dir() + "/models/austen-tiny"; }
inline std::string corpus(const std::string& f) { return shared_dir() + "/corpus/" + f; }

// A new folder /tmp/ptq-<tag>-XXXXXX.
inline std::string temp_dir(const std::string& tag) {
  std::string tmpl = "/tmp/ptq-" + tag + "-XXXXXX";
  const char* d = ::mkdtemp(tmpl.data());
  if (!d) throw Failure{"mkdtemp failed"};
  return d;
}

// The names in `dir` other than . and .., sorted.
inline std::vector<std::string> dir_entries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) throw Failure{"cannot open folder " + dir};
  while (dirent* e = ::readdir(d))
    if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") out.push_back(e->d_name);
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace ptq::test
