#pragma once
// One exception type for every user-facing failure: the message names the problem
// (file, tensor, key, allowed values) so the CLI and the GUI can show it as is.
#include <stdexcept>
#include <string>

namespace ptq {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Thrown when a cooperative cancel token fires; never an error the user must fix.
class Cancelled : public Error {
 public:
  Cancelled() : Error("cancelled") {}
};

}  // namespace ptq
