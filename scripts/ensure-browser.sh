#!/usr/bin/env bash
# Make sure Chromium is here for the browser tests. In CI a missing browser is a failure.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Chromium from Debian's packages for the browser tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
if [ "${CI:-}" = "true" ]; then
  echo "Chromium is missing and cannot be installed here (not root or no apt-get); CI needs it." >&2
  exit 1
fi
echo "Chromium is missing and this user cannot install it (needs root and apt-get); browser tests will be skipped."
