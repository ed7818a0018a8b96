#!/usr/bin/env bash
# The ptq CLI end to end: JSON outputs, make-checkpoint -> inspect -> ppl, and clear errors.
source "$(dirname "$0")/cli_helpers.sh" "$@"

expect_json "inspect mixtral" 'j["architecture"]=="MixtralForCausalLM" and j["num_experts"]==4 and any(l["name"]=="layers.0.block_sparse_moe.experts.2.w1" and l["shape"]==[128,64] for l in j["linear_layers"])' \
  "$PTQ" inspect "$SHARED/parity/mixtral"
# austen-small by its config: tied embedding 8192x384, 6 blocks of q,o 384x384, k,v 128x384, 3 MLP
# 1024x384 and 2 norms of 384, a final norm: 3145728 + 6*1573632 + 384 (reference.json: 12587904).
expect_json "inspect austen-small" 'j["parameters"]==8192*384+6*(2*384*384+2*128*384+3*1024*384+2*384)+384' "$PTQ" inspect "$SHARED/models/austen-small"
# The ids Hugging Face tokenizers gives (shared/tokenizers/reference-encodings.json).
hello_ids=$(python3 -c "import json,sys; print(next(e['ids'] for e in json.load(open(sys.argv[1]))['austen-bpe8k'] if e['text']=='Hello world'))" "$SHARED/tokenizers/reference-encodings.json")
expect_json "tokenize text" "j['ids']==$hello_ids" "$PTQ" tokenize --tokenizer "$SHARED/tokenizers/austen-bpe8k.tokenizer.json" --text "Hello world"
head -c 3000 "$SHARED/corpus/austen-test.txt" >"$T/short.txt"
expect_json "tokenize file" 'len(j["ids"])>400' "$PTQ" tokenize --tokenizer "$SHARED/tokenizers/gpt2.tokenizer.json" --file "$T/short.txt"
expect_json "make-checkpoint tiny-llama" 'j["architecture"]=="LlamaForCausalLM"' \
  "$PTQ" make-checkpoint --like tiny-llama --out "$T/tiny" --dtype float32 --tokenizer "$SHARED/tokenizers/austen-bpe8k.tokenizer.json"
expect_json "make-checkpoint sharded mixtral" 'j["architecture"]=="MixtralForCausalLM"' \
  "$PTQ" make-checkpoint --like tiny-mixtral --out "$T/mix" --shard-gb 0.001 --tokenizer "$SHARED/tokenizers/austen-bpe8k.tokenizer.json"
[ -f "$T/mix/model.safetensors.index.json" ] && ok "sharded index written" || bad "sharded index written"
expect_json "ppl on the random checkpoint" 'j["windows"]==5 and j["tokens"]==640 and j["ppl"]>1000' \
  "$PTQ" ppl --model "$T/tiny" --text "$SHARED/corpus/austen-test.txt" --seqlen 128 --max-windows 5
# bfloat16 weights and activations (8-bit mantissa) against float32 on the same 16 windows of 512
# (bfloat16 matmuls are slow on CPU: the whole test set took minutes): within 2%.
fp32_ppl=$("$PTQ" ppl --model "$SHARED/models/austen-tiny" --text "$SHARED/corpus/austen-test.txt" --seqlen 512 --max-windows 16 --batch 8 |
  python3 -c "import json,sys; print(json.load(sys.stdin)['ppl'])")
expect_json "ppl austen-tiny bf16 streamed" "abs(j['ppl']/$fp32_ppl-1)<0.02 and j['windows']==16 and j['dtype']=='bfloat16' and j['residency']=='stream'" \
  "$PTQ" ppl --model "$SHARED/models/austen-tiny" --text "$SHARED/corpus/austen-test.txt" --seqlen 512 --max-windows 16 --dtype bfloat16 --residency stream --batch 8
expect_json "ppl sharded mixtral" 'j["windows"]==2' "$PTQ" ppl --model "$T/mix" --text "$T/short.txt" --seqlen 64 --max-windows 2
# The CLI re-executes itself with libgomp's pool sleeping between parallel regions (core/runtime/omp_wait.h),
# unless the user chose a wait policy.
expect_json "ppl: OMP_WAIT_POLICY=PASSIVE by default" 'j["omp_wait_policy"]=="PASSIVE"' \
  env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT -u PTQ_OMP_REEXEC "$PTQ" ppl --model "$T/mix" --text "$T/short.txt" --seqlen 64 --max-windows 1
