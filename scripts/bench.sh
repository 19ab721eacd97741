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
exit $fail
