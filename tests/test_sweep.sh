#!/usr/bin/env bash
# ptq sweep / run / quantize --results / compare end to end on austen-tiny: a 5-run sweep (fp, rtn
# and gptq at 3 and 4 bits) killed with SIGKILL after its first record, resumed with --resume: every
# run ends with exactly one complete record, no temporary files, the records written before the
# kill untouched, and a second --resume runs nothing. Plus clear errors for bad specs and folders.
source "$(dirname "$0")/cli_helpers.sh" "$@"

M="$SHARED/models/austen-tiny"
cat >"$T/sweep.json" <<JSON
{"models": ["$M"], "methods": ["fp", "rtn", "gptq"], "bits": [3, 4], "groups": [128],
 "calibration": [{"name": "valid", "files": ["$SHARED/corpus/austen-valid.txt"], "nsamples": 16, "seqlen": 128}],
 "eval": {"text": "$SHARED/corpus/austen-test.txt", "seqlen": 128, "max_windows": 6},
 "analyses": ["compare"]}
JSON
"$PTQ" sweep "$T/sweep.json" --dry-run >"$T/dry.json" 2>"$T/err" || bad "dry run: $(cat "$T/err")"
check "dry run lists 5 runs, fp once" 'len(j["runs"])==5 and sum(r["spec"]["method"]=="fp" for r in j["runs"])==1' "$T/dry.json"
python3 -c "import json,sys; [print(r['run_id']) for r in json.load(open(sys.argv[1]))['runs']]" "$T/dry.json" | sort >"$T/ids"

