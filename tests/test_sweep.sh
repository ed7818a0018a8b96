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
ls -A "$R" >"$T/listing"  # -A: temporaries are dot files
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
# A user's own files named like the old temporaries (<name>.tmp<dead pid>-<n>) are never deleted.
printf 'mine' >"$R/notes.tmp999999999-1"
printf 'mine' >"$R/run.json.tmp999999998-7"
"$PTQ" sweep "$T/sweep.json" --results "$R" --resume >"$T/again.json" 2>"$T/again.err"
[ "$(cat "$R/notes.tmp999999999-1" "$R/run.json.tmp999999998-7" 2>/dev/null)" = "minemine" ] && ok "user files named like temporaries survive" \
  || bad "the stale-temporary cleanup deleted a user's file: $(ls -A "$R")"
rm -f "$R/notes.tmp999999999-1" "$R/run.json.tmp999999998-7"
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

# Two CPU workers side by side (the device pool, as N GPUs run N runs): the same five records, with
# the same numbers, as the sequential sweep; a device of the wrong kind is refused before any run.
"$PTQ" sweep "$T/sweep.json" --results "$T/pool" --devices cpu,cpu >"$T/pool.json" 2>"$T/pool.err" \
  || bad "--devices cpu,cpu: $(cat "$T/pool.err")"
check "--devices cpu,cpu runs all five" 'j["done"]==5 and j["failed"]==[]' "$T/pool.json"
python3 - "$R" "$T/pool" >"$T/poolcmp" <<'PY'  # layers: without their timings
import json, glob, os, sys
def recs(d): return {os.path.basename(f): json.load(open(f)) for f in glob.glob(d + "/*.json")}
a, b = recs(sys.argv[1]), recs(sys.argv[2])
diff = [(k, x, a[k]["layers"][i][x], l[x]) for k in a for i, l in enumerate(b[k]["layers"]) for x in l if x != "seconds" and a[k]["layers"][i][x] != l[x]]
same = a.keys() == b.keys() and all(a[k]["metrics"]["ppl"] == b[k]["metrics"]["ppl"] for k in a)
print(json.dumps({"ok": same and not diff, "n": len(b), "diff": diff[:5]}))
PY
check "pool records equal the sequential ones (PPL and per-layer errors)" 'j["ok"] and j["n"]==5' "$T/poolcmp"
grep -q "on cpu" "$T/pool.err" && ok "the pool says where each run went" || bad "no placement in: $(cat "$T/pool.err")"
"$PTQ" sweep "$T/sweep.json" --results "$T/pool2" --devices cuda:0 >/dev/null 2>"$T/poolbad" && bad "--devices cuda:0 for CPU runs accepted"
grep -q "'cuda:0' is not of the kind the runs ask for" "$T/poolbad" && [ ! -e "$T/pool2" ] && ok "--devices of the wrong kind refused before any run" \
  || bad "wrong-kind --devices: $(cat "$T/poolbad")"

