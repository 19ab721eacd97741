#!/usr/bin/env bash
# Run every libFuzzer target of a HOOKD_FUZZ build for SECONDS each, starting from
# (and adding to a scratch copy of) its seed corpus in test/fuzz/<target>/corpus.
# Crashes are written to BUILD/fuzz-artifacts/<target>/ and make the script fail.
set -euo pipefail
build=${1:?usage: fuzz.sh BUILD_DIR [SECONDS]}
secs=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
fail=0
ran=0
for dir in "$root"/test/fuzz/*/; do
  name=$(basename "$dir")
  bin=$(find "$build/test/fuzz" -type f -executable -name "fuzz_$name" -o -type f -executable -name "$name" 2>/dev/null | head -n 1)
  if [ -z "$bin" ]; then
    echo "fuzz: $name: no binary in $build (not a HOOKD_FUZZ build?)" >&2
    fail=1
    continue
  fi
  work="$build/fuzz-corpus/$name"
  art="$build/fuzz-artifacts/$name"
  mkdir -p "$work" "$art"
  [ -d "$dir/corpus" ] && cp -n "$dir"/corpus/* "$work"/ 2>/dev/null || true
  echo "fuzz: $name for ${secs}s"
  if "$bin" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$art/" "$work" \
       >"$build/fuzz-$name.log" 2>&1; then
    grep -E '^stat::number_of_executed_units' "$build/fuzz-$name.log" | sed "s/^/fuzz: $name /" || true
  else
    echo "fuzz: $name FAILED (log: $build/fuzz-$name.log, artifacts: $art)"
    tail -n 30 "$build/fuzz-$name.log"
    fail=1
  fi
  ran=$((ran + 1))
done
echo "fuzz: ran $ran targets"
exit $fail
