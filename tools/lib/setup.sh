#!/usr/bin/env bash
# Shared set-up for tools/run and tools/test: install the Debian packages imgedge needs (only those missing,
# through sudo when not root), then build. Sourced, not executed: it sets ROOT and defines `imgedge_build`.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Build and run time needs. libvips-dev pulls the loaders/savers (jpeg, png, webp, gif, heif/avif, tiff);
# libvips-tools (vipsheader) and libimage-exiftool-perl let the tests inspect outputs (dimensions, metadata);
# python3-venv lets tools/test install imgix's Python client library to build signed URLs (and brings python3, whose
# ssl module is the HTTPS tests' OpenSSL client); nghttp2-client (h2load) is the HTTP/2 tests' peer, and curl
# (built with nghttp2) their HTTP/2 client.
IMGEDGE_PACKAGES=(python3-venv pkg-config libvips-dev liblmdb-dev libcurl4-openssl-dev zlib1g-dev libvips-tools libimage-exiftool-perl curl ca-certificates fonts-dejavu-core icc-profiles-free nghttp2-client)

imgedge_install_packages() {
  local missing=() p
  for p in "${IMGEDGE_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "[setup] installing: ${missing[*]}" >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

imgedge_check_swift() {
  command -v swift >/dev/null || { echo "[setup] swift not found on PATH (Swift 6.3 toolchain required)" >&2; exit 2; }
}

# imgedge_build [debug|release]
imgedge_build() {
  local conf=${1:-debug}
  imgedge_install_packages
  imgedge_check_swift
  echo "[setup] building ($conf)" >&2
  local rc=0
  (cd "$ROOT" && swift build -c "$conf" --product imgedge 2>&1 | grep -v 'prohibited flag' >&2; exit "${PIPESTATUS[0]}") || rc=$?
  [ "$rc" -eq 0 ] || { echo "[setup] build failed ($rc)" >&2; exit 1; }
}
