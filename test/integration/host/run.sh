#!/usr/bin/env bash
# The host-level tests (test/integration/host/README.md): mocha in plain Node over *.host.js here.
#   bash test/integration/host/run.sh [--grep <title>] [files...]
set -uo pipefail
cd "$(dirname "$0")/../../.."
files=()
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --grep|-g) args+=(--grep "$2"); shift 2 ;;
    *) files+=("$1"); shift ;;
  esac
done
[ ${#files[@]} -gt 0 ] || files=(test/integration/host/*.host.js)
exec npx mocha --no-config --reporter spec --timeout 180000 "${args[@]}" "${files[@]}"
