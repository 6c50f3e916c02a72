#!/usr/bin/env bash
# What `npm run bench` needs beyond npm: wrk (the data path's load generator, in C, so that the
# load does not take the servers' CPU as a Node.js generator would) and nginx-light (nginx alone,
# the native ceiling, and the native data path spike of docs/design/native-data-path.md).
# taskset (util-linux) pins wrk to its own core; redis-server is the shared store of the rate-limit
# rows (bench/rateLimits.ts). Installed from Debian when missing.
set -euo pipefail
tools=()
command -v wrk >/dev/null 2>&1 || tools+=(wrk)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || tools+=(nginx-light)
command -v taskset >/dev/null 2>&1 || tools+=(util-linux)
command -v redis-server >/dev/null 2>&1 || tools+=(redis-server)
if [ ${#tools[@]} -gt 0 ]; then
  echo "bench-tools: installing ${tools[*]} from Debian" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${tools[@]}" >/dev/null
fi
