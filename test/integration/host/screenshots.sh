#!/usr/bin/env bash
# Regenerates the README's screenshots in media/screenshots/ from real VS Code (the offline browser host):
#   conflict-notification.png, servers-view.png  the conflict toast and the Servers view in the default sidebar
#                                                width, as a person sees them (no smoke-test driver)
#   ports-view.png, statusbar.png                 the view with two servers and a foreign listener, the status bar
#                                                (test/integration/suite/screenshot.test.js)
# Usage: bash test/integration/host/screenshots.sh   (after npm run build; about 40 s)
set -euo pipefail
cd "$(dirname "$0")/../../.."
dir="$PWD/media/screenshots"
npm run --silent build
DEV_PORTS_SCREENSHOT_DIR="$dir" bash test/integration/host/run.sh test/integration/host/conflict.host.js
DEV_PORTS_SCREENSHOT_DIR="$dir" DEV_PORTS_TEST_HOST=web DEV_PORTS_TEST_GREP='activat' node test/integration/runTest.js
ls -l "$dir"
