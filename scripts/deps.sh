#!/usr/bin/env bash
# Install the Debian packages multus-hookd needs, only those missing.
# A no-op (and says so) when everything is present.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libevent-dev libcurl4-openssl-dev libssl-dev
      libjansson-dev libxml2-dev libsqlite3-dev libcmocka-dev clang valgrind)
missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done
check_python() {
  # The simulator needs moto 5.2.1 in the system python3; it cannot be pip-installed here.
  if ! python3 -c 'import moto, boto3, werkzeug, cryptography, sys; sys.exit(moto.__version__ != "5.2.1")' 2>/dev/null; then
    echo "deps: warning: python3 with moto 5.2.1, boto3, werkzeug and cryptography is needed by the" >&2
    echo "deps: AWS simulator (test/aws-sim); integration tests and the demo will fail without it" >&2
  fi
}
check_python
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#pkgs[@]} Debian packages present, nothing to install"
  exit 0
fi
echo "deps: installing missing Debian packages: ${missing[*]}"
SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y -q "${missing[@]}"; then
  echo "deps: install failed, refreshing package lists (apt-get update) and retrying"
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q "${missing[@]}"
fi
echo "deps: installed ${missing[*]}"
