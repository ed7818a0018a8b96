# Sourced by the shell tests (test_cli.sh, test_sweep.sh): `source cli_helpers.sh "$@"` with the
# test's arguments PTQ SHARED. Sets PTQ, SHARED, a temporary folder T (removed on exit), the pass
# and fail counters, and the checks below; the test ends with `finish`.
set -u
PTQ=$1
SHARED=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok    $1"; }
bad() { fail=$((fail + 1)); echo "FAIL  $1"; }

# expect_json NAME PYTHON-EXPR CMD...: runs CMD, checks exit 0 and that the JSON on stdout satisfies EXPR (j = parsed)
expect_json() {
  local name=$1 expr=$2 out
  shift 2
  if out=$("$@" 2>"$T/err"); then
    if python3 -c "import json,sys; j=json.loads(sys.argv[1]); sys.exit(0 if ($expr) else 1)" "$out"; then ok "$name"; else bad "$name: $out"; fi
  else
    bad "$name: exit $? $(cat "$T/err")"
  fi
}

# check NAME PYTHON-EXPR JSON-FILE: EXPR holds for j = the parsed file
check() {
  if python3 -c "import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$3" 2>"$T/pyerr"; then ok "$1"; else bad "$1: $(head -c 600 "$3") $(cat "$T/pyerr")"; fi
}

# expect_error NAME NEEDLE CMD...: runs CMD, checks exit 2 and that stderr names NEEDLE
expect_error() {
  local name=$1 needle=$2 rc
  shift 2
  "$@" >/dev/null 2>"$T/err"
  rc=$?
  if [ $rc -eq 2 ] && grep -qF -- "$needle" "$T/err"; then ok "$name"; else bad "$name: exit $rc, stderr: $(cat "$T/err")"; fi
}

# The closing line and the exit status.
finish() {
  echo "$pass passed, $fail failed"
  [ $fail -eq 0 ]
}
