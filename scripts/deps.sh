#!/usr/bin/env bash
# Install the Debian packages multus-hookd needs, only those missing.
# A no-op (and says so) when everything is present.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libevent-dev libcurl4-openssl-dev libssl-dev
      libjansson-dev libxml2-dev libsqlite3-dev libcmocka-dev clang valgrind
      prometheus python3-prometheus-client lintian libsystemd-dev)
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
# The tests need only promtool from the prometheus package: keep its server from
# starting while we install it (policy-rc.d 101 = "do not start services"), and
# leave it disabled, since nothing here asked for a Prometheus server.
new_prometheus=false
policy_rcd=
for p in "${missing[@]}"; do
  if [ "$p" = prometheus ]; then new_prometheus=true; fi
done
if $new_prometheus && [ ! -e /usr/sbin/policy-rc.d ]; then
  policy_rcd=/usr/sbin/policy-rc.d
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy_rcd" >/dev/null
  $SUDO chmod 755 "$policy_rcd"
  trap '$SUDO rm -f "$policy_rcd"' EXIT
fi
install() {
  # prometheus without its recommends (no node exporter or other servers)
  local plain=() norec=()
  for p in "${missing[@]}"; do
    if [ "$p" = prometheus ]; then norec+=("$p"); else plain+=("$p"); fi
  done
  if [ ${#plain[@]} -gt 0 ]; then $SUDO apt-get install -y -q "${plain[@]}" || return 1; fi
  if [ ${#norec[@]} -gt 0 ]; then
    $SUDO apt-get install -y -q --no-install-recommends "${norec[@]}" || return 1
  fi
}
if ! install; then
  echo "deps: install failed, refreshing package lists (apt-get update) and retrying"
  $SUDO apt-get update -q
  install
fi
if $new_prometheus && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now prometheus.service >/dev/null 2>&1 || true
  echo "deps: prometheus installed for promtool only; its server is left disabled"
fi
echo "deps: installed ${missing[*]}"
