#pragma once
// The project's own commit, taken when the binary that runs was built (scripts/cmake/build_info.cmake).

namespace ptq {

// Full commit hash of the project's checkout, or "unknown" (then build_commit_reason() says why).
const char* build_git_commit();
// True when tracked files differed from the commit at build time.
bool build_git_dirty();
// Empty when the commit is known; otherwise why it is not.
const char* build_commit_reason();

}  // namespace ptq