# SIGINT / SIGTERM mid-sweep (issue 11): the current run is abandoned, nothing is half written,
# the summary says what completed and what did not, exit 130 / 143; --resume completes the sweep.
# A script's background jobs inherit SIGINT as ignored (ptq keeps it so); "${DEFAULT_SIGNALS[@]}" CMD
# runs CMD (same pid, as python execs it) with SIGINT and SIGTERM at their defaults, as from a terminal.
# The interpreter itself, not a wrapper such as a pyenv shim (which would take the signal instead).
DEFAULT_SIGNALS=("$(python3 -c 'import sys; print(sys.executable)')" -c 'import os, signal, sys
for s in (signal.SIGINT, signal.SIGTERM): signal.signal(s, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])')
# wait_for_handler PID: waits (at most 60 s) until PID catches SIGTERM (bit 15 of SigCgt in
# /proc/PID/status), i.e. ptq's main has installed its handlers: loading LibTorch on a busy machine
# can take seconds, and a signal before that kills it the default way.
wait_for_handler() {
  for _ in $(seq 1 1200); do
    local cgt
    cgt=$(awk '/^SigCgt:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return
    [ -n "$cgt" ] && (( (16#$cgt >> 14) & 1 )) && return
    kill -0 "$1" 2>/dev/null || return
    sleep 0.05
  done
}
count_records() { ls "$1"/*.json 2>/dev/null | wc -l; }
# signal_sweep SIG DIR N [--resume]: starts the sweep, sends SIG once DIR holds N records, waits
# (at most 60 s); sets rc, and secs to the seconds from the signal to the exit.
signal_sweep() {
  local sig=$1 dir=$2 n=$3
  shift 3
  "${DEFAULT_SIGNALS[@]}" "$PTQ" sweep "$T/sweep.json" --results "$dir" "$@" >"$T/sig.json" 2>"$T/sig.err" &
  local pid=$! t0
  for _ in $(seq 1 2400); do
    [ "$(count_records "$dir")" -ge "$n" ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.05
  done
  t0=$(date +%s.%N)
  kill -"$sig" $pid
  for _ in $(seq 1 1200); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done
  kill -9 $pid 2>/dev/null
  wait $pid
  rc=$?
  secs=$(python3 -c "import sys,time; print(round(time.time()-float(sys.argv[1]),1))" "$t0")
}
# records_intact DIR NAME: every record in DIR is complete and no temporary is left
records_intact() {
  local all=1
  for f in "$1"/*.json; do
    python3 -c "import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if j['status']=='complete' and j['metrics']['eval']['windows']==6 else 1)" "$f" || all=0
  done
  [ $all -eq 1 ] && ok "$2: every record complete" || bad "$2: a record is not complete"
  [ -z "$(ls -A "$1" | grep -v '\.json$')" ] && ok "$2: no temporary files" || bad "$2: left $(ls -A "$1")"
}
S="$T/signalled"
signal_sweep INT "$S" 1
[ $rc -eq 130 ] && ok "SIGINT exits 130 (after ${secs}s)" || bad "SIGINT: exit $rc after ${secs}s: $(tail -c 600 "$T/sig.err")"
check "SIGINT summary: what completed and what did not" \
  'j["cancelled"] and j["signal"]=="SIGINT" and j["done"]>=1 and j["done"]+len(j["not_run"])+(j["abandoned"] is not None)==5' "$T/sig.json"
grep -q "cancelled by SIGINT" "$T/sig.err" && ok "SIGINT is reported" || bad "no SIGINT message: $(tail -c 400 "$T/sig.err")"
records_intact "$S" "after SIGINT"
n_int=$(count_records "$S")
signal_sweep TERM "$S" $((n_int + 1)) --resume
[ $rc -eq 143 ] && ok "SIGTERM exits 143 (after ${secs}s)" || bad "SIGTERM: exit $rc after ${secs}s: $(tail -c 600 "$T/sig.err")"
check "SIGTERM summary" 'j["cancelled"] and j["signal"]=="SIGTERM" and j["skipped"]>=1' "$T/sig.json"
records_intact "$S" "after SIGTERM"
n_term=$(count_records "$S")
"$PTQ" sweep "$T/sweep.json" --results "$S" --resume >"$T/sigdone.json" 2>"$T/err"
check "resume after the signals completes the sweep" "j['done']==5-$n_term and j['skipped']==$n_term and j['failed']==[]" "$T/sigdone.json"
(cd "$S" && ls -A | sed 's/\.json$//' | sort) >"$T/sig-ids"
cmp -s "$T/ids" "$T/sig-ids" && ok "after the signals: one record per run, nothing else" || bad "after the signals: $(ls -A "$S")"
# A second signal exits at once, even in the middle of a run.
"${DEFAULT_SIGNALS[@]}" "$PTQ" sweep "$T/sweep.json" --results "$T/twice" >/dev/null 2>"$T/twice.err" &
pid=$!
for _ in $(seq 1 600); do grep -q "started" "$T/twice.err" 2>/dev/null && break; sleep 0.05; done
kill -INT $pid; kill -INT $pid
for _ in $(seq 1 200); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done
kill -9 $pid 2>/dev/null
wait $pid
rc=$?
[ $rc -eq 130 ] && ok "a second SIGINT exits 130 at once" || bad "second SIGINT: exit $rc: $(tail -c 300 "$T/twice.err")"

# ptq ppl: SIGTERM stops it between windows with a message and exit 143, no PPL printed.
"${DEFAULT_SIGNALS[@]}" "$PTQ" ppl --model "$M" --text "$SHARED/corpus/austen-train.txt" --seqlen 128 >"$T/ppl-sig.out" 2>"$T/ppl-sig.err" &
pid=$!
wait_for_handler $pid
sleep 1  # loaded and tokenized (0.5 s); the ~7,000 windows of austen-train take far longer
kill -TERM $pid
for _ in $(seq 1 600); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done
kill -9 $pid 2>/dev/null
wait $pid
rc=$?
[ $rc -eq 143 ] && grep -q "cancelled by SIGTERM" "$T/ppl-sig.err" && [ ! -s "$T/ppl-sig.out" ] &&
  ok "ptq ppl: SIGTERM cancels between windows (exit 143, no result printed)" ||
  bad "ptq ppl SIGTERM: exit $rc, out '$(head -c 200 "$T/ppl-sig.out")', err '$(tail -c 300 "$T/ppl-sig.err")'"
# SIGINT inherited as ignored (this script's background job) stays ignored; SIGTERM still cancels.
"$PTQ" sweep "$T/sweep.json" --results "$T/ignored" >/dev/null 2>"$T/ign.err" &
pid=$!
for _ in $(seq 1 600); do grep -q "started" "$T/ign.err" 2>/dev/null && break; sleep 0.05; done
kill -INT $pid
sleep 1
kill -0 $pid 2>/dev/null && alive=1 || alive=0
kill -TERM $pid
for _ in $(seq 1 1200); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done
kill -9 $pid 2>/dev/null
wait $pid
rc=$?
[ $alive -eq 1 ] && [ $rc -eq 143 ] && ok "an ignored SIGINT stays ignored, SIGTERM cancels" || bad "ignored SIGINT: alive $alive, exit $rc"

# Every run is checked before the first starts, and every problem is named at once.
head -c 2000 "$SHARED/corpus/austen-test.txt" >"$T/tiny-text.txt"
cat >"$T/flawed.json" <<JSON
{"models": ["$M", "$T/no-model"], "methods": ["rtn", "gptq"], "groups": [48],
 "calibration": [{"files": ["$T/tiny-text.txt"], "nsamples": 4, "seqlen": 4096}],
 "eval": {"text": "$T/no-text.txt", "seqlen": 128}}
JSON
"$PTQ" sweep "$T/flawed.json" --results "$T/r3" >/dev/null 2>"$T/err"
rc=$?
all=1
for needle in "4 problems before any run started" "model '$T/no-model'" "group_size 48 does not divide in_features 128" \
  "eval text: cannot open file '$T/no-text.txt'" "too few for windows of seqlen 4096"; do
  grep -qF -- "$needle" "$T/err" || all=0
done
[ $rc -eq 2 ] && [ $all -eq 1 ] && ok "every problem of the sweep named before any run" || bad "sweep validation: exit $rc: $(cat "$T/err")"
[ ! -e "$T/r3" ] && ok "no run started for a flawed sweep" || bad "a flawed sweep started: $(ls -A "$T/r3")"

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
# A W-A run (static per-tensor A8 scales) with a 4-bit KV cache: the artifacts restore the activation
# and KV quantizers, so compare's PPL of the loaded model is the run's.
"$PTQ" quantize --model "$M" --method rtn --bits 4 --act-bits 8 --act-granularity tensor --act-static absmax --kv-bits 4 \
  --calib "$SHARED/corpus/austen-valid.txt" --nsamples 4 --calib-seqlen 64 --eval-text "$SHARED/corpus/austen-test.txt" \
  --eval-seqlen 128 --eval-max-windows 2 --out "$T/art-wa" >"$T/qwa.json" 2>"$T/err" || bad "quantize w4a8 kv4: $(cat "$T/err")"
check "W-A artifacts name the act and KV settings" 'j["version"]==2 and j["activations"]["setting"]["act_static"]=="absmax" and j["kv_cache"]["bits"]==4' "$T/art-wa/artifacts.json"
"$PTQ" compare --model "$M" --quantized "$T/art-wa" --text "$SHARED/corpus/austen-test.txt" --seqlen 128 --max-windows 2 >"$T/cmpwa.json" 2>"$T/err" || bad "compare w4a8 kv4: $(cat "$T/err")"
check "ptq compare of a loaded W-A run matches its PPL" "abs(j['ppl_q'] - $(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['ppl'])" "$T/qwa.json")) < 1e-4 * j['ppl_q']" "$T/cmpwa.json"

# ptq quantize (and run) on SIGTERM: the run is abandoned, no record, exit 143, what happened on stdout.
"${DEFAULT_SIGNALS[@]}" "$PTQ" quantize --model "$M" --method gptq --bits 4 --calib "$SHARED/corpus/austen-valid.txt" \
  --nsamples 64 --calib-seqlen 256 --eval-text "$SHARED/corpus/austen-test.txt" --eval-seqlen 128 --results "$T/qsig" \
  >"$T/qsig.json" 2>"$T/qsig.err" &
pid=$!
wait_for_handler $pid
sleep 1
kill -TERM $pid
for _ in $(seq 1 1200); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done
kill -9 $pid 2>/dev/null
wait $pid
rc=$?
[ $rc -eq 143 ] && ok "quantize: SIGTERM exits 143" || bad "quantize SIGTERM: exit $rc: $(tail -c 300 "$T/qsig.err")"
check "quantize: SIGTERM says the run did not complete" 'j["cancelled"] and j["complete"] is False and j["signal"]=="SIGTERM"' "$T/qsig.json"
[ -z "$(ls -A "$T/qsig")" ] && ok "quantize: no record and no temporary after SIGTERM" || bad "quantize SIGTERM left $(ls -A "$T/qsig")"

# The other long commands on SIGTERM: cancelled between units of work with a message, exit 143,
# nothing printed on stdout; make-checkpoint removes the shards it had written.
sigterm_cancels() {  # NAME CMD...: CMD must still be working 1 s after its handlers are installed
  local name=$1
  shift
  "${DEFAULT_SIGNALS[@]}" "$@" >"$T/sig-$name.out" 2>"$T/sig-$name.err" &
  local pid=$! alive=0 rc
  wait_for_handler $pid
  sleep 1
  kill -0 $pid 2>/dev/null && alive=1
  kill -TERM $pid 2>/dev/null
  for _ in $(seq 1 1200); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done
  kill -9 $pid 2>/dev/null
  wait $pid
  rc=$?
  if [ $alive -eq 1 ] && [ $rc -eq 143 ] && grep -q "cancelled by SIGTERM" "$T/sig-$name.err" && [ ! -s "$T/sig-$name.out" ]; then
    ok "$name: SIGTERM cancels (exit 143, nothing printed)"
  else
    bad "$name SIGTERM: still running at 1 s: $alive, exit $rc, out '$(head -c 200 "$T/sig-$name.out")', err '$(tail -c 300 "$T/sig-$name.err")'"
  fi
}
TRAIN="$SHARED/corpus/austen-train.txt"
sigterm_cancels compare "$PTQ" compare --model "$M" --quantized "$T/art" --text "$TRAIN" --seqlen 128
sigterm_cancels kurtosis "$PTQ" kurtosis --model "$M" --calib "$TRAIN" --nsamples 4096 --calib-seqlen 256
sigterm_cancels eval-tasks "$PTQ" eval-tasks --model "$M" --lastword "$TRAIN" --lastword-n 100000
mkdir -p "$T/ckpt" && echo '{"user": "old"}' >"$T/ckpt/config.json"
sigterm_cancels make-checkpoint "$PTQ" make-checkpoint --like llama-2-7b --layers 8 --shard-gb 0.25 --out "$T/ckpt"
[ -z "$(ls -A "$T/ckpt")" ] && ok "make-checkpoint: no shard, index or stale config.json left after SIGTERM" ||
  bad "make-checkpoint SIGTERM left $(ls -A "$T/ckpt" | head -5 | tr '\n' ' ')"

# Errors: bad specs and an unwritable results folder.
sed 's/"methods"/"method"/' "$T/sweep.json" >"$T/badkey.json"
expect_error "unknown sweep key" "unknown key 'method' (allowed: models, methods" "$PTQ" sweep "$T/badkey.json" --results "$T/r2"
sed 's/"gptq"/"qptq"/' "$T/sweep.json" >"$T/badmethod.json"
expect_error "unknown sweep method" "unknown method 'qptq' (allowed: fp, rtn" "$PTQ" sweep "$T/badmethod.json" --results "$T/r2"
printf '{"models": [' >"$T/broken.json"
expect_error "malformed sweep spec" "broken.json" "$PTQ" sweep "$T/broken.json" --results "$T/r2"
touch "$T/plainfile"
expect_error "unwritable results folder" "cannot create results directory '$T/plainfile/results'" "$PTQ" sweep "$T/sweep.json" --results "$T/plainfile/results"
echo '{"model": "x", "bitz": 3}' >"$T/bitz.json"
expect_error "run spec unknown key" "unknown key 'bitz'" "$PTQ" run "$T/bitz.json"
[ ! -e "$T/r2" ] && ok "nothing created for a bad spec" || bad "a bad spec created the results folder"

finish
