# Runs at build time (not configure time): writes the project's own git commit and whether the
# tree is dirty into OUT, rewriting it only when the text changes so an unchanged commit rebuilds nothing.
# Inputs: SRC (the project's source folder), OUT (the generated .cpp).
set(commit "unknown")
set(dirty "false")
set(reason "")
find_program(GIT git)
if(NOT GIT)
  set(reason "git is not installed where the binary was built")
else()
  execute_process(COMMAND ${GIT} -C ${SRC} rev-parse --show-toplevel
                  OUTPUT_VARIABLE top OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    set(reason "the source folder is not a git checkout")
  else()
    get_filename_component(top_real "${top}" REALPATH)
    get_filename_component(src_real "${SRC}" REALPATH)
    if(NOT top_real STREQUAL src_real)
      set(reason "the source folder is not a git checkout of its own (it lies inside ${top_real})")
    else()
      execute_process(COMMAND ${GIT} -C ${SRC} rev-parse HEAD
                      OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
      if(NOT rc EQUAL 0 OR commit STREQUAL "")
        set(commit "unknown")
        set(reason "the checkout has no commit yet")
      else()
        execute_process(COMMAND ${GIT} -C ${SRC} status --porcelain --untracked-files=no
                        OUTPUT_VARIABLE changes OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
        if(NOT changes STREQUAL "")
          set(dirty "true")
        endif()
      endif()
    endif()
  endif()
endif()
set(text "// Generated at build time by scripts/cmake/build_info.cmake; do not edit.
#include \"core/records/build_info.h\"
namespace ptq {
const char* build_git_commit() { return \"${commit}\"; }
bool build_git_dirty() { return ${dirty}; }
const char* build_commit_reason() { return \"${reason}\"; }
}  // namespace ptq
")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
else()
  set(old "")
endif()
if(NOT old STREQUAL text)
  file(WRITE ${OUT} "${text}")
endif()
