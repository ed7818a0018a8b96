#!/usr/bin/env bash
# `ptq sweep --slurm` against a real Slurm (issue 19). Starts munged (own key and socket), a one-node
# slurmctld + slurmd on localhost (generated slurm.conf: CPU-only, 2 CPUs, no accounting storage,
# so sacct answers "disabled" and --status works from squeue, the records and the exit files),
# submits a 3-run sweep (fp, rtn, gptq on austen-tiny) as a job array, cancels the gptq task while
# it runs, checks --status, resubmits with --resume --slurm, and checks that every run ends with
# exactly one complete record equal to a local `ptq sweep` of the same spec except the timing and
# host fields. Every daemon it started is stopped on exit (trap). Without root or without the
# packages (scripts/deps installs slurm-wlm and munge) it prints why and exits 77, which ctest
# reports as skipped (SKIP_RETURN_CODE), never as passed.
source "$(dirname "$0")/cli_helpers.sh" "$@"
SKIP=77
M="$SHARED/models/austen-tiny"
export PTQ_THREADS=1 OMP_NUM_THREADS=1  # the same arithmetic locally and in the tasks (sbatch exports the environment)
# eval windows of 256 tokens make each run take a few seconds, and 512 calibration windows keep
# gptq busy long enough to cancel it mid-run (32, then 128 were no longer enough once its captures got
# faster: a 128-window run took 3.8 s in all, and --status under load saw it late).
cat >"$T/sweep.json" <<JSON
{"models": ["$M"], "methods": ["fp", "rtn", "gptq"], "bits": [4], "groups": [128],
 "calibration": [{"name": "valid", "files": ["$SHARED/corpus/austen-valid.txt"], "nsamples": 512, "seqlen": 128}],
 "eval": {"text": "$SHARED/corpus/austen-test.txt", "seqlen": 256, "max_windows": 24}}
JSON
"$PTQ" sweep "$T/sweep.json" --dry-run >"$T/dry.json" 2>"$T/err" || bad "dry run: $(cat "$T/err")"
mapfile -t IDS < <(python3 -c "import json,sys; [print(r['run_id']) for r in json.load(open(sys.argv[1]))['runs']]" "$T/dry.json")
[ ${#IDS[@]} -eq 3 ] && ok "the sweep has 3 runs" || bad "the sweep has ${#IDS[@]} runs"

# Without Slurm: a dry run writes the script and the run list and prints them; no sbatch on PATH
# is a clear error that leaves both for inspection.
R0="$T/dry-results"
"$PTQ" sweep "$T/sweep.json" --results "$R0" --slurm --dry-run --partition debug --cpus-per-run 1 --array-limit 2 \
  --time 00:10:00 --sbatch-arg=--comment=ptq >"$T/d.json" 2>"$T/d.err" || bad "slurm dry run: $(cat "$T/d.err")"
check "slurm dry run: 3 runs, not submitted" 'len(j["runs"])==3 and j["submitted"] is False and j["dry_run"]' "$T/d.json"
SD=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['dir'])" "$T/d.json")
all=1
for needle in "#SBATCH --array=0-2%2" "#SBATCH --partition=debug" "#SBATCH --cpus-per-task=1" "#SBATCH --time=00:10:00" \
  "#SBATCH --comment=ptq" "#SBATCH --output=$SD/logs/%A_%a.out" "run \"\$spec\" --results"; do
  grep -qF -- "$needle" "$SD/submit-1.sbatch" || all=0
  grep -qF -- "$needle" "$T/d.err" || all=0
done
[ $all -eq 1 ] && ok "dry run prints and writes the sbatch script" || bad "dry-run script: $(cat "$SD/submit-1.sbatch")"
[ "$(wc -l <"$SD/runs-1.txt")" -eq 3 ] && ! grep -q gres "$SD/submit-1.sbatch" && [ ! -e "$SD/submissions.json" ] &&
  ok "run list of 3 lines, no GPU asked for a cpu sweep, nothing recorded as submitted" || bad "dry run files: $(ls -A "$SD")"
env PATH=/nonexistent "$PTQ" sweep "$T/sweep.json" --results "$R0" --slurm >/dev/null 2>"$T/err"
rc=$?
[ $rc -eq 2 ] && grep -qF "sbatch is not on PATH" "$T/err" && grep -qF "left in '$SD'" "$T/err" && [ -s "$SD/submit-1.sbatch" ] &&
  ok "no sbatch on PATH: a clear error, the files left" || bad "no sbatch: exit $rc: $(cat "$T/err")"
expect_error "bad --time" "--time '10 min' is not a Slurm time limit" "$PTQ" sweep "$T/sweep.json" --results "$R0" --slurm --time "10 min"
expect_error "slurm options need --slurm" "--partition goes with --slurm" "$PTQ" sweep "$T/sweep.json" --results "$R0" --partition x

# The local reference.
"$PTQ" sweep "$T/sweep.json" --results "$T/local" >"$T/local.json" 2>"$T/err"
check "local sweep: 3 runs done" 'j["done"]==3 and j["failed"]==[]' "$T/local.json"

# What each array task runs: `ptq run LINE --results DIR --skip-complete` leaves a complete record alone.
head -n 1 "$SD/runs-1.txt" >"$T/line.json"
first=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['runs'][0]['run_id'])" "$T/dry.json")
cp -p "$T/local/$first.json" "$T/first-before.json"
"$PTQ" run "$T/line.json" --results "$T/local" --skip-complete >"$T/skip.json" 2>"$T/err"
rc=$?
[ $rc -eq 0 ] && cmp -s "$T/local/$first.json" "$T/first-before.json" && ok "ptq run --skip-complete: exit 0, the complete record untouched" ||
  bad "skip-complete: exit $rc: $(cat "$T/err")"