R="$T/results"
"$PTQ" sweep "$T/sweep.json" --results "$R" >"$T/first.json" 2>"$T/first.err" &
pid=$!
for _ in $(seq 1 2400); do
  compgen -G "$R/*.json" >/dev/null && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.05
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
before=$(ls "$R"/*.json 2>/dev/null | wc -l)
if [ "$before" -ge 1 ] && [ "$before" -lt 5 ]; then ok "killed after $before record(s)"; else bad "killed after $before records (want 1..4): $(cat "$T/first.err")"; fi
mkdir -p "$T/before"
cp -p "$R"/*.json "$T/before/"

"$PTQ" sweep "$T/sweep.json" --results "$R" --resume >"$T/resume.json" 2>"$T/resume.err"
rc=$?
[ $rc -eq 0 ] && ok "resume exits 0" || bad "resume exit $rc: $(cat "$T/resume.err")"
check "resume ran the rest and skipped the done" "j['runs']==5 and j['done']==5-$before and j['skipped']==$before and j['failed']==[]" "$T/resume.json"
ls "$R" >"$T/listing"
(cd "$R" && ls -- *.json | sed 's/\.json$//' | sort) >"$T/got-ids"
if cmp -s "$T/ids" "$T/got-ids" && [ "$(wc -l <"$T/listing")" -eq 5 ]; then ok "one record per run, nothing else"; else bad "results folder: $(cat "$T/listing")"; fi
same=1
for f in "$T"/before/*.json; do cmp -s "$f" "$R/$(basename "$f")" || same=0; done
[ $same -eq 1 ] && ok "records written before the kill are byte-identical" || bad "a record written before the kill changed"
for f in "$R"/*.json; do
  check "complete record $(basename "$f" .json)" \
    'j["schema"]=="ptq-workbench.result" and j["status"]=="complete" and j["metrics"]["eval"]["windows"]==6 and j["metrics"]["size"]["total_bytes"]>0 and (j["method"]=="fp" or (j["metrics"]["compare"]["kl_mean"]>0 and 0<j["metrics"]["compare"]["top1_agreement"]<1))' "$f"
done
cp -p "$R"/*.json "$T/before/"
"$PTQ" sweep "$T/sweep.json" --results "$R" --resume >"$T/again.json" 2>"$T/again.err"
check "second resume runs nothing" 'j["done"]==0 and j["skipped"]==5 and len(j["skipped_runs"])==5' "$T/again.json"
same=1
for f in "$R"/*.json; do cmp -s "$f" "$T/before/$(basename "$f")" || same=0; done
[ $same -eq 1 ] && ok "second resume leaves every record untouched" || bad "second resume rewrote a record"
grep -q "skipped (complete record exists)" "$T/again.err" && ok "skips are reported" || bad "skips not reported: $(cat "$T/again.err")"

# The records agree with each other: the compare's fp PPL is the fp run's, the record's PPL is the
# compare's ppl_q, and the KL to full precision orders the runs (6 windows are too few for PPL to).
python3 - "$R" >"$T/cross" <<'PY'
import json, glob, sys
recs = {(r["method"], (r["quant"] or {}).get("bits")): r for r in (json.load(open(f)) for f in glob.glob(sys.argv[1] + "/*.json"))}
fp = recs[("fp", None)]["metrics"]["ppl"]
kl = {k: r["metrics"]["compare"]["kl_mean"] for k, r in recs.items() if k[0] != "fp"}
ok = all(abs(r["metrics"]["compare"]["ppl_fp"] - fp) < 1e-3 * fp and r["metrics"]["ppl"] == r["metrics"]["compare"]["ppl_q"]
         for k, r in recs.items() if k[0] != "fp")
ok = ok and kl[("gptq", 3)] < kl[("rtn", 3)] and kl[("gptq", 4)] < kl[("gptq", 3)] and kl[("rtn", 4)] < kl[("rtn", 3)]
ok = ok and recs[("gptq", 3)]["calibration"]["nsamples"] == 16 and recs[("rtn", 3)]["calibration"] is None
print(json.dumps({"ok": ok, "fp": fp, "kl": {f"{m}{b}": v for (m, b), v in kl.items()}}))
PY
check "records agree: same fp PPL, ppl = ppl_q, KL gptq3 < rtn3, 4 bits < 3 bits" 'j["ok"]' "$T/cross"

# ptq run: one spec with relative paths; ptq quantize --results writes the same kind of record.
mkdir -p "$T/spec"
cp "$SHARED/corpus/austen-test.txt" "$T/spec/test.txt"
printf '{"model": "%s", "method": "rtn", "bits": 4, "eval": {"text": "test.txt", "seqlen": 128, "max_windows": 2}}' "$M" >"$T/spec/run.json"
"$PTQ" run "$T/spec/run.json" --results "$T/single" >"$T/run.json" 2>"$T/err" || bad "ptq run: $(cat "$T/err")"
check "ptq run prints and writes its record" 'j["method"]=="rtn" and j["spec"]["eval"]["text"].endswith("/spec/test.txt") and j["metrics"]["eval"]["windows"]==2' "$T/run.json"
[ "$(ls "$T/single")" = "$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['run_id'] + '.json')" "$T/run.json")" ] && ok "ptq run record file" || bad "ptq run record file: $(ls "$T/single")"
expect_error "ptq run refuses to redo a complete record" "already holds" "$PTQ" run "$T/spec/run.json" --results "$T/single"
"$PTQ" quantize --model "$M" --method rtn --bits 3 --eval-text "$SHARED/corpus/austen-test.txt" --eval-seqlen 128 \
  --eval-max-windows 2 --results "$T/single" --out "$T/art" >"$T/q.json" 2>"$T/err" || bad "quantize: $(cat "$T/err")"
check "ptq quantize keeps its keys and writes a record" 'all(k in j for k in ("ppl","method","bits","group","layers","seconds","peak_gpu_bytes")) and j["record"].endswith(j["run_id"]+".json")' "$T/q.json"
check "quantize record" 'j["schema"]=="ptq-workbench.result" and j["quant"]["bits"]==3' "$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['record'])" "$T/q.json")"
"$PTQ" compare --model "$M" --quantized "$T/art" --text "$SHARED/corpus/austen-test.txt" --seqlen 128 --max-windows 2 >"$T/cmp.json" 2>"$T/err" || bad "compare: $(cat "$T/err")"
check "ptq compare matches the quantize run's PPL" "abs(j['ppl_q'] - $(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['ppl'])" "$T/q.json")) < 1e-4 * j['ppl_q'] and j['kl_mean'] > 0 and j['tokens'] == 254" "$T/cmp.json"

# Errors: bad specs and an unwritable results folder.
sed 's/"methods"/"method"/' "$T/sweep.json" >"$T/badkey.json"
expect_error "unknown sweep key" "unknown key 'method' (allowed: models, methods" "$PTQ" sweep "$T/badkey.json" --results "$T/r2"
sed 's/"gptq"/"qptq"/' "$T/sweep.json" >"$T/badmethod.json"
expect_error "unknown sweep method" "unknown method 'qptq' (allowed: fp, rtn" "$PTQ" sweep "$T/badmethod.json" --results "$T/r2"
printf '{"models": [' >"$T/broken.json"
expect_error "malformed sweep spec" "broken.json" "$PTQ" sweep "$T/broken.json" --results "$T/r2"
touch "$T/plainfile"
expect_error "unwritable results folder" "cannot create results directory '$T/plainfile/results'" "$PTQ" sweep "$T/sweep.json" --results "$T/plainfile/results"
expect_error "run spec unknown key" "unknown key 'bitz'" "$PTQ" run <(echo '{"model": "x", "bitz": 3}')
[ ! -e "$T/r2" ] && ok "nothing created for a bad spec" || bad "a bad spec created the results folder"

finish
