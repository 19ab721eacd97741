#!/usr/bin/env bash
# `make demo` (for now): run `multus-hookd plan` on the bundled example and say what
# it shows. usage: scripts/demo.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: demo.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$build/hook/multus-hookd"
example="$root/docs/examples/plan-demo.json"
if [ ! -x "$bin" ]; then
  echo "demo: $bin not found: build first (make build)" >&2
  exit 1
fi
cat <<'TXT'
== multus-hookd demo: which addresses do the next workers get?

Worker nodes of a Multus (ipvlan) cluster get one ENI per Multus subnet. Their
addresses must never collide with the static ranges the pods use. multus-hookd gives
each new worker the lowest free address of the subnet and leaves the end of the
subnet to pods. The bundled example (docs/examples/plan-demo.json) is the /24
subnet 10.0.1.0/24 with:
  - seven addresses already used by ENIs (10.0.1.4-6, .8, .10, .11, .13),
  - a prefix-delegation CIDR reservation 10.0.1.16/28,
  - the pod range 10.0.1.192/26, protected by an explicit CIDR reservation.

$ multus-hookd plan --input docs/examples/plan-demo.json
TXT
"$bin" plan --input "$example"
cat <<'TXT'

What this shows:
  - the next workers fill the gaps between used addresses first: the allocator never
    skips a free address, and the same input always gives the same answer;
  - AWS's reserved addresses (the first four and the last), the prefix reservation
    and the pod range are never handed out;
  - "left to pods" is the free range at the end of the subnet, just below the pod
    range: what operators could still add to the pods' static ranges.

The same plan as JSON (--json), for scripts:
TXT
"$bin" plan --input "$example" --json
echo
echo "Try your own subnet: $bin plan --help (docs/plan.md describes the inputs)."