expect_json "ppl: a user's OMP_WAIT_POLICY is kept" 'j["omp_wait_policy"]=="active"' \
  env OMP_WAIT_POLICY=active "$PTQ" ppl --model "$T/mix" --text "$T/short.txt" --seqlen 64 --max-windows 1

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
expect_error "malformed tokenizer" "malformed JSON" "$PTQ" tokenize --tokenizer "$T/bad.json" --text hi
expect_error "unknown command" "unknown command" "$PTQ" frobnicate
expect_error "bad thread count" "PTQ_THREADS must be a thread count in 1..4096, got 'lots'" env PTQ_THREADS=lots "$PTQ" inspect "$SHARED/parity/llama"

# Analyses and accuracy tasks (kurtosis, token-kl, size, eval-tasks).
ROOT=$(cd "$(dirname "$0")/.." && pwd)
expect_json "kurtosis austen-tiny" 'j["fp"]["definition"].startswith("pearson") and j["fp"]["calib_tokens"]==256 and len(j["fp"]["layers"])==28 and set(j["fp"]["by_type"])=={"q","k","v","o","gate","up","down"} and all(l["activation"]>1 for l in j["fp"]["layers"])' \
  "$PTQ" kurtosis --model "$SHARED/models/austen-tiny" --calib "$T/short.txt" --nsamples 4 --calib-seqlen 64
expect_error "kurtosis without calibration" "missing required option --calib" "$PTQ" kurtosis --model "$SHARED/models/austen-tiny"
expect_json "quantize --analysis outliers --analysis quant_grid" 'len(j["analyses"]["outliers"]["transformed"]["inputs"])==16 and len(j["analyses"]["quant_grid"]["layers"])==28 and all(sum(l["weights"]["counts"])>0 and len(l["grid"]["levels"])==8 for l in j["analyses"]["quant_grid"]["layers"])' \
  "$PTQ" quantize --model "$SHARED/models/austen-tiny" --method rotate --bits 3 --group 64 --calib "$T/short.txt" --nsamples 2 --calib-seqlen 64 --analysis outliers --analysis quant_grid
head -c 4000 "$SHARED/corpus/opticks.txt" >"$T/opticks.txt"
expect_json "token-kl" 'j["vocab_size"]==8192 and len(j["calib_counts"])==8192 and sum(j["test_counts"])==j["test_tokens"] and j["kl"]>0 and 0<j["js"]<0.6932 and len(j["top"])==5 and j["smoothing"]==1e-4' \
  "$PTQ" token-kl --tokenizer "$SHARED/tokenizers/austen-bpe8k.tokenizer.json" --calib "$T/short.txt" --test "$T/opticks.txt" --top 5 --smoothing 1e-4
