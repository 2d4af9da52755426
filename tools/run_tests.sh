#!/usr/bin/env bash
# `make test`: the whole suite, as CI runs it, or a stop at once naming what is missing.
# Installs the system tools the tests drive when it can (root, or sudo without a password):
# redis-server/redis-cli (the Redis Cluster and publisher tests), Debian's chromium and
# chromium-driver (the console's browser tests), Node.js and npm (the TypeScript client check).
# Builds Ralph's LRS virtualenv on first use (tools/ralph_lrs.py, cached in ~/.cache/lumetrix).
# Runs the Redis tests against a real Redis too: TEST_REDIS_URL when set, else the one on
# 127.0.0.1:6379 (DB 13), else a throwaway redis-server of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${VENV_PYTHON:-.venv/bin/python}"

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-cli >/dev/null || need+=(redis-tools)
command -v chromium >/dev/null || command -v chromium-browser >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
command -v npm >/dev/null || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then sudo=(); elif sudo -n true 2>/dev/null; then sudo=(sudo -n); else
    echo "make test needs ${need[*]}: install them (apt-get install ${need[*]}) and run it again" >&2
    exit 2
  fi
  echo "installing ${need[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${need[@]}" >/dev/null
fi

if [ -z "${TEST_REDIS_URL:-}" ]; then
  if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    # The tests delete only keys under their own prefix: sharing a Redis is safe.
    export TEST_REDIS_URL=redis://127.0.0.1:6379/13
  else
    port=$("$python" -c 'from tools.redis_servers import free_ports; print(free_ports(1)[0])')
    workdir=$(mktemp -d)
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$workdir" \
      >"$workdir/log" 2>&1 &
    redis_pid=$!
    trap 'kill "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null; rm -rf "$workdir"' EXIT
    for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    export TEST_REDIS_URL="redis://127.0.0.1:$port/13"
  fi
fi
echo "real Redis for the tests: $TEST_REDIS_URL"
# Ralph's LRS (the xAPI tests) runs from a virtualenv of its own, built once from PyPI and
# cached under ~/.cache/lumetrix (LUMETRIX_RALPH_VENV): built here, so a failure says so
# up front rather than in the middle of the suite.
"$python" -c 'from tools.ralph_lrs import ralph_python; print("Ralph LRS:", ralph_python())'
"$python" -m pytest "$@"
