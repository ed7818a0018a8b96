#!/usr/bin/env bash
# ptq-workbench --headless: runs a small sweep on austen-tiny through the GUI's job queue without
# a window, writes every view's figure (SVG, PNG, PDF) and the tables (CSV, LaTeX), prints a JSON
# summary; a second run reuses the complete records; bad arguments name the problem.
set -u
wb=$1
shared=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
check() {  # name, command...
  local name=$1
  shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL: $name" >&2; fail=$((fail + 1)); fi
}
export QT_QPA_PLATFORM=offscreen

cat >"$tmp/sweep.json" <<JSON
{"models": ["$shared/models/austen-tiny"], "methods": ["fp", "rtn", "gptq"], "bits": [4], "groups": [128],
 "calibration": [{"files": ["$shared/corpus/austen-valid.txt"], "nsamples": 8, "seqlen": 128}],
 "eval": {"text": "$shared/corpus/austen-test.txt", "seqlen": 128, "max_windows": 5},
 "analyses": ["compare", "kurtosis", "token_kl"]}
JSON

"$wb" --headless --out "$tmp/out" --sweep "$tmp/sweep.json" --results "$tmp/results" >"$tmp/s1.json" 2>"$tmp/err1"
rc=$?
check "first run exits 0 (rc=$rc: $(tail -3 "$tmp/err1"))" test $rc -eq 0
check "summary: 3 runs written" python3 -c "
import json,sys; s=json.load(open('$tmp/s1.json'))
assert s['runs']==3 and s['written']==3 and s['reused']==0 and s['failed']==[] and s['records']==3, s
assert s['problems']==[], s['problems']"
for id in tradeoff layer_error kurtosis token_distribution comparison; do
  for fmt in svg png pdf; do
    check "$id.$fmt written" test -s "$tmp/out/$id.$fmt"
  done
done
check "SVG is XML with an svg root" python3 -c "
import xml.etree.ElementTree as E; r=E.parse('$tmp/out/tradeoff.svg').getroot(); assert r.tag.endswith('svg'), r.tag"
check "PNG signature" python3 -c "assert open('$tmp/out/kurtosis.png','rb').read(8)==b'\x89PNG\r\n\x1a\n'"
check "PDF has one page" python3 -c "
import re; d=open('$tmp/out/layer_error.pdf','rb').read(); assert d[:5]==b'%PDF-'
assert len(re.findall(rb'/Type\s*/Page[^s]', d))==1"
check "results table: header + 3 rows" test "$(grep -c . "$tmp/out/results.csv")" -eq 4
check "LaTeX table is booktabs" grep -q '\\toprule' "$tmp/out/results.tex"
check "3 records in the results dir" test "$(ls "$tmp/results"/*.json | wc -l)" -eq 3

# Second run: every record reused, nothing rewritten.
before=$(md5sum "$tmp/results"/*.json)
"$wb" --headless --out "$tmp/out2" --sweep "$tmp/sweep.json" --results "$tmp/results" >"$tmp/s2.json" 2>"$tmp/err2"
check "second run exits 0" test $? -eq 0
check "second run reuses 3 records" python3 -c "
import json; s=json.load(open('$tmp/s2.json')); assert s['written']==0 and s['reused']==3, s"
check "records untouched" test "$before" = "$(md5sum "$tmp/results"/*.json)"

# Bad input names the problem (exit 2).
"$wb" --headless --sweep "$tmp/sweep.json" >/dev/null 2>"$tmp/e3"
check "missing --out" test $? -eq 2
check "missing --out named" grep -q -- '--out' "$tmp/e3"
echo '{"models": ["x"], "methods": ["rtn"], "bitz": [3]}' >"$tmp/bad.json"
"$wb" --headless --out "$tmp/o3" --sweep "$tmp/bad.json" >/dev/null 2>"$tmp/e4"
check "bad sweep key" test $? -eq 2
check "bad sweep key named" grep -q bitz "$tmp/e4"

echo "$pass passed, $fail failed"
test $fail -eq 0
