#!/usr/bin/env bash
# Run every micro-benchmark binary (bench_*) of a build and print their figures.
# usage: scripts/bench.sh BUILD_DIR   (`make bench` passes the release build)
set -euo pipefail
build=${1:?usage: bench.sh BUILD_DIR}
dir="$build/test/bench"
mapfile -t bins < <(find "$dir" -maxdepth 1 -type f -executable -name 'bench_*' 2>/dev/null | sort)
if [ ${#bins[@]} -eq 0 ]; then
  echo "bench: no bench_* binaries under $dir (build it first: make build)" >&2
  exit 1
fi
echo "bench: $(uname -m), $(nproc) CPUs, build $(basename "$build"); figures are measured now, not stored"
fail=0
for b in "${bins[@]}"; do
  echo "== $(basename "$b")"
  if ! "$b"; then
    echo "bench: $(basename "$b") FAILED" >&2
    fail=1
  fi
done

# --- End-to-end throughput: the daemon against the AWS simulator ----------------
# test/bench/bench_burst.py: an ASG scaled 0 -> N (BENCH_BURST_COUNT, default 200)
# with the simulator's token buckets at AWS's sizes and BENCH_BURST_LATENCY_MS
# (default 30) per call; prints a table. Needs python3 with boto3 + moto, and the
# build's multus-hookd (make bench passes the release build). Skipped, not
# failed, when those are missing; a wrong result (missing ENI, duplicate
# address, action not completed once) fails it.
hookd="$build/hook/multus-hookd"
bench_py="$(dirname "$0")/../test/bench/bench_burst.py"
if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import boto3, moto' 2>/dev/null; then
  echo "== bench_burst.py: skipped (python3 with boto3 and moto not found)"
elif [ ! -x "$hookd" ]; then
  echo "== bench_burst.py: skipped ($hookd not built)"
else
  echo "== bench_burst.py"
  if ! python3 "$bench_py" --hookd "$hookd" --count "${BENCH_BURST_COUNT:-200}" \
      --latency-ms "${BENCH_BURST_LATENCY_MS:-30}"; then
    echo "bench: bench_burst.py FAILED" >&2
    fail=1
  fi
fi
exit $fail
