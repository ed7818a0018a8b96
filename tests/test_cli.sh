#!/usr/bin/env bash
# The ptq CLI end to end: JSON outputs, make-checkpoint -> inspect -> ppl, and clear errors.
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
  local name=$1 expr=$2
  shift 2
  if out=$("$@" 2>"$T/err"); then
    if python3 -c "import json,sys; j=json.loads(sys.argv[1]); sys.exit(0 if ($expr) else 1)" "$out"; then ok "$name"; else bad "$name: $out"; fi
  else
    bad "$name: exit $? $(cat "$T/err")"
  fi
}
# expect_error NAME NEEDLE CMD...: runs CMD, checks exit 2 and that stderr names NEEDLE
expect_error() {
  local name=$1 needle=$2
  shift 2
  "$@" >/dev/null 2>"$T/err"
  local rc=$?
  if [ $rc -eq 2 ] && grep -qF -- "$needle" "$T/err"; then ok "$name"; else bad "$name: exit $rc, stderr: $(cat "$T/err")"; fi
}

expect_json "inspect mixtral" 'j["architecture"]=="MixtralForCausalLM" and j["num_experts"]==4 and any(l["name"]=="layers.0.block_sparse_moe.experts.2.w1" and l["shape"]==[128,64] for l in j["linear_layers"])' \
  "$PTQ" inspect "$SHARED/parity/mixtral"
expect_json "inspect austen-small" 'j["parameters"]==12590592 or abs(j["parameters"]-12.59e6)<1e4' "$PTQ" inspect "$SHARED/models/austen-small"
expect_json "tokenize text" 'j["ids"]==[779, 279, 80, 1252]' "$PTQ" tokenize --tokenizer "$SHARED/tokenizers/austen-bpe8k.tokenizer.json" --text "Hello world"
head -c 3000 "$SHARED/corpus/austen-test.txt" >"$T/short.txt"
expect_json "tokenize file" 'len(j["ids"])>400' "$PTQ" tokenize --tokenizer "$SHARED/tokenizers/gpt2.tokenizer.json" --file "$T/short.txt"
expect_json "make-checkpoint tiny-llama" 'j["architecture"]=="LlamaForCausalLM"' \
  "$PTQ" make-checkpoint --like tiny-llama --out "$T/tiny" --dtype float32 --tokenizer "$SHARED/tokenizers/austen-bpe8k.tokenizer.json"
expect_json "make-checkpoint sharded mixtral" 'j["architecture"]=="MixtralForCausalLM"' \
  "$PTQ" make-checkpoint --like tiny-mixtral --out "$T/mix" --shard-gb 0.001 --tokenizer "$SHARED/tokenizers/austen-bpe8k.tokenizer.json"
[ -f "$T/mix/model.safetensors.index.json" ] && ok "sharded index written" || bad "sharded index written"
expect_json "ppl on the random checkpoint" 'j["windows"]==5 and j["tokens"]==640 and j["ppl"]>1000' \
  "$PTQ" ppl --model "$T/tiny" --text "$SHARED/corpus/austen-test.txt" --seqlen 128 --max-windows 5
expect_json "ppl austen-tiny bf16 streamed" 'abs(j["ppl"]-96.5)<2.0 and j["dtype"]=="bfloat16" and j["residency"]=="stream"' \
  "$PTQ" ppl --model "$SHARED/models/austen-tiny" --text "$SHARED/corpus/austen-test.txt" --seqlen 512 --dtype bfloat16 --residency stream --batch 8
expect_json "ppl sharded mixtral" 'j["windows"]==2' "$PTQ" ppl --model "$T/mix" --text "$T/short.txt" --seqlen 64 --max-windows 2

expect_error "missing model folder" "does not exist" "$PTQ" ppl --model "$T/nope" --text "$T/short.txt"
expect_error "missing text" "cannot open" "$PTQ" ppl --model "$T/tiny" --text "$T/nope.txt"
expect_error "text shorter than a window" "fewer than one window" "$PTQ" ppl --model "$T/tiny" --text "$T/short.txt" --seqlen 4096
expect_error "unknown option" "unknown option --bits" "$PTQ" ppl --model "$T/tiny" --bits 3
expect_error "unknown dtype" "unknown dtype" "$PTQ" ppl --model "$T/tiny" --text "$T/short.txt" --dtype int8
expect_error "unknown preset" "unknown model shape" "$PTQ" make-checkpoint --like gpt-5 --out "$T/x"
mkdir -p "$T/notok" && cp "$T/tiny/config.json" "$T/tiny/model.safetensors" "$T/notok/"
expect_error "missing tokenizer" "no tokenizer.json" "$PTQ" ppl --model "$T/notok" --text "$T/short.txt"
expect_error "missing tokenizer file" "file not found" "$PTQ" tokenize --tokenizer "$T/none.json" --text hi
printf '{"model": {"type": "Unigram"' >"$T/bad.json"
expect_error "malformed tokenizer" "not valid JSON" "$PTQ" tokenize --tokenizer "$T/bad.json" --text hi
expect_error "unknown command" "unknown command" "$PTQ" frobnicate

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
