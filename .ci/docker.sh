# Source this file: makes sure a Docker engine runs (installing Debian's docker.io and debootstrap
# when missing, and curl, with which the rehearsal test replays its printed walkthrough) and that
# the gateway's base image is present. A daemon started here is stopped
# when the sourcing shell exits.
_need=()
command -v dockerd >/dev/null 2>&1 || _need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || _need+=(debootstrap)
command -v curl >/dev/null 2>&1 || _need+=(curl)
if [ ${#_need[@]} -gt 0 ]; then
  echo "docker: installing ${_need[*]} from Debian" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${_need[@]}" >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  echo "docker: starting dockerd (no bridge: test containers use --network host)" >&2
  dockerd --iptables=false --ip6tables=false --bridge=none >/tmp/ci-dockerd.log 2>&1 &
  CI_DOCKERD_PID=$!
  trap 'echo "docker: stopping the dockerd this run started" >&2; kill "$CI_DOCKERD_PID" 2>/dev/null; wait "$CI_DOCKERD_PID" 2>/dev/null || true' EXIT
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { echo "docker: dockerd did not start:" >&2; tail -20 /tmp/ci-dockerd.log >&2; exit 1; }
fi
bash "$(dirname "${BASH_SOURCE[0]}")/../test/container/build-base-image.sh" >&2
unset _need
