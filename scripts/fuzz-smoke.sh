#!/usr/bin/env bash
# A short, bounded libFuzzer run of one target from a scratch copy of its seed
# corpus (the committed corpus is never modified). Fails on any crash, leak,
# sanitizer report or timeout; the reproducer is kept in WORK/artifacts/.
#   fuzz-smoke.sh FUZZER_BINARY CORPUS_DIR WORK_DIR [SECONDS]
set -euo pipefail
bin=${1:?usage: fuzz-smoke.sh BINARY CORPUS WORK [SECONDS]}
corpus=${2:?}
work=${3:?}
secs=${4:-${HOOKD_FUZZ_SMOKE_SECONDS:-10}}
if [ ! -x "$bin" ]; then
  echo "fuzz-smoke: $bin not built" >&2
  exit 1
fi
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
cp "$corpus"/* "$work/corpus/"
"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/log" 2>&1 || {
  echo "fuzz-smoke: $(basename "$bin") FAILED"
  tail -n 40 "$work/log"
  exit 1
}
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
echo "fuzz-smoke: $(basename "$bin"): ${runs:-?} inputs in ${secs}s, no crash"
