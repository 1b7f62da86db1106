#!/usr/bin/env bash
# `npm test`: every test. Installs what it needs first (idempotent), so on a fresh Linux machine
# `npm ci && npm test` is all it takes. Needs root for apt-get (test host) and `unshare -n` (wildcard-address tests).
set -uo pipefail
cd "$(dirname "$0")/.."

logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT
status=0

step() { printf '\n== %s ==\n' "$*"; }

step "install dependencies"
[ -d node_modules/.bin ] || npm ci --no-audit --no-fund || exit 1
if [ "${DEV_PORTS_SKIP_INTEGRATION:-}" != "1" ]; then
  bash scripts/install-test-host.sh || exit 1
fi

step "build"
npm run --silent build || exit 1

step "typecheck"
npm run --silent typecheck || status=1

step "unit, OS-layer and CLI tests (mocha)"
npx mocha --reporter spec 2>&1 | tee "$logdir/unit.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

if [ "${DEV_PORTS_SKIP_INTEGRATION:-}" != "1" ]; then
  # Real frameworks installed from npm (Vite, Next.js, Rsbuild, VitePress, Storybook) in their own workspace.
  step "real frameworks from npm inside VS Code"
  if npm ci --prefix test/fixtures/frameworks-workspace --no-audit --no-fund --loglevel=error >/dev/null; then
    DEV_PORTS_WORKSPACE=test/fixtures/frameworks-workspace DEV_PORTS_TEST_GREP='real frameworks' node test/integration/runTest.js 2>&1 | tee "$logdir/frameworks.log"
    [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  else
    echo "  1 failing (npm ci of test/fixtures/frameworks-workspace)" > "$logdir/frameworks.log"; status=1
  fi
  step "integration tests inside VS Code"
  node test/integration/runTest.js 2>&1 | tee "$logdir/integration.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1

  # The README's "try it" command, checked headless: the extension loads in VS Code on the sample monorepo.
  step "try it (npm run try -- --check)"
  if bash scripts/try.sh --check --web; then echo "  1 passing (try it)" >> "$logdir/try.log"; else echo "  1 failing (try it)" >> "$logdir/try.log"; status=1; fi

  # Host-level proofs in the browser VS Code as a person has it (no smoke-test driver: toasts show): the conflict
  # toast and its buttons, an untrusted workspace, `npm run try` stopping on a signal, a window reload and a second
  # window. test/integration/host/README.md.
  step "host-level tests (test/integration/host)"
  bash test/integration/host/run.sh 2>&1 | tee "$logdir/host.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1

  step "package (npm run package, then code --install-extension)"
  bash scripts/check-package.sh 2>&1 | tee "$logdir/package.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
fi

# One closing line for all suites, in the plain 'N passed, N failed' form.
count() { grep -hoE "^ *[0-9]+ $1" "$logdir"/*.log 2>/dev/null | awk '{s+=$1} END {print s+0}'; }
passed=$(count passing); failed=$(count failing); skipped=$(count pending)
[ "$failed" -eq 0 ] || status=1
[ "$passed" -gt 0 ] || { echo "no test ran"; status=1; }
# The failures again at the very end, so a log cut to its tail (CI) still says which tests failed and why.
if [ "$failed" -gt 0 ]; then
  echo
  echo "failed tests (the first lines of each suite's failure report):"
  for log in "$logdir"/*.log; do
    awk -v name="$(basename "$log" .log)" '/^ *[0-9]+ failing/ { on = 1; n = 0; print "  [" name "]"; next } on && n < 30 { print; n++ }' "$log"
  done
fi
echo
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $status