: >"$T/empty.txt"
expect_error "token-kl empty text" "has no tokens" "$PTQ" token-kl --tokenizer "$SHARED/tokenizers/austen-bpe8k.tokenizer.json" --calib "$T/short.txt" --test "$T/empty.txt"
printf 'caf\xe9\n' >"$T/latin1.txt"
expect_error "token-kl non-UTF-8 text" "not valid UTF-8" "$PTQ" token-kl --tokenizer "$SHARED/tokenizers/austen-bpe8k.tokenizer.json" --calib "$T/latin1.txt" --test "$T/short.txt"
# parity llama: linear 2*(64*64*2 + 2*32*64 + 3*128*64) = 73728, other 2*8192*64 + 2*2*64 + 64 = 1048896.
expect_json "size fp16 baseline" 'j["size"]["total_bytes"]==2*(73728+1048896) and j["size"]["bits_per_weight"]==16 and j["quant"] is None' "$PTQ" size --model "$SHARED/parity/llama"
expect_json "size of a plan" 'j["size"]["linear_bits_per_weight"]==4.625 and j["size"]["total_bytes"]==73728*4625//8000+2*1048896' "$PTQ" size --model "$SHARED/parity/llama" --bits 4 --group 32
printf '{"model": "%s", "layers": [{"name": "layers.1.mlp.up_proj", "quantized": true, "storage_bytes": 1000}]}' "$SHARED/parity/llama" >"$T/record.json"
expect_json "size of a record" 'j["size"]["total_bytes"]==2*(73728+1048896)-2*8192+1000 and j["size"]["quantized_params"]==8192' "$PTQ" size --result "$T/record.json"
expect_error "size group not dividing" "does not divide" "$PTQ" size --model "$SHARED/parity/llama" --group 48
expect_error "size missing record" "cannot open" "$PTQ" size --result "$T/none.json"
expect_json "eval-tasks piqa + last word" 'j["tasks"]["austen-piqa"]["n"]==10 and "acc_norm" in j["tasks"]["austen-piqa"] and j["tasks"]["lastword:austen-test"]["n"]==20 and 0<=j["tasks"]["lastword:austen-test"]["acc"]<=1 and "lambada" not in j["tasks"]' \
  "$PTQ" eval-tasks --model "$SHARED/models/austen-tiny" --task "$ROOT/resources/tasks/austen-piqa.jsonl" --limit 10 --lastword "$SHARED/corpus/austen-test.txt" --lastword-n 20
printf '{"text": "In the beginning God created the heaven and the earth"}\n\n{"text": "And the LORD spake unto Moses"}\n' >"$T/lambada.jsonl"
expect_json "eval-tasks LAMBADA passages" 'j["tasks"]["lambada"]["n"]==2 and 0<=j["tasks"]["lambada"]["acc"]<=1 and j["tasks"]["lambada"]["ppl"]>=1' \
  "$PTQ" eval-tasks --model "$SHARED/models/austen-tiny" --lambada "$T/lambada.jsonl"
printf '%s\n' '{"question": "q", "subject": "s", "choices": ["a", "b", "c", "d"]}' >"$T/mmlu_bad.jsonl"
printf '{"context": "Q", "choices": ["a"], "gold": 0}\n{"context": "Q"\n' >"$T/bad.jsonl"
expect_error "eval-tasks bad task line" "line 2" "$PTQ" eval-tasks --model "$SHARED/models/austen-tiny" --task "$T/bad.jsonl"
expect_error "eval-tasks nothing to do" "give at least one" "$PTQ" eval-tasks --model "$SHARED/models/austen-tiny"
expect_json "eval-tasks MMLU with a dev split" 'j["tasks"]["mmlu"]["n"]==2 and j["tasks"]["mmlu"]["num_fewshot"]==1 and "acc_norm" not in j["tasks"]["mmlu"] and j["tasks"]["arc_easy"]["n"]==3' \
  "$PTQ" eval-tasks --model "$SHARED/models/austen-tiny" --task "$ROOT/tests/data/mmlu.jsonl" --num-fewshot 1 --fewshot mmlu="$ROOT/tests/data/mmlu-dev.jsonl" \
  --fewshot arc_easy="$ROOT/tests/data/arc_easy.jsonl" --task "$ROOT/tests/data/arc_easy.jsonl"
expect_error "eval-tasks --fewshot syntax" "--fewshot wants NAME=FILE" "$PTQ" eval-tasks --model "$SHARED/models/austen-tiny" --task "$ROOT/tests/data/mmlu.jsonl" --num-fewshot 1 --fewshot "$ROOT/tests/data/mmlu-dev.jsonl"
expect_error "eval-tasks few-shot file without K" "needs num_fewshot > 0" "$PTQ" eval-tasks --model "$SHARED/models/austen-tiny" --task "$ROOT/tests/data/mmlu.jsonl" --fewshot mmlu="$ROOT/tests/data/mmlu-dev.jsonl"
expect_error "eval-tasks missing field" "line 1: missing field \"answer\"" "$PTQ" eval-tasks --model "$SHARED/models/austen-tiny" --task "$T/mmlu_bad.jsonl"

# Issue 11: integers are range-checked, never wrapped; bad overrides and counts are named.
expect_error "--bits that wraps to 4" "option --bits must be in 2..8, got 4294967300" \
  "$PTQ" quantize --model "$T/tiny" --method rtn --group 32 --bits 4294967300
