#!/usr/bin/env bash
# Fails when C sources use a banned function (STYLE.md): strcpy, strcat, sprintf,
# vsprintf, strtok, atoi, atol, atof, gets, alloca, system. strtol and friends
# must be checked: use the helpers that check errno and the end pointer.
set -euo pipefail
cd "$(dirname "$0")/.."
banned='\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|atoll|atof|gets|alloca|system)[[:space:]]*\('
hits=$(git ls-files '*.c' '*.h' | xargs -r grep -nE "$banned" | grep -vE '^\S+:[0-9]+:\s*(\*|//)' || true)
if [ -n "$hits" ]; then
  echo "lint: banned functions used (see STYLE.md):"
  echo "$hits"
  exit 1
fi
echo "lint: no banned functions in $(git ls-files '*.c' '*.h' | wc -l) C files"