check "ptq run --skip-complete says it skipped" "j['skipped'] and j['run_id']=='$first'" "$T/skip.json"

skip() {
  echo "SKIP: $1"
  echo "$pass passed, $fail failed before the skip"
  [ $fail -eq 0 ] && exit $SKIP
  exit 1
}
[ "$(id -u)" -eq 0 ] || skip "a private slurmctld/slurmd runs as SlurmUser=root here: needs root (uid $(id -u))"
for p in munged mungekey slurmctld slurmd sbatch squeue scancel sinfo; do
  command -v $p >/dev/null 2>&1 || skip "'$p' is not installed (scripts/deps installs slurm-wlm and munge)"
done

# --- a private Slurm under $T/slurm ---
S="$T/slurm"
mkdir -p "$S/munge" "$S/state" "$S/spool" "$S/log"
chmod 700 "$S/munge"
DAEMONS=()
stop_slurm() {
  if [ -n "${SLURM_CONF:-}" ] && [ ${#DAEMONS[@]} -gt 0 ]; then
    local jobs
    jobs=$(squeue -h -o %F 2>/dev/null | sort -u)  # the private cluster's jobs: only this test's
    [ -n "$jobs" ] && scancel $jobs 2>/dev/null
    for _ in $(seq 1 100); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.1; done
  fi
  local pid
  for pid in "${DAEMONS[@]}"; do kill "$pid" 2>/dev/null; done  # slurmd, slurmctld, munged (in reverse order of start)
  for pid in "${DAEMONS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  rm -rf "$T"
}
trap stop_slurm EXIT
mungekey -c -k "$S/munge/munge.key" 2>"$T/err" || skip "mungekey failed: $(cat "$T/err")"
munged -F -f --socket="$S/munge/munge.socket" --key-file="$S/munge/munge.key" --log-file="$S/munge/munged.log" \
  --pid-file="$S/munge/munged.pid" --seed-file="$S/munge/munged.seed" >"$S/log/munged.out" 2>&1 &
DAEMONS=($! "${DAEMONS[@]}")
for _ in $(seq 1 50); do [ -S "$S/munge/munge.socket" ] && break; sleep 0.1; done
[ -S "$S/munge/munge.socket" ] || skip "munged did not start: $(tail -c 400 "$S/log/munged.out")"
read -r P1 P2 < <(python3 -c "
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(('127.0.0.1', 0))
print(*[x.getsockname()[1] for x in s])")
H=$(hostname -s)
export SLURM_CONF="$S/slurm.conf"
cat >"$SLURM_CONF" <<CONF
ClusterName=ptqtest
SlurmctldHost=$H(127.0.0.1)
SlurmctldPort=$P1
SlurmdPort=$P2
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$S/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
SlurmdParameters=config_overrides
KillWait=5
MinJobAge=5
NodeName=$H NodeAddr=127.0.0.1 CPUs=2 RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=$H Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -D -i -f "$SLURM_CONF" >"$S/log/slurmctld.out" 2>&1 &
DAEMONS=($! "${DAEMONS[@]}")
slurmd -D -f "$SLURM_CONF" -N "$H" >"$S/log/slurmd.out" 2>&1 &
DAEMONS=($! "${DAEMONS[@]}")
for _ in $(seq 1 200); do sinfo -h -o %t 2>/dev/null | grep -qx idle && break; sleep 0.1; done
sinfo -h -o %t 2>/dev/null | grep -qx idle ||
  skip "slurmctld/slurmd did not bring the node up: $(tail -c 300 "$S/log/slurmctld.log" 2>/dev/null) $(tail -c 300 "$S/log/slurmd.out")"
ok "munged, slurmctld and slurmd up (node $H idle)"

# wait_until SECONDS PYTHON-EXPR: polls --status until EXPR holds for j (the status JSON); sets st.
R="$T/results"
status() { "$PTQ" sweep "$T/sweep.json" --results "$R" --status >"$T/st.json" 2>"$T/st.err"; }
wait_until() {
  local deadline=$((SECONDS + $1))
  while [ $SECONDS -lt $deadline ]; do
    status && python3 -c "import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$T/st.json" && return 0
    sleep 0.5
  done
  return 1
}
state_of() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print([r['state'] for r in j['runs'] if r['run_id']==sys.argv[2]][0])" "$T/st.json" "$1"; }

# Errors from sbatch: no such partition (the files stay for inspection).
"$PTQ" sweep "$T/sweep.json" --results "$R" --slurm --partition nosuchpart >/dev/null 2>"$T/err"
rc=$?
[ $rc -eq 2 ] && grep -qF "sbatch refused the sweep" "$T/err" && grep -qiF "invalid partition" "$T/err" && grep -qF "left in" "$T/err" &&
  ok "no such partition: sbatch's error, the files left" || bad "bad partition: exit $rc: $(cat "$T/err")"

# Submit one task at a time (array limit 1), in the run list's order: fp, rtn, gptq.
"$PTQ" sweep "$T/sweep.json" --results "$R" --slurm --cpus-per-run 1 --array-limit 1 >"$T/sub.json" 2>"$T/sub.err"
check "submitted 3 runs as a job array" 'j["submitted"] and len(j["runs"])==3 and j["job_id"].isdigit()' "$T/sub.json"
JOB=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['job_id'])" "$T/sub.json")
SWEEP_ID=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['sweep_id'])" "$T/sub.json")
GPTQ=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['runs'].index(sys.argv[2]))" "$T/sub.json" "${IDS[2]}")
[ "$(squeue -h -r -j "$JOB" | wc -l)" -eq 3 ] && ok "squeue lists the 3 array tasks" || bad "squeue: $(squeue -r -j "$JOB")"
expect_error "a second --slurm while queued is refused" "is still in the Slurm queue" "$PTQ" sweep "$T/sweep.json" --results "$R" --slurm