expect_error "--batch 0" "option --batch must be in 1..65536, got 0" "$PTQ" ppl --model "$T/tiny" --text "$T/short.txt" --seqlen 128 --batch 0
expect_error "--batch -3" "option --batch must be in 1..65536, got -3" "$PTQ" ppl --model "$T/tiny" --text "$T/short.txt" --seqlen 128 --batch -3
expect_error "--warmup 10^9" "option --warmup must be in 0..1000" "$PTQ" ppl --model "$T/tiny" --text "$T/short.txt" --seqlen 128 --max-windows 1 --warmup 1000000000
expect_error "--seqlen 12x" "option --seqlen expects an integer" "$PTQ" ppl --model "$T/tiny" --text "$T/short.txt" --seqlen 12x
expect_error "--seqlen 2^64" "out of range" "$PTQ" ppl --model "$T/tiny" --text "$T/short.txt" --seqlen 18446744073709551616
expect_error "--clip-ratio nan" "option --clip-ratio expects a finite number" "$PTQ" quantize --model "$T/tiny" --clip-ratio nan
expect_error "make-checkpoint --layers -1" "option --layers must be in 1..65536, got -1" \
  "$PTQ" make-checkpoint --like llama-2-7b --out "$T/neg" --layers -1
[ ! -e "$T/neg/model.safetensors" ] && ok "nothing written for --layers -1" || bad "--layers -1 wrote a checkpoint"
expect_error "override matching no layer" "override pattern 'layers.*.mlp.down_prj' matches no linear layer" \
  "$PTQ" size --model "$SHARED/parity/llama" --bits 4 --group 32 --override 'layers.*.mlp.down_prj=bits:8'
expect_error "quantize: override matching no layer" "matches no linear layer" \
  "$PTQ" quantize --model "$T/tiny" --method rtn --group 32 --override 'layers.9.*=skip'
expect_error "override with an invalid glob" "has no closing ']'" \
  "$PTQ" size --model "$SHARED/parity/llama" --bits 4 --group 32 --override 'layers.[0.mlp.*=bits:8'
expect_error "override bits:8junk" "'bits:8junk' needs a whole number" \
  "$PTQ" size --model "$SHARED/parity/llama" --bits 4 --group 32 --override '*.down_proj=bits:8junk'
printf '{"model": "%s", "method": "rtn", "group": 32, "bits": 4294967300}' "$T/tiny" >"$T/wrap.json"
expect_error "spec bits that wraps to 4" "'bits' must be an integer in 2..8, got 4294967300" "$PTQ" run "$T/wrap.json"
printf '{"model": "%s", "method": "rtn", "bits": 4, "eval": {"text": "%s", "seqlen": 128, "batch": 0}}' "$T/tiny" "$T/short.txt" >"$T/batch0.json"
expect_error "spec eval batch 0" "'batch' must be an integer in 1..65536, got 0" "$PTQ" run "$T/batch0.json"
printf '{"models": ["%s"], "methods": ["rtn"], "bits": [4294967300]}' "$T/tiny" >"$T/wrapsweep.json"
expect_error "sweep bits that wraps to 4" "'bits' must hold integers in 2..8, got 4294967300" "$PTQ" sweep "$T/wrapsweep.json" --dry-run
printf '{"context": "Q", "choices": ["a", "b"], "gold": 4294967296}\n' >"$T/wrapgold.jsonl"
expect_error "task gold that wraps to 0" "4294967296 is not a valid choice index" "$PTQ" eval-tasks --model "$SHARED/models/austen-tiny" --task "$T/wrapgold.jsonl"

# Calibration counts are checked against the text and the memory before any work.
expect_error "--nsamples 10^9" "option --nsamples must be in 1..16777216" \
  "$PTQ" quantize --model "$T/tiny" --method gptq --group 32 --calib "$SHARED/corpus/austen-valid.txt" --nsamples 1000000000
expect_error "nsamples beyond memory" "for the calibration activations on cpu" \
  "$PTQ" quantize --model "$T/tiny" --method gptq --group 32 --calib "$SHARED/corpus/austen-valid.txt" --nsamples 16000000 --calib-seqlen 2048
