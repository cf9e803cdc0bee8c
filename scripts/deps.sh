#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian/Ubuntu machine:
# Go modules (the root module and deploy/k8s's), redis-server (cache tier
# integration and chaos tests), nginx (the scale-out test's load balancer),
# promtool (Debian's prometheus package; checks the alerting rules) and
# chromium (the browser tests of the web pages).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
go mod download
(cd deploy/k8s && go mod download)
