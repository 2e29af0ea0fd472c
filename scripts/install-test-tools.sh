#!/usr/bin/env bash
# Installs the system programs the test suite starts for real (headless Chromium for the
# HTML report test). Idempotent; does nothing when they are already present.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing chromium (Debian package) for the HTML report test" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "chromium is missing and cannot be installed here (need root and apt-get)" >&2
        exit 1
    fi
fi
