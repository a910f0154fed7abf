#!/usr/bin/env bash
# promtool (Prometheus' linter) at /usr/local/bin/promtool, for the test that checks the job server's
# /metrics with `promtool check metrics`. Only the binary is taken from Debian's prometheus package
# (46 MB, no dependencies) instead of installing the whole 332 MB server. Run by scripts/services.sh.
set -euo pipefail
TARGET=/usr/local/bin/promtool

if [ -x "$TARGET" ] || command -v promtool >/dev/null 2>&1; then echo "promtool already installed"; exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
# apt-get download runs as the invoking user; the package list may need an update first
if ! apt-get download -q prometheus >/dev/null 2>&1; then
  svc_as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -q update >/dev/null 2>&1 || true
  apt-get download -q prometheus >/dev/null
fi
dpkg-deb --fsys-tarfile prometheus_*.deb | tar -x ./usr/bin/promtool
svc_as_root install -m 0755 usr/bin/promtool "$TARGET"
echo "promtool: installed $TARGET from Debian's prometheus package"
