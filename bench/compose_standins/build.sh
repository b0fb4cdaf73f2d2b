#!/usr/bin/env bash
# Local stand-ins for the stack's base images, for a machine that reaches Debian's and the
# language registries but not Docker Hub: a Debian bookworm root file system from debootstrap,
# imported as the base of python:3.11-slim, node:20-slim, postgres:16 and redis:7 look-alikes
# built from Debian's packages, and debian:bookworm-slim for the TURN image. qdrant/qdrant is
# NOT stood in for: its stand-in only answers /readyz, and compose.override.yml points the app
# at its embedded Qdrant. The machine's CA bundle is copied in, for registries behind a proxy.
# Run as root: bash bench/compose_standins/build.sh; then
#   python -m bench.compose_stack --override bench/compose_standins/compose.override.yml
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
rootfs="${ROOTFS:-/var/tmp/cc-bookworm-rootfs}"
if ! docker image inspect local/debian:bookworm >/dev/null 2>&1; then
  [ -d "$rootfs/etc" ] || debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian
  tar -C "$rootfs" -c . | docker import - local/debian:bookworm
fi
docker tag local/debian:bookworm debian:bookworm-slim
for image in python:3.11-slim node:20-slim redis:7 postgres:16 qdrant/qdrant:v1.15.4; do
  dir="${image%%:*}"; dir="${dir##*/}"
  cp /etc/ssl/certs/ca-certificates.crt "$here/$dir/ca-certificates.crt"
  docker build --network host -t "$image" "$here/$dir"
  rm -f "$here/$dir/ca-certificates.crt"
done
