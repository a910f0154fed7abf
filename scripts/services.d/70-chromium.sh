#!/usr/bin/env bash
# Headless Chromium (Debian's package) for the dashboard's browser test, driven by puppeteer-core
# (a dev dependency, which downloads no browser of its own). Run by scripts/services.sh.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then echo "chromium already installed"; exit 0; fi
svc_apt_install chromium
echo "chromium: installed $(command -v chromium)"
