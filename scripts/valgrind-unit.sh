#!/usr/bin/env bash
# Run cmocka unit-test binaries of a sanitizer-free build under valgrind; fails on
# any memory error or definite leak.
#   valgrind-unit.sh BUILD_DIR     every test_* binary under BUILD_DIR/test/unit
#   valgrind-unit.sh --one BINARY  just that one (ctest's valgrind.<name> tests)
set -euo pipefail
run_one() {
  local b=$1
  if [ ! -x "$b" ]; then
    echo "valgrind: $b: not built (run make valgrind-build)" >&2
    return 1
  fi
  if valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
       --show-leak-kinds=definite "$b" >"$b.valgrind.log" 2>&1; then
    echo "valgrind: clean  $(basename "$b")"
  else
    echo "valgrind: FAILED $(basename "$b") (log: $b.valgrind.log)"
    tail -n 40 "$b.valgrind.log"
    return 1
  fi
}
if [ "${1:-}" = "--one" ]; then
  run_one "${2:?usage: valgrind-unit.sh --one BINARY}"
  exit
fi
build=${1:?usage: valgrind-unit.sh BUILD_DIR | --one BINARY}
mapfile -t bins < <(find "$build/test/unit" -type f -executable -name 'test_*' | sort)
if [ ${#bins[@]} -eq 0 ]; then
  echo "valgrind-unit: no unit-test binaries under $build/test/unit" >&2
  exit 1
fi
fail=0
for b in "${bins[@]}"; do
  run_one "$b" || fail=1
done
exit $fail
