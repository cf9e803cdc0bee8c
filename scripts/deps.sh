#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine: Go modules.
set -euo pipefail
cd "$(dirname "$0")/.."
go mod download
