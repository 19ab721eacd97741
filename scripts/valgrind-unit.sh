#!/usr/bin/env bash
# Run every cmocka unit-test binary of a sanitizer-free build under valgrind.
# Fails on any memory error or definite leak.
set -euo pipefail
build=${1:?usage: valgrind-unit.sh BUILD_DIR}
mapfile -t bins < <(find "$build/test/unit" -type f -executable -name 'test_*' | sort)
if [ ${#bins[@]} -eq 0 ]; then
  echo "valgrind-unit: no unit-test binaries under $build/test/unit" >&2
  exit 1
fi
fail=0
for b in "${bins[@]}"; do
  if valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
       --show-leak-kinds=definite "$b" >"$b.valgrind.log" 2>&1; then
    echo "valgrind: clean  $(basename "$b")"
  else
    echo "valgrind: FAILED $(basename "$b") (log: $b.valgrind.log)"
    tail -n 40 "$b.valgrind.log"
    fail=1
  fi
done
exit $fail
