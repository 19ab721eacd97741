#!/usr/bin/env bash
# `make demo`: multus-hookd end to end on the local AWS simulator (docs/demo.md).
#   1. `multus-hookd plan` on the bundled subnet example: which addresses workers get;
#   2. the real service: test/aws-sim + `multus-hookd serve` with
#      docs/examples/demo-config.json, a VPC with two AZs and two Multus networks,
#      an Auto Scaling group scaled 0 -> 4 (table of every instance's ENIs), then
#      4 -> 1 (the terminated workers' ENIs deleted).
# It finishes by itself and leaves nothing running (the driver stops the daemon and
# the simulator; the trap stops the driver if this script is interrupted).
# usage: scripts/demo.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: demo.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$(cd "$build" && pwd)/hook/multus-hookd"
if [ ! -x "$bin" ]; then
  echo "demo: $bin not found: build first (make build)" >&2
  exit 1
fi

driver_pid=
cleanup() {
  if [ -n "$driver_pid" ] && kill -0 "$driver_pid" 2>/dev/null; then
    kill -TERM "$driver_pid" 2>/dev/null || true
    wait "$driver_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== 1. Which addresses do the next workers get? (multus-hookd plan)"
echo
echo "docs/examples/plan-demo.json: a /24 Multus subnet with addresses in use, a prefix"
echo "reservation and the pod range 10.0.1.192/26. The next workers take the lowest free"
echo "addresses; reserved addresses and the pod range are never handed out."
echo
echo "$ multus-hookd plan --input docs/examples/plan-demo.json"
"$bin" plan --input "$root/docs/examples/plan-demo.json"
echo

python3 "$root/test/integration/e2e/demo.py" --hookd "$bin" \
  --config "$root/docs/examples/demo-config.json" &
driver_pid=$!
status=0
wait "$driver_pid" || status=$?
driver_pid=
if [ "$status" -ne 0 ]; then
  echo "demo: failed (exit $status)" >&2
  exit "$status"
fi
echo
echo "More: docs/demo.md (what happened, step by step), docs/configuration.md (the config)."
