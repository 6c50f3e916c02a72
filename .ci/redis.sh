# Source this file: makes sure Debian's redis-server is installed, the real Redis-compatible store
# the rate-limit tests and the benchmark run on loopback (offline/redisServer.ts starts and stops
# its own instances on free ports, so nothing is started here).
if ! command -v redis-server >/dev/null 2>&1; then
  echo "redis: installing redis-server from Debian" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi
redis-server --version >&2