# Cancel the gptq task once its ptq process has been running for a second.
wait_until 120 "[r['state'] for r in j['runs']][$GPTQ]=='running'" && ok "--status: gptq task running" || bad "gptq never ran: $(cat "$T/st.err")"
check "--status while gptq runs: the others complete, the log path known" \
  "j['counts'].get('complete')==2 and j['runs'][$GPTQ]['job']=='${JOB}_$GPTQ' and j['runs'][$GPTQ]['log'].endswith('${JOB}_$GPTQ.out')" "$T/st.json"
LOG="$R/.slurm/$SWEEP_ID/logs/${JOB}_$GPTQ.out"
for _ in $(seq 1 100); do grep -q "task ${JOB}_$GPTQ on" "$LOG" 2>/dev/null && break; sleep 0.1; done
sleep 1
scancel "${JOB}_$GPTQ"
wait_until 60 "[r['state'] for r in j['runs']][$GPTQ]=='failed'" && ok "--status: the cancelled task is failed" || bad "after scancel: $(cat "$T/st.err")"
[ ! -e "$R/${IDS[2]}.json" ] && ok "the cancelled run left no record" || bad "the cancelled gptq run wrote a record (it finished before the cancel?)"
grep -qF "accounting storage is disabled" "$T/st.json" && ok "--status says sacct has nothing and works without it" || bad "status notes: $(cat "$T/st.json")"
[ -z "$(ls -A "$R" | grep -v '\.json$' | grep -vx .slurm)" ] && ok "no temporary left by the cancelled task" || bad "left: $(ls -A "$R")"
mkdir -p "$T/before" && cp -p "$R"/*.json "$T/before/"

# --resume --slurm submits only the run without a complete record.
"$PTQ" sweep "$T/sweep.json" --results "$R" --slurm --resume --cpus-per-run 1 >"$T/res.json" 2>"$T/res.err"
check "resume submits only the gptq run" "j['submitted'] and j['runs']==['${IDS[2]}'] and len(j['complete'])==2 and j['submission']==2" "$T/res.json"
wait_until 120 "j['counts'].get('complete')==3" && ok "--status: all 3 complete after the resume" || bad "resume did not complete: $(cat "$T/st.err")"
check "status: 2 jobs, gptq from the second" "len(j['jobs'])==2 and j['runs'][$GPTQ]['job'].startswith(j['jobs'][1]+'_')" "$T/st.json"
same=1
for f in "$T"/before/*.json; do cmp -s "$f" "$R/$(basename "$f")" || same=0; done
[ $same -eq 1 ] && ok "records written before the resume are untouched" || bad "the resume rewrote a complete record"
"$PTQ" sweep "$T/sweep.json" --results "$R" --slurm --resume >"$T/again.json" 2>"$T/err"
check "a further resume submits nothing" 'j["submitted"] is False and len(j["complete"])==3' "$T/again.json"
"$PTQ" sweep "$T/sweep.json" --results "$R" --cancel >"$T/cancel.json" 2>"$T/err"
check "--cancel with nothing queued cancels nothing" 'j["cancelled_jobs"]==[]' "$T/cancel.json"

# Exactly one complete record per run, equal to the local sweep's but for timing and host.
(cd "$R" && ls -A | grep -v '^\.slurm$' | sort) >"$T/got"
printf '%s.json\n' "${IDS[@]}" | sort >"$T/want"
cmp -s "$T/got" "$T/want" && ok "one record per run, nothing else" || bad "results folder: $(cat "$T/got")"
python3 - "$T/local" "$R" "${IDS[@]}" >"$T/cmp.json" <<'PY'
import json, sys
local, slurm, ids = sys.argv[1], sys.argv[2], sys.argv[3:]
def strip(r):  # timing and host fields: created_at, finished_at, metrics.seconds, blocks[].seconds,
    for k in ("created_at", "finished_at"): r.pop(k, None)  # layers[].seconds, provenance.host
    r.get("metrics", {}).pop("seconds", None)
    for k in ("blocks", "layers"):
        for e in r.get(k) or []: e.pop("seconds", None)
    r.get("provenance", {}).pop("host", None)
    return r
diff = {}
for i in ids:
    a, b = (strip(json.load(open(f"{d}/{i}.json"))) for d in (local, slurm))
    if a != b or b.get("status") != "complete":
        diff[i] = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
print(json.dumps({"ok": not diff, "diff": diff}))
PY
check "every record equals the local sweep's (timing and host aside)" 'j["ok"]' "$T/cmp.json"

# --cancel on a queued sweep calls scancel on its array.
"$PTQ" sweep "$T/sweep.json" --results "$T/r2" --slurm --cpus-per-run 2 --array-limit 1 >"$T/s2.json" 2>"$T/err" ||
  bad "second submit: $(cat "$T/err")"
"$PTQ" sweep "$T/sweep.json" --results "$T/r2" --cancel >"$T/c2.json" 2>"$T/err"
J2=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['job_id'])" "$T/s2.json")
check "--cancel cancels the queued array" "j['cancelled_jobs']==['$J2']" "$T/c2.json"
for _ in $(seq 1 100); do [ -z "$(squeue -h -r -j "$J2" -t PD,R,CG 2>/dev/null)" ] && break; sleep 0.1; done
[ -z "$(squeue -h -r -j "$J2" -t PD,R 2>/dev/null)" ] && ok "no task of the cancelled array left in the queue" || bad "queue: $(squeue -r -j "$J2")"

finish
