#!/usr/bin/env bash
# ptq quantize --export, ptq export --quantized, ptq compare on an exported folder, and the CLI's
# errors for export targets and formats.
source "$(dirname "$0")/cli_helpers.sh" "$@"
M=$SHARED/parity/llama
TXT=$SHARED/corpus/austen-valid.txt
expect_json "quantize --export gptq" 'j["export"]["format"]=="gptq" and "quantize_config.json" in j["export"]["files"]' \
  "$PTQ" quantize --model "$M" --method rtn --bits 4 --group 32 --sym --out "$T/art" --export "$T/gptq" --export-format gptq
check "exported config.json has quantization_config" 'j["quantization_config"]["bits"]==4 and j["quantization_config"]["checkpoint_format"]=="gptq"' "$T/gptq/config.json"
expect_json "ppl of the exported folder" 'j["windows"]==2' "$PTQ" ppl --model "$T/gptq" --text "$TXT" --seqlen 64 --max-windows 2
expect_json "compare base vs exported folder" 'j["quantization"]["quant_method"]=="gptq" and j["weights"]["layers"]==14 and 0<j["weights"]["mean"]<0.5' \
  "$PTQ" compare --model "$M" --quantized "$T/gptq" --text "$TXT" --seqlen 64 --max-windows 2
expect_json "export from artifacts as compressed-tensors" 'j["format"]=="compressed-tensors"' \
  "$PTQ" export --quantized "$T/art" --export "$T/ct" --export-format compressed-tensors
check "compressed-tensors config" 'j["quantization_config"]["format"]=="pack-quantized" and "lm_head" in j["quantization_config"]["ignore"]' "$T/ct/config.json"
expect_error "non-empty export target" "not empty (use --force" \
  "$PTQ" export --quantized "$T/art" --export "$T/ct" --export-format awq
expect_json "--force replaces it" 'j["format"]=="awq"' "$PTQ" export --quantized "$T/art" --export "$T/ct" --export-format awq --force
expect_error "unknown export format" "allowed: gptq, gptq_v2, awq, compressed-tensors" \
  "$PTQ" export --quantized "$T/art" --export "$T/x" --export-format exl2
expect_error "compare needs the base" "give its base with --model" "$PTQ" compare --quantized "$T/gptq" --text "$TXT"
finish
