#!/usr/bin/env bash
# Runs the Lua unit tests of kong/plugins/llm-response-tap under LuaJIT (what Kong runs).
# Needs: apt-get install -y luajit lua-busted lua-cjson
set -euo pipefail
cd "$(dirname "$0")/.."
for bin in luajit busted; do
  command -v "$bin" >/dev/null || { echo "missing $bin (apt-get install -y luajit lua-busted lua-cjson)" >&2; exit 2; }
done
export REPO_ROOT="$PWD"
# Debian's busted defaults to the system lua5.x; --lua re-executes it under LuaJIT.
exec busted --lua=luajit --pattern=_spec --output="${BUSTED_OUTPUT:-utfTerminal}" "$@" spec/lua
