#!/usr/bin/env bash
# Installs the offline VS Code for the extension-host tests: code-server 4.100.3 from npm (it
# bundles VS Code 1.100.3, the last line that runs on Node 20), into test/vscode/node_modules.
# Needs Debian's libkrb5-dev (a native module builds against it) and ripgrep (seeded below so
# @vscode/ripgrep's postinstall does not download from GitHub). Quick when already installed.
set -euo pipefail
D="$(cd "$(dirname "$0")" && pwd)"
cd "$D"

CS="$D/node_modules/code-server"
# The postinstall's last work: VS Code's own modules (node_modules.asar link) and ripgrep.
if [ -e "$CS/lib/vscode/node_modules.asar" ] && [ -x "$CS/lib/vscode/node_modules/@vscode/ripgrep/bin/rg" ]; then
  echo "code-server $(node -p "require('$CS/package.json').version") already installed"
  exit 0
fi

command -v rg >/dev/null || { echo "setup.sh: Debian's ripgrep is missing (apt-get install ripgrep)" >&2; exit 1; }

# @vscode/ripgrep's postinstall looks in $TMPDIR/vscode-ripgrep-cache-<version>/ before it downloads.
export TMPDIR="$D/.work/tmp"  # .work/ is gitignored
mkdir -p "$TMPDIR/vscode-ripgrep-cache-1.15.11"
RG_TGZ="$TMPDIR/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
[ -f "$RG_TGZ" ] || tar czf "$RG_TGZ" -C "$(dirname "$(command -v rg)")" rg

export npm_config_unsafe_perm=true  # code-server's postinstall refuses root otherwise
export npm_config_yes=true          # a postinstall runs `npx node-gyp`
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  npm install --no-audit --no-fund
fi
echo "code-server $(node -p "require('$CS/package.json').version") installed"