expect_error "nsamples beyond the text (awq sampling)" "needs 12800000 tokens" \
  "$PTQ" quantize --model "$T/tiny" --method gptq --group 32 --calib "$SHARED/corpus/austen-valid.txt" --sampling awq --nsamples 100000 --calib-seqlen 128

# HQQ and OWQ end to end; each method's reference sampler in the record; bad OWQ parameters.
expect_json "quantize --method hqq (no calibration)" 'j["method"]=="hqq" and all(l["calib_tokens"]==0 for l in j["layers"])' \
  "$PTQ" quantize --model "$T/tiny" --method hqq --bits 3 --group 32
expect_json "quantize --method owq (gptq sampler by default)" 'j["method"]=="owq" and "owq kept columns: 2" in j["layers"][0]["note"] and "-gptq." in j["run_id"]' \
  "$PTQ" quantize --model "$T/tiny" --method owq --bits 3 --group 32 --param owq.columns=2 --calib "$SHARED/corpus/austen-valid.txt" --nsamples 4 --calib-seqlen 64
expect_error "owq columns beyond the width" "layers.0.self_attn.q_proj: owq.columns = 64 must be smaller than the layer's input width 64" \
  "$PTQ" quantize --model "$T/tiny" --method owq --group 32 --param owq.columns=64 --calib "$SHARED/corpus/austen-valid.txt" --nsamples 4 --calib-seqlen 64
expect_error "owq fraction outside (0,1)" "owq.fraction = 1.5 is out of range" \
  "$PTQ" quantize --model "$T/tiny" --method owq --group 32 --param owq.fraction=1.5 --calib "$SHARED/corpus/austen-valid.txt"

# PB-LLM and BiLLM end to end (1 bit in the records, the method's note); bad parameters.
expect_json "quantize --method pbllm" 'j["method"]=="pbllm" and j["layers"][0]["bits"]==1 and j["layers"][0]["note"].startswith("pbllm salient") and "-gptq." in j["run_id"]' \
  "$PTQ" quantize --model "$T/tiny" --method pbllm --group -1 --param pbllm.salient_fraction=0.05 --param pbllm.criterion=hessian --calib "$SHARED/corpus/austen-valid.txt" --nsamples 4 --calib-seqlen 64
expect_json "quantize --method billm" 'j["method"]=="billm" and j["layers"][0]["bits"]==1 and j["layers"][0]["note"].startswith("billm salient columns")' \
  "$PTQ" quantize --model "$T/tiny" --method billm --calib "$SHARED/corpus/austen-valid.txt" --nsamples 4 --calib-seqlen 64
expect_error "pbllm fraction outside (0,1)" "pbllm.salient_fraction = 1.5 is out of range" \
  "$PTQ" quantize --model "$T/tiny" --method pbllm --param pbllm.salient_fraction=1.5 --calib "$SHARED/corpus/austen-valid.txt"
expect_error "billm criterion unknown" "billm.criterion = \"norm\" is not one of: magnitude, hessian" \
  "$PTQ" quantize --model "$T/tiny" --method billm --param billm.criterion=norm --calib "$SHARED/corpus/austen-valid.txt"
expect_json "quantize --analysis column_error --analysis divergence --divergence-tokens 40" \
  'len(j["analyses"]["column_error"]["layers"])==len(j["layers"]) and j["analyses"]["divergence"]["tokens"]==40 and j["analyses"]["divergence"]["kl"][0] is None and len(j["analyses"]["divergence"]["ids"])==41' \
  "$PTQ" quantize --model "$T/tiny" --method rtn --bits 3 --group 32 --eval-text "$SHARED/corpus/austen-test.txt" --eval-seqlen 64 \
  --eval-max-windows 2 --analysis column_error --analysis divergence --divergence-tokens 40
expect_error "divergence without an eval text" "'divergence' needs an eval text" \
  "$PTQ" quantize --model "$T/tiny" --method rtn --group 32 --analysis divergence
expect_error "--divergence-tokens 0" "divergence-tokens" \
  "$PTQ" quantize --model "$T/tiny" --method rtn --group 32 --divergence-tokens 0

