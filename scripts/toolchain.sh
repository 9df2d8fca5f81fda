#!/usr/bin/env bash
# Make Node 24 and pnpm 10 available, from the npm registry, without touching the system's node.
# Usage: eval "$(bash scripts/toolchain.sh)"   — prints the PATH to use.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="${SWITCHYARD_TOOLCHAIN:-$root/.cache/toolchain}"
major() { "$1" -v 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/'; }

node_bin="$(command -v node || true)"
if [ -z "$node_bin" ] || [ "$(major "$node_bin")" -lt 24 ]; then
  if [ ! -x "$tools/bin/node" ] || [ "$(major "$tools/bin/node")" -lt 24 ]; then
    echo "installing node@24 into $tools" >&2
    npm install --global --prefix "$tools" --no-fund --no-audit node@24 >&2
  fi
  export PATH="$tools/bin:$PATH"
fi
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm -v | cut -d. -f1)" -lt 10 ]; then
  echo "installing pnpm@10 into $tools" >&2
  npm install --global --prefix "$tools" --no-fund --no-audit pnpm@10 >&2
  export PATH="$tools/bin:$PATH"
fi
echo "export PATH=\"$PATH\""
