#!/usr/bin/env bash
# `npm run try`: installs, builds and runs Dev Ports in a real VS Code, opened on samples/monorepo.
#   - desktop VS Code (`code` on PATH) when there is a display: a new window with the extension loaded
#     in development mode;
#   - otherwise the browser-based VS Code from code-server (installed on demand by
#     scripts/install-test-host.sh): prints a URL to open, runs until Ctrl-C.
# Usage: bash scripts/try.sh [--check] [--web]
#   --check  browser host only: load the URL in headless Chromium, wait until the extension is active,
#            print "ok" and stop (screenshot to DEV_PORTS_TRY_SCREENSHOT if set). For tests.
#   --web    use the browser-based host even when a desktop VS Code is available.
# Environment: DEV_PORTS_TRY_PORT (default: first free port from 8080), DEV_PORTS_TRY_SCREENSHOT,
#   DEV_PORTS_TRY_TIMEOUT_MS (--check: how long to wait for the extension, default 120000),
#   DEV_PORTS_TRY_DEBUG=1 (print the server's and the workbench's logs), DEV_PORTS_TRY_SKIP_BUILD=1 (use dist/ as
#   built, for tests that just built). See test/host/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

say() { printf '[try] %s\n' "$*" >&2; }

# Signals before the browser host runs (npm ci, the build, the first install take minutes): the step running
# then is stopped with this script. Steps run as background children so a signal interrupts `wait` at once (a
# foreground child would delay the trap until it ends); the exec at the end hands signals to try.js itself.
child=
stop_child() {
  trap - INT TERM HUP
  say "$1: stopping"
  if [ -n "$child" ]; then
    kill -TERM "$child" 2>/dev/null || true
    # Its own children (npm's, the install's) in the same group as it when started with setsid below.
    kill -TERM -- "-$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  exit "$2"
}
trap 'stop_child SIGINT 130' INT
trap 'stop_child SIGTERM 143' TERM
trap 'stop_child SIGHUP 129' HUP
# step <command...>: runs it in its own process group (setsid), waits, returns its status.
step() {
  setsid "$@" &
  child=$!
  local rc=0
  wait "$child" || rc=$?
  child=
  return "$rc"
}

check=0
web=0
for arg in "$@"; do
  case "$arg" in
    --check) check=1 ;;
    --web) web=1 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) say "unknown option: $arg (use --check, --web or --help)"; exit 2 ;;
  esac
done

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  say "Node.js 20 or later (with npm) is needed: https://nodejs.org/ or your package manager (apt-get install nodejs npm)"
  exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  say "Node.js $(node --version) is too old: Dev Ports needs Node 20 or later"
  exit 1
fi

if [ "${DEV_PORTS_TRY_SKIP_BUILD:-}" = 1 ] && [ -f dist/extension.js ]; then
  say "DEV_PORTS_TRY_SKIP_BUILD=1: using the build in dist/"
elif [ ! -d node_modules ]; then
  say "npm ci (first run)"
  step npm ci --no-audit --no-fund >&2 || exit 1
fi
if [ "${DEV_PORTS_TRY_SKIP_BUILD:-}" != 1 ] || [ ! -f dist/extension.js ]; then
  say "npm run build"
  if ! step npm run build --silent >&2; then
    say "the build failed (see above); fix it, then run again"
    exit 1
  fi
fi

workspace="$repo/samples/monorepo"
[ -d "$workspace" ] || workspace="$repo/test/fixtures/workspace"

has_display=0
if [ "$(uname -s)" = Darwin ] || [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then has_display=1; fi

if [ "$check" = 0 ] && [ "$web" = 0 ] && [ "$has_display" = 1 ] && command -v code >/dev/null 2>&1; then
  say "opening a VS Code window on $workspace with the extension loaded from $repo"
  exec code --extensionDevelopmentPath="$repo" --new-window "$workspace"
fi

if [ "$check" = 0 ] && [ "$web" = 0 ]; then
  if [ "$has_display" = 0 ]; then
    say "no display: using VS Code in the browser"
  else
    say "no desktop VS Code (code) on PATH: using VS Code in the browser"
  fi
fi
# stdout carries only the URL banner (or "ok"): progress goes to stderr.
if ! step bash scripts/install-test-host.sh >&2; then
  say "installing the browser host failed (see above)"
  exit 1
fi
args=(--workspace="$workspace" --extension="$repo")
[ "$check" = 1 ] && args=(--check "${args[@]}")
# exec: Ctrl-C, `kill <pid of this script>` and npm's forwarded SIGINT/SIGTERM (package.json runs
# `exec bash scripts/try.sh`, so npm's child is this process) reach the Node process, which stops the server,
# everything it started, and removes what it created. It also stops when its parent goes away.
trap - INT TERM HUP
exec node test/host/try.js "${args[@]}"