# NaN or Inf in a weight: an error, never "ppl": null or a record marked complete.
poison() {  # poison SRC DST TENSOR VALUE-HEX: copy of SRC with the first float32 of TENSOR set to VALUE
  cp -r "$1" "$2"
  python3 - "$2/model.safetensors" "$3" "$4" <<'PY'
import json, struct, sys
path, name, value = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3])
with open(path, "r+b") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    head = json.loads(f.read(n))
    assert head[name]["dtype"] == "F32"
    f.seek(8 + n + head[name]["data_offsets"][0] + 4 * 17)
    f.write(value)
PY
}
poison "$SHARED/models/austen-tiny" "$T/nan" model.layers.1.mlp.down_proj.weight 0000c07f
poison "$SHARED/models/austen-tiny" "$T/inf" model.norm.weight 0000807f
expect_error "ppl with a NaN weight" "'model.layers.1.mlp.down_proj.weight'" "$PTQ" ppl --model "$T/nan" --text "$SHARED/corpus/austen-test.txt" --seqlen 128 --max-windows 2
expect_error "ppl with an Inf norm weight" "has 1 NaN or Inf value" "$PTQ" ppl --model "$T/inf" --text "$SHARED/corpus/austen-test.txt" --seqlen 128 --max-windows 2
expect_error "ppl streamed with a NaN weight" "NaN or Inf" "$PTQ" ppl --model "$T/nan" --text "$SHARED/corpus/austen-test.txt" --seqlen 128 --max-windows 2 --residency stream
printf '{"model": "%s", "method": "fp", "eval": {"text": "%s", "seqlen": 128, "max_windows": 2}}' "$T/nan" "$SHARED/corpus/austen-test.txt" >"$T/nanrun.json"
expect_error "run with a NaN weight" "NaN or Inf" "$PTQ" run "$T/nanrun.json" --results "$T/nanresults"
[ -z "$(ls -A "$T/nanresults" 2>/dev/null)" ] && ok "no record for a NaN model" || bad "a record was written for a NaN model: $(ls -A "$T/nanresults")"

# ptq generate: fp vs a 2-bit RTN spec side by side (the spec's quantized model), JSON and text, errors.
tiny_m="$SHARED/models/austen-tiny"
printf '{"model": "%s", "method": "rtn", "bits": 2, "group": 32, "kv_bits": 4, "kv_residual": 2}' "$tiny_m" >"$T/gen-spec.json"
printf 'It is a truth\n\nEmma Woodhouse\n' >"$T/prompts.txt"
expect_json "generate fp vs spec (json)" 'len(j["prompts"])==2 and all(len(p["fp"]["ids"])==5 and len(p["quantized"]["probs"])==5 for p in j["prompts"]) and j["sampling"]["greedy"] and j["timing"]["fp"]["new_tokens"]==10' \
  "$PTQ" generate --prompts "$T/prompts.txt" --spec "$T/gen-spec.json" --max-new-tokens 5 --json
expect_json "generate seeded sampling, fp only" 'j["prompts"][0]["quantized"] is None and j["sampling"]["seed"]==4 and j["sampling"]["top_k"]==20' \
  "$PTQ" generate --model "$tiny_m" --prompt "She was" --temperature 0.8 --top-k 20 --top-p 0.9 --seed 4 --max-new-tokens 4 --json
"$PTQ" generate --model "$tiny_m" --prompt "It is a truth" --max-new-tokens 4 >"$T/gen.txt" 2>/dev/null
grep -q "^  fp: " "$T/gen.txt" && ok "generate prints text" || bad "generate prints text: $(cat "$T/gen.txt")"
expect_error "generate empty prompt" "prompt 1 is empty" "$PTQ" generate --model "$tiny_m" --prompt ""
expect_error "generate max-new-tokens 0" "max-new-tokens" "$PTQ" generate --model "$tiny_m" --prompt "Emma" --max-new-tokens 0
expect_error "generate top-p out of range" "top_p is 0" "$PTQ" generate --model "$tiny_m" --prompt "Emma" --temperature 1 --top-p 0
expect_error "generate both prompt options" "exactly one of --prompt" "$PTQ" generate --model "$tiny_m" --prompt a --prompts "$T/prompts.txt"


finish
